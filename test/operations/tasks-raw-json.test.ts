// DescribeTasks and ListTasks answer with pre-serialized JSON (cached per task snapshot / per page):
// it must always be byte-identical to serializing the typed answer, including right after changes.
import { afterEach, beforeEach, expect, it } from "vitest";
import { operationSpecs } from "../../generated/router.ts";
import type { DescribeTasksRequest, ListTasksRequest } from "../../generated/shapes.ts";
import { TaskEngine } from "../../src/runtime/engine/task-engine.ts";
import { rawJsonOf, rawJsonText } from "../../src/runtime/raw-json.ts";
import { ACCOUNT, REGION, type Fixture } from "./control-plane-fixture.ts";
import { makeTaskOpsFixture, type TaskOpsFixture } from "./task-ops-fixture.ts";

const IMAGE = "example/app:1";
let fx: Fixture;
let engine: TaskEngine;

let fixture: TaskOpsFixture;

beforeEach(async () => {
  fixture = await makeTaskOpsFixture({ images: [IMAGE] });
  ({ fx, engine } = fixture);
  await fx.call("RegisterTaskDefinition", { family: "web", containerDefinitions: [{ name: "app", image: IMAGE, memory: 64 }] });
});

afterEach(async () => {
  await fixture.close();
});

/** The raw JSON the operation attached, checked against the serialized typed answer. */
async function describe(input: DescribeTasksRequest): Promise<string> {
  const out = await fx.ops.describeTasks(input, fx.ctx);
  const raw = rawJsonOf(out);
  expect(raw).toBeDefined();
  const text = rawJsonText(raw!);
  expect(text).toBe(JSON.stringify(operationSpecs.DescribeTasks.serializeOutput(out)));
  return text;
}

async function list(input: ListTasksRequest): Promise<Record<string, unknown>> {
  const out = await fx.ops.listTasks(input, fx.ctx);
  const raw = rawJsonOf(out);
  expect(raw).toBeDefined();
  const text = rawJsonText(raw!);
  expect(text).toBe(JSON.stringify(operationSpecs.ListTasks.serializeOutput(out)));
  return JSON.parse(text) as Record<string, unknown>;
}

async function run(count = 1): Promise<string[]> {
  const out = await fx.ops.runTask({ taskDefinition: "web", count }, fx.ctx);
  return out.tasks!.map((t) => t.taskArn!);
}

it("DescribeTasks' pre-serialized answer follows each task through its versions", async () => {
  const [a, b] = await run(2);
  const missing = `arn:aws:ecs:${REGION}:${ACCOUNT}:task/default/${"f".repeat(32)}`;
  const refs = [a!, b!.split("/").pop()!, missing, a!];
  const pending = JSON.parse(await describe({ tasks: refs }));
  expect(pending.tasks.map((t: { taskArn: string }) => t.taskArn)).toEqual([a, b]);
  expect(pending.failures).toEqual([{ arn: missing, reason: "MISSING" }]);

  await engine.waitFor(a!, (t) => t.lastStatus === "RUNNING", 5000);
  const running = JSON.parse(await describe({ tasks: [a!] }));
  expect(running.tasks[0]).toMatchObject({ lastStatus: "RUNNING" });
  expect(running.tasks[0].version).toBeGreaterThan(pending.tasks[0].version);
  expect(running.failures).toEqual([]);

  await fx.ops.stopTask({ task: a! }, fx.ctx);
  const stopping = JSON.parse(await describe({ tasks: [a!] }));
  expect(stopping.tasks[0]).toMatchObject({ desiredStatus: "STOPPED", stopCode: "UserInitiated" });
  await engine.waitFor(a!, (t) => t.lastStatus === "STOPPED", 5000);
  expect(JSON.parse(await describe({ tasks: [a!] })).tasks[0]).toMatchObject({ lastStatus: "STOPPED" });
  expect(JSON.parse(await describe({ tasks: [missing] }))).toEqual({ tasks: [], failures: [{ arn: missing, reason: "MISSING" }] });
});

it("DescribeTasks with include TAGS takes the ordinary path", async () => {
  const [a] = await run();
  await fx.ops.tagResource({ resourceArn: a!, tags: [{ key: "k", value: "v" }] }, fx.ctx);
  const out = await fx.ops.describeTasks({ tasks: [a!], include: ["TAGS"] }, fx.ctx);
  expect(rawJsonOf(out)).toBeUndefined();
  expect(out.tasks![0]!.tags).toEqual([{ key: "k", value: "v" }]);
});

it("ListTasks' pre-serialized pages carry the same ARNs and nextToken, and see new and stopped tasks", async () => {
  const first = await run(3);
  const p1 = await list({ maxResults: 2 });
  expect(p1["taskArns"]).toEqual(first.slice(0, 2));
  expect(typeof p1["nextToken"]).toBe("string");
  expect(await list({ maxResults: 2 })).toEqual(p1);
  expect(await list({ maxResults: 2, nextToken: p1["nextToken"] as string })).toEqual({ taskArns: first.slice(2) });

  const more = await run(1);
  expect((await list({}))["taskArns"]).toEqual([...first, ...more]);
  await fx.ops.stopTask({ task: first[1]! }, fx.ctx);
  expect((await list({}))["taskArns"]).toEqual([first[0], first[2], more[0]]);
  expect(await list({ desiredStatus: "STOPPED" })).toEqual({ taskArns: [first[1]] });
  expect(await list({ family: "nope" })).toEqual({ taskArns: [] });
});
