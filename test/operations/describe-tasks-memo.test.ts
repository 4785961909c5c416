// DescribeTasks remembers whole answers per request; a remembered answer must never outlive any task
// snapshot it was built from, and the memo must stay bounded.
import { afterEach, beforeEach, describe as group, expect, it } from "vitest";
import { operationSpecs } from "../../generated/router.ts";
import type { DescribeTasksRequest, DescribeTasksResponse, Task } from "../../generated/shapes.ts";
import { DescribeTasksMemo, type DescribeTasksMemoEntry } from "../../src/operations/describe-tasks-memo.ts";
import { TaskEngine } from "../../src/runtime/engine/task-engine.ts";
import { rawJsonOf, rawJsonText } from "../../src/runtime/raw-json.ts";
import { ACCOUNT, REGION, errorOf, type Fixture } from "./control-plane-fixture.ts";
import { ManualClock } from "../../src/runtime/clock.ts";
import { makeTaskOpsFixture, type TaskOpsFixture } from "./task-ops-fixture.ts";

const IMAGE = "example/app:1";

group("DescribeTasks through the memo", () => {
  let fx: Fixture;
  let engine: TaskEngine;
  let clock: ManualClock;

  let fixture: TaskOpsFixture;

  beforeEach(async () => {
    clock = new ManualClock(Date.now());
    fixture = await makeTaskOpsFixture({ images: [IMAGE], clock, config: { stoppedTaskRetentionMs: 1000 } });
    ({ fx, engine } = fixture);
    await fx.call("RegisterTaskDefinition", { family: "web", containerDefinitions: [{ name: "app", image: IMAGE, memory: 64 }] });
    await fx.call("CreateCluster", { clusterName: "other" });
  });

  afterEach(async () => {
    await fixture.close();
  });

  /** The answer, whose attached JSON must equal serializing the typed answer afresh. */
  async function describe(input: DescribeTasksRequest): Promise<{ out: DescribeTasksResponse; json: Record<string, unknown> }> {
    const out = await fx.ops.describeTasks(input, fx.ctx);
    const raw = rawJsonOf(out);
    expect(raw).toBeDefined();
    const text = rawJsonText(raw!);
    expect(text).toBe(JSON.stringify(operationSpecs.DescribeTasks.serializeOutput(out)));
    return { out, json: JSON.parse(text) as Record<string, unknown> };
  }

  async function run(cluster?: string): Promise<string> {
    const out = await fx.ops.runTask({ taskDefinition: "web", ...(cluster === undefined ? {} : { cluster }) }, fx.ctx);
    return out.tasks![0]!.taskArn!;
  }

  const versionsOf = (json: Record<string, unknown>): unknown[] => (json["tasks"] as Task[]).map((t) => t.version);

  it("serves a repeated request from the memo until a task gets a new version", async () => {
    const a = await run();
    await engine.waitFor(a, (t) => t.lastStatus === "RUNNING", 5000);
    const first = await describe({ tasks: [a] });
    const again = await describe({ tasks: [a] });
    // The same answer object: it came from the memo.
    expect(again.out).toBe(first.out);
    expect(Object.isFrozen(first.out.tasks)).toBe(true);

    await fx.ops.stopTask({ task: a }, fx.ctx);
    const stopping = await describe({ tasks: [a] });
    expect(stopping.out).not.toBe(first.out);
    expect(stopping.json["tasks"]).toMatchObject([{ desiredStatus: "STOPPED" }]);
    expect(versionsOf(stopping.json)[0]).toBeGreaterThan(versionsOf(first.json)[0] as number);
    await engine.waitFor(a, (t) => t.lastStatus === "STOPPED", 5000);
    expect((await describe({ tasks: [a] })).json["tasks"]).toMatchObject([{ lastStatus: "STOPPED" }]);
  });

  it("is keyed by the references as sent: an id, its ARN, order and duplicates are different requests", async () => {
    const a = await run();
    const b = await run();
    const idOf = (arn: string): string => arn.split("/").pop()!;
    const byArn = await describe({ tasks: [a, b] });
    const byId = await describe({ tasks: [idOf(a), b] });
    expect(byId.out).not.toBe(byArn.out);
    expect(byId.json).toEqual(byArn.json);
    const reversed = await describe({ tasks: [b, a, b] });
    expect((reversed.json["tasks"] as Task[]).map((t) => t.taskArn)).toEqual([b, a]);
    // Another cluster with the same references resolves ids elsewhere and finds nothing.
    const elsewhere = await describe({ cluster: "other", tasks: [idOf(a), b] });
    expect(elsewhere.json).toEqual({
      tasks: [],
      failures: [
        { arn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task/other/${idOf(a)}`, reason: "MISSING" },
        { arn: b, reason: "MISSING" },
      ],
    });
  });

  it("drops a remembered answer when a task it holds is purged", async () => {
    const a = await run();
    const b = await run();
    await fx.ops.stopTask({ task: a }, fx.ctx);
    await engine.waitFor(a, (t) => t.lastStatus === "STOPPED", 5000);
    const before = await describe({ tasks: [a, b] });
    expect(await describe({ tasks: [a, b] })).toEqual(before);
    expect((before.json["tasks"] as Task[]).map((t) => t.taskArn)).toEqual([a, b]);

    // Past the retention: the engine's purge timer (on the same clock) drops the stopped task.
    clock.advance(60_000);
    expect(engine.get(a)).toBeUndefined();
    const after = await describe({ tasks: [a, b] });
    expect((after.json["tasks"] as Task[]).map((t) => t.taskArn)).toEqual([b]);
    expect(after.json["failures"]).toEqual([{ arn: a, reason: "MISSING" }]);
  });

  it("drops a remembered failure when the task appears, and an answer when a task changes cluster", async () => {
    const a = await run();
    const missing = `arn:aws:ecs:${REGION}:${ACCOUNT}:task/default/${"e".repeat(32)}`;
    const withFailure = await describe({ tasks: [a, missing] });
    expect(withFailure.json["failures"]).toEqual([{ arn: missing, reason: "MISSING" }]);
    expect((await describe({ tasks: [a, missing] })).out).toBe(withFailure.out);

    // The missing task comes into existence (stored directly: the engine never reuses an ARN).
    const current = engine.get(a)!;
    fixture.store.put({ ...current, taskArn: missing });
    const found = await describe({ tasks: [a, missing] });
    expect((found.json["tasks"] as Task[]).map((t) => t.taskArn)).toEqual([a, missing]);
    expect(found.json["failures"]).toEqual([]);

    // The same task seen from another cluster is a failure there, and stops being one when it lives there.
    const otherArn = fx.stores.clusters.require("other").clusterArn!;
    const fromOther = await describe({ cluster: "other", tasks: [missing] });
    expect(fromOther.json["failures"]).toEqual([{ arn: missing, reason: "MISSING" }]);
    fixture.store.put({ ...engine.get(missing)!, clusterArn: otherArn });
    expect((await describe({ cluster: "other", tasks: [missing] })).json["tasks"]).toMatchObject([{ taskArn: missing, clusterArn: otherArn }]);
    expect((await describe({ tasks: [missing] })).json["failures"]).toEqual([{ arn: missing, reason: "MISSING" }]);
  });

  it("still rejects a request for a cluster that was deleted after its answer was remembered", async () => {
    const a = await run("other");
    await fx.ops.stopTask({ cluster: "other", task: a }, fx.ctx);
    await engine.waitFor(a, (t) => t.lastStatus === "STOPPED", 5000);
    await describe({ cluster: "other", tasks: [a] });
    await fx.call("DeleteCluster", { cluster: "other" });
    expect((await errorOf(fx.ops.describeTasks({ cluster: "other", tasks: [a] }, fx.ctx))).type).toBe("ClusterNotFoundException");
  });
});

group("DescribeTasksMemo", () => {
  const task = (arn: string): Task => Object.freeze({ taskArn: arn, clusterArn: "c" });

  function entry(arns: string[], snapshots: Array<Task | undefined>, bytes = 10): DescribeTasksMemoEntry {
    return { clusterArn: "c", arns, snapshots, response: { tasks: [], failures: [] }, bytes };
  }

  it("serves an entry only while every recorded snapshot is still current", () => {
    const memo = new DescribeTasksMemo();
    const store = new Map<string, Task>([["x", task("x")]]);
    const lookup = (arn: string): Task | undefined => store.get(arn);
    const e = entry(["x", "y"], [store.get("x"), undefined]);
    memo.set(undefined, ["x", "y"], e);
    expect(memo.get(undefined, ["x", "y"], "c", lookup)).toBe(e.response);
    expect(memo.get("c", ["x", "y"], "c", lookup)).toBeUndefined();
    expect(memo.get(undefined, ["x"], "c", lookup)).toBeUndefined();
    expect(memo.get(undefined, ["x", "y"], "another cluster", lookup)).toBeUndefined();
    expect(memo.size).toBe(0);

    memo.set(undefined, ["x", "y"], e);
    store.set("y", task("y"));
    expect(memo.get(undefined, ["x", "y"], "c", lookup)).toBeUndefined();
    memo.set(undefined, ["x", "y"], entry(["x", "y"], [store.get("x"), store.get("y")]));
    store.set("x", task("x"));
    expect(memo.get(undefined, ["x", "y"], "c", lookup)).toBeUndefined();
    expect(memo.size).toBe(0);
    expect(memo.bytes).toBe(0);
  });

  it("is bounded by entries, least recently used first", () => {
    const memo = new DescribeTasksMemo({ maxEntries: 3 });
    const lookup = (): Task | undefined => undefined;
    for (const k of ["a", "b", "c"]) memo.set(undefined, [k], entry([k], [undefined]));
    expect(memo.get(undefined, ["a"], "c", lookup)).toBeDefined();
    memo.set(undefined, ["d"], entry(["d"], [undefined]));
    expect(memo.size).toBe(3);
    expect(memo.get(undefined, ["b"], "c", lookup)).toBeUndefined();
    for (const k of ["a", "c", "d"]) expect(memo.get(undefined, [k], "c", lookup)).toBeDefined();
    for (let i = 0; i < 1000; i++) memo.set(undefined, [`t${i}`], entry([`t${i}`], [undefined]));
    expect(memo.size).toBe(3);
  });

  it("is bounded by bytes, and never keeps an answer larger than the cap", () => {
    const memo = new DescribeTasksMemo({ maxBytes: 100 });
    const lookup = (): Task | undefined => undefined;
    for (let i = 0; i < 10; i++) memo.set(undefined, [`t${i}`], entry([`t${i}`], [undefined], 30));
    expect(memo.size).toBe(3);
    expect(memo.bytes).toBe(90);
    expect(memo.get(undefined, ["t9"], "c", lookup)).toBeDefined();
    memo.set(undefined, ["huge"], entry(["huge"], [undefined], 101));
    expect(memo.get(undefined, ["huge"], "c", lookup)).toBeUndefined();
    expect(memo.bytes).toBeLessThanOrEqual(100);
  });

  it("scans a bounded number of entries that share a first reference", () => {
    const memo = new DescribeTasksMemo();
    const lookup = (): Task | undefined => undefined;
    for (let i = 0; i < 100; i++) memo.set(undefined, ["same", `t${i}`], entry(["same", `t${i}`], [undefined, undefined]));
    expect(memo.size).toBe(32);
    expect(memo.get(undefined, ["same", "t99"], "c", lookup)).toBeDefined();
    expect(memo.get(undefined, ["same", "t0"], "c", lookup)).toBeUndefined();
  });
});
