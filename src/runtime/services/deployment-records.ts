import type { Deployment, Service } from "../../../generated/shapes.ts";
import type { DeploymentSpec } from "./scheduler-types.ts";

// Legacy `Deployment` entries of a service (DescribeServices `deployments`): how they are made, what a
// rollback keeps of them, and the service fields that follow the PRIMARY one.

export const ROLLOUT_REASON = {
  inProgress: (id: string): string => `ECS deployment ${id} in progress.`,
  completed: (id: string): string => `ECS deployment ${id} completed.`,
  circuitBreakerFailed: "ECS deployment circuit breaker: tasks failed to start.",
  rollingBack: (id: string): string => `ECS deployment circuit breaker: rolling back to deploymentId ${id}.`,
  stopRequested: (id: string): string => `ECS deployment rolled back to deploymentId ${id} at the request of StopServiceDeployment.`,
} as const;

export function specOf(d: Deployment, serviceRevisionArn: string): DeploymentSpec {
  const spec: DeploymentSpec = {
    id: d.id ?? "",
    taskDefinition: d.taskDefinition ?? "",
    createdAt: d.createdAt?.getTime() ?? 0,
    serviceRevisionArn,
  };
  if (d.launchType !== undefined) spec.launchType = d.launchType;
  if (d.capacityProviderStrategy !== undefined) spec.capacityProviderStrategy = structuredClone(d.capacityProviderStrategy);
  if (d.platformVersion !== undefined) spec.platformVersion = d.platformVersion;
  if (d.platformFamily !== undefined) spec.platformFamily = d.platformFamily;
  if (d.networkConfiguration !== undefined) spec.networkConfiguration = structuredClone(d.networkConfiguration);
  if (d.serviceConnectConfiguration !== undefined) spec.serviceConnectConfiguration = structuredClone(d.serviceConnectConfiguration);
  if (d.volumeConfigurations !== undefined) spec.volumeConfigurations = structuredClone(d.volumeConfigurations);
  return spec;
}

/** A fresh PRIMARY deployment, IN_PROGRESS. */
export function newDeployment(spec: Omit<DeploymentSpec, "createdAt" | "serviceRevisionArn">, desiredCount: number, now: Date): Deployment {
  const d: Deployment = {
    id: spec.id,
    status: "PRIMARY",
    taskDefinition: spec.taskDefinition,
    desiredCount,
    pendingCount: 0,
    runningCount: 0,
    failedTasks: 0,
    createdAt: now,
    updatedAt: now,
    rolloutState: "IN_PROGRESS",
    rolloutStateReason: ROLLOUT_REASON.inProgress(spec.id),
  };
  if (spec.launchType !== undefined) d.launchType = spec.launchType;
  if (spec.capacityProviderStrategy !== undefined) d.capacityProviderStrategy = structuredClone(spec.capacityProviderStrategy);
  if (spec.platformVersion !== undefined) d.platformVersion = spec.platformVersion;
  if (spec.platformFamily !== undefined) d.platformFamily = spec.platformFamily;
  if (spec.networkConfiguration !== undefined) d.networkConfiguration = structuredClone(spec.networkConfiguration);
  if (spec.serviceConnectConfiguration !== undefined) d.serviceConnectConfiguration = structuredClone(spec.serviceConnectConfiguration);
  if (spec.volumeConfigurations !== undefined) d.volumeConfigurations = structuredClone(spec.volumeConfigurations);
  return d;
}

/** The service-level fields that show the PRIMARY deployment's configuration. */
export function followPrimary(service: Service, primary: Deployment): void {
  service.taskDefinition = primary.taskDefinition;
  const fields = ["launchType", "capacityProviderStrategy", "platformVersion", "platformFamily", "networkConfiguration"] as const;
  for (const f of fields) {
    if (primary[f] === undefined) delete service[f];
    else (service as Record<string, unknown>)[f] = structuredClone(primary[f]);
  }
}
