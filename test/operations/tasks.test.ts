import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Task } from "../../generated/shapes.ts";
import { taskView } from "../../src/operations/tasks.ts";
import { TaskEngine } from "../../src/runtime/engine/task-engine.ts";
import { ACCOUNT, REGION, errorOf, type Fixture } from "./control-plane-fixture.ts";
import { makeTaskOpsFixture, type TaskOpsFixture } from "./task-ops-fixture.ts";

const IMAGE = "example/app:1";
const TASK_ARN = new RegExp(`^arn:aws:ecs:${REGION}:${ACCOUNT}:task/default/[0-9a-f]{32}$`);

let fx: Fixture;
let engine: TaskEngine;
let fixture: TaskOpsFixture;

beforeEach(async () => {
  fixture = await makeTaskOpsFixture({ images: [IMAGE] });
  ({ fx, engine } = fixture);
  await fx.call("RegisterTaskDefinition", {
    family: "web",
    containerDefinitions: [
      { name: "app", image: IMAGE, memory: 64 },
      { name: "sidecar", image: IMAGE, memory: 32, essential: false },
    ],
    tags: [{ key: "team", value: "blue" }],
  });
  await fx.call("RegisterTaskDefinition", {
    family: "vpc",
    networkMode: "awsvpc",
    requiresCompatibilities: ["FARGATE"],
    cpu: "256",
    memory: "512",
    containerDefinitions: [{ name: "app", image: IMAGE }],
  });
});

afterEach(async () => {
  await fixture.close();
});

type WireTask = Record<string, unknown> & { taskArn: string; containers: Array<Record<string, unknown>> };

async function runOne(input: Record<string, unknown> = {}): Promise<WireTask> {
  const out = await fx.call("RunTask", { taskDefinition: "web", ...input });
  return (out["tasks"] as WireTask[])[0]!;
}

describe("RunTask", () => {
  it("starts tasks PENDING on the default cluster and echoes overrides for every container", async () => {
    const out = await fx.call("RunTask", { taskDefinition: "web", count: 2, startedBy: "tester" });
    expect(out["failures"]).toEqual([]);
    const tasks = out["tasks"] as WireTask[];
    expect(tasks).toHaveLength(2);
    const t = tasks[0]!;
    expect(t.taskArn).toMatch(TASK_ARN);
    expect(t).toMatchObject({
      clusterArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/default`,
      taskDefinitionArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/web:1`,
      lastStatus: "PENDING",
      desiredStatus: "RUNNING",
      group: "family:web",
      startedBy: "tester",
      version: 1,
      overrides: { containerOverrides: [{ name: "app" }, { name: "sidecar" }], inferenceAcceleratorOverrides: [] },
    });
    expect(typeof t["createdAt"]).toBe("number");
    expect(t.containers.map((c) => [c["name"], c["lastStatus"], c["memory"]])).toEqual([
      ["app", "PENDING", "64"],
      ["sidecar", "PENDING", "32"],
    ]);
    await engine.waitFor(t.taskArn, (x) => x.lastStatus === "RUNNING", 5000);
    const described = await fx.call("DescribeClusters", { clusters: ["default"] });
    expect((described["clusters"] as Array<Record<string, unknown>>)[0]).toMatchObject({ runningTasksCount: 1, pendingTasksCount: 1 });
  });

  it("rejects bad parameters", async () => {
    expect(await errorOf(fx.call("RunTask", { taskDefinition: "web", cluster: "nope" }))).toEqual({ type: "ClusterNotFoundException", message: "Cluster not found." });
    expect((await errorOf(fx.call("RunTask", { taskDefinition: "web", count: 11 }))).type).toBe("InvalidParameterException");
    expect((await errorOf(fx.call("RunTask", { taskDefinition: "web", count: 0 }))).type).toBe("InvalidParameterException");
    expect(
      (await errorOf(fx.call("RunTask", { taskDefinition: "web", launchType: "EC2", capacityProviderStrategy: [{ capacityProvider: "FARGATE" }] }))).type,
    ).toBe("InvalidParameterException");
    expect((await errorOf(fx.call("RunTask", { taskDefinition: "web", propagateTags: "SERVICE" }))).type).toBe("InvalidParameterException");
    expect((await errorOf(fx.call("RunTask", { taskDefinition: "missing" }))).type).toBe("ClientException");
    expect((await errorOf(fx.call("RunTask", { taskDefinition: "vpc" }))).message).toMatch(/Network Configuration must be provided/);
    expect(
      (await errorOf(fx.call("RunTask", { taskDefinition: "web", networkConfiguration: { awsvpcConfiguration: { subnets: ["s"] } } }))).type,
    ).toBe("InvalidParameterException");
    expect(
      (await errorOf(fx.call("RunTask", { taskDefinition: "web", overrides: { containerOverrides: [{ name: "ghost" }] } }))).message,
    ).toMatch(/ghost/);
  });

  it("runs awsvpc tasks PROVISIONING with an ENI attachment", async () => {
    const t = await runOne({ taskDefinition: "vpc", launchType: "FARGATE", networkConfiguration: { awsvpcConfiguration: { subnets: ["subnet-9"] } } });
    expect(t).toMatchObject({ lastStatus: "PROVISIONING", launchType: "FARGATE", cpu: "256", memory: "512", platformVersion: "1.4.0" });
    expect((t["attachments"] as Array<Record<string, unknown>>)[0]).toMatchObject({ type: "ElasticNetworkInterface", status: "PRECREATED" });
  });

  it("propagates task-definition tags and adds request tags", async () => {
    const t = await runOne({ propagateTags: "TASK_DEFINITION", tags: [{ key: "env", value: "dev" }] });
    expect(t["tags"]).toEqual([
      { key: "env", value: "dev" },
      { key: "team", value: "blue" },
    ]);
    const d = await fx.call("DescribeTasks", { tasks: [t.taskArn], include: ["TAGS"] });
    expect((d["tasks"] as WireTask[])[0]!["tags"]).toEqual(t["tags"]);
    const plain = await fx.call("DescribeTasks", { tasks: [t.taskArn] });
    expect((plain["tasks"] as WireTask[])[0]!["tags"]).toBeUndefined();
    const listed = await fx.call("ListTagsForResource", { resourceArn: t.taskArn });
    expect(listed["tags"]).toHaveLength(2);
  });

  it("is idempotent per clientToken and conflicts on different parameters", async () => {
    const first = await fx.call("RunTask", { taskDefinition: "web", clientToken: "tok-1" });
    const again = await fx.call("RunTask", { taskDefinition: "web", clientToken: "tok-1" });
    const arns = (first["tasks"] as WireTask[]).map((t) => t.taskArn);
    expect((again["tasks"] as WireTask[]).map((t) => t.taskArn)).toEqual(arns);
    const err = await fx.ops.runTask({ taskDefinition: "web", clientToken: "tok-1", startedBy: "other" }, fx.ctx).catch((e: unknown) => e);
    expect(err).toMatchObject({ type: "ConflictException", members: { resourceIds: arns } });
    expect(engine.list({ clusterArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/default` })).toHaveLength(1);
  });
});

describe("StopTask / DescribeTasks / ListTasks", () => {
  it("stops by id with a reason and deletes the task's tags", async () => {
    const t = await runOne({ tags: [{ key: "k", value: "v" }] });
    await engine.waitFor(t.taskArn, (x) => x.lastStatus === "RUNNING", 5000);
    const id = t.taskArn.split("/").pop()!;
    const out = await fx.call("StopTask", { task: id, reason: "done here" });
    expect(out["task"]).toMatchObject({ taskArn: t.taskArn, desiredStatus: "STOPPED", stopCode: "UserInitiated", stoppedReason: "done here" });
    expect(fx.stores.tags.get(t.taskArn)).toEqual([]);
    const down = await engine.waitFor(t.taskArn, (x) => x.lastStatus === "STOPPED", 5000);
    const again = await fx.call("StopTask", { task: t.taskArn, reason: "twice" });
    expect((again["task"] as Record<string, unknown>)["stoppedReason"]).toBe("done here");
    expect((again["task"] as Record<string, unknown>)["version"]).toBe(down.version);
    expect(await errorOf(fx.call("StopTask", { task: "0".repeat(32) }))).toEqual({ type: "InvalidParameterException", message: "The referenced task was not found." });
  });

  it("describes by id or ARN and reports unknown tasks as MISSING", async () => {
    const t = await runOne();
    const id = t.taskArn.split("/").pop()!;
    const missing = `arn:aws:ecs:${REGION}:${ACCOUNT}:task/default/${"a".repeat(32)}`;
    const out = await fx.call("DescribeTasks", { tasks: [id, missing], cluster: "default" });
    expect((out["tasks"] as WireTask[]).map((x) => x.taskArn)).toEqual([t.taskArn]);
    expect(out["failures"]).toEqual([{ arn: missing, reason: "MISSING" }]);
    expect(await errorOf(fx.call("DescribeTasks", { tasks: [] }))).toEqual({ type: "InvalidParameterException", message: "Tasks cannot be empty." });
    expect((await errorOf(fx.call("DescribeTasks", { tasks: [id], cluster: "nope" }))).type).toBe("ClusterNotFoundException");
  });

  it("lists by desiredStatus (default RUNNING), family, startedBy, with pagination", async () => {
    const a = await runOne({ startedBy: "alpha" });
    const b = await runOne();
    const c = await runOne({ taskDefinition: "vpc", networkConfiguration: { awsvpcConfiguration: { subnets: ["s"] } } });
    await fx.call("StopTask", { task: b.taskArn });
    expect((await fx.call("ListTasks", {}))["taskArns"]).toEqual([a.taskArn, c.taskArn]);
    expect((await fx.call("ListTasks", { desiredStatus: "STOPPED" }))["taskArns"]).toEqual([b.taskArn]);
    expect((await fx.call("ListTasks", { family: "vpc" }))["taskArns"]).toEqual([c.taskArn]);
    expect((await fx.call("ListTasks", { startedBy: "alpha" }))["taskArns"]).toEqual([a.taskArn]);
    const p1 = await fx.call("ListTasks", { maxResults: 1 });
    expect(p1["taskArns"]).toEqual([a.taskArn]);
    const p2 = await fx.call("ListTasks", { maxResults: 1, nextToken: p1["nextToken"] });
    expect(p2).toEqual({ taskArns: [c.taskArn] });
    expect((await errorOf(fx.call("ListTasks", { cluster: "nope" }))).type).toBe("ClusterNotFoundException");
    expect((await errorOf(fx.call("ListTasks", { nextToken: "garbage!" }))).type).toBe("InvalidParameterException");
  });
});

describe("task view", () => {
  it("reports existence for the tag operations", async () => {
    const t: Task = engine.runTask({
      clusterArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/default`,
      clusterName: "default",
      taskDefinition: fx.stores.taskDefinitions.resolve("web")!,
    });
    expect(taskView(engine).taskExists(t.taskArn!)).toBe(true);
    expect(taskView(engine).taskExists(t.taskArn!.replace(/.$/, "x"))).toBe(false);
  });
});
