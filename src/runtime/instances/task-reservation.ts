// What a task holds on its container instance — CPU units, MiB and host ports — and what is left of an
// instance's registered resources once its tasks are counted (pure). The figures are derived from the
// tasks themselves every time, so they can never drift from what really runs.
import type { ContainerDefinition, Resource, Task, TaskDefinition, TaskOverride } from "../../../generated/shapes.ts";
import { integerResource, stringSetResource } from "./agent-attributes.ts";

export interface Reservation {
  cpu: number;
  memory: number;
  /** Host ports the task binds (static mappings only: dynamic ports are not reserved). */
  ports: number[];
  udpPorts: number[];
}

/** What a new task of `td` (with RunTask overrides) needs from an instance. */
export function requirementOf(td: TaskDefinition, overrides?: TaskOverride): Reservation {
  const defs = td.containerDefinitions ?? [];
  const containers = defs.map((def) => {
    const o = overrides?.containerOverrides?.find((c) => c.name === def.name);
    return {
      cpu: o?.cpu ?? def.cpu ?? 0,
      memory: o?.memory ?? def.memory,
      memoryReservation: o?.memoryReservation ?? def.memoryReservation,
    };
  });
  return {
    ...sizes(overrides?.cpu ?? td.cpu, overrides?.memory ?? td.memory, containers),
    ...portsOf(td),
  };
}

/** What an existing task holds: its own cpu/memory figures, the static host ports of its definition. */
export function reservationOfTask(task: Task, td: TaskDefinition | undefined): Reservation {
  const held = emptyReservation();
  addTask(held, task, td === undefined ? undefined : portsOf(td));
  return held;
}

export function emptyReservation(): Reservation {
  return { cpu: 0, memory: 0, ports: [], udpPorts: [] };
}

/**
 * Adds what `task` holds to `into` (called once per task of a cluster on every placement: no
 * intermediate objects). `ports` are the static host ports of its definition (see `portsOf`).
 */
export function addTask(into: Reservation, task: Task, ports: { ports: readonly number[]; udpPorts: readonly number[] } | undefined): void {
  const taskCpu = toNumber(task.cpu);
  const taskMemory = toNumber(task.memory);
  if (taskCpu !== undefined) into.cpu += taskCpu;
  if (taskMemory !== undefined) into.memory += taskMemory;
  if (taskCpu === undefined || taskMemory === undefined) {
    for (const c of task.containers ?? []) {
      if (taskCpu === undefined) into.cpu += toNumber(c.cpu) ?? 0;
      if (taskMemory === undefined) into.memory += toNumber(c.memoryReservation) ?? toNumber(c.memory) ?? 0;
    }
  }
  if (ports !== undefined) {
    for (const p of ports.ports) into.ports.push(p);
    for (const p of ports.udpPorts) into.udpPorts.push(p);
  }
}

/** Registered resources minus what the tasks hold; ports in use are added to the PORTS sets, as ECS shows them. */
export function remainingResources(registered: readonly Resource[], held: Reservation): Resource[] {
  return registered.map((resource) => {
    switch (resource.name) {
      case "CPU":
        return integerResource("CPU", (resource.integerValue ?? 0) - held.cpu);
      case "MEMORY":
        return integerResource("MEMORY", (resource.integerValue ?? 0) - held.memory);
      case "PORTS":
        return stringSetResource("PORTS", union(resource.stringSetValue ?? [], held.ports));
      case "PORTS_UDP":
        return stringSetResource("PORTS_UDP", union(resource.stringSetValue ?? [], held.udpPorts));
      default:
        return resource;
    }
  });
}

/** The integer value of CPU / MEMORY, or the set of PORTS / PORTS_UDP, of a resource list. */
export function integerOf(resources: readonly Resource[], name: string): number {
  return resources.find((r) => r.name === name)?.integerValue ?? 0;
}

export function portSetOf(resources: readonly Resource[], name: string): Set<number> {
  return new Set((resources.find((r) => r.name === name)?.stringSetValue ?? []).map(Number));
}

interface ContainerSize {
  cpu: number;
  memory: number | undefined;
  memoryReservation: number | undefined;
}

function sizes(taskCpu: string | undefined, taskMemory: string | undefined, containers: ContainerSize[]): { cpu: number; memory: number } {
  // Task-level sizes win; otherwise the containers' (soft limit first, as the scheduler reserves it).
  const cpu = toNumber(taskCpu) ?? containers.reduce((sum, c) => sum + c.cpu, 0);
  const memory = toNumber(taskMemory) ?? containers.reduce((sum, c) => sum + (c.memoryReservation ?? c.memory ?? 0), 0);
  return { cpu, memory };
}

/** The static host ports tasks of `td` bind (bridge: non-zero hostPort; host: the container port). */
export function portsOf(td: TaskDefinition): { ports: number[]; udpPorts: number[] } {
  const mode = td.networkMode ?? "bridge";
  const ports: number[] = [];
  const udpPorts: number[] = [];
  // awsvpc tasks have their own interface and none binds no port: nothing is taken from the host.
  if (mode !== "bridge" && mode !== "host") return { ports, udpPorts };
  for (const def of td.containerDefinitions ?? ([] as ContainerDefinition[])) {
    for (const m of def.portMappings ?? []) {
      const host = mode === "host" ? (m.hostPort ?? m.containerPort) : m.hostPort;
      if (host === undefined || host === 0) continue;
      (m.protocol === "udp" ? udpPorts : ports).push(host);
    }
  }
  return { ports, udpPorts };
}

function union(base: readonly string[], extra: readonly number[]): string[] {
  const out = [...base];
  for (const n of extra) {
    const p = String(n);
    if (!out.includes(p)) out.push(p);
  }
  return out;
}

function toNumber(value: string | number | undefined): number | undefined {
  if (value === undefined || value === "") return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}
