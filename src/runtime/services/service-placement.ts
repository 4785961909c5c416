import type {
  CapacityProviderStrategyItem,
  Cluster,
  Failure,
  LaunchType,
  NetworkMode,
  PlacementConstraint,
  PlacementStrategy,
  TaskDefinition,
} from "../../../generated/shapes.ts";
import { lastSegmentOf } from "../arns.ts";
import { serviceEvents } from "./service-events.ts";

/** Where one task of a service goes (what RunTask's placement decides). */
export interface ServiceLaunch {
  launchType?: LaunchType | undefined;
  capacityProviderName?: string | undefined;
  containerInstanceArn?: string | undefined;
  availabilityZone?: string | undefined;
}

export interface ServicePlacementRequest {
  region: string;
  cluster: Cluster;
  serviceName: string;
  /** `service:<name>`: placement constraints and strategies count the service's tasks by it. */
  group: string;
  taskDefinition: TaskDefinition;
  count: number;
  launchType?: LaunchType | undefined;
  capacityProviderStrategy?: CapacityProviderStrategyItem[] | undefined;
  placementConstraints?: PlacementConstraint[] | undefined;
  placementStrategy?: PlacementStrategy[] | undefined;
  /** The definitions of the cluster's tasks that still hold resources (not STOPPED yet); computed on demand. */
  occupying: () => readonly TaskDefinition[];
}

export interface ServicePlacementPlan {
  /** One per task that fits now, in order (at most `count`). */
  launches: ServiceLaunch[];
  /** The service event when fewer than `count` fit, and ECS's reason code for EventBridge. */
  problem?: string | undefined;
  reason?: string | undefined;
}

/** How the scheduler places its tasks and how many instances a DAEMON service covers. */
export interface ServicePlacement {
  plan(request: ServicePlacementRequest): ServicePlacementPlan;
  /** ACTIVE container instances of the cluster (a DAEMON service runs one task on each). */
  instanceCount(region: string, cluster: Cluster): number;
}

/** The container-instance placement step (RunTask's): a port, so the scheduler does not depend on the operations. */
export interface InstancePlacer {
  plan(request: {
    region: string;
    cluster: Cluster;
    taskDefinition: TaskDefinition;
    count: number;
    group: string;
    launchType?: LaunchType | undefined;
    capacityProviderStrategy?: CapacityProviderStrategyItem[] | undefined;
    placementConstraints?: PlacementConstraint[] | undefined;
    placementStrategy?: PlacementStrategy[] | undefined;
  }): { launches: ServiceLaunch[]; failures: Failure[] };
}

interface HostPort {
  port: number;
  protocol: string;
}

/**
 * Host ports a task publishes at a fixed number on this Docker host: `hostPort` ≠ 0 in bridge mode, every
 * container port in host mode, and (as this emulator publishes them) the fixed ports of awsvpc tasks.
 */
export function fixedHostPorts(td: TaskDefinition): HostPort[] {
  const mode: NetworkMode = td.networkMode ?? "bridge";
  if (mode === "none") return [];
  const out: HostPort[] = [];
  for (const def of td.containerDefinitions ?? []) {
    for (const pm of def.portMappings ?? []) {
      if (pm.containerPortRange !== undefined) continue;
      const port = mode === "host" ? (pm.hostPort ?? pm.containerPort) : pm.hostPort;
      if (port !== undefined && port !== 0) out.push({ port, protocol: pm.protocol ?? "tcp" });
    }
  }
  return out;
}

/** How many more copies of `td` the host's published ports leave room for (one at most with fixed ports). */
function hostPortRoom(td: TaskDefinition, occupying: () => readonly TaskDefinition[]): number {
  const wanted = fixedHostPorts(td);
  if (wanted.length === 0) return Number.POSITIVE_INFINITY;
  const taken = new Set(occupying().flatMap((d) => fixedHostPorts(d)).map((p) => `${p.port}/${p.protocol}`));
  return wanted.some((p) => taken.has(`${p.port}/${p.protocol}`)) ? 0 : 1;
}

/**
 * One local instance and no container-instance registry: a task fits unless one of its fixed host ports
 * is taken — ECS's "is already using a port required by your task" — so a service with a fixed host port
 * runs one task, as on a one-instance EC2 cluster, instead of crash-looping on "port is already
 * allocated". CPU and memory are not accounted (the Docker host is the limit).
 */
export function singleInstancePlacement(containerInstanceId: (clusterArn: string) => string): ServicePlacement {
  return {
    plan(request) {
      const room = Math.min(request.count, hostPortRoom(request.taskDefinition, request.occupying));
      const launches = Array.from({ length: room }, () => ({}));
      if (launches.length >= request.count) return { launches };
      return { launches, problem: serviceEvents.portInUse(request.serviceName, containerInstanceId(request.cluster.clusterArn ?? "")), reason: "RESOURCE:PORTS" };
    },
    instanceCount: () => 1,
  };
}

/**
 * The cluster's container instances through RunTask's placement step (resources, host ports, attributes,
 * constraints and strategies of the service). Every task still runs on the local Docker engine, which
 * publishes the fixed ports of awsvpc tasks on the host too: those are checked here as well (real ECS gives
 * each awsvpc task its own interface, so its placement does not).
 */
export function instancePlacement(placer: InstancePlacer, activeInstances: (region: string, cluster: Cluster) => number): ServicePlacement {
  return {
    plan(request) {
      let planned: { launches: ServiceLaunch[]; failures: Failure[] };
      try {
        planned = placer.plan(request);
      } catch (err) {
        // e.g. "No Container Instances were found in your cluster.", or a constraint the service recorded.
        return {
          launches: [],
          problem:
            `(service ${request.serviceName}) was unable to place a task because no container instance met all of its requirements. ` +
            `Reason: ${(err as Error).message.replace(/\.$/, "")}. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.`,
        };
      }
      const local = request.taskDefinition.networkMode === "awsvpc" ? hostPortRoom(request.taskDefinition, request.occupying) : Number.POSITIVE_INFINITY;
      const launches = planned.launches.slice(0, Math.min(request.count, local));
      if (launches.length >= request.count) return { launches };
      if (launches.length < planned.launches.length) {
        const instance = planned.launches[0]?.containerInstanceArn;
        return {
          launches,
          problem: serviceEvents.portInUse(request.serviceName, instance === undefined ? "local" : lastSegmentOf(instance)),
          reason: "RESOURCE:PORTS",
        };
      }
      const failure = planned.failures[0];
      const instanceId = failure?.arn === undefined ? undefined : lastSegmentOf(failure.arn);
      return { launches, problem: placementProblem(request.serviceName, instanceId, failure?.reason), reason: failure?.reason };
    },
    instanceCount: activeInstances,
  };
}

/** The service event for a placement failure, worded as ECS words each reason. */
export function placementProblem(serviceName: string, instanceId: string | undefined, reason: string | undefined): string {
  if (instanceId === undefined || reason === undefined) {
    return `(service ${serviceName}) was unable to place a task because no container instance met all of its requirements.`;
  }
  if (reason === "RESOURCE:PORTS" || reason === "RESOURCE:PORTS_UDP") return serviceEvents.portInUse(serviceName, instanceId);
  const why =
    reason === "RESOURCE:MEMORY"
      ? "has insufficient memory available."
      : reason === "RESOURCE:CPU"
        ? "has insufficient CPU units available."
        : reason === "AGENT"
          ? 'encountered error "AGENT".'
          : reason === "ATTRIBUTE"
            ? "is missing an attribute required by your task."
            : `cannot take the task: ${reason.replace(/\.$/, "")}.`;
  return (
    `(service ${serviceName}) was unable to place a task because no container instance met all of its requirements. ` +
    `The closest matching (container-instance ${instanceId}) ${why} For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.`
  );
}
