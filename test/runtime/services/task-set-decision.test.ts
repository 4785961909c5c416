import { describe, expect, it } from "vitest";
import type { TaskSet } from "../../../generated/shapes.ts";
import { STOP_REASONS } from "../../../src/runtime/services/replica-decision.ts";
import { serviceEvents } from "../../../src/runtime/services/service-events.ts";
import { computedDesiredCount, decideTaskSets } from "../../../src/runtime/services/task-set-decision.ts";
import { input, service, summary, T0, task, tasks, TD1, TD2 } from "./decision-fixtures.ts";

const A = "ecs-svc/1000000000000000001";
const B = "ecs-svc/1000000000000000002";

function taskSet(id: string, td: string, scale: number, status = "ACTIVE"): TaskSet {
  return { id, status, taskDefinition: td, scale: { value: scale, unit: "PERCENT" }, computedDesiredCount: 0, stabilityStatus: "STABILIZING", createdAt: new Date(T0) };
}

describe("task sets (EXTERNAL / CODE_DEPLOY)", () => {
  it.each([
    [4, 50, 2],
    [3, 50, 2], // rounded up
    [3, 33.3, 1],
    [10, 0, 0],
    [10, 100, 10],
    [1, 1, 1],
    [0, 100, 0],
  ])("desiredCount %i at scale %d percent computes %i tasks (always rounded up)", (desired, scale, expected) => {
    expect(computedDesiredCount(desired, scale)).toBe(expected);
  });

  it("keeps every task set at its own computed count, independently", () => {
    const svc = service({ desired: 4, controller: "EXTERNAL", taskSets: [taskSet(A, TD1, 100, "PRIMARY"), taskSet(B, TD2, 50)] });
    const d = decideTaskSets(input({ service: svc, tasks: [...tasks(4, A), ...tasks(3, B)] }));
    expect(summary(d.effects)).toEqual([`stop 1: ${STOP_REASONS.scaling(B)}`]);
    expect(d.effects[0]).toMatchObject({ taskSetId: B, announce: true });
    expect(d.service.taskSets?.map((t) => [t.id, t.computedDesiredCount, t.stabilityStatus])).toEqual([
      [A, 4, "STEADY_STATE"],
      [B, 2, "STABILIZING"],
    ]);
  });

  it("starts the missing tasks of a task set, prefixed with the task set in events", () => {
    const svc = service({ desired: 2, controller: "EXTERNAL", taskSets: [taskSet(A, TD1, 100, "PRIMARY")] });
    const d = decideTaskSets(input({ service: svc }));
    expect(d.effects).toEqual([{ kind: "start", unitId: A, count: 2, unhealthyReplaced: 0, taskSetId: A }]);
  });

  it("reaches a steady state when every task set is at its count", () => {
    const svc = service({ desired: 2, controller: "EXTERNAL", taskSets: [taskSet(A, TD1, 100, "PRIMARY"), taskSet(B, TD2, 0)] });
    const d = decideTaskSets(input({ service: svc, tasks: tasks(2, A) }));
    expect(summary(d.effects)).toEqual([`event ${serviceEvents.steadyState("web")}`]);
  });

  it("a DRAINING task set has its tasks stopped and disappears when none is left", () => {
    const svc = service({ desired: 2, controller: "EXTERNAL", taskSets: [taskSet(A, TD1, 100, "PRIMARY"), taskSet(B, TD2, 100, "DRAINING")] });
    const d = decideTaskSets(input({ service: svc, tasks: [...tasks(2, A), ...tasks(2, B)] }));
    expect(summary(d.effects)).toEqual([`stop 2: ${STOP_REASONS.scaling(B)}`]);
    const gone = decideTaskSets(input({ service: d.service, book: d.book, tasks: [...tasks(2, A), ...tasks(2, B, "stopping")] }));
    expect(gone.service.taskSets?.map((t) => t.id)).toEqual([A]);
    expect(gone.book.retired).toEqual([B]);
  });

  it("replaces tasks of a task set that stop, with the launch back-off", () => {
    const svc = service({ desired: 1, controller: "EXTERNAL", taskSets: [taskSet(A, TD1, 100, "PRIMARY")] });
    const failed = tasks(3, A, "stopped", { startedAt: undefined, stopCode: "TaskFailedToStart", stoppedAt: T0 + 1_000 });
    const d = decideTaskSets(input({ service: svc, tasks: failed, now: T0 + 2_000 }));
    expect(summary(d.effects)).toEqual([`event ${serviceEvents.unableToConsistentlyStart("web")}`]);
    expect(d.wakeAt).toBe(T0 + 6_000);
  });

  it("a deleted service stops every task and becomes INACTIVE", () => {
    const svc = service({ desired: 2, status: "DRAINING", controller: "EXTERNAL", taskSets: [taskSet(A, TD1, 100, "PRIMARY")] });
    const d = decideTaskSets(input({ service: svc, tasks: [task(A), task(A)] }));
    expect(summary(d.effects)).toEqual([`stop 2: ${STOP_REASONS.scaling(A)}`]);
    expect(d.service.status).toBe("INACTIVE");
  });
});
