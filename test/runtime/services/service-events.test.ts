import { describe, expect, it } from "vitest";
import { circuitBreakerThreshold, maximumTasks, minimumHealthyTasks, throttleDelayMs } from "../../../src/runtime/services/deployment-math.ts";
import { eventPrefix, MAX_SERVICE_EVENTS, serviceEvents, withEvent } from "../../../src/runtime/services/service-events.ts";

describe("service event messages (worded as ECS words them)", () => {
  it.each([
    [serviceEvents.started(eventPrefix("web"), ["a1", "b2"]), "(service web) has started 2 tasks: (task a1) (task b2)."],
    [
      serviceEvents.started(eventPrefix("web"), ["a1"], 1),
      "(service web) has started 1 tasks: (task a1). Amazon ECS replaced 1 tasks due to an unhealthy status.",
    ],
    [serviceEvents.started(eventPrefix("web", "ecs-svc/123"), ["a1"]), "(service web, taskSet ecs-svc/123) has started 1 tasks: (task a1)."],
    [serviceEvents.stopped(eventPrefix("web"), ["a1"]), "(service web) has stopped 1 running tasks: (task a1)."],
    [serviceEvents.steadyState("web"), "(service web) has reached a steady state."],
    [serviceEvents.deploymentCompleted("web", "ecs-svc/1"), "(service web) (deployment ecs-svc/1) deployment completed."],
    [serviceEvents.deploymentFailed("web", "ecs-svc/1"), "(service web) (deployment ecs-svc/1) deployment failed: tasks failed to start."],
    [serviceEvents.rollingBack("web", "ecs-svc/1"), "(service web) rolling back to deployment ecs-svc/1."],
    [serviceEvents.failedHealthChecks("web", "a1"), "(service web) (task a1) failed container health checks."],
    [serviceEvents.unableToConsistentlyStart("web"), "(service web) is unable to consistently start tasks successfully."],
  ])("%s", (message, expected) => {
    expect(message).toBe(expected);
  });

  it("keeps the newest first and at most 100", () => {
    let events = withEvent([], "m0", new Date(0), "id0");
    for (let i = 1; i <= 150; i++) events = withEvent(events, `m${i}`, new Date(i), `id${i}`);
    expect(events).toHaveLength(MAX_SERVICE_EVENTS);
    expect(events[0]).toEqual({ id: "id150", createdAt: new Date(150), message: "m150" });
    expect(events.at(-1)?.message).toBe("m51");
  });

  it("omits a repeated condition message for six hours unless a steady state came in between", () => {
    const steady = "(service web) has reached a steady state.";
    const opts = { condition: true, steadyMessage: steady };
    const once = withEvent([], "stuck", new Date(0), "1", opts);
    expect(withEvent(once, "stuck", new Date(60_000), "2", opts)).toHaveLength(1);
    expect(withEvent(once, "stuck", new Date(6 * 3600_000 + 1), "3", opts)).toHaveLength(2);
    const resolved = withEvent(once, steady, new Date(1_000), "4");
    expect(withEvent(resolved, "stuck", new Date(2_000), "5", opts)).toHaveLength(3);
    // Ordinary messages always go in.
    expect(withEvent(once, "stuck", new Date(60_000), "6")).toHaveLength(2);
  });
});

describe("deployment numbers", () => {
  it.each([
    // Developer Guide "failure threshold" table, with today's minimum of 3.
    [1, 3],
    [6, 3],
    [7, 4],
    [25, 13],
    [400, 200],
    [800, 200],
  ])("circuit breaker threshold for desired %i is %i", (desired, threshold) => {
    expect(circuitBreakerThreshold(desired)).toBe(threshold);
  });

  it.each([
    [4, 50, 2],
    [2, 75, 2],
    [3, 100, 3],
    [3, 0, 0],
  ])("minimumHealthyPercent: %i tasks at %i percent keep %i (rounded up)", (desired, pct, n) => {
    expect(minimumHealthyTasks(desired, pct)).toBe(n);
  });

  it.each([
    [4, 200, 8],
    [3, 125, 3],
    [3, 150, 4],
  ])("maximumPercent: %i tasks at %i percent allow %i (rounded down)", (desired, pct, n) => {
    expect(maximumTasks(desired, pct)).toBe(n);
  });

  it("throttling is bounded by 15 minutes", () => {
    expect([0, 1, 2].map(throttleDelayMs)).toEqual([0, 0, 0]);
    expect(throttleDelayMs(1_000)).toBe(15 * 60 * 1000);
  });
});
