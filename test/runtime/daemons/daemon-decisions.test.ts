import { describe, expect, it } from "vitest";
import {
  decideDaemons,
  RESTART_BACKOFF_MS,
  STOP_REASONS,
  type DaemonAction,
  type DaemonInstanceState,
  type DaemonState,
  type DaemonTaskState,
  type DaemonWorld,
} from "../../../src/runtime/daemons/daemon-decisions.ts";

const NOW = 1_000_000;
const C = "cluster/c";
const daemon = (o: Partial<DaemonState> = {}): DaemonState => ({ arn: "d1", clusterArn: C, status: "ACTIVE", revisionArn: "r2", capacityProviders: ["mi"], ...o });
const instance = (arn: string, o: Partial<DaemonInstanceState> = {}): DaemonInstanceState => ({ arn, clusterArn: C, status: "ACTIVE", capacityProviderName: "mi", connected: true, ...o });
const task = (taskArn: string, instanceArn: string, o: Partial<DaemonTaskState> = {}): DaemonTaskState => ({
  taskArn,
  daemonArn: "d1",
  revisionArn: "r2",
  containerInstanceArn: instanceArn,
  lastStatus: "RUNNING",
  desiredStatus: "RUNNING",
  ...o,
});
const start = (instanceArn: string): DaemonAction => ({ kind: "start", daemonArn: "d1", revisionArn: "r2", instanceArn });
const stop = (taskArn: string, reason: string): DaemonAction => ({ kind: "stop", taskArn, reason });

interface Case {
  name: string;
  world: Partial<DaemonWorld>;
  actions: DaemonAction[];
  wakeAt?: number;
}

const cases: Case[] = [
  { name: "a new daemon starts one task on each matching instance", world: { instances: [instance("i1"), instance("i2")] }, actions: [start("i1"), start("i2")] },
  {
    name: "instances of other capacity providers, clusters or deregistered ones are not covered",
    world: {
      instances: [instance("i1", { capacityProviderName: "other" }), instance("i2", { clusterArn: "cluster/x" }), instance("i3", { status: "INACTIVE" }), instance("i4", { capacityProviderName: undefined })],
    },
    actions: [],
  },
  { name: "a DRAINING instance keeps (and gets) its daemon task", world: { instances: [instance("i1", { status: "DRAINING" })] }, actions: [start("i1")] },
  { name: "nothing to do when every instance runs the current revision", world: { instances: [instance("i1")], tasks: [task("t1", "i1")] }, actions: [] },
  { name: "a PENDING task counts as there", world: { instances: [instance("i1")], tasks: [task("t1", "i1", { lastStatus: "PENDING" })] }, actions: [] },
  {
    name: "a newly registered instance gets its task",
    world: { instances: [instance("i1"), instance("i2")], tasks: [task("t1", "i1")] },
    actions: [start("i2")],
  },
  {
    name: "an old revision is replaced",
    world: { instances: [instance("i1")], tasks: [task("t1", "i1", { revisionArn: "r1" })] },
    actions: [stop("t1", STOP_REASONS.replaced), start("i1")],
  },
  {
    name: "exactly one: duplicates are stopped",
    world: { instances: [instance("i1")], tasks: [task("t1", "i1"), task("t2", "i1")] },
    actions: [stop("t2", STOP_REASONS.duplicate)],
  },
  {
    name: "a task on an instance no longer covered is stopped",
    world: { instances: [instance("i1", { status: "INACTIVE" })], tasks: [task("t1", "i1")] },
    actions: [stop("t1", STOP_REASONS.unmatched)],
  },
  {
    name: "a deleted daemon stops all its tasks",
    world: { daemons: [daemon({ status: "DELETE_IN_PROGRESS" })], instances: [instance("i1")], tasks: [task("t1", "i1"), task("t2", "i1", { lastStatus: "STOPPED", desiredStatus: "STOPPED" })] },
    actions: [stop("t1", STOP_REASONS.deleted)],
  },
  {
    name: "a task that stopped is restarted after the back-off",
    world: { instances: [instance("i1")], tasks: [task("t1", "i1", { lastStatus: "STOPPED", desiredStatus: "STOPPED", stoppedAt: NOW - RESTART_BACKOFF_MS })] },
    actions: [start("i1")],
  },
  {
    name: "…but not before: decide again when it is over",
    world: { instances: [instance("i1")], tasks: [task("t1", "i1", { lastStatus: "STOPPED", desiredStatus: "STOPPED", stoppedAt: NOW - 1000 })] },
    actions: [],
    wakeAt: NOW - 1000 + RESTART_BACKOFF_MS,
  },
  { name: "no start on an instance whose agent is disconnected", world: { instances: [instance("i1", { connected: false })] }, actions: [] },
  {
    name: "the deployment completes once every covered instance runs the target revision",
    world: { instances: [instance("i1"), instance("i2")], tasks: [task("t1", "i1"), task("t2", "i2")], deployments: [{ arn: "dep", daemonArn: "d1", targetRevisionArn: "r2" }] },
    actions: [{ kind: "complete", deploymentArn: "dep" }],
  },
  {
    name: "…not while a task is still PENDING or an old revision runs",
    world: {
      instances: [instance("i1"), instance("i2")],
      tasks: [task("t1", "i1", { lastStatus: "PENDING" }), task("t2", "i2"), task("t0", "i2", { revisionArn: "r1" })],
      deployments: [{ arn: "dep", daemonArn: "d1", targetRevisionArn: "r2" }],
    },
    actions: [stop("t0", STOP_REASONS.replaced)],
  },
  {
    name: "a delete deployment completes when no daemon task is left",
    world: { daemons: [daemon({ status: "DELETE_IN_PROGRESS" })], tasks: [task("t1", "i1", { lastStatus: "STOPPED", desiredStatus: "STOPPED" })], deployments: [{ arn: "del", daemonArn: "d1" }] },
    actions: [{ kind: "complete", deploymentArn: "del" }],
  },
];

describe("decideDaemons", () => {
  it.each(cases)("$name", (c) => {
    const world: DaemonWorld = { daemons: [daemon()], instances: [], tasks: [], deployments: [], ...c.world };
    const decision = decideDaemons(world, NOW);
    expect(decision.actions).toEqual(c.actions);
    expect(decision.wakeAt).toBe(c.wakeAt);
  });
});
