// The start-up gate: what waits while the Docker side comes up, what does not, and the bound, on a
// manual clock. The server's use of it (real Docker held back by a socket proxy) is
// test/reliability/startup.test.ts.
import { describe, expect, it } from "vitest";
import type { EcsOperations } from "../../generated/operations.ts";
import { ManualClock } from "../../src/runtime/clock.ts";
import { ANSWERED_WHILE_STARTING, gatedOperations, StartupGate } from "../../src/runtime/startup-gate.ts";

/** Whether a promise has settled, after everything already queued has run. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((r) => setImmediate(r));
  return done;
}

describe("StartupGate", () => {
  it("holds from the start until the Docker side is ready", async () => {
    const gate = new StartupGate({ clock: new ManualClock(), boundMs: 15_000 });
    expect(gate.phase).toBe("starting");
    expect(gate.holding).toBe(true);
    const waiting = gate.passed();
    expect(await settled(waiting)).toBe(false);
    gate.ready();
    expect(await settled(waiting)).toBe(true);
    expect(gate).toMatchObject({ phase: "ready", holding: false });
    expect(await settled(gate.passed())).toBe(true);
  });

  it("lets requests through when Docker is away, holds again while a later attempt runs, and never once ready", async () => {
    const clock = new ManualClock();
    const gate = new StartupGate({ clock, boundMs: 15_000 });
    const first = gate.passed();
    gate.unavailable();
    expect(await settled(first)).toBe(true);
    expect(gate).toMatchObject({ phase: "unavailable", holding: false });

    gate.starting();
    expect(gate).toMatchObject({ phase: "starting", holding: true });
    const second = gate.passed();
    gate.starting(); // the same attempt
    gate.ready();
    expect(await settled(second)).toBe(true);

    // Later outages are the engine's to follow: the gate stays open.
    gate.starting();
    gate.unavailable();
    expect(gate).toMatchObject({ phase: "ready", holding: false });
    expect(clock.pendingTimers).toBe(0);
  });

  it("stops holding at the bound (and says so once), while the attempt goes on", async () => {
    const clock = new ManualClock();
    let late = 0;
    const gate = new StartupGate({ clock, boundMs: 15_000, onBoundPassed: () => late++ });
    const waiting = gate.passed();
    clock.advance(14_999);
    expect(await settled(waiting)).toBe(false);
    clock.advance(1);
    expect(await settled(waiting)).toBe(true);
    expect(late).toBe(1);
    expect(gate).toMatchObject({ phase: "starting", holding: false });
    gate.ready();
    expect(gate.phase).toBe("ready");
    clock.advance(60_000);
    expect(late).toBe(1);
  });

  it("close releases whoever waits", async () => {
    const clock = new ManualClock();
    const gate = new StartupGate({ clock, boundMs: 15_000 });
    const waiting = gate.passed();
    gate.close();
    expect(await settled(waiting)).toBe(true);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe("gatedOperations", () => {
  const calls: string[] = [];
  const operations: Partial<EcsOperations<unknown>> = {
    async listClusters() {
      calls.push("listClusters");
      return { clusterArns: [] };
    },
    async registerTaskDefinition() {
      calls.push("registerTaskDefinition");
      return {};
    },
    async describeTasks() {
      calls.push("describeTasks");
      return { tasks: [], failures: [] };
    },
    async runTask() {
      calls.push("runTask");
      return { tasks: [], failures: [] };
    },
    async stopTask() {
      calls.push("stopTask");
      return {};
    },
  };

  it("answers the control plane at once and holds the rest, in arrival order, until the gate opens", async () => {
    calls.length = 0;
    const gate = new StartupGate({ clock: new ManualClock(), boundMs: 15_000 });
    const gated = gatedOperations(operations, gate);
    const describe = gated.describeTasks!({ cluster: "c", tasks: ["t"] }, undefined);
    const run = gated.runTask!({ taskDefinition: "td" }, undefined);
    const stop = gated.stopTask!({ task: "t" }, undefined);
    await gated.listClusters!({}, undefined);
    await gated.registerTaskDefinition!({ family: "f", containerDefinitions: [] }, undefined);
    expect(calls).toEqual(["listClusters", "registerTaskDefinition"]);
    expect(await settled(Promise.race([describe, run, stop]))).toBe(false);

    gate.ready();
    await Promise.all([describe, run, stop]);
    expect(calls).toEqual(["listClusters", "registerTaskDefinition", "describeTasks", "runTask", "stopTask"]);
    // Open: called directly.
    await gated.runTask!({ taskDefinition: "td" }, undefined);
    expect(calls.at(-1)).toBe("runTask");
  });

  it("holds every operation but the control plane's (a new operation waits by default)", () => {
    for (const name of ["runTask", "startTask", "stopTask", "describeTasks", "listTasks", "describeClusters", "createCluster", "describeContainerInstances", "listContainerInstances", "executeCommand", "describeServices", "createService"]) {
      expect(ANSWERED_WHILE_STARTING.has(name as keyof EcsOperations), name).toBe(false);
    }
    expect(ANSWERED_WHILE_STARTING.has("listClusters")).toBe(true);
  });
});
