import { describe, expect, it } from "vitest";
import type { Task } from "../../../generated/shapes.ts";
import { openDatabase } from "../../../src/runtime/database.ts";
import { TaskStore, familyOf } from "../../../src/runtime/store/task-store.ts";

const CLUSTER = "arn:aws:ecs:us-east-1:1:cluster/default";

function task(id: string, extra: Partial<Task> = {}): Task {
  return {
    taskArn: `arn:aws:ecs:us-east-1:1:task/default/${id}`,
    clusterArn: CLUSTER,
    taskDefinitionArn: "arn:aws:ecs:us-east-1:1:task-definition/fam:3",
    desiredStatus: "RUNNING",
    lastStatus: "PENDING",
    createdAt: new Date("2024-01-01T00:00:00.250Z"),
    version: 1,
    ...extra,
  };
}

describe("TaskStore", () => {
  it("writes through to SQLite, reads from memory, and reloads", () => {
    const db = openDatabase(":memory:");
    const store = new TaskStore(db);
    const t = task("a");
    store.put(t, { note: 1 });
    t.lastStatus = "RUNNING";
    expect(store.get(t.taskArn!)?.lastStatus).toBe("PENDING");
    expect(Object.isFrozen(store.get(t.taskArn!))).toBe(true);
    store.put(t, { note: 2 });
    const reloaded = new TaskStore(db);
    expect(reloaded.get(t.taskArn!)).toEqual(t);
    expect(reloaded.runtime(t.taskArn!)).toEqual({ note: 2 });
  });

  it("filters lists and counts", () => {
    const store = new TaskStore(openDatabase(":memory:"));
    store.put(task("a", { lastStatus: "RUNNING", startedBy: "me", launchType: "FARGATE" }));
    store.put(task("b", { taskDefinitionArn: "arn:aws:ecs:us-east-1:1:task-definition/other:1", group: "service:svc" }));
    store.put(task("c", { desiredStatus: "STOPPED", lastStatus: "STOPPED" }));
    const arns = (f: Parameters<TaskStore["list"]>[0]) => store.list(f).map((t) => t.taskArn!.slice(-1));
    expect(arns({ clusterArn: CLUSTER, desiredStatus: "RUNNING" })).toEqual(["a", "b"]);
    expect(arns({ clusterArn: CLUSTER, family: "other" })).toEqual(["b"]);
    expect(arns({ clusterArn: CLUSTER, serviceName: "svc" })).toEqual(["b"]);
    expect(arns({ clusterArn: CLUSTER, startedBy: "me" })).toEqual(["a"]);
    expect(arns({ clusterArn: "arn:aws:ecs:us-east-1:1:cluster/x" })).toEqual([]);
    expect(store.counts(CLUSTER)).toEqual({ running: 1, pending: 1, byLaunchType: { FARGATE: { running: 1, pending: 0 }, EC2: { running: 0, pending: 1 } } });
  });

  it("purges stopped tasks past retention and keeps client tokens per cluster", () => {
    const store = new TaskStore(openDatabase(":memory:"));
    store.put(task("old", { lastStatus: "STOPPED", stoppedAt: new Date("2024-01-01T01:00:00Z") }));
    store.put(task("new", { lastStatus: "STOPPED", stoppedAt: new Date("2024-01-01T03:00:00Z") }));
    store.put(task("live", { lastStatus: "RUNNING" }));
    expect(store.purgeStoppedBefore(new Date("2024-01-01T02:00:00Z"))).toEqual([task("old").taskArn]);
    expect(store.all().map((t) => t.taskArn!.split("/").pop())).toEqual(["new", "live"]);

    store.putClientToken({ clusterArn: CLUSTER, clientToken: "t", fingerprint: "f", taskArns: ["x"], createdAt: new Date() });
    expect(store.findClientToken(CLUSTER, "t")).toMatchObject({ fingerprint: "f", taskArns: ["x"] });
    expect(store.findClientToken("other", "t")).toBeUndefined();
  });

  it("derives the family from the task definition ARN", () => {
    expect(familyOf("arn:aws:ecs:us-east-1:1:task-definition/my-fam:12")).toBe("my-fam");
  });
});
