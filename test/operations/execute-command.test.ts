import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  executeCommandOperations,
  INTERACTIVE_ONLY_MESSAGE,
  NOT_ENABLED_MESSAGE,
} from "../../src/operations/execute-command.ts";
import { ExecSessions } from "../../src/runtime/exec/exec-sessions.ts";
import { silentLogger } from "../../src/runtime/logger.ts";
import type { TaskEngine } from "../../src/runtime/engine/task-engine.ts";
import { FakeExecBackend } from "../runtime/exec/fake-exec-backend.ts";
import { ACCOUNT, REGION, errorOf, type Fixture } from "./control-plane-fixture.ts";
import { makeTaskOpsFixture, type TaskOpsFixture } from "./task-ops-fixture.ts";

const IMAGE = "example/app:1";
const ROLE = `arn:aws:iam::${ACCOUNT}:role/app`;

let fixture: TaskOpsFixture;
let fx: Fixture;
let engine: TaskEngine;
let sessions: ExecSessions;

beforeEach(async () => {
  fixture = await makeTaskOpsFixture({ images: [IMAGE] });
  ({ fx, engine } = fixture);
  sessions = new ExecSessions({ backend: new FakeExecBackend(), tasks: engine, clock: fx.deps.clock, logger: silentLogger, tickMs: 0 });
  Object.assign(fx.ops, executeCommandOperations(fx.deps, { tasks: engine, clusters: fx.stores.clusters, sessions }));
  fx.ctx.host = "localhost:18000";
  await fx.call("RegisterTaskDefinition", { family: "one", taskRoleArn: ROLE, containerDefinitions: [{ name: "app", image: IMAGE, memory: 64 }] });
  await fx.call("RegisterTaskDefinition", {
    family: "two",
    taskRoleArn: ROLE,
    containerDefinitions: [
      { name: "app", image: IMAGE, memory: 64 },
      { name: "sidecar", image: IMAGE, memory: 32 },
    ],
  });
});

afterEach(async () => {
  await sessions.close();
  await fixture.close();
});

async function running(family: string, enable = true): Promise<string> {
  const out = await fx.call("RunTask", { taskDefinition: family, enableExecuteCommand: enable });
  const arn = (out["tasks"] as Array<{ taskArn: string }>)[0]!.taskArn;
  await engine.waitFor(arn, (t) => t.lastStatus === "RUNNING", 5000);
  return arn;
}

const exec = (input: Record<string, unknown>) => fx.call("ExecuteCommand", { command: "/bin/sh", interactive: true, ...input });

describe("ExecuteCommand", () => {
  it("answers as ECS does, with a one-time session on our own host and port", async () => {
    const taskArn = await running("one");
    const out = await exec({ task: taskArn, container: "app" });
    const task = engine.get(taskArn)!;
    expect(out).toMatchObject({
      clusterArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/default`,
      containerArn: task.containers![0]!.containerArn,
      containerName: "app",
      interactive: true,
      taskArn,
    });
    const session = out["session"] as { sessionId: string; streamUrl: string; tokenValue: string };
    expect(session.sessionId).toMatch(/^ecs-execute-command-0[0-9a-f]{16}$/);
    expect(session.streamUrl).toBe(`ws://localhost:18000/v1/data-channel/${session.sessionId}?role=publish_subscribe`);
    expect(session.tokenValue.length).toBeGreaterThanOrEqual(64);
    expect(sessions.has(session.sessionId)).toBe(true);
  });

  it("takes a task id and needs no container name for a single-container task", async () => {
    const taskArn = await running("one");
    const out = await exec({ task: taskArn.slice(taskArn.lastIndexOf("/") + 1) });
    expect(out).toMatchObject({ taskArn, containerName: "app" });
  });

  it("shows the ExecuteCommandAgent in DescribeTasks while the task runs, and STOPPED after", async () => {
    const taskArn = await running("two");
    const described = await fx.call("DescribeTasks", { tasks: [taskArn] });
    const t = (described["tasks"] as Array<Record<string, any>>)[0]!;
    expect(t["enableExecuteCommand"]).toBe(true);
    for (const c of t["containers"]) {
      expect(c.managedAgents).toEqual([{ name: "ExecuteCommandAgent", lastStatus: "RUNNING", lastStartedAt: expect.any(Number) }]);
    }
    const plain = await running("one", false);
    const p = ((await fx.call("DescribeTasks", { tasks: [plain] }))["tasks"] as Array<Record<string, any>>)[0]!;
    expect(p["enableExecuteCommand"]).toBe(false);
    expect(p["containers"][0].managedAgents).toBeUndefined();

    await fx.call("StopTask", { task: taskArn });
    await engine.waitFor(taskArn, (x) => x.lastStatus === "STOPPED", 5000);
    const stopped = ((await fx.call("DescribeTasks", { tasks: [taskArn] }))["tasks"] as Array<Record<string, any>>)[0]!;
    expect(stopped["containers"][0].managedAgents[0].lastStatus).toBe("STOPPED");
  });

  it("refuses what ECS refuses, in its words", async () => {
    const one = await running("one");
    const two = await running("two");
    const plain = await running("one", false);
    expect(await errorOf(exec({ task: one, interactive: false }))).toEqual({ type: "InvalidParameterException", message: INTERACTIVE_ONLY_MESSAGE });
    expect(await errorOf(exec({ task: one, cluster: "nope" }))).toEqual({ type: "ClusterNotFoundException", message: "Cluster not found." });
    expect(await errorOf(exec({ task: "abc" }))).toEqual({ type: "InvalidParameterException", message: "task length should be one of [32,36]" });
    expect(await errorOf(exec({ task: "0".repeat(32) }))).toEqual({ type: "InvalidParameterException", message: "The referenced task was not found." });
    await fx.call("CreateCluster", { clusterName: "elsewhere" });
    expect(await errorOf(exec({ task: one, cluster: "elsewhere" }))).toEqual({ type: "InvalidParameterException", message: "The referenced task was not found." });
    expect(await errorOf(exec({ task: two }))).toEqual({
      type: "InvalidParameterException",
      message: "A container name must be specified when the task has more than one container.",
    });
    expect(await errorOf(exec({ task: two, container: "db" }))).toEqual({ type: "InvalidParameterException", message: "The container db does not exist in the task." });
    expect(await errorOf(exec({ task: plain }))).toEqual({ type: "InvalidParameterException", message: NOT_ENABLED_MESSAGE });
    expect((await errorOf(fx.call("ExecuteCommand", { task: one, interactive: true }))).message).toContain("command");
  });

  it("refuses a task that is not running (its agent is not either)", async () => {
    const taskArn = await running("one");
    await fx.call("StopTask", { task: taskArn });
    await engine.waitFor(taskArn, (x) => x.lastStatus === "STOPPED", 5000);
    expect(await errorOf(exec({ task: taskArn }))).toEqual({ type: "InvalidParameterException", message: NOT_ENABLED_MESSAGE });
  });

  it("refuses a container that has stopped in a running task (its agent stopped with it)", async () => {
    await fx.call("RegisterTaskDefinition", {
      family: "sidecar",
      taskRoleArn: ROLE,
      containerDefinitions: [
        { name: "app", image: IMAGE, memory: 64 },
        { name: "side", image: IMAGE, memory: 32, essential: false },
      ],
    });
    const taskArn = await running("sidecar");
    fixture.fake.exit(fixture.fake.find("side", taskArn)!.runtimeId, 0);
    await engine.waitFor(taskArn, (t) => t.containers?.find((c) => c.name === "side")?.lastStatus === "STOPPED", 5000);
    expect(engine.get(taskArn)!.lastStatus).toBe("RUNNING");
    expect(await errorOf(exec({ task: taskArn, container: "side" }))).toEqual({ type: "InvalidParameterException", message: NOT_ENABLED_MESSAGE });
    await expect(exec({ task: taskArn, container: "app" })).resolves.toMatchObject({ containerName: "app" });
  });

  it("refuses a third concurrent session on one container with ECS's ClientException", async () => {
    const taskArn = await running("two");
    await exec({ task: taskArn, container: "app" });
    await exec({ task: taskArn, container: "app" });
    expect(await errorOf(exec({ task: taskArn, container: "app" }))).toEqual({
      type: "ClientException",
      message: "Unable to start new execute sessions because the maximum session limit of 2 has been reached.",
    });
    await exec({ task: taskArn, container: "sidecar" });
  });
});
