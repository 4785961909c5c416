import { describe, expect, it } from "vitest";
import { decideReplica, STOP_REASONS } from "../../../src/runtime/services/replica-decision.ts";
import { serviceEvents } from "../../../src/runtime/services/service-events.ts";
import {
  book,
  deployment,
  input,
  link,
  REV1,
  REV2,
  SD1,
  SD2,
  service,
  summary,
  T0,
  task,
  tasks,
  TD1,
  TD2,
} from "./decision-fixtures.ts";

const D1 = "ecs-svc/1111111111111111111";
const D2 = "ecs-svc/2222222222222222222";

/** A service mid-rollout: D2 (PRIMARY, td 2) replacing D1 (ACTIVE, td 1). */
function rollout(desired: number, config: { min?: number; max?: number } = {}) {
  const svc = service({
    desired,
    deployments: [deployment(D2, TD2, desired), deployment(D1, TD1, desired, { status: "ACTIVE", rolloutState: "COMPLETED" })],
    config: { minimumHealthyPercent: config.min ?? 100, maximumPercent: config.max ?? 200 },
  });
  const b = book({
    links: { [D2]: link(SD2, REV2), [D1]: link(SD1, REV1, "SUCCESSFUL") },
    lastCompleted: { id: D1, taskDefinition: TD1, createdAt: T0, serviceRevisionArn: REV1 },
  });
  return { svc, b };
}

describe("replica scheduler: keeping desiredCount", () => {
  it("starts the missing tasks of a new service and marks its service deployment IN_PROGRESS", () => {
    const svc = service({ desired: 3, deployments: [deployment(D1, TD1, 3)] });
    const d = decideReplica(input({ service: svc, book: book({ links: { [D1]: link(SD1, REV1, "PENDING") } }) }));
    expect(summary(d.effects)).toEqual([`start ${D1} ×3`, "sd IN_PROGRESS", "notify SERVICE_DEPLOYMENT_IN_PROGRESS"]);
    expect(d.book.links[D1]?.sdStatus).toBe("IN_PROGRESS");
    expect(d.book.steady).toBe(false);
  });

  it("completes the deployment and reaches a steady state once every task runs", () => {
    const svc = service({ desired: 3, deployments: [deployment(D1, TD1, 3)] });
    const d = decideReplica(input({ service: svc, tasks: tasks(3, D1), book: book({ links: { [D1]: link(SD1, REV1) } }) }));
    expect(summary(d.effects)).toEqual([
      `event ${serviceEvents.deploymentCompleted("web", D1)}`,
      "sd SUCCESSFUL",
      `event ${serviceEvents.steadyState("web")}`,
    ]);
    expect(d.service.deployments?.[0]).toMatchObject({ rolloutState: "COMPLETED", rolloutStateReason: `ECS deployment ${D1} completed.` });
    expect(d.book.lastCompleted).toMatchObject({ id: D1, taskDefinition: TD1, serviceRevisionArn: REV1 });
    // Nothing more to do, and the steady state is not announced twice.
    const again = decideReplica(input({ service: d.service, tasks: tasks(3, D1), book: d.book }));
    expect(again.effects).toEqual([]);
  });

  it("a service with desiredCount 0 is steady at once", () => {
    const svc = service({ desired: 0, deployments: [deployment(D1, TD1, 0)] });
    const d = decideReplica(input({ service: svc, book: book({ links: { [D1]: link(SD1, REV1, "PENDING") } }) }));
    expect(summary(d.effects)).toEqual([
      "sd IN_PROGRESS",
      "notify SERVICE_DEPLOYMENT_IN_PROGRESS",
      `event ${serviceEvents.deploymentCompleted("web", D1)}`,
      "sd SUCCESSFUL",
      `event ${serviceEvents.steadyState("web")}`,
    ]);
  });

  it.each([
    ["exits after running a while", task(D1, "stopped", { startedAt: T0, stoppedAt: T0 + 60_000, stopCode: "EssentialContainerExited" })],
    ["is stopped with StopTask", task(D1, "stopped", { stopCode: "UserInitiated" })],
    ["fails to start", task(D1, "stopped", { startedAt: undefined, stopCode: "TaskFailedToStart" })],
  ])("replaces a task that %s", (_, gone) => {
    const svc = service({ desired: 2, deployments: [deployment(D1, TD1, 2, { rolloutState: "COMPLETED" })] });
    const d = decideReplica(input({ service: svc, tasks: [task(D1), gone], book: book({ steady: true }) }));
    expect(summary(d.effects)).toEqual([`start ${D1} ×1`]);
    expect(d.book.steady).toBe(false);
    expect(d.book.accountedStops).toEqual([gone.arn]);
  });

  it("scales in by stopping the tasks not serving yet first, then the newest", () => {
    const svc = service({ desired: 1, deployments: [deployment(D1, TD1, 3, { rolloutState: "COMPLETED" })] });
    const oldest = task(D1, "running", { startedAt: T0 });
    const newest = task(D1, "running", { startedAt: T0 + 5_000 });
    const pending = task(D1, "pending");
    const d = decideReplica(input({ service: svc, tasks: [oldest, newest, pending], book: book({ steady: true }) }));
    expect(d.effects).toEqual([
      {
        kind: "stop",
        taskArns: [pending.arn, newest.arn],
        taskIds: [pending.id, newest.id],
        reason: STOP_REASONS.scaling(D1),
        announce: true,
      },
    ]);
    expect(d.service.deployments?.[0]?.desiredCount).toBe(1);
  });

  it("launches a large service in batches of 50 (the next batch comes with the tasks' snapshots)", () => {
    const svc = service({ desired: 120, deployments: [deployment(D1, TD1, 120)] });
    const d = decideReplica(input({ service: svc }));
    expect(summary(d.effects)).toEqual([`start ${D1} ×50`]);
    const next = decideReplica(input({ service: d.service, book: d.book, tasks: tasks(50, D1, "pending") }));
    expect(summary(next.effects)).toEqual([`start ${D1} ×50`]);
  });

  it("stops the tasks of a drained deployment found after a restart", () => {
    const svc = service({ desired: 1, deployments: [deployment(D2, TD2, 1, { rolloutState: "COMPLETED" })] });
    const straggler = task(D1);
    const d = decideReplica(input({ service: svc, tasks: [task(D2), straggler], book: book({ retired: [D1], steady: true }) }));
    expect(summary(d.effects)).toEqual([`stop 1: ${STOP_REASONS.scaling(D1)}`]);
  });

  it("ignores tasks started by someone else with the service's group", () => {
    const svc = service({ desired: 1, deployments: [deployment(D1, TD1, 1, { rolloutState: "COMPLETED" })] });
    const d = decideReplica(input({ service: svc, tasks: [task(D1), task("someone-else")], book: book({ steady: true }) }));
    expect(d.effects).toEqual([]);
  });
});

describe("replica scheduler: what goes to EventBridge", () => {
  it("sends the deployment state changes and the steady state, on the service events that say so", () => {
    const svc = service({ desired: 1, deployments: [deployment(D1, TD1, 1)] });
    const d = decideReplica(input({ service: svc, tasks: tasks(1, D1), book: book({ links: { [D1]: link(SD1, REV1, "PENDING") } }) }));
    const notices = d.effects.flatMap((e) => (e.kind === "notify" || (e.kind === "event" && e.notice !== undefined) ? [e.kind === "notify" ? e.notice : e.notice!] : []));
    expect(notices).toEqual([
      { type: "deployment", eventName: "SERVICE_DEPLOYMENT_IN_PROGRESS", deploymentId: D1 },
      { type: "deployment", eventName: "SERVICE_DEPLOYMENT_COMPLETED", deploymentId: D1 },
      { type: "serviceAction", eventName: "SERVICE_STEADY_STATE" },
    ]);
  });

  it("a circuit breaker rollback: FAILED for the failed deployment, IN_PROGRESS naming the one rolled back to", () => {
    const { svc, b } = rollout(1);
    svc.deploymentConfiguration = { ...svc.deploymentConfiguration, deploymentCircuitBreaker: { enable: true, rollback: true } };
    const failed = tasks(3, D2, "stopped", { startedAt: undefined, stopCode: "TaskFailedToStart" });
    const d = decideReplica(input({ service: svc, book: b, tasks: [task(D1), task(D2, "pending"), ...failed] }));
    const notices = d.effects.flatMap((e) => (e.kind === "event" && e.notice !== undefined ? [e.notice] : []));
    expect(notices).toEqual([
      { type: "serviceAction", eventName: "SERVICE_TASK_START_IMPAIRED" },
      { type: "deployment", eventName: "SERVICE_DEPLOYMENT_FAILED", deploymentId: D2 },
      { type: "deployment", eventName: "SERVICE_DEPLOYMENT_IN_PROGRESS", deploymentId: D1, reason: `ECS deployment circuit breaker: rolling back to deploymentId ${D1}.` },
    ]);
  });
});

describe("replica scheduler: rolling update (minimumHealthyPercent / maximumPercent)", () => {
  // Rows from the Developer Guide's "Rolling update deployments": minimum is rounded up, maximum down.
  it.each([
    // min, max, desired, old live, new live → new tasks started, old tasks stopped
    [100, 200, 4, 4, 0, 4, 0], // "a maximum of 200% starts four new tasks before stopping the four older tasks"
    [50, 200, 4, 4, 0, 4, 2], // "a minimum of 50 … can stop two existing tasks" (and start four)
    [50, 100, 4, 4, 0, 0, 2], // "… stop two existing tasks before starting two new tasks"
    [50, 100, 4, 2, 0, 2, 0], // … then start two
    [100, 125, 3, 3, 0, 0, 0], // "maximum 125 and desired 3: the scheduler can't start any tasks"
    [75, 100, 2, 2, 0, 0, 0], // "minimum 75 and desired 2: the scheduler can't stop any tasks"
    [100, 200, 3, 3, 3, 0, 3], // new tasks healthy: all old ones go
    [100, 150, 4, 4, 2, 0, 2], // 6 live of max 6: only the old tasks covered by healthy new ones go
    [0, 100, 1, 1, 0, 0, 1], // DAEMON-like: stop first
  ])("minimumHealthyPercent %i, maximumPercent %i, desired %i, %i old + %i new healthy → start %i, stop %i old", (min, max, desired, oldLive, newLive, starts, stops) => {
    const { svc, b } = rollout(desired, { min, max });
    const d = decideReplica(input({ service: svc, book: b, tasks: [...tasks(oldLive, D1), ...tasks(newLive, D2)] }));
    const started = d.effects.filter((e) => e.kind === "start").reduce((n, e) => n + (e.kind === "start" ? e.count : 0), 0);
    const stopped = d.effects.filter((e) => e.kind === "stop").reduce((n, e) => n + (e.kind === "stop" ? e.taskArns.length : 0), 0);
    expect([started, stopped]).toEqual([starts, stops]);
    // Never below the minimum healthy, never above the maximum.
    const healthyLeft = oldLive + newLive - stopped;
    expect(healthyLeft).toBeGreaterThanOrEqual(Math.min(Math.ceil((desired * min) / 100), oldLive + newLive));
    expect(oldLive + newLive + started - stopped).toBeLessThanOrEqual(Math.max(Math.floor((desired * max) / 100), oldLive + newLive - stopped));
  });

  it("says when the deployment configuration forbids any progress", () => {
    const { svc, b } = rollout(2, { min: 75, max: 100 });
    const d = decideReplica(input({ service: svc, book: b, tasks: tasks(2, D1) }));
    expect(summary(d.effects)).toEqual([`event ${serviceEvents.deploymentConfigurationStuck("web")}`]);
    expect(d.effects[0]).toMatchObject({ condition: true });
  });

  it("a new task counts as healthy only once its container health checks pass", () => {
    const { svc, b } = rollout(1, { min: 100, max: 200 });
    const units = { [D1]: { healthChecked: true }, [D2]: { healthChecked: true } };
    const old = task(D1, "running", { healthStatus: "HEALTHY" });
    const starting = decideReplica(input({ service: svc, book: b, units, tasks: [old, task(D2, "running", { healthStatus: "UNKNOWN" })] }));
    expect(summary(starting.effects)).toEqual([]);
    const healthy = decideReplica(input({ service: svc, book: b, units, tasks: [old, task(D2, "running", { healthStatus: "HEALTHY" })] }));
    expect(summary(healthy.effects)).toEqual([`stop 1: ${STOP_REASONS.scaling(D1)}`]);
    expect(healthy.service.deployments?.map((d) => d.id)).toEqual([D2]);
    expect(healthy.book.retired).toEqual([D1]);
  });

  it("an old deployment without tasks disappears; the new one then completes", () => {
    const { svc, b } = rollout(2);
    const d = decideReplica(input({ service: svc, book: b, tasks: [...tasks(2, D2), ...tasks(2, D1, "stopping")] }));
    expect(d.service.deployments?.map((x) => [x.id, x.status, x.rolloutState])).toEqual([[D2, "PRIMARY", "COMPLETED"]]);
    expect(summary(d.effects)).toEqual([
      `event ${serviceEvents.deploymentCompleted("web", D2)}`,
      "sd SUCCESSFUL",
      `event ${serviceEvents.steadyState("web")}`,
    ]);
    expect(d.book.lastCompleted?.id).toBe(D2);
    expect(d.book.links[D1]).toBeUndefined();
  });

  it("an ACTIVE deployment shows how many of its tasks are still kept", () => {
    const { svc, b } = rollout(4, { min: 50, max: 100 });
    const d = decideReplica(input({ service: svc, book: b, tasks: tasks(4, D1) }));
    expect(d.service.deployments?.find((x) => x.id === D1)?.desiredCount).toBe(2);
  });
});

describe("replica scheduler: tasks on a DRAINING container instance", () => {
  // "Draining behavior for services": PENDING tasks stop at once; RUNNING ones are replaced within
  // minimumHealthyPercent and maximumPercent.
  it.each([
    // min, max, desired, running on draining, elsewhere → started, stopped
    [100, 200, 2, 2, 0, 2, 0], // 100 %: replacements first, nothing stops yet
    [50, 200, 4, 2, 2, 2, 2], // min 50 lets both go at once, and max 200 lets both replacements start
    [50, 100, 4, 2, 2, 0, 2], // max 100: no room, min 50 lets both stop first
    [0, 100, 1, 1, 0, 0, 1], // one task, no room: stop first
  ])("minimumHealthyPercent %i, maximumPercent %i, desired %i, %i on the draining instance + %i elsewhere → start %i, stop %i", (min, max, desired, onDraining, elsewhere, starts, stops) => {
    const svc = service({ desired, deployments: [deployment(D1, TD1, desired, { rolloutState: "COMPLETED" })], config: { minimumHealthyPercent: min, maximumPercent: max } });
    const d = decideReplica(input({ service: svc, book: book({ steady: true }), tasks: [...tasks(onDraining, D1, "running", { draining: true }), ...tasks(elsewhere, D1)] }));
    const started = d.effects.filter((e) => e.kind === "start").reduce((n, e) => n + (e.kind === "start" ? e.count : 0), 0);
    const stopped = d.effects.flatMap((e) => (e.kind === "stop" ? [e] : []));
    expect([started, stopped.reduce((n, e) => n + e.taskArns.length, 0)]).toEqual([starts, stops]);
    for (const e of stopped) expect(e.reason).toBe(STOP_REASONS.draining);
    expect(d.book.steady).toBe(false);
  });

  it("stops a PENDING task on a draining instance at once, and replaces it", () => {
    const svc = service({ desired: 1, deployments: [deployment(D1, TD1, 1, { rolloutState: "COMPLETED" })] });
    const pending = task(D1, "pending", { draining: true });
    const d = decideReplica(input({ service: svc, book: book({ steady: true }), tasks: [pending] }));
    expect(summary(d.effects)).toEqual([`start ${D1} ×1`, `stop 1: ${STOP_REASONS.draining}`]);
  });

  it("once the replacements are healthy the draining tasks go, and the service is steady when none is left", () => {
    const svc = service({ desired: 2, deployments: [deployment(D1, TD1, 2, { rolloutState: "COMPLETED" })] });
    const leaving = tasks(2, D1, "running", { draining: true });
    const d = decideReplica(input({ service: svc, book: book({ steady: false }), tasks: [...leaving, ...tasks(2, D1)] }));
    expect(d.effects.flatMap((e) => (e.kind === "stop" ? e.taskArns : []))).toEqual(leaving.map((t) => t.arn));
    expect(d.effects.some((e) => e.kind === "start")).toBe(false);
    const after = decideReplica(input({ service: d.service, book: d.book, tasks: tasks(2, D1) }));
    expect(summary(after.effects)).toEqual([`event ${serviceEvents.steadyState("web")}`]);
  });
});

describe("replica scheduler: task scale-in protection", () => {
  // "Protect your Amazon ECS tasks from being terminated by scale-in events": neither a scale-in nor a
  // deployment stops a protected task; it waits for the protection to be cleared or to expire.
  const NOW = T0 + 120_000;
  const until = NOW + 60_000;
  const steadyService = (desired: number) => service({ desired, deployments: [deployment(D1, TD1, desired, { rolloutState: "COMPLETED" })] });
  const stoppedArns = (d: ReturnType<typeof decideReplica>) => d.effects.flatMap((e) => (e.kind === "stop" ? e.taskArns : []));

  it.each([
    // desired, running, of them protected → stopped (always unprotected ones), wake-up at the protection's end
    [2, 4, 1, 2, true],
    [2, 4, 2, 2, true],
    [1, 4, 3, 1, true],
    [0, 3, 3, 0, true],
    [0, 3, 0, 3, false],
  ])("scale-in to %i of %i running tasks, %i protected → %i stopped", (desired, running, protectedCount, stops, wakes) => {
    const all = [...tasks(protectedCount, D1, "running", { protectedUntil: until }), ...tasks(running - protectedCount, D1)];
    const d = decideReplica(input({ service: steadyService(desired), book: book({ steady: true }), tasks: all, now: NOW }));
    const stopped = stoppedArns(d);
    expect(stopped).toHaveLength(stops);
    for (const arn of stopped) expect(all.find((t) => t.arn === arn)?.protectedUntil).toBeUndefined();
    expect(d.wakeAt).toBe(wakes ? until : undefined);
    // Protected extras keep the service from its steady state until they go.
    const left = all.filter((t) => !stopped.includes(t.arn));
    const after = decideReplica(input({ service: d.service, book: d.book, tasks: left, now: NOW + 1_000 }));
    expect(stoppedArns(after)).toEqual([]);
    expect(after.book.steady).toBe(left.length === desired);
  });

  it("an expired protection protects nothing", () => {
    const all = [...tasks(2, D1, "running", { protectedUntil: NOW }), ...tasks(1, D1)];
    const d = decideReplica(input({ service: steadyService(1), book: book({ steady: true }), tasks: all, now: NOW }));
    expect(stoppedArns(d)).toHaveLength(2);
  });

  it("a rolling deployment leaves the old deployment's protected tasks running and does not complete until their protection ends", () => {
    const { svc, b } = rollout(2, { min: 100, max: 200 });
    const old = [task(D1, "running", { protectedUntil: until }), task(D1)];
    const d = decideReplica(input({ service: svc, book: b, tasks: [...old, ...tasks(2, D2)], now: NOW }));
    expect(stoppedArns(d)).toEqual([old[1]!.arn]);
    expect(d.wakeAt).toBe(until);
    const waiting = decideReplica(input({ service: d.service, book: d.book, tasks: [old[0]!, ...tasks(2, D2)], now: NOW + 1_000 }));
    expect(stoppedArns(waiting)).toEqual([]);
    expect(waiting.service.deployments?.map((x) => [x.id, x.desiredCount])).toEqual([
      [D2, 2],
      [D1, 1],
    ]);
    expect(waiting.service.deployments?.[0]?.rolloutState).toBe("IN_PROGRESS");
    // No "unable to make progress" event: the deployment waits for the protection, not on its configuration.
    expect(summary(waiting.effects).filter((e) => e.startsWith("event"))).toEqual([]);
    // Protection over: the task goes, then the deployment completes.
    const over = decideReplica(input({ service: waiting.service, book: waiting.book, tasks: [old[0]!, ...tasks(2, D2)], now: until }));
    expect(stoppedArns(over)).toEqual([old[0]!.arn]);
  });

  it("does not shield unhealthy tasks, tasks on a draining instance, or a deleted service's tasks", () => {
    const units = { [D1]: { healthChecked: true } };
    const sick = task(D1, "running", { startedAt: T0, healthStatus: "UNHEALTHY", protectedUntil: until });
    const unhealthy = decideReplica(input({ service: steadyService(1), units, book: book({ steady: true }), tasks: [sick], now: NOW }));
    expect(stoppedArns(unhealthy)).toEqual([sick.arn]);
    const leaving = task(D1, "running", { draining: true, protectedUntil: until });
    const drained = decideReplica(input({ service: steadyService(1), book: book({ steady: true }), tasks: [leaving, task(D1)], now: NOW }));
    expect(stoppedArns(drained)).toEqual([leaving.arn]);
    const deleted = service({ desired: 0, status: "DRAINING", deployments: [deployment(D1, TD1, 0, { rolloutState: "COMPLETED" })] });
    const kept = task(D1, "running", { protectedUntil: until });
    expect(stoppedArns(decideReplica(input({ service: deleted, book: book({ steady: true }), tasks: [kept], now: NOW })))).toEqual([kept.arn]);
  });
});

describe("replica scheduler: health checks and the grace period", () => {
  const svc = (grace: number) => service({ desired: 1, grace, deployments: [deployment(D1, TD1, 1, { rolloutState: "COMPLETED" })] });
  const units = { [D1]: { healthChecked: true } };

  it("leaves an UNHEALTHY task alone during healthCheckGracePeriodSeconds and wakes up when it ends", () => {
    const sick = task(D1, "running", { startedAt: T0, healthStatus: "UNHEALTHY" });
    const d = decideReplica(input({ service: svc(300), units, tasks: [sick], now: T0 + 10_000, book: book({ steady: true }) }));
    expect(d.effects).toEqual([]);
    expect(d.wakeAt).toBe(T0 + 300_000);
  });

  it("replaces it after the grace period: starts the replacement first, then stops it (as ECS reports it)", () => {
    const sick = task(D1, "running", { startedAt: T0, healthStatus: "UNHEALTHY" });
    const d = decideReplica(input({ service: svc(300), units, tasks: [sick], now: T0 + 300_000, book: book({ steady: true }) }));
    expect(summary(d.effects)).toEqual([
      `start ${D1} ×1 (replacing 1 unhealthy)`,
      `event ${serviceEvents.failedHealthChecks("web", sick.id)}`,
      `stop 1: ${STOP_REASONS.unhealthy}`,
    ]);
  });

  it("a task without health checks is healthy once RUNNING", () => {
    const d = decideReplica(input({ service: svc(0), tasks: [task(D1, "running", { healthStatus: "UNKNOWN" })], book: book({ steady: true }) }));
    expect(d.effects).toEqual([]);
  });
});

describe("replica scheduler: deployment circuit breaker", () => {
  const failed = (n: number, startedBy = D2) => tasks(n, startedBy, "stopped", { startedAt: undefined, stopCode: "TaskFailedToStart" });

  function breaking(desired: number, rollback: boolean) {
    const { svc, b } = rollout(desired);
    svc.deploymentConfiguration = { ...svc.deploymentConfiguration, deploymentCircuitBreaker: { enable: true, rollback } };
    return { svc, b };
  }

  it("counts failed tasks of the deployment in progress, below the threshold nothing else happens", () => {
    const { svc, b } = breaking(2, true);
    const d = decideReplica(input({ service: svc, book: b, tasks: [...tasks(2, D1), ...failed(2)] }));
    expect(d.service.deployments?.[0]).toMatchObject({ id: D2, failedTasks: 2, rolloutState: "IN_PROGRESS" });
    expect(summary(d.effects)).toEqual([`start ${D2} ×2`]);
  });

  it("fails the deployment at the threshold and rolls back to the last completed one", () => {
    const { svc, b } = breaking(2, true);
    // One D1 task died meanwhile; D2 got one task running before three failed to start.
    const d1 = task(D1);
    const d2 = task(D2);
    const d = decideReplica(input({ service: svc, book: b, tasks: [d1, d2, ...failed(3)] }));
    expect(summary(d.effects)).toEqual([
      // Three launches in a row failed to start: the back-off is in force too.
      `event ${serviceEvents.unableToConsistentlyStart("web")}`,
      `event ${serviceEvents.deploymentFailed("web", D2)}`,
      "sd ROLLBACK_IN_PROGRESS",
      `event ${serviceEvents.rollingBack("web", D1)}`,
      // The rollback is a new deployment: the back-off starts afresh.
      `start ${D1} ×1`,
    ]);
    const [primary, failedOne] = d.service.deployments ?? [];
    expect(primary).toMatchObject({
      id: D1,
      status: "PRIMARY",
      rolloutState: "IN_PROGRESS",
      rolloutStateReason: `ECS deployment circuit breaker: rolling back to deploymentId ${D1}.`,
    });
    expect(failedOne).toMatchObject({ id: D2, status: "ACTIVE", rolloutState: "FAILED", rolloutStateReason: "ECS deployment circuit breaker: tasks failed to start." });
    expect(d.service.taskDefinition).toBe(TD1);
    const sd = d.effects.find((e) => e.kind === "serviceDeployment");
    expect(sd).toMatchObject({
      arn: SD2,
      patch: { rollback: { serviceRevisionArn: REV1 }, deploymentCircuitBreaker: { status: "TRIGGERED", failureCount: 3, threshold: 3 } },
    });
    // D1 back at 2 healthy tasks: the failed deployment's task goes, then the rollback completes under the same service deployment.
    const drained = decideReplica(input({ service: d.service, book: d.book, tasks: [d1, task(D1), d2], now: T0 + 200_000 }));
    expect(summary(drained.effects)).toEqual([`stop 1: ${STOP_REASONS.scaling(D2)}`]);
    expect(drained.service.deployments?.map((x) => x.id)).toEqual([D1]);
    const done = decideReplica(input({ service: drained.service, book: drained.book, tasks: [d1, task(D1)], now: T0 + 201_000 }));
    expect(summary(done.effects)).toEqual([
      `event ${serviceEvents.deploymentCompleted("web", D1)}`,
      "sd ROLLBACK_SUCCESSFUL",
      `event ${serviceEvents.steadyState("web")}`,
    ]);
    expect(done.effects.find((e) => e.kind === "serviceDeployment")).toMatchObject({ arn: SD2 });
  });

  it("re-creates the deployment to roll back to when it was already drained", () => {
    const { svc, b } = breaking(1, true);
    svc.deployments = [deployment(D2, TD2, 1)];
    const d = decideReplica(input({ service: svc, book: { ...b, retired: [D1] }, tasks: failed(3) }));
    // The failed deployment has no task left, so it is drained at once.
    expect(d.service.deployments?.map((x) => [x.id, x.status, x.taskDefinition])).toEqual([[D1, "PRIMARY", TD1]]);
    expect(d.book.lastCompleted?.id).toBe(D1);
    expect(d.book.retired).toEqual([D2]);
  });

  it("without rollback the deployment stays FAILED and launches nothing more", () => {
    const { svc, b } = breaking(2, false);
    const d = decideReplica(input({ service: svc, book: b, tasks: [...tasks(2, D1), ...failed(3)] }));
    expect(summary(d.effects)).toEqual([
      `event ${serviceEvents.unableToConsistentlyStart("web")}`,
      `event ${serviceEvents.deploymentFailed("web", D2)}`,
      "sd STOPPED",
    ]);
    expect(d.service.deployments?.[0]).toMatchObject({ id: D2, status: "PRIMARY", rolloutState: "FAILED" });
    const later = decideReplica(input({ service: d.service, book: d.book, tasks: [...tasks(2, D1), ...failed(3)] }));
    expect(later.effects.filter((e) => e.kind === "start")).toEqual([]);
  });

  it("with the circuit breaker off, failures are counted but never fail the deployment", () => {
    const { svc, b } = rollout(2);
    const d = decideReplica(input({ service: svc, book: b, tasks: [...tasks(2, D1), ...failed(5)] }));
    expect(d.service.deployments?.[0]).toMatchObject({ failedTasks: 5, rolloutState: "IN_PROGRESS" });
  });

  it("tasks stopped by the scheduler or a user are not failures", () => {
    const { svc, b } = breaking(2, true);
    const mine = tasks(3, D2, "stopped", { stopCode: "ServiceSchedulerInitiated" });
    const users = tasks(3, D2, "stopped", { stopCode: "UserInitiated" });
    const d = decideReplica(input({ service: svc, book: b, tasks: [...tasks(2, D1), ...mine, ...users] }));
    expect(d.service.deployments?.[0]).toMatchObject({ failedTasks: 0, rolloutState: "IN_PROGRESS" });
  });

  it("a health check failure after the grace period is a failed task", () => {
    const { svc, b } = breaking(1, true);
    const units = { [D1]: { healthChecked: true }, [D2]: { healthChecked: true } };
    const sick = task(D2, "running", { startedAt: T0, healthStatus: "UNHEALTHY" });
    const d = decideReplica(input({ service: svc, book: b, units, tasks: [task(D1, "running", { healthStatus: "HEALTHY" }), sick] }));
    expect(d.service.deployments?.[0]?.failedTasks).toBe(1);
  });

  it("StopServiceDeployment ROLLBACK rolls back the same way, without a circuit breaker", () => {
    const { svc, b } = rollout(2);
    const d = decideReplica(input({ service: svc, book: { ...b, rollbackRequested: SD2 }, tasks: [...tasks(2, D1), ...tasks(1, D2)] }));
    expect(summary(d.effects)).toEqual([
      "sd ROLLBACK_IN_PROGRESS",
      `event ${serviceEvents.rollingBack("web", D1)}`,
      `stop 1: ${STOP_REASONS.scaling(D2)}`,
    ]);
    expect(d.book.rollbackRequested).toBeUndefined();
    expect(d.service.deployments?.[0]?.id).toBe(D1);
  });

  it("with nothing to roll back to, the service deployment ends ROLLBACK_FAILED", () => {
    const svc = service({
      desired: 1,
      deployments: [deployment(D1, TD1, 1)],
      config: { deploymentCircuitBreaker: { enable: true, rollback: true } },
    });
    const d = decideReplica(input({ service: svc, book: book({ links: { [D1]: link(SD1, REV1) } }), tasks: failed(3, D1) }));
    expect(summary(d.effects)).toEqual([
      `event ${serviceEvents.unableToConsistentlyStart("web")}`,
      `event ${serviceEvents.deploymentFailed("web", D1)}`,
      "sd ROLLBACK_FAILED",
    ]);
  });
});

describe("replica scheduler: throttling of tasks that keep failing to start", () => {
  const svc = () => service({ desired: 1, deployments: [deployment(D1, TD1, 1, { rolloutState: "COMPLETED" })] });
  const failures = (n: number) => tasks(n, D1, "stopped", { startedAt: undefined, stopCode: "TaskFailedToStart", stoppedAt: T0 + 1_000 });

  it("retries at once after one or two failures", () => {
    const d = decideReplica(input({ service: svc(), tasks: failures(2), now: T0 + 1_000 }));
    expect(summary(d.effects)).toEqual([`start ${D1} ×1`]);
  });

  it("after three it reports it and waits 5 s before the next attempt", () => {
    const d = decideReplica(input({ service: svc(), tasks: failures(3), now: T0 + 1_000 }));
    expect(summary(d.effects)).toEqual([`event ${serviceEvents.unableToConsistentlyStart("web")}`]);
    expect(d.effects[0]).toMatchObject({ condition: true });
    expect(d.wakeAt).toBe(T0 + 1_000 + 5_000);
    const later = decideReplica(input({ service: d.service, book: d.book, tasks: failures(0), now: T0 + 6_000 }));
    expect(summary(later.effects)).toEqual([`start ${D1} ×1`]);
  });

  it.each([
    [3, 5_000],
    [4, 10_000],
    [5, 20_000],
    [10, 640_000],
    [11, 900_000],
    [40, 900_000],
  ])("after %i consecutive failures the next launch waits %i ms (at most 15 minutes)", (n, delay) => {
    const d = decideReplica(input({ service: svc(), tasks: failures(n), now: T0 + 1_000 }));
    expect(d.wakeAt).toBe(T0 + 1_000 + delay);
  });

  it("launches one probe at a time while throttled", () => {
    const d = decideReplica(
      input({
        service: service({ desired: 3, deployments: [deployment(D1, TD1, 3, { rolloutState: "COMPLETED" })] }),
        tasks: failures(3),
        book: book({ throttle: { failures: 0 } }),
        now: T0 + 60_000,
      }),
    );
    expect(summary(d.effects)).toEqual([`event ${serviceEvents.unableToConsistentlyStart("web")}`, `start ${D1} ×1`]);
    const probing = decideReplica(input({ service: d.service, book: d.book, tasks: [...failures(0), task(D1, "pending")], now: T0 + 61_000 }));
    expect(probing.effects.filter((e) => e.kind === "start")).toEqual([]);
  });

  it("containers that exit at once are backed off too, without the event", () => {
    const quick = tasks(3, D1, "stopped", { startedAt: T0, stoppedAt: T0 + 500, stopCode: "EssentialContainerExited" });
    const d = decideReplica(input({ service: svc(), tasks: quick, now: T0 + 1_000 }));
    expect(summary(d.effects)).toEqual([]);
    expect(d.wakeAt).toBe(T0 + 500 + 5_000);
  });

  it("a task that ran a while before stopping ends the streak", () => {
    const d = decideReplica(
      input({ service: svc(), tasks: [task(D1, "stopped", { startedAt: T0, stoppedAt: T0 + 60_000 })], book: book({ throttle: { failures: 7, lastFailureAt: T0 } }) }),
    );
    expect(d.book.throttle.failures).toBe(0);
    expect(summary(d.effects)).toEqual([`start ${D1} ×1`]);
  });

  it("a steady state ends the streak", () => {
    const d = decideReplica(input({ service: svc(), tasks: [task(D1)], book: book({ throttle: { failures: 7, lastFailureAt: T0 } }) }));
    expect(d.book.throttle).toEqual({ failures: 0 });
  });
});

describe("replica scheduler: placement, DAEMON and deletion", () => {
  it("reports a task that cannot be placed (a fixed host port in use) and starts what fits", () => {
    const svc = service({ desired: 2, deployments: [deployment(D1, TD1, 2, { rolloutState: "COMPLETED" })] });
    const problem = serviceEvents.portInUse("web", "abc");
    const d = decideReplica(input({ service: svc, tasks: [task(D1)], units: { [D1]: { placeable: 0, placementProblem: problem } } }));
    expect(summary(d.effects)).toEqual([`event ${problem}`]);
    expect(d.effects[0]).toMatchObject({ condition: true });
  });

  it("DAEMON keeps one task per instance and replaces it stop-first (0 % / 100 % by default)", () => {
    const svc = service({
      desired: 0,
      daemon: true,
      deployments: [deployment(D2, TD2, 1), deployment(D1, TD1, 1, { status: "ACTIVE", rolloutState: "COMPLETED" })],
    });
    const first = decideReplica(input({ service: svc, desired: 1, tasks: tasks(1, D1), book: book({ links: { [D2]: link(SD2, REV2) } }) }));
    expect(summary(first.effects)).toEqual([`stop 1: ${STOP_REASONS.scaling(D1)}`]);
    const second = decideReplica(input({ service: first.service, desired: 1, tasks: tasks(1, D1, "stopping"), book: first.book }));
    expect(summary(second.effects)).toEqual([`start ${D2} ×1`]);
    expect(second.service.deployments?.[0]?.desiredCount).toBe(1);
  });

  it("a DRAINING service stops its unhealthy tasks too (nothing is left running)", () => {
    const svc = service({ desired: 2, status: "DRAINING", grace: 0, deployments: [deployment(D1, TD1, 2, { rolloutState: "COMPLETED" })] });
    const sick = task(D1, "running", { healthStatus: "UNHEALTHY" });
    const d = decideReplica(input({ service: svc, units: { [D1]: { healthChecked: true } }, tasks: [task(D1), sick] }));
    const stopped = d.effects.flatMap((e) => (e.kind === "stop" ? e.taskArns : []));
    expect(stopped).toHaveLength(2);
    expect(stopped).toContain(sick.arn);
    expect(d.service.status).toBe("INACTIVE");
  });

  it("a DRAINING service has every task stopped and becomes INACTIVE", () => {
    const svc = service({ desired: 2, status: "DRAINING", deployments: [deployment(D1, TD1, 2, { rolloutState: "COMPLETED" })] });
    const d = decideReplica(input({ service: svc, tasks: [...tasks(2, D1), task(D1, "stopped")] }));
    expect(summary(d.effects)).toEqual([`stop 2: ${STOP_REASONS.scaling(D1)}`]);
    expect(d.service.status).toBe("INACTIVE");
    expect(d.service.deployments).toEqual([]);
  });
});
