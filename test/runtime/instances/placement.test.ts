import { describe, expect, it } from "vitest";
import type { Attribute, PlacementStrategy } from "../../../generated/shapes.ts";
import { parseClusterQuery } from "../../../src/runtime/instances/cluster-query.ts";
import { placeTasks, type ParsedConstraint, type PlacementInstance } from "../../../src/runtime/instances/placement.ts";
import type { Reservation } from "../../../src/runtime/instances/task-reservation.ts";

function instance(name: string, o: Partial<Omit<PlacementInstance, "remaining">> & { cpu?: number; memory?: number; ports?: number[]; az?: string; attrs?: Record<string, string> } = {}): PlacementInstance {
  return {
    arn: `arn:${name}`,
    ec2InstanceId: `i-${name}`,
    status: o.status ?? "ACTIVE",
    agentConnected: o.agentConnected ?? true,
    agentVersion: "1.105.1",
    registeredAt: new Date("2024-01-01T00:00:00Z"),
    attributes: new Map<string, string | undefined>([
      ["ecs.availability-zone", o.az ?? "us-east-1a"],
      ["ecs.capability.task-eni", undefined],
      ...Object.entries(o.attrs ?? {}),
    ]),
    remaining: { cpu: o.cpu ?? 2048, memory: o.memory ?? 4096, ports: new Set([22, 2375, 2376, 51678, 51679, ...(o.ports ?? [])]), udpPorts: new Set() },
    groups: o.groups ?? new Map(),
    runningTasksCount: o.runningTasksCount ?? 0,
  };
}

const task = (r: Partial<Reservation> = {}): Reservation => ({ cpu: 0, memory: 128, ports: [], udpPorts: [], ...r });
const memberOf = (expression: string): ParsedConstraint => ({ type: "memberOf", expression: parseClusterQuery(expression) });
const first = (): number => 0;

interface Case {
  name: string;
  instances: PlacementInstance[];
  requirement?: Reservation;
  requiredAttributes?: Attribute[];
  count?: number;
  constraints?: ParsedConstraint[];
  strategies?: PlacementStrategy[];
  random?: () => number;
  placements: string[];
  failures?: Array<{ arn: string; reason: string }>;
}

const A = instance("a");
const B = instance("b");

const cases: Case[] = [
  {
    name: "a task bigger than every instance fails with RESOURCE:MEMORY on each",
    instances: [A, B],
    requirement: task({ memory: 10_000 }),
    placements: [],
    failures: [
      { arn: "arn:a", reason: "RESOURCE:MEMORY" },
      { arn: "arn:b", reason: "RESOURCE:MEMORY" },
    ],
  },
  {
    name: "CPU is checked before memory",
    instances: [instance("a", { cpu: 512 })],
    requirement: task({ cpu: 1024, memory: 10_000 }),
    placements: [],
    failures: [{ arn: "arn:a", reason: "RESOURCE:CPU" }],
  },
  {
    name: "a static host port in use on one instance sends the task to the other",
    instances: [instance("a", { ports: [8080] }), B],
    requirement: task({ ports: [8080] }),
    placements: ["arn:b"],
  },
  {
    name: "once every instance holds the port, the next task fails with RESOURCE:PORTS",
    instances: [A, B],
    requirement: task({ ports: [8080] }),
    count: 3,
    strategies: [{ type: "spread", field: "instanceId" }],
    placements: ["arn:a", "arn:b"],
    failures: [
      { arn: "arn:a", reason: "RESOURCE:PORTS" },
      { arn: "arn:b", reason: "RESOURCE:PORTS" },
    ],
  },
  {
    name: "the agent's reserved ports are taken",
    instances: [A],
    requirement: task({ ports: [51678] }),
    placements: [],
    failures: [{ arn: "arn:a", reason: "RESOURCE:PORTS" }],
  },
  {
    name: "memory is reserved task after task",
    instances: [instance("a", { memory: 1000 })],
    requirement: task({ memory: 400 }),
    count: 3,
    placements: ["arn:a", "arn:a"],
    failures: [{ arn: "arn:a", reason: "RESOURCE:MEMORY" }],
  },
  {
    name: "distinctInstance: one task of the group per instance",
    instances: [A, B],
    count: 3,
    constraints: [{ type: "distinctInstance" }],
    placements: ["arn:a", "arn:b"],
    failures: [
      { arn: "arn:a", reason: "DistinctInstance placement constraint unsatisfied." },
      { arn: "arn:b", reason: "DistinctInstance placement constraint unsatisfied." },
    ],
  },
  {
    name: "distinctInstance ignores tasks of other groups",
    instances: [instance("a", { groups: new Map([["family:other", 2]]) })],
    constraints: [{ type: "distinctInstance" }],
    placements: ["arn:a"],
  },
  {
    name: "memberOf(attribute:color == blue) keeps the blue instance only",
    instances: [A, instance("b", { attrs: { color: "blue" } })],
    count: 2,
    constraints: [memberOf("attribute:color == blue")],
    placements: ["arn:b", "arn:b"],
  },
  {
    name: "memberOf that nothing satisfies",
    instances: [A],
    constraints: [memberOf("attribute:color == blue")],
    placements: [],
    failures: [{ arn: "arn:a", reason: "MemberOf placement constraint unsatisfied." }],
  },
  {
    name: "memberOf on task:group (affinity)",
    instances: [A, instance("b", { groups: new Map([["service:db", 1]]) })],
    constraints: [memberOf("task:group == service:db")],
    placements: ["arn:b"],
  },
  {
    name: "a DRAINING instance gets nothing new and is not listed as a failure",
    instances: [instance("a", { status: "DRAINING" }), B],
    count: 2,
    placements: ["arn:b", "arn:b"],
  },
  {
    name: "a disconnected agent is turned down with AGENT",
    instances: [instance("a", { agentConnected: false })],
    placements: [],
    failures: [{ arn: "arn:a", reason: "AGENT" }],
  },
  {
    name: "a required attribute the instance lacks is an ATTRIBUTE failure",
    instances: [A],
    requiredAttributes: [{ name: "ecs.capability.secrets.ssm.environment-variables" }],
    placements: [],
    failures: [{ arn: "arn:a", reason: "ATTRIBUTE" }],
  },
  {
    name: "a valued required attribute must match (ecs.cpu-architecture = arm64)",
    instances: [instance("a", { attrs: { "ecs.cpu-architecture": "x86_64" } }), instance("b", { attrs: { "ecs.cpu-architecture": "arm64" } })],
    requiredAttributes: [{ name: "ecs.cpu-architecture", value: "arm64" }, { name: "ecs.capability.task-eni" }],
    placements: ["arn:b"],
  },
  {
    name: "spread on instanceId: 6 tasks over 2 instances → 3 and 3",
    instances: [A, B],
    count: 6,
    strategies: [{ type: "spread", field: "instanceId" }],
    placements: ["arn:a", "arn:b", "arn:a", "arn:b", "arn:a", "arn:b"],
  },
  {
    name: "spread counts the group's tasks already running",
    instances: [instance("a", { groups: new Map([["family:web", 2]]) }), B],
    count: 2,
    strategies: [{ type: "spread", field: "host" }],
    placements: ["arn:b", "arn:b"],
  },
  {
    name: "binpack on memory fills the instance with the least memory left first",
    instances: [instance("a", { memory: 2000 }), instance("b", { memory: 1000 })],
    requirement: task({ memory: 400 }),
    count: 4,
    strategies: [{ type: "binpack", field: "memory" }],
    placements: ["arn:b", "arn:b", "arn:a", "arn:a"],
  },
  {
    name: "binpack on cpu",
    instances: [instance("a", { cpu: 1024 }), instance("b", { cpu: 2048 })],
    requirement: task({ cpu: 512 }),
    count: 3,
    strategies: [{ type: "binpack", field: "cpu" }],
    placements: ["arn:a", "arn:a", "arn:b"],
  },
  {
    name: "spread across zones, then binpack memory inside a zone (the guide's combined example)",
    instances: [
      instance("a1", { az: "us-east-1a", memory: 3000 }),
      instance("a2", { az: "us-east-1a", memory: 1000 }),
      instance("b1", { az: "us-east-1b", memory: 3000 }),
      instance("b2", { az: "us-east-1b", memory: 2000 }),
    ],
    requirement: task({ memory: 500 }),
    count: 4,
    strategies: [
      { type: "spread", field: "attribute:ecs.availability-zone" },
      { type: "binpack", field: "memory" },
    ],
    placements: ["arn:a2", "arn:b2", "arn:a2", "arn:b2"],
  },
  {
    name: "random picks with the injected source",
    instances: [A, B, instance("c")],
    random: () => 0.99,
    strategies: [{ type: "random" }],
    placements: ["arn:c"],
  },
  {
    name: "no strategy (RunTask's default) is random too",
    instances: [A, B],
    random: () => 0.6,
    placements: ["arn:b"],
  },
];

describe("placeTasks", () => {
  it.each(cases)("$name", (c) => {
    const result = placeTasks({
      instances: c.instances,
      requirement: c.requirement ?? task(),
      requiredAttributes: c.requiredAttributes ?? [],
      group: "family:web",
      count: c.count ?? 1,
      constraints: c.constraints ?? [],
      strategies: c.strategies ?? [],
      random: c.random ?? first,
    });
    expect(result).toEqual({ placements: c.placements, failures: c.failures ?? [] });
  });
});
