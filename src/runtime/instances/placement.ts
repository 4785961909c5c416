// Task placement as ECS documents it ("Amazon ECS task placement", "placement strategies", "placement
// constraints"), as a pure function of the cluster's instances and the task: for each task, (1) keep the
// instances whose agent is connected, that have the attributes the task definition requires and enough
// CPU, memory and free host ports, (2) keep those satisfying the placement constraints, (3) narrow them
// with the strategies in order, (4) pick one and reserve what the task takes before placing the next.
// Nothing fits → one failure per instance with the reason it was turned down.
import type { Attribute, Failure, PlacementStrategy } from "../../../generated/shapes.ts";
import { evaluateClusterQuery, type QueryNode, type QueryTarget } from "./cluster-query.ts";
import type { Reservation } from "./task-reservation.ts";

export interface PlacementInstance {
  arn: string;
  ec2InstanceId: string;
  /** Only ACTIVE instances take new tasks (DRAINING ones are skipped). */
  status: string;
  agentConnected: boolean;
  agentVersion: string;
  registeredAt: Date;
  /** Agent and custom attributes (name-only → undefined). */
  attributes: ReadonlyMap<string, string | undefined>;
  remaining: { cpu: number; memory: number; ports: ReadonlySet<number>; udpPorts: ReadonlySet<number> };
  /** Tasks whose desired status is RUNNING, by group (distinctInstance, spread, task:group). */
  groups: ReadonlyMap<string, number>;
  runningTasksCount: number;
}

export type ParsedConstraint = { type: "distinctInstance" } | { type: "memberOf"; expression: QueryNode };

export interface PlacementRequest {
  instances: readonly PlacementInstance[];
  requirement: Reservation;
  /** The task definition's requiresAttributes. */
  requiredAttributes: readonly Attribute[];
  group: string;
  count: number;
  /** RunTask's constraints plus the task definition's. */
  constraints: readonly ParsedConstraint[];
  strategies: readonly PlacementStrategy[];
  /** In [0, 1); injected so tests are deterministic. */
  random: () => number;
}

export interface PlacementResult {
  /** The chosen instance ARN of each placed task, in order. */
  placements: string[];
  failures: Failure[];
}

export const REASONS = {
  agent: "AGENT",
  attribute: "ATTRIBUTE",
  cpu: "RESOURCE:CPU",
  memory: "RESOURCE:MEMORY",
  ports: "RESOURCE:PORTS",
  udpPorts: "RESOURCE:PORTS_UDP",
  memberOf: "MemberOf placement constraint unsatisfied.",
  distinctInstance: "DistinctInstance placement constraint unsatisfied.",
} as const;

interface Working {
  readonly base: PlacementInstance;
  cpu: number;
  memory: number;
  ports: Set<number>;
  udpPorts: Set<number>;
  groups: Map<string, number>;
  running: number;
}

export function placeTasks(request: PlacementRequest): PlacementResult {
  const working: Working[] = request.instances.map((i) => ({
    base: i,
    cpu: i.remaining.cpu,
    memory: i.remaining.memory,
    ports: new Set(i.remaining.ports),
    udpPorts: new Set(i.remaining.udpPorts),
    groups: new Map(i.groups),
    running: i.runningTasksCount,
  }));
  const active = working.filter((w) => w.base.status === "ACTIVE");
  const placements: string[] = [];
  for (let n = 0; n < request.count; n++) {
    const rejected: Failure[] = [];
    const candidates: Working[] = [];
    for (const w of active) {
      const reason = rejection(w, request);
      if (reason === undefined) candidates.push(w);
      else rejected.push({ arn: w.base.arn, reason });
    }
    if (candidates.length === 0) return { placements, failures: rejected };
    const chosen = choose(candidates, working, request);
    reserve(chosen, request);
    placements.push(chosen.base.arn);
  }
  return { placements, failures: [] };
}

/** Why an instance cannot take the task, in the order ECS checks: agent, attributes, resources, constraints. */
function rejection(w: Working, request: PlacementRequest): string | undefined {
  const req = request.requirement;
  if (!w.base.agentConnected) return REASONS.agent;
  for (const a of request.requiredAttributes) {
    if (!w.base.attributes.has(a.name)) return REASONS.attribute;
    if (a.value !== undefined && w.base.attributes.get(a.name) !== a.value) return REASONS.attribute;
  }
  if (req.cpu > w.cpu) return REASONS.cpu;
  if (req.memory > w.memory) return REASONS.memory;
  if (req.ports.some((p) => w.ports.has(p)) || new Set(req.ports).size < req.ports.length) return REASONS.ports;
  if (req.udpPorts.some((p) => w.udpPorts.has(p)) || new Set(req.udpPorts).size < req.udpPorts.length) return REASONS.udpPorts;
  for (const c of request.constraints) {
    if (c.type === "distinctInstance" && (w.groups.get(request.group) ?? 0) > 0) return REASONS.distinctInstance;
    if (c.type === "memberOf" && !evaluateClusterQuery(c.expression, queryTarget(w))) return REASONS.memberOf;
  }
  return undefined;
}

/** Strategies narrow the candidates in order; ties left at the end are broken at random. */
function choose(candidates: Working[], all: readonly Working[], request: PlacementRequest): Working {
  let pool = candidates;
  for (const s of request.strategies) {
    if (pool.length <= 1) break;
    if (s.type === "random") break;
    if (s.type === "binpack") {
      // The least remaining of the field that still fits the task.
      const of = (w: Working): number => (s.field?.toLowerCase() === "cpu" ? w.cpu : w.memory);
      const least = Math.min(...pool.map(of));
      pool = pool.filter((w) => of(w) === least);
    } else if (s.type === "spread") {
      // Even over the field's values, counting the group's tasks on every instance (not only candidates).
      const valueOf = (w: Working): string => spreadValue(w, s.field);
      const perValue = new Map<string, number>();
      for (const w of all) {
        const v = valueOf(w);
        perValue.set(v, (perValue.get(v) ?? 0) + (w.groups.get(request.group) ?? 0));
      }
      const fewest = Math.min(...pool.map((w) => perValue.get(valueOf(w)) ?? 0));
      pool = pool.filter((w) => (perValue.get(valueOf(w)) ?? 0) === fewest);
    }
  }
  return pool[Math.min(pool.length - 1, Math.floor(request.random() * pool.length))]!;
}

function spreadValue(w: Working, field: string | undefined): string {
  const f = field ?? "instanceId";
  if (f === "instanceId" || f === "host") return w.base.arn;
  if (f.startsWith("attribute:")) return w.base.attributes.get(f.slice("attribute:".length)) ?? "";
  return "";
}

function reserve(w: Working, request: PlacementRequest): void {
  const req = request.requirement;
  w.cpu -= req.cpu;
  w.memory -= req.memory;
  for (const p of req.ports) w.ports.add(p);
  for (const p of req.udpPorts) w.udpPorts.add(p);
  w.groups.set(request.group, (w.groups.get(request.group) ?? 0) + 1);
}

function queryTarget(w: Working): QueryTarget {
  return {
    attributes: w.base.attributes,
    ec2InstanceId: w.base.ec2InstanceId,
    agentConnected: w.base.agentConnected,
    agentVersion: w.base.agentVersion,
    registeredAt: w.base.registeredAt,
    runningTasksCount: w.running,
    taskGroups: new Set([...w.groups].filter(([, n]) => n > 0).map(([g]) => g)),
  };
}
