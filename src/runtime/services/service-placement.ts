import type { NetworkMode, TaskDefinition } from "../../../generated/shapes.ts";
import { serviceEvents } from "./service-events.ts";

/**
 * Where the scheduler asks whether more tasks of a service fit on the cluster. Today there is one local
 * "container instance" (the Docker host); the container-instances work replaces this with its
 * placement step behind the same interface.
 */
export interface ServicePlacement {
  /**
   * How many more tasks of `taskDefinition` can be placed next to the cluster's tasks that still hold
   * resources (`occupying()`: the task definitions of every task not STOPPED yet, computed on demand), and
   * the service event when not all can.
   */
  capacity(request: { clusterArn: string; serviceName: string; taskDefinition: TaskDefinition; occupying: () => readonly TaskDefinition[] }): {
    placeable: number;
    problem?: string | undefined;
    /** ECS's reason code, e.g. "RESOURCE:PORTS". */
    reason?: string | undefined;
  };
}

interface HostPort {
  port: number;
  protocol: string;
}

/**
 * Host ports a task publishes at a fixed number on the instance: `hostPort` ≠ 0 in bridge mode, every
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

/**
 * The single local instance: a task fits unless one of its fixed host ports is already taken — ECS's
 * "is already using a port required by your task" — so a service with a fixed host port runs one task
 * per instance, as on a one-instance EC2 cluster, instead of crash-looping on "port is already allocated".
 * CPU and memory are not accounted (the Docker host is the limit).
 */
export function singleInstancePlacement(containerInstanceId: (clusterArn: string) => string): ServicePlacement {
  return {
    capacity({ clusterArn, serviceName, taskDefinition, occupying }) {
      const wanted = fixedHostPorts(taskDefinition);
      if (wanted.length === 0) return { placeable: Number.POSITIVE_INFINITY };
      const taken = new Set(occupying().flatMap((td) => fixedHostPorts(td)).map((p) => `${p.port}/${p.protocol}`));
      const clash = wanted.some((p) => taken.has(`${p.port}/${p.protocol}`));
      return {
        // One more copy at most: a second one would need the same ports.
        placeable: clash ? 0 : 1,
        problem: serviceEvents.portInUse(serviceName, containerInstanceId(clusterArn)),
        reason: "RESOURCE:PORTS",
      };
    },
  };
}
