import { describe, expect, it } from "vitest";
import type { Task } from "../../../generated/shapes.ts";
import { detailTime, eventTime, toDetailJson } from "../../../src/runtime/events/ecs-event.ts";
import { taskStateChangeEvent, taskStateKey } from "../../../src/runtime/events/task-state-change.ts";
import { publishTaskStateChanges } from "../../../src/runtime/events/task-state-events.ts";
import type { EcsEvent } from "../../../src/runtime/events/ecs-event.ts";

const ARN = "arn:aws:ecs:eu-west-1:123456789012:task/prod/0123456789abcdef0123456789abcdef";

function task(overrides: Partial<Task> = {}): Task {
  return {
    taskArn: ARN,
    clusterArn: "arn:aws:ecs:eu-west-1:123456789012:cluster/prod",
    taskDefinitionArn: "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:3",
    lastStatus: "PENDING",
    desiredStatus: "RUNNING",
    healthStatus: "UNKNOWN",
    createdAt: new Date("2024-11-13T20:55:49.725Z"),
    version: 1,
    group: "family:web",
    launchType: "EC2",
    tags: [{ key: "team", value: "a" }],
    overrides: { containerOverrides: [{ name: "app" }], inferenceAcceleratorOverrides: [] },
    containers: [
      {
        containerArn: "arn:aws:ecs:eu-west-1:123456789012:container/prod/0123456789abcdef0123456789abcdef/c1",
        taskArn: ARN,
        name: "app",
        image: "busybox",
        lastStatus: "PENDING",
        healthStatus: "UNKNOWN",
        cpu: "0",
        managedAgents: [{ name: "ExecuteCommandAgent", lastStatus: "PENDING", lastStartedAt: new Date("2024-11-13T20:56:00Z") }],
      },
    ],
    ...overrides,
  };
}

describe("ECS Task State Change", () => {
  it("has the envelope of the developer guide, with account and region from the task ARN", () => {
    const at = new Date("2024-11-13T21:23:11.984Z");
    const e = taskStateChangeEvent(task(), at);
    expect(e).toMatchObject({
      version: "0",
      "detail-type": "ECS Task State Change",
      source: "aws.ecs",
      account: "123456789012",
      region: "eu-west-1",
      time: "2024-11-13T21:23:11Z",
      resources: [ARN],
    });
    expect(e.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("carries the task as DescribeTasks shows it, timestamps as ISO strings, plus updatedAt; no health, no tags", () => {
    const e = taskStateChangeEvent(task({ lastStatus: "STOPPED", stopCode: "EssentialContainerExited", stoppedAt: new Date("2024-11-13T21:23:11.984Z"), version: 4 }), new Date("2024-11-13T21:23:11.984Z"));
    const d = e.detail as any;
    expect(d).toMatchObject({
      taskArn: ARN,
      lastStatus: "STOPPED",
      desiredStatus: "RUNNING",
      stopCode: "EssentialContainerExited",
      createdAt: "2024-11-13T20:55:49.725Z",
      stoppedAt: "2024-11-13T21:23:11.984Z",
      updatedAt: "2024-11-13T21:23:11.984Z",
      version: 4,
      group: "family:web",
      overrides: { containerOverrides: [{ name: "app" }], inferenceAcceleratorOverrides: [] },
    });
    expect(d).not.toHaveProperty("healthStatus");
    expect(d).not.toHaveProperty("tags");
    expect(d.containers[0]).not.toHaveProperty("healthStatus");
    // Events name a managed agent's state `status`.
    expect(d.containers[0].managedAgents).toEqual([{ name: "ExecuteCommandAgent", status: "PENDING" }]);
    // The detail is plain JSON (what the rule's target receives).
    expect(JSON.parse(JSON.stringify(d))).toEqual(d);
  });

  it("writes times the way ECS does", () => {
    expect(detailTime(new Date("2024-11-13T21:22:46.710Z"))).toBe("2024-11-13T21:22:46.71Z");
    expect(detailTime(new Date("2016-12-06T16:41:05.702Z"))).toBe("2016-12-06T16:41:05.702Z");
    expect(detailTime(new Date("2020-05-23T11:11:10.000Z"))).toBe("2020-05-23T11:11:10Z");
    expect(detailTime(new Date("2020-05-23T11:11:10.500Z"))).toBe("2020-05-23T11:11:10.5Z");
    expect(eventTime(new Date("2020-01-23T17:57:58.103Z"))).toBe("2020-01-23T17:57:58Z");
    expect(toDetailJson({ a: undefined, b: [new Date(0)], c: { d: 1 } })).toEqual({ b: ["1970-01-01T00:00:00Z"], c: { d: 1 } });
  });
});

describe("when a task state change event is sent", () => {
  // Each row: the change from the previous snapshot, and whether ECS announces it.
  const running = task({ lastStatus: "RUNNING", containers: [{ ...task().containers![0]!, lastStatus: "RUNNING", runtimeId: "abc" }] });
  const cases: Array<[string, Task, Task, boolean]> = [
    ["the agent reports RUNNING", task(), running, true],
    ["only the health changed", running, { ...running, healthStatus: "HEALTHY", containers: [{ ...running.containers![0]!, healthStatus: "HEALTHY" }] }, false],
    ["only pull timestamps and the version changed", task(), { ...task(), pullStartedAt: new Date(), version: 2 }, false],
    ["StopTask flipped desiredStatus", running, { ...running, desiredStatus: "STOPPED", stopCode: "UserInitiated", stoppedReason: "Task stopped by user" }, true],
    ["a container stopped with an exit code", running, { ...running, containers: [{ ...running.containers![0]!, lastStatus: "STOPPED", exitCode: 3 }] }, true],
    ["a non-essential container was added (another container's state)", running, { ...running, containers: [...running.containers!, { name: "side", lastStatus: "RUNNING" }] }, true],
  ];
  it.each(cases)("%s", (_what, before, after, sent) => {
    expect(taskStateKey(before) !== taskStateKey(after)).toBe(sent);
  });

  it("publishes the first snapshot and every announced change, in order, each with its version", () => {
    const listeners: Array<(t: Task) => void> = [];
    const published: EcsEvent[] = [];
    const stop = publishTaskStateChanges({ subscribe: (l) => (listeners.push(l), () => listeners.splice(0)) }, (e) => published.push(e), { now: () => new Date("2024-01-01T00:00:00Z") });
    const emit = (t: Task): void => listeners.forEach((l) => l(t));
    emit(task({ version: 1 }));
    emit(task({ version: 2, pullStartedAt: new Date() }));
    emit(task({ version: 3, lastStatus: "RUNNING" }));
    emit(task({ version: 4, lastStatus: "RUNNING", healthStatus: "HEALTHY" }));
    emit(task({ version: 5, lastStatus: "STOPPED", desiredStatus: "STOPPED" }));
    stop();
    emit(task({ version: 6, lastStatus: "STOPPED", desiredStatus: "STOPPED", stopCode: "UserInitiated" }));
    expect(published.map((e) => [(e.detail as any).lastStatus, (e.detail as any).version])).toEqual([
      ["PENDING", 1],
      ["RUNNING", 3],
      ["STOPPED", 5],
    ]);
  });
});
