// After a restart TaskStore serves lists, counts and purges from SQLite's indexed columns and builds a
// task's snapshot only when it is read: every answer must be what the store gave before the restart.
import { describe, expect, it } from "vitest";
import type { Task } from "../../../generated/shapes.ts";
import { openDatabase } from "../../../src/runtime/database.ts";
import { TaskStore, type TaskListFilter } from "../../../src/runtime/store/task-store.ts";

const CLUSTERS = ["arn:aws:ecs:us-east-1:1:cluster/a", "arn:aws:ecs:us-east-1:1:cluster/b"];

function task(i: number): Task {
  const stopped = i % 3 === 0;
  return {
    taskArn: `arn:aws:ecs:us-east-1:1:task/a/t${i}`,
    clusterArn: CLUSTERS[i % 2],
    taskDefinitionArn: `arn:aws:ecs:us-east-1:1:task-definition/${["web", "worker"][i % 2]}:${1 + (i % 3)}`,
    desiredStatus: stopped ? "STOPPED" : "RUNNING",
    lastStatus: stopped ? "STOPPED" : i % 5 === 0 ? "PENDING" : "RUNNING",
    createdAt: new Date(Date.UTC(2024, 0, 1, 0, 0, i)),
    ...(stopped ? { stoppedAt: new Date(Date.UTC(2024, 0, 1, 1, 0, i, 250)), stopCode: "EssentialContainerExited" as const } : {}),
    ...(i % 4 === 0 ? { startedBy: "me" } : {}),
    group: i % 7 === 0 ? "service:svc" : "family:web",
    launchType: i % 2 === 0 ? "EC2" : "FARGATE",
    ...(i % 6 === 1 ? { containerInstanceArn: "ci-1" } : {}),
    containers: [{ name: "app", lastStatus: stopped ? "STOPPED" : "RUNNING", ...(stopped ? { exitCode: i } : {}) }],
    version: 1 + (i % 4),
  };
}

const filters: TaskListFilter[] = CLUSTERS.flatMap((clusterArn) =>
  [undefined, "RUNNING", "STOPPED"].flatMap((desiredStatus) => [
    { clusterArn, desiredStatus },
    { clusterArn, desiredStatus, family: "web" },
    { clusterArn, desiredStatus, startedBy: "me", launchType: "EC2" },
    { clusterArn, desiredStatus, serviceName: "svc" },
    { clusterArn, desiredStatus, containerInstanceArn: "ci-1" },
  ]),
);

describe("TaskStore after a restart", () => {
  it("lists, pages, counts and purges exactly as before, and reads each task back unchanged", () => {
    const db = openDatabase(":memory:");
    const before = new TaskStore(db);
    for (let i = 0; i < 60; i++) before.put(task(i), { v: 1, cleanedUp: i % 2 === 0 });
    const after = new TaskStore(db);
    for (const f of filters) {
      expect(after.arnPage(f, 0, 100), JSON.stringify(f)).toEqual(before.arnPage(f, 0, 100));
      expect(after.arnPage(f, 3, 4)).toEqual(before.arnPage(f, 3, 4));
      expect(after.list(f).map((t) => t.taskArn)).toEqual(before.list(f).map((t) => t.taskArn));
    }
    for (const c of CLUSTERS) expect(after.counts(c)).toEqual(before.counts(c));
    for (let i = 0; i < 60; i++) {
      const arn = task(i).taskArn!;
      const loaded = after.get(arn)!;
      expect(loaded).toEqual(before.get(arn));
      expect(Object.isFrozen(loaded)).toBe(true);
      expect(after.get(arn)).toBe(loaded); // built once
      expect(after.wireJson(loaded)).toBe(before.wireJson(before.get(arn)!));
    }
    const cutoff = new Date(Date.UTC(2024, 0, 1, 1, 0, 30));
    expect(new TaskStore(db).purgeStoppedBefore(cutoff)).toEqual(before.purgeStoppedBefore(cutoff));
  });

  it("hands a restarting engine every task but the stopped, cleaned-up ones", () => {
    const db = openDatabase(":memory:");
    const store = new TaskStore(db);
    const t = (i: number, extra: Partial<Task>): Task => ({ ...task(i), ...extra });
    store.put(t(1, { lastStatus: "RUNNING", desiredStatus: "RUNNING" }), { v: 1, cleanedUp: false });
    store.put(t(2, { lastStatus: "STOPPED", desiredStatus: "STOPPED" }), { v: 1, cleanedUp: false });
    store.put(t(3, { lastStatus: "STOPPED", desiredStatus: "STOPPED" }), { v: 1, cleanedUp: true });
    store.put(t(4, { lastStatus: "RUNNING", desiredStatus: "RUNNING" }));
    const names = (s: TaskStore): string[] => s.adoptable().map((x) => x.taskArn!.split("/").pop()!);
    expect(names(store)).toEqual(["t1", "t2"]);
    expect(names(new TaskStore(db))).toEqual(["t1", "t2"]);
  });
});
