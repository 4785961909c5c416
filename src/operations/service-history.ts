import type { Deployment, LoadBalancer, ServiceDeployment, ServiceRegistry, ServiceRevision, TaskDefinition } from "../../generated/shapes.ts";
import { clusterNameOf, newNumericId, newServiceDeploymentId, type Arns } from "../runtime/arns.ts";
import { circuitBreakerThreshold } from "../runtime/services/deployment-math.ts";
import type { ServiceRecord } from "../runtime/store/service-store.ts";
import type { ServiceOperationsOptions } from "./service-context.ts";

/** Service deployment statuses of a deployment that has not finished. */
const ONGOING = new Set(["PENDING", "IN_PROGRESS", "STOP_REQUESTED", "ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS"]);

export const SUPERSEDED_REASON = "The service deployment was stopped because a newer service deployment started.";

/**
 * Records what a new deployment means in the newer API: a service revision (the configuration it runs)
 * and a service deployment (PENDING; the scheduler moves it on) from the revisions that were running to
 * this one. A deployment still in progress is superseded (STOPPED). Links the deployment to both in the
 * service's bookkeeping; the caller saves the record.
 */
export function recordDeployment(
  options: Pick<ServiceOperationsOptions, "serviceDeployments" | "serviceRevisions">,
  arns: Arns,
  record: ServiceRecord,
  deployment: Deployment,
  td: TaskDefinition,
  extras: { loadBalancers: LoadBalancer[]; serviceRegistries: ServiceRegistry[] },
  at: Date,
): void {
  const s = record.service;
  const cluster = clusterNameOf(s.clusterArn);
  const name = s.serviceName ?? "";
  const revision: ServiceRevision = {
    serviceRevisionArn: arns.serviceRevision(cluster, name, newNumericId()),
    serviceArn: s.serviceArn,
    clusterArn: s.clusterArn,
    taskDefinition: deployment.taskDefinition,
    loadBalancers: structuredClone(extras.loadBalancers),
    serviceRegistries: structuredClone(extras.serviceRegistries),
    containerImages: (td.containerDefinitions ?? []).map((c) => ({ containerName: c.name, image: c.image })),
    guardDutyEnabled: false,
    createdAt: at,
  };
  for (const f of ["launchType", "capacityProviderStrategy", "platformVersion", "platformFamily", "networkConfiguration", "serviceConnectConfiguration", "volumeConfigurations"] as const) {
    if (deployment[f] !== undefined) (revision as Record<string, unknown>)[f] = structuredClone(deployment[f]);
  }
  options.serviceRevisions.put(record.region, revision);

  // What was running before: the revisions of the deployments still shown, and whatever they were doing.
  const sources = [];
  for (const d of s.deployments ?? []) {
    if (d.id === deployment.id) continue;
    const link = record.book.links[d.id ?? ""];
    if (link === undefined) continue;
    sources.push({ arn: link.serviceRevisionArn, requestedTaskCount: d.desiredCount ?? 0, runningTaskCount: 0, pendingTaskCount: 0 });
    if (ONGOING.has(link.sdStatus)) {
      options.serviceDeployments.update(link.serviceDeploymentArn, (sd) => {
        sd.status = "STOPPED";
        sd.statusReason = SUPERSEDED_REASON;
        sd.stoppedAt = at;
        sd.finishedAt = at;
        sd.updatedAt = at;
      });
      link.sdStatus = "STOPPED";
    }
  }

  const config = s.deploymentConfiguration;
  const breakerOn = config?.deploymentCircuitBreaker?.enable === true;
  const sd: ServiceDeployment = {
    serviceDeploymentArn: arns.serviceDeployment(cluster, name, newServiceDeploymentId()),
    serviceArn: s.serviceArn,
    clusterArn: s.clusterArn,
    createdAt: at,
    updatedAt: at,
    sourceServiceRevisions: sources,
    targetServiceRevision: { arn: revision.serviceRevisionArn, requestedTaskCount: deployment.desiredCount ?? 0, runningTaskCount: 0, pendingTaskCount: 0 },
    status: "PENDING",
    deploymentCircuitBreaker: {
      status: breakerOn ? "MONITORING" : "DISABLED",
      failureCount: 0,
      threshold: circuitBreakerThreshold(deployment.desiredCount ?? 0),
    },
    alarms: { status: "DISABLED", alarmNames: [], triggeredAlarmNames: [] },
  };
  if (config !== undefined) sd.deploymentConfiguration = structuredClone(config);
  options.serviceDeployments.put(record.region, sd);
  record.book.links[deployment.id ?? ""] = {
    serviceDeploymentArn: sd.serviceDeploymentArn ?? "",
    serviceRevisionArn: revision.serviceRevisionArn ?? "",
    sdStatus: "PENDING",
  };
}
