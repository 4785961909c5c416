import { ClientException, InvalidParameterException } from "../../generated/errors.ts";
import type {
  CapacityProviderStrategyItem,
  Cluster,
  DeploymentConfiguration,
  LaunchType,
  LoadBalancer,
  NetworkConfiguration,
  SchedulingStrategy,
  TaskDefinition,
} from "../../generated/shapes.ts";
import { NAME_PATTERN } from "../runtime/task-definition-rules.ts";
import type { TaskDefinitionStore } from "../runtime/store/task-definition-store.ts";
import type { OperationDeps } from "./context.ts";
import { resolveTaskDefinition } from "./task-definitions.ts";

// The checks CreateService / UpdateService / CreateTaskSet make on their input, with ECS's messages.

export function checkServiceName(name: string): void {
  if (!NAME_PATTERN.test(name)) {
    throw new InvalidParameterException(
      `Invalid service name '${name}'. Up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens are allowed.`,
    );
  }
}

/** The task definition a service or task set names; ECS answers ClientException for unknown and inactive ones. */
export async function resolveServiceTaskDefinition(deps: OperationDeps, store: TaskDefinitionStore, ref: string): Promise<TaskDefinition> {
  let td: TaskDefinition;
  try {
    td = await resolveTaskDefinition(deps, store, ref);
  } catch (err) {
    if (err instanceof ClientException) throw new ClientException("TaskDefinition not found.");
    throw err;
  }
  if (td.status === "INACTIVE" || td.status === "DELETE_IN_PROGRESS") throw new ClientException("TaskDefinition is inactive");
  return td;
}

export interface Placement {
  launchType?: LaunchType | undefined;
  capacityProviderStrategy?: CapacityProviderStrategyItem[] | undefined;
}

/**
 * launchType and capacityProviderStrategy are exclusive; with neither, the cluster's default capacity
 * provider strategy applies, else EC2.
 */
export function placementOf(cluster: Cluster, launchType: LaunchType | undefined, strategy: CapacityProviderStrategyItem[] | undefined): Placement {
  if (launchType !== undefined && strategy !== undefined && strategy.length > 0) {
    throw new InvalidParameterException("Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.");
  }
  if (strategy !== undefined && strategy.length > 0) {
    for (const item of strategy) {
      if (!(cluster.capacityProviders ?? []).includes(item.capacityProvider) && !item.capacityProvider.startsWith("FARGATE")) {
        throw new InvalidParameterException(
          `The specified capacity provider strategy cannot contain a capacity provider that is not associated with the cluster. ` +
            `Associate the capacity provider '${item.capacityProvider}' with the cluster or specify a valid capacity provider and try again.`,
        );
      }
    }
    return { capacityProviderStrategy: strategy.map((i) => ({ capacityProvider: i.capacityProvider, weight: i.weight ?? 0, base: i.base ?? 0 })) };
  }
  if (launchType !== undefined) return { launchType };
  const defaults = cluster.defaultCapacityProviderStrategy ?? [];
  if (defaults.length > 0) return { capacityProviderStrategy: structuredClone(defaults) };
  return { launchType: "EC2" };
}

export function isFargate(p: Placement): boolean {
  return p.launchType === "FARGATE" || (p.capacityProviderStrategy ?? []).some((i) => i.capacityProvider.startsWith("FARGATE"));
}

/** Fargate services run on LATEST unless told otherwise; other launch types take no platform version. */
export function platformVersionOf(p: Placement, requested: string | undefined): string | undefined {
  if (isFargate(p)) return requested ?? "LATEST";
  if (requested !== undefined && p.launchType === "EC2") {
    throw new InvalidParameterException("The platform version must be null when specifying an EC2 launch type.");
  }
  return requested;
}

/**
 * awsvpc needs a network configuration and nothing else takes one (the same rules as RunTask); echoed
 * with ECS's default assignPublicIp DISABLED.
 */
export function networkOf(td: TaskDefinition, p: Placement, config: NetworkConfiguration | undefined): NetworkConfiguration | undefined {
  const mode = td.networkMode ?? "bridge";
  const vpc = config?.awsvpcConfiguration;
  if (mode === "awsvpc" && vpc === undefined) {
    throw new InvalidParameterException("Network Configuration must be provided when networkMode 'awsvpc' is specified.");
  }
  if (mode !== "awsvpc" && vpc !== undefined) {
    throw new InvalidParameterException("Network Configuration is not valid for the given networkMode of this task definition.");
  }
  if (isFargate(p) && mode !== "awsvpc") {
    throw new InvalidParameterException("Task definition does not support launch_type FARGATE.");
  }
  if (vpc === undefined) return undefined;
  if (vpc.subnets.length === 0) throw new InvalidParameterException("subnets can not be empty.");
  const out: NetworkConfiguration = { awsvpcConfiguration: { subnets: [...vpc.subnets], assignPublicIp: vpc.assignPublicIp ?? "DISABLED" } };
  if (vpc.securityGroups !== undefined) out.awsvpcConfiguration!.securityGroups = [...vpc.securityGroups];
  return out;
}

/** Every load balancer names a container and port of the task definition. */
export function checkLoadBalancers(loadBalancers: readonly LoadBalancer[], td: TaskDefinition): void {
  for (const lb of loadBalancers) {
    if (lb.containerName === undefined) continue;
    const def = (td.containerDefinitions ?? []).find((c) => c.name === lb.containerName);
    if (def === undefined) throw new InvalidParameterException(`The container ${lb.containerName} does not exist in the task definition.`);
    if (lb.containerPort !== undefined && !(def.portMappings ?? []).some((pm) => pm.containerPort === lb.containerPort)) {
      throw new InvalidParameterException(`The container ${lb.containerName} did not have a container port ${lb.containerPort} defined.`);
    }
  }
}

/**
 * The deployment configuration as ECS stores it: minimumHealthyPercent/maximumPercent with their
 * defaults (100/200, DAEMON 0/100) and the circuit breaker (off unless asked for). `current` is the
 * service's configuration an UpdateService merges into.
 */
export function deploymentConfigurationOf(
  requested: DeploymentConfiguration | undefined,
  current: DeploymentConfiguration | undefined,
  strategy: SchedulingStrategy,
): DeploymentConfiguration {
  const daemon = strategy === "DAEMON";
  const out: DeploymentConfiguration = {
    ...current,
    ...requested,
    deploymentCircuitBreaker: requested?.deploymentCircuitBreaker ?? current?.deploymentCircuitBreaker ?? { enable: false, rollback: false },
    maximumPercent: requested?.maximumPercent ?? current?.maximumPercent ?? (daemon ? 100 : 200),
    minimumHealthyPercent: requested?.minimumHealthyPercent ?? current?.minimumHealthyPercent ?? (daemon ? 0 : 100),
  };
  const min = out.minimumHealthyPercent!;
  const max = out.maximumPercent!;
  if (!Number.isInteger(min) || min < 0 || min > 100) {
    throw new InvalidParameterException(`Invalid minimumHealthyPercent ${min}: it must be between 0 and 100.`);
  }
  if (!Number.isInteger(max) || max < 0) throw new InvalidParameterException(`Invalid maximumPercent ${max}: it must be a positive integer.`);
  if (max < min) {
    throw new InvalidParameterException(`maximumPercent (${max}) must be greater than or equal to minimumHealthyPercent (${min}).`);
  }
  return out;
}

/** `role` as given (ARN) or as a role name in the account. */
export function roleArnOf(role: string, accountId: string): string {
  return role.startsWith("arn:") ? role : `arn:aws:iam::${accountId}:role/${role}`;
}

/** ECS's quota of tasks per service. */
export const MAX_TASKS_PER_SERVICE = 5000;

export function checkDesiredCount(desiredCount: number | undefined): void {
  if (desiredCount !== undefined && (!Number.isInteger(desiredCount) || desiredCount < 0)) {
    throw new InvalidParameterException(`Invalid desiredCount ${desiredCount}: it must be 0 or more.`);
  }
  if (desiredCount !== undefined && desiredCount > MAX_TASKS_PER_SERVICE) {
    throw new InvalidParameterException(`desiredCount ${desiredCount} is above the limit of ${MAX_TASKS_PER_SERVICE} tasks per service.`);
  }
}

export function checkGracePeriod(seconds: number | undefined): void {
  if (seconds !== undefined && (!Number.isInteger(seconds) || seconds < 0 || seconds > 2_147_483_647)) {
    throw new InvalidParameterException(`Invalid healthCheckGracePeriodSeconds ${seconds}: it must be between 0 and 2147483647.`);
  }
}
