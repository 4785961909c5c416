import type { LoadBalancer, ServiceRegistry, Task } from "../../../generated/shapes.ts";
import { clusterNameOf, familyOf, regionOf, taskIdOf } from "../arns.ts";

// Pure: what ECS registers for one RUNNING task of a service — a target in each target group of its
// `loadBalancers`, an instance in each Cloud Map service of its `serviceRegistries` — worked out from the
// task as DescribeTasks shows it. Locally every container instance is a Docker engine: a bridge/host task
// is reached at the host port Docker published (on 127.0.0.1 for Cloud Map, as the instance's own
// address), an awsvpc task at its own address.

export interface LbTarget {
  targetGroupArn: string;
  id: string;
  port: number;
}

export interface CloudMapInstance {
  registryArn: string;
  instanceId: string;
  attributes: Record<string, string>;
}

/** The address the task's ENI has (awsvpc), from its attachment or its containers' interfaces. */
export function taskIpv4(task: Task): string | undefined {
  for (const a of task.attachments ?? []) {
    const ip = (a.details ?? []).find((d) => d.name === "privateIPv4Address")?.value;
    if (ip !== undefined && ip !== "") return ip;
  }
  for (const c of task.containers ?? []) {
    const ip = c.networkInterfaces?.[0]?.privateIpv4Address;
    if (ip !== undefined && ip !== "") return ip;
  }
  return undefined;
}

/** The host port Docker published for a container port of the task; undefined when none (yet). */
export function hostPortOf(task: Task, containerName: string | undefined, containerPort: number | undefined): number | undefined {
  const container = (task.containers ?? []).find((c) => c.name === containerName);
  return container?.networkBindings?.find((b) => b.containerPort === containerPort && (b.hostPort ?? 0) > 0)?.hostPort;
}

/**
 * The targets of a task: `ip` target groups take the task's address and the container port, `instance`
 * ones the container instance's EC2 id and the host port (ECS's rule; `awsvpc` needs `ip`). Problems are
 * worded for the service's events.
 */
export function lbTargets(
  task: Task,
  loadBalancers: readonly LoadBalancer[],
  targetTypeOf: (targetGroupArn: string) => string,
  ec2InstanceId: string | undefined,
): { targets: LbTarget[]; problems: string[] } {
  const targets: LbTarget[] = [];
  const problems: string[] = [];
  for (const lb of loadBalancers) {
    if (lb.targetGroupArn === undefined) continue;
    const type = targetTypeOf(lb.targetGroupArn);
    if (type === "ip") {
      const ip = taskIpv4(task);
      if (ip === undefined || lb.containerPort === undefined) {
        problems.push(`task ${taskIdOf(task.taskArn ?? "")} has no address to register in ${lb.targetGroupArn}`);
        continue;
      }
      targets.push({ targetGroupArn: lb.targetGroupArn, id: ip, port: lb.containerPort });
    } else {
      const port = hostPortOf(task, lb.containerName, lb.containerPort);
      if (port === undefined || ec2InstanceId === undefined) {
        problems.push(`task ${taskIdOf(task.taskArn ?? "")} has no host port for ${lb.containerName ?? ""}:${lb.containerPort ?? ""}`);
        continue;
      }
      targets.push({ targetGroupArn: lb.targetGroupArn, id: ec2InstanceId, port });
    }
  }
  return { targets, problems };
}

/**
 * The Cloud Map instances of a task: the task id as instance id, and the attributes ECS adds
 * ("Service discovery concepts": AWS_INSTANCE_IPV4, AWS_INSTANCE_PORT, AVAILABILITY_ZONE, REGION,
 * ECS_SERVICE_NAME, ECS_CLUSTER_NAME, EC2_INSTANCE_ID unless Fargate, ECS_TASK_DEFINITION_FAMILY,
 * ECS_TASK_SET_EXTERNAL_ID for a task set with an external id).
 */
export function cloudMapInstances(
  task: Task,
  registries: readonly ServiceRegistry[],
  context: { serviceName: string; networkMode: string; ec2InstanceId: string | undefined; taskSetExternalId?: string | undefined },
): CloudMapInstance[] {
  const out: CloudMapInstance[] = [];
  const awsvpc = context.networkMode === "awsvpc";
  for (const registry of registries) {
    if (registry.registryArn === undefined) continue;
    const attributes: Record<string, string> = {};
    if (awsvpc) {
      const ip = taskIpv4(task);
      if (ip !== undefined) attributes.AWS_INSTANCE_IPV4 = ip;
      const port = registry.port ?? registry.containerPort;
      if (port !== undefined) attributes.AWS_INSTANCE_PORT = String(port);
    } else {
      // bridge/host: the instance's address and the published host port (an SRV record's target).
      attributes.AWS_INSTANCE_IPV4 = "127.0.0.1";
      const port = hostPortOf(task, registry.containerName, registry.containerPort);
      if (port !== undefined) attributes.AWS_INSTANCE_PORT = String(port);
    }
    if (task.availabilityZone !== undefined) attributes.AVAILABILITY_ZONE = task.availabilityZone;
    const region = regionOf(task.taskArn);
    if (region !== undefined) attributes.REGION = region;
    attributes.ECS_SERVICE_NAME = context.serviceName;
    attributes.ECS_CLUSTER_NAME = clusterNameOf(task.clusterArn);
    if (task.launchType !== "FARGATE" && context.ec2InstanceId !== undefined) attributes.EC2_INSTANCE_ID = context.ec2InstanceId;
    attributes.ECS_TASK_DEFINITION_FAMILY = familyOf(task.taskDefinitionArn);
    if (context.taskSetExternalId !== undefined) attributes.ECS_TASK_SET_EXTERNAL_ID = context.taskSetExternalId;
    out.push({ registryArn: registry.registryArn, instanceId: taskIdOf(task.taskArn ?? ""), attributes });
  }
  return out;
}
