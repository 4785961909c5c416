// TaskStore's read-path caches: the per-snapshot wire JSON and the ListTasks index/page cache must give
// exactly what serializing / scanning every task in store order gives, through puts, moves and deletes.
import { describe, expect, it } from "vitest";
import { serializeTask } from "../../../generated/serde.ts";
import type { Task } from "../../../generated/shapes.ts";
import { openDatabase } from "../../../src/runtime/database.ts";
import { TaskStore, familyOf, type TaskListFilter } from "../../../src/runtime/store/task-store.ts";

const CLUSTERS = ["arn:aws:ecs:us-east-1:1:cluster/a", "arn:aws:ecs:us-east-1:1:cluster/b"];
const FAMILIES = ["web", "worker", "batch"];

function task(id: string, extra: Partial<Task> = {}): Task {
  return {
    taskArn: `arn:aws:ecs:us-east-1:1:task/a/${id}`,
    clusterArn: CLUSTERS[0],
    taskDefinitionArn: "arn:aws:ecs:us-east-1:1:task-definition/web:3",
    desiredStatus: "RUNNING",
    lastStatus: "PENDING",
    createdAt: new Date("2024-01-01T00:00:00.250Z"),
    version: 1,
    ...extra,
  };
}

/** The pre-index behaviour: every task in store (first-put) order, filtered one by one. */
function scan(tasks: ReadonlyMap<string, Task>, f: TaskListFilter): string[] {
  const out: string[] = [];
  for (const t of tasks.values()) {
    if (t.clusterArn !== f.clusterArn) continue;
    if (f.family !== undefined && familyOf(t.taskDefinitionArn) !== f.family) continue;
    if (f.startedBy !== undefined && t.startedBy !== f.startedBy) continue;
    if (f.serviceName !== undefined && t.group !== `service:${f.serviceName}`) continue;
    if (f.launchType !== undefined && t.launchType !== f.launchType) continue;
    if (f.containerInstanceArn !== undefined && t.containerInstanceArn !== f.containerInstanceArn) continue;
    if (f.desiredStatus !== undefined && t.desiredStatus !== f.desiredStatus) continue;
    out.push(t.taskArn!);
  }
  return out;
}

/** Deterministic PRNG (mulberry32), so a failure replays. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("TaskStore wire JSON cache", () => {
  it("is the snapshot's serialized JSON, and follows every put", () => {
    const db = openDatabase(":memory:");
    const store = new TaskStore(db);
    const t = task("a", { containers: [{ name: "app", lastStatus: "PENDING" }] });
    store.put(t);
    const first = store.get(t.taskArn!)!;
    expect(store.wireJson(first)).toBe(JSON.stringify(serializeTask(first)));
    expect(store.wireJsonBytes(first).toString("utf8")).toBe(store.wireJson(first));
    expect(store.wireJsonBytes(first)).toBe(store.wireJsonBytes(first)); // cached, not rebuilt

    t.lastStatus = "RUNNING";
    t.version = 2;
    t.containers = [{ name: "app", lastStatus: "RUNNING", exitCode: 0 }];
    store.put(t);
    const second = store.get(t.taskArn!)!;
    expect(second).not.toBe(first);
    expect(JSON.parse(store.wireJson(second))).toMatchObject({ lastStatus: "RUNNING", version: 2, containers: [{ lastStatus: "RUNNING", exitCode: 0 }] });
    expect(store.wireJsonBytes(second).toString("utf8")).toBe(JSON.stringify(serializeTask(second)));
    // A put without a new version (engine bookkeeping) replaces the snapshot too.
    store.put(t, { containerIds: ["x"] });
    const third = store.get(t.taskArn!)!;
    expect(store.wireJsonBytes(third).toString("utf8")).toBe(JSON.stringify(serializeTask(third)));
    // An older snapshot, or any other object, is serialized as it is, not answered from the cache.
    expect(JSON.parse(store.wireJson(first))).toMatchObject({ lastStatus: "PENDING", version: 1 });
    expect(store.wireJsonBytes({ ...third, lastStatus: "STOPPED" }).toString("utf8")).toContain('"lastStatus":"STOPPED"');

    const reloaded = new TaskStore(db);
    const loaded = reloaded.get(t.taskArn!)!;
    expect(reloaded.wireJson(loaded)).toBe(JSON.stringify(serializeTask(third)));
  });
});

describe("TaskStore list index", () => {
  it("pages exactly like a scan of every task, through random puts, status moves and deletes", () => {
    const random = rng(20241128);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const db = openDatabase(":memory:");
    const store = new TaskStore(db);
    // Reference model: a Map keeps first-insertion order and sends deleted-then-re-added keys to the end.
    const model = new Map<string, Task>();
    let nextId = 0;
    const filters = (): TaskListFilter[] => {
      const out: TaskListFilter[] = [];
      for (const clusterArn of [...CLUSTERS, "arn:aws:ecs:us-east-1:1:cluster/none"]) {
        for (const desiredStatus of [undefined, "RUNNING", "STOPPED", "PENDING"]) {
          out.push({ clusterArn, desiredStatus });
          out.push({ clusterArn, desiredStatus, family: pick(FAMILIES) });
          out.push({ clusterArn, desiredStatus, startedBy: "me", launchType: pick(["EC2", "FARGATE"]) });
          out.push({ clusterArn, desiredStatus, serviceName: "svc" });
          out.push({ clusterArn, desiredStatus, containerInstanceArn: "ci-1" });
        }
      }
      return out;
    };

    for (let step = 0; step < 600; step++) {
      const r = random();
      const existing = [...model.keys()];
      if (r < 0.45 || existing.length === 0) {
        const id = `t${nextId++}`;
        const t = task(id, {
          clusterArn: pick(CLUSTERS),
          taskDefinitionArn: `arn:aws:ecs:us-east-1:1:task-definition/${pick(FAMILIES)}:${1 + Math.floor(random() * 3)}`,
          startedBy: random() < 0.3 ? "me" : undefined,
          group: random() < 0.3 ? "service:svc" : "family:x",
          launchType: pick(["EC2", "FARGATE"]),
        });
        store.put(t);
        model.set(t.taskArn!, structuredClone(t));
      } else if (r < 0.8) {
        // An update: status moves between the RUNNING and STOPPED buckets, or a filtered field changes.
        const arn = pick(existing);
        const t = structuredClone(model.get(arn)!);
        t.desiredStatus = random() < 0.5 ? "STOPPED" : "RUNNING";
        t.lastStatus = t.desiredStatus === "STOPPED" ? "STOPPED" : "RUNNING";
        if (random() < 0.2) t.containerInstanceArn = random() < 0.5 ? "ci-1" : undefined;
        if (random() < 0.1) t.desiredStatus = "PENDING";
        t.version = (t.version ?? 0) + 1;
        store.put(t);
        model.set(arn, t);
      } else if (r < 0.92) {
        const arn = pick(existing);
        store.delete(arn);
        model.delete(arn);
      } else {
        // Deleted, then the same ARN comes back: it goes to the end, as in a Map.
        const arn = pick(existing);
        store.delete(arn);
        model.delete(arn);
        const t = structuredClone(store.get(arn) ?? task(arn.split("/").pop()!, { clusterArn: pick(CLUSTERS) }));
        store.put(t);
        model.set(arn, t);
      }

      if (step % 20 !== 0) continue;
      for (const f of filters()) {
        const expected = scan(model, f);
        expect(store.list(f).map((t) => t.taskArn)).toEqual(expected);
        for (const [offset, limit] of [
          [0, 1],
          [0, 7],
          [3, 5],
          [10, 100],
          [expected.length, 10],
        ] as const) {
          const page = store.page(f, offset, limit);
          expect(page.tasks.map((t) => t.taskArn)).toEqual(expected.slice(offset, offset + limit));
          expect(page.more).toBe(offset + limit < expected.length);
          const arns = store.arnPage(f, offset, limit);
          expect(arns.taskArns).toEqual(expected.slice(offset, offset + limit));
          expect(arns.more).toBe(page.more);
        }
      }
    }
  });

  it("returns the same cached page until a task of that cluster and status changes", () => {
    const store = new TaskStore(openDatabase(":memory:"));
    const a = task("a");
    store.put(a);
    store.put(task("b"));
    store.put(task("other", { clusterArn: CLUSTERS[1] }));
    const running: TaskListFilter = { clusterArn: CLUSTERS[0]!, desiredStatus: "RUNNING" };
    const p1 = store.arnPage(running, 0, 100);
    expect(p1.taskArns).toEqual([a.taskArn, task("b").taskArn]);
    expect(Object.isFrozen(p1) && Object.isFrozen(p1.taskArns)).toBe(true);
    expect(store.arnPage(running, 0, 100)).toBe(p1);
    expect(store.arnPage(running, 0, 1)).not.toBe(p1);

    // Another cluster's task does not touch this cluster's pages.
    store.put(task("other2", { clusterArn: CLUSTERS[1] }));
    expect(store.arnPage(running, 0, 100)).toBe(p1);

    // A put of a task in the bucket (even without moving it) drops the cached pages.
    store.put({ ...a, version: 2, startedBy: "me" });
    const p2 = store.arnPage(running, 0, 100);
    expect(p2).not.toBe(p1);
    expect(store.arnPage({ ...running, startedBy: "me" }, 0, 100).taskArns).toEqual([a.taskArn]);

    // Moving to STOPPED removes it from RUNNING and adds it to STOPPED, in store order.
    store.put({ ...a, version: 3, desiredStatus: "STOPPED" });
    expect(store.arnPage(running, 0, 100).taskArns).toEqual([task("b").taskArn]);
    expect(store.arnPage({ ...running, desiredStatus: "STOPPED" }, 0, 100).taskArns).toEqual([a.taskArn]);

    // Purge and delete leave the index too.
    store.put({ ...task("b"), desiredStatus: "STOPPED", lastStatus: "STOPPED", stoppedAt: new Date("2024-01-01T01:00:00Z") });
    expect(store.arnPage({ ...running, desiredStatus: "STOPPED" }, 0, 100).taskArns).toEqual([a.taskArn, task("b").taskArn]);
    expect(store.purgeStoppedBefore(new Date("2024-01-01T02:00:00Z"))).toEqual([task("b").taskArn]);
    expect(store.arnPage({ ...running, desiredStatus: "STOPPED" }, 0, 100).taskArns).toEqual([a.taskArn]);
    store.delete(a.taskArn!);
    expect(store.arnPage({ ...running, desiredStatus: "STOPPED" }, 0, 100).taskArns).toEqual([]);
  });

  it("rebuilds the index from SQLite in creation order", () => {
    const db = openDatabase(":memory:");
    const store = new TaskStore(db);
    const times = [3, 1, 2];
    for (const [i, s] of times.entries()) store.put(task(`t${i}`, { createdAt: new Date(Date.UTC(2024, 0, 1, 0, 0, s)) }));
    const reloaded = new TaskStore(db);
    expect(reloaded.list({ clusterArn: CLUSTERS[0]!, desiredStatus: "RUNNING" }).map((t) => t.taskArn!.split("/").pop())).toEqual(["t1", "t2", "t0"]);
  });
});
