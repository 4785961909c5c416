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
  const containers = (task.containers ?? []).map((c) => ({
    cpu: toNumber(c.cpu) ?? 0,
    memory: toNumber(c.memory),
    memoryReservation: toNumber(c.memoryReservation),
  }));
  return { ...sizes(task.cpu, task.memory, containers), ...(td === undefined ? { ports: [], udpPorts: [] } : portsOf(td)) };
}

/** Registered resources minus the reservations; ports in use are added to the PORTS sets, as ECS shows them. */
export function remainingResources(registered: readonly Resource[], reservations: readonly Reservation[]): Resource[] {
  let cpu = 0;
  let memory = 0;
  const ports: string[] = [];
  const udp: string[] = [];
  for (const r of reservations) {
    cpu += r.cpu;
    memory += r.memory;
    ports.push(...r.ports.map(String));
    udp.push(...r.udpPorts.map(String));
  }
  return registered.map((resource) => {
    switch (resource.name) {
      case "CPU":
        return integerResource("CPU", (resource.integerValue ?? 0) - cpu);
      case "MEMORY":
        return integerResource("MEMORY", (resource.integerValue ?? 0) - memory);
      case "PORTS":
        return stringSetResource("PORTS", union(resource.stringSetValue ?? [], ports));
      case "PORTS_UDP":
        return stringSetResource("PORTS_UDP", union(resource.stringSetValue ?? [], udp));
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

function portsOf(td: TaskDefinition): { ports: number[]; udpPorts: number[] } {
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

function union(base: readonly string[], extra: readonly string[]): string[] {
  const out = [...base];
  for (const p of extra) if (!out.includes(p)) out.push(p);
  return out;
}

function toNumber(value: string | number | undefined): number | undefined {
  if (value === undefined || value === "") return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}
