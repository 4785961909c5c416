import { describe, expect, it } from "vitest";
import type { DeploymentConfiguration } from "../../../generated/shapes.ts";
import { blueGreenStep, DEFAULT_BLUE_GREEN_BAKE_TIME_MINUTES, trafficShiftMs } from "../../../src/runtime/services/blue-green-decision.ts";
import { decideReplica, STOP_REASONS } from "../../../src/runtime/services/replica-decision.ts";
import type { Effect, SchedTask, ServiceBook, ServiceDeploymentPatch } from "../../../src/runtime/services/scheduler-types.ts";
import { serviceEvents } from "../../../src/runtime/services/service-events.ts";
import { book, deployment, input, link, REV1, REV2, SD1, SD2, service, summary, T0, task, tasks, TD1, TD2 } from "./decision-fixtures.ts";

const D1 = "ecs-svc/1111111111111111111";
const D2 = "ecs-svc/2222222222222222222";
const MIN = 60_000;

/**
 * A blue/green deployment just started: D2 (green, PRIMARY, td 2) next to D1 (blue, ACTIVE, completed, two
 * tasks). maximumPercent 100 / minimumHealthyPercent 100 would leave a rolling update stuck: blue/green
 * does not use them.
 */
function blueGreen(options: { desired?: number; config?: DeploymentConfiguration; sdStatus?: "PENDING" | "IN_PROGRESS" } = {}) {
  const desired = options.desired ?? 2;
  const svc = service({
    desired,
    deployments: [deployment(D2, TD2, desired), deployment(D1, TD1, desired, { status: "ACTIVE", rolloutState: "COMPLETED" })],
    config: { strategy: "BLUE_GREEN", bakeTimeInMinutes: 5, minimumHealthyPercent: 100, maximumPercent: 100, ...options.config },
  });
  const b = book({
    links: { [D2]: link(SD2, REV2, options.sdStatus ?? "PENDING"), [D1]: link(SD1, REV1, "SUCCESSFUL") },
    lastCompleted: { id: D1, taskDefinition: TD1, createdAt: T0, serviceRevisionArn: REV1 },
  });
  return { svc, b };
}

const healthy = { healthStatus: "HEALTHY" } as const;
const checked = { [D1]: { healthChecked: true }, [D2]: { healthChecked: true } };

/** The service deployment patches of a decision (what DescribeServiceDeployments will show). */
function sdPatches(effects: readonly Effect[]): ServiceDeploymentPatch[] {
  return effects.flatMap((e) => (e.kind === "serviceDeployment" ? [e.patch] : []));
}

describe("blue/green: the lifecycle stage machine (pure)", () => {
  const base = { stage: undefined, bakeStartedAt: undefined, greenReady: false, hasBlue: true, bakeMs: 5 * MIN, now: T0 };
  it.each([
    ["a new deployment scales green up", base, { stage: "SCALE_UP", cleanUp: false }],
    ["green not ready yet: still scaling up", { ...base, stage: "SCALE_UP" as const }, { stage: "SCALE_UP", cleanUp: false }],
    [
      "green ready: traffic shifts at once and the bake time begins",
      { ...base, stage: "SCALE_UP" as const, greenReady: true },
      { stage: "BAKE_TIME", bakeStartedAt: T0, cleanUp: false, wakeAt: T0 + 5 * MIN },
    ],
    [
      "during the bake time nothing changes, woken at its end",
      { ...base, stage: "BAKE_TIME" as const, bakeStartedAt: T0 - MIN, greenReady: true },
      { stage: "BAKE_TIME", bakeStartedAt: T0 - MIN, cleanUp: false, wakeAt: T0 + 4 * MIN },
    ],
    [
      "a green task lost during the bake time does not restart it",
      { ...base, stage: "BAKE_TIME" as const, bakeStartedAt: T0 - MIN, greenReady: false },
      { stage: "BAKE_TIME", bakeStartedAt: T0 - MIN, cleanUp: false, wakeAt: T0 + 4 * MIN },
    ],
    ["the bake time is over: clean-up", { ...base, stage: "BAKE_TIME" as const, bakeStartedAt: T0 - 5 * MIN }, { stage: "CLEAN_UP", cleanUp: true }],
    ["a bake time of 0: clean-up as soon as green is ready", { ...base, greenReady: true, bakeMs: 0 }, { stage: "CLEAN_UP", cleanUp: true, bakeStartedAt: T0 }],
    ["nothing blue to keep (a first deployment): no bake time", { ...base, greenReady: true, hasBlue: false }, { stage: "CLEAN_UP", cleanUp: true }],
    ["clean-up stays clean-up", { ...base, stage: "CLEAN_UP" as const, bakeStartedAt: T0 - 9 * MIN }, { stage: "CLEAN_UP", cleanUp: true }],
  ])("%s", (_, given, expected) => {
    expect(blueGreenStep(given)).toMatchObject(expected);
  });
});

describe("blue/green deployments (replica scheduler)", () => {
  it("scales green to the full desired count whatever maximumPercent says; blue keeps every task", () => {
    const { svc, b } = blueGreen();
    const blue = tasks(2, D1);
    const d = decideReplica(input({ service: svc, book: b, tasks: blue }));
    expect(summary(d.effects)).toEqual([`start ${D2} ×2`, "sd IN_PROGRESS", "notify SERVICE_DEPLOYMENT_IN_PROGRESS"]);
    expect(sdPatches(d.effects)).toEqual([expect.objectContaining({ status: "IN_PROGRESS", lifecycleStage: "SCALE_UP" })]);
    expect(d.book.links[D2]).toMatchObject({ sdStatus: "IN_PROGRESS", lifecycleStage: "SCALE_UP" });
    // The same service rolling: maximumPercent 100 / minimumHealthyPercent 100 allow no progress at all.
    const rolling = decideReplica(input({ service: { ...svc, deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 100 } }, book: b, tasks: blue }));
    expect(rolling.effects.some((e) => e.kind === "start")).toBe(false);
  });

  it.each([
    ["PENDING", tasks(2, D2, "pending")],
    ["RUNNING but not HEALTHY yet", tasks(2, D2, "running", { healthStatus: "UNKNOWN" })],
    ["one of two HEALTHY", [task(D2, "running", healthy), task(D2, "running", { healthStatus: "UNKNOWN" })]],
  ])("blue is untouched while green is %s", (_, green) => {
    const { svc, b } = blueGreen({ sdStatus: "IN_PROGRESS" });
    b.links[D2] = { ...b.links[D2]!, lifecycleStage: "SCALE_UP" };
    const d = decideReplica(input({ service: svc, book: b, units: checked, tasks: [...tasks(2, D1, "running", healthy), ...green] }));
    expect(d.effects).toEqual([]);
    expect(d.service.deployments?.map((x) => x.id)).toEqual([D2, D1]);
    expect(d.book.links[D2]?.lifecycleStage).toBe("SCALE_UP");
  });

  it("walks SCALE_UP → BAKE_TIME → CLEAN_UP, waking at the end of the bake time, then completes as a rolling update does", () => {
    const { svc, b } = blueGreen();
    const blue = tasks(2, D1, "running", healthy);
    const stages: Array<string | undefined> = [];
    const stageOf = (effects: readonly Effect[]): void => {
      for (const p of sdPatches(effects)) if (p.lifecycleStage !== undefined) stages.push(p.lifecycleStage);
    };

    const up = decideReplica(input({ service: svc, book: b, units: checked, tasks: blue, now: T0 }));
    stageOf(up.effects);
    const green = tasks(2, D2, "running", healthy);

    // Every green task is healthy: production traffic shifts (at once), the bake time begins.
    const shifted = decideReplica(input({ service: up.service, book: up.book, units: checked, tasks: [...blue, ...green], now: T0 + MIN }));
    stageOf(shifted.effects);
    expect(summary(shifted.effects)).toEqual(["sd (update)"]);
    expect(shifted.wakeAt).toBe(T0 + MIN + 5 * MIN);
    expect(shifted.book.links[D2]).toMatchObject({ lifecycleStage: "BAKE_TIME", bakeStartedAt: T0 + MIN });
    expect(shifted.service.deployments?.[0]).toMatchObject({ id: D2, rolloutState: "IN_PROGRESS" });

    // One second before the end of the bake time: blue still runs, the wake-up stays.
    const baking = decideReplica(input({ service: shifted.service, book: shifted.book, units: checked, tasks: [...blue, ...green], now: T0 + 6 * MIN - 1000 }));
    expect(baking.effects).toEqual([]);
    expect(baking.wakeAt).toBe(T0 + 6 * MIN);

    // The bake time is over: every blue task is stopped at once.
    const clean = decideReplica(input({ service: baking.service, book: baking.book, units: checked, tasks: [...blue, ...green], now: T0 + 6 * MIN }));
    stageOf(clean.effects);
    expect(summary(clean.effects)).toEqual([`stop 2: ${STOP_REASONS.scaling(D1)}`, "sd (update)"]);
    expect(clean.effects.find((e) => e.kind === "stop")).toMatchObject({ taskArns: blue.map((t) => t.arn) });
    expect(clean.service.deployments?.map((x) => x.id)).toEqual([D2]);

    // Blue gone: the deployment completes, the service is steady.
    const stopped = blue.map((t): SchedTask => ({ ...t, lastStatus: "STOPPED", desiredStatus: "STOPPED", stopCode: "ServiceSchedulerInitiated", stoppedAt: T0 + 6 * MIN }));
    const done = decideReplica(input({ service: clean.service, book: clean.book, units: checked, tasks: [...stopped, ...green], now: T0 + 6 * MIN + 1000 }));
    expect(summary(done.effects)).toEqual([
      `event ${serviceEvents.deploymentCompleted("web", D2)}`,
      "sd SUCCESSFUL",
      `event ${serviceEvents.steadyState("web")}`,
    ]);
    expect(done.service.deployments?.[0]).toMatchObject({ id: D2, rolloutState: "COMPLETED" });
    expect(done.book.links[D2]?.lifecycleStage).toBe("CLEAN_UP");
    expect(stages).toEqual(["SCALE_UP", "BAKE_TIME", "CLEAN_UP"]);
  });

  it("without bakeTimeInMinutes the bake time is the documented default", () => {
    const { svc, b } = blueGreen({ sdStatus: "IN_PROGRESS" });
    svc.deploymentConfiguration = { strategy: "BLUE_GREEN" };
    const d = decideReplica(input({ service: svc, book: b, tasks: [...tasks(2, D1), ...tasks(2, D2)], now: T0 }));
    expect(d.wakeAt).toBe(T0 + DEFAULT_BLUE_GREEN_BAKE_TIME_MINUTES * MIN);
  });

  it("bakeTimeInMinutes 0: blue goes as soon as green is healthy", () => {
    const { svc, b } = blueGreen({ sdStatus: "IN_PROGRESS", config: { bakeTimeInMinutes: 0 } });
    const d = decideReplica(input({ service: svc, book: b, tasks: [...tasks(2, D1), ...tasks(2, D2)] }));
    expect(summary(d.effects)).toEqual([`stop 2: ${STOP_REASONS.scaling(D1)}`, "sd (update)"]);
    expect(sdPatches(d.effects)).toEqual([expect.objectContaining({ lifecycleStage: "CLEAN_UP" })]);
  });

  it("a protected blue task outlives the clean-up until its protection ends", () => {
    const { svc, b } = blueGreen({ sdStatus: "IN_PROGRESS", config: { bakeTimeInMinutes: 0 } });
    const now = T0 + 120_000;
    const kept = task(D1, "running", { protectedUntil: now + 30_000 });
    const d = decideReplica(input({ service: svc, book: b, tasks: [task(D1), kept, ...tasks(2, D2)], now }));
    expect(summary(d.effects)).toEqual([`stop 1: ${STOP_REASONS.scaling(D1)}`, "sd (update)"]);
    expect(d.wakeAt).toBe(now + 30_000);
    expect(d.service.deployments?.map((x) => x.id)).toEqual([D2, D1]);
  });

  it("a first deployment (nothing blue) completes once green is healthy, without a bake time", () => {
    const svc = service({ desired: 2, deployments: [deployment(D1, TD1, 2)], config: { strategy: "BLUE_GREEN", bakeTimeInMinutes: 30 } });
    const b = book({ links: { [D1]: link(SD1, REV1, "IN_PROGRESS") } });
    const d = decideReplica(input({ service: svc, book: b, tasks: tasks(2, D1) }));
    expect(summary(d.effects)).toEqual([
      "sd (update)",
      `event ${serviceEvents.deploymentCompleted("web", D1)}`,
      "sd SUCCESSFUL",
      `event ${serviceEvents.steadyState("web")}`,
    ]);
    expect(sdPatches(d.effects)[0]).toEqual({ lifecycleStage: "CLEAN_UP" });
  });

  it("the circuit breaker rolls back to blue, which still runs: green is stopped, nothing of blue is started", () => {
    const { svc, b } = blueGreen({ sdStatus: "IN_PROGRESS", config: { deploymentCircuitBreaker: { enable: true, rollback: true } } });
    b.links[D2] = { ...b.links[D2]!, lifecycleStage: "SCALE_UP" };
    const failed = tasks(3, D2, "stopped", { startedAt: T0, stoppedAt: T0 + 60_000, stopCode: "EssentialContainerExited" });
    const green = task(D2);
    const blue = tasks(2, D1);
    const d = decideReplica(input({ service: svc, book: b, tasks: [...blue, green, ...failed], now: T0 + 120_000 }));
    expect(summary(d.effects)).toEqual([
      `event ${serviceEvents.deploymentFailed("web", D2)}`,
      "sd ROLLBACK_IN_PROGRESS",
      `event ${serviceEvents.rollingBack("web", D1)}`,
      `stop 1: ${STOP_REASONS.scaling(D2)}`,
    ]);
    expect(d.service.deployments?.map((x) => [x.id, x.status])).toEqual([[D1, "PRIMARY"]]);
    expect(d.service.taskDefinition).toBe(TD1);
    const done = decideReplica(input({ service: d.service, book: d.book, tasks: blue, now: T0 + 121_000 }));
    expect(summary(done.effects)).toEqual([
      `event ${serviceEvents.deploymentCompleted("web", D1)}`,
      "sd ROLLBACK_SUCCESSFUL",
      `event ${serviceEvents.steadyState("web")}`,
    ]);
  });

  it("StopServiceDeployment ROLLBACK during the bake time: blue stays, green goes at once", () => {
    const { svc, b } = blueGreen({ sdStatus: "IN_PROGRESS" });
    const baking: ServiceBook = { ...b, rollbackRequested: SD2, links: { ...b.links, [D2]: { ...b.links[D2]!, lifecycleStage: "BAKE_TIME", bakeStartedAt: T0 } } };
    const d = decideReplica(input({ service: svc, book: baking, tasks: [...tasks(2, D1), ...tasks(2, D2)], now: T0 + MIN }));
    expect(summary(d.effects)).toEqual(["sd ROLLBACK_IN_PROGRESS", `event ${serviceEvents.rollingBack("web", D1)}`, `stop 2: ${STOP_REASONS.scaling(D2)}`]);
    expect(d.service.deployments?.[0]).toMatchObject({ id: D1, status: "PRIMARY", rolloutStateReason: `ECS deployment rolled back to deploymentId ${D1} at the request of StopServiceDeployment.` });
    expect(d.wakeAt).toBeUndefined();
  });

  it("lifecycle hooks are not run: said once per deployment", () => {
    const hook = { hookTargetArn: "arn:aws:lambda:us-east-1:123456789012:function:check", roleArn: "arn:aws:iam::123456789012:role/hooks", lifecycleStages: ["PRE_SCALE_UP" as const] };
    const { svc, b } = blueGreen({ config: { lifecycleHooks: [hook] } });
    const d = decideReplica(input({ service: svc, book: b, tasks: tasks(2, D1) }));
    expect(summary(d.effects)).toContain("log deployment-lifecycle-hooks-not-run");
    const again = decideReplica(input({ service: d.service, book: d.book, tasks: [...tasks(2, D1), ...tasks(2, D2, "pending")] }));
    expect(summary(again.effects)).not.toContain("log deployment-lifecycle-hooks-not-run");
  });

  it.each(["ROLLING"] as const)("%s stays a rolling update (maximumPercent applies, no lifecycle stage)", (strategy) => {
    const { svc, b } = blueGreen({ config: { strategy, maximumPercent: 150 } });
    const d = decideReplica(input({ service: svc, book: b, tasks: tasks(2, D1) }));
    expect(summary(d.effects)[0]).toBe(`start ${D2} ×1`);
    expect(sdPatches(d.effects).every((p) => p.lifecycleStage === undefined)).toBe(true);
  });
});

describe("LINEAR and CANARY: the blue/green workflow with production traffic shifted in steps", () => {
  // LinearConfiguration / CanaryConfiguration (API reference): stepPercent 10 and stepBakeTimeInMinutes 6
  // by default, the step bake time "not applied after reaching 100 percent"; canaryBakeTimeInMinutes 10.
  it.each([
    ["BLUE_GREEN: at once", { strategy: "BLUE_GREEN" }, 0],
    ["LINEAR defaults: 10 steps of 10 %, 9 waits of 6 min", { strategy: "LINEAR" }, 54 * MIN],
    ["LINEAR 25 % every 2 min: 3 waits", { strategy: "LINEAR", linearConfiguration: { stepPercent: 25, stepBakeTimeInMinutes: 2 } }, 6 * MIN],
    ["LINEAR 30 %: 4 steps (30, 60, 90, 100), 3 waits", { strategy: "LINEAR", linearConfiguration: { stepPercent: 30, stepBakeTimeInMinutes: 1 } }, 3 * MIN],
    ["LINEAR 100 %: one step, no wait", { strategy: "LINEAR", linearConfiguration: { stepPercent: 100, stepBakeTimeInMinutes: 5 } }, 0],
    ["CANARY defaults: 10 min", { strategy: "CANARY" }, 10 * MIN],
    ["CANARY 20 % for 3 min", { strategy: "CANARY", canaryConfiguration: { canaryPercent: 20, canaryBakeTimeInMinutes: 3 } }, 3 * MIN],
  ] as const)("%s", (_, config, ms) => {
    expect(trafficShiftMs(config as DeploymentConfiguration)).toBe(ms);
  });

  it("the stage machine spends the shift in PRODUCTION_TRAFFIC_SHIFT, then bakes", () => {
    const base = { stage: "SCALE_UP" as const, bakeStartedAt: undefined, greenReady: true, hasBlue: true, bakeMs: 5 * MIN, shiftMs: 6 * MIN, now: T0 };
    const shifting = blueGreenStep(base);
    expect(shifting).toMatchObject({ stage: "PRODUCTION_TRAFFIC_SHIFT", bakeStartedAt: T0 + 6 * MIN, cleanUp: false, wakeAt: T0 + 6 * MIN });
    const still = blueGreenStep({ ...base, stage: shifting.stage, bakeStartedAt: shifting.bakeStartedAt, now: T0 + 6 * MIN - 1 });
    expect(still).toMatchObject({ stage: "PRODUCTION_TRAFFIC_SHIFT", cleanUp: false, wakeAt: T0 + 6 * MIN });
    const baking = blueGreenStep({ ...base, stage: still.stage, bakeStartedAt: still.bakeStartedAt, now: T0 + 6 * MIN });
    expect(baking).toMatchObject({ stage: "BAKE_TIME", cleanUp: false, wakeAt: T0 + 11 * MIN });
    expect(blueGreenStep({ ...base, stage: baking.stage, bakeStartedAt: baking.bakeStartedAt, now: T0 + 11 * MIN })).toMatchObject({ stage: "CLEAN_UP", cleanUp: true });
  });

  it.each(["LINEAR", "CANARY"] as const)("%s: green at full count whatever maximumPercent; blue kept through the shift and the bake time, then goes", (strategy) => {
    const config: DeploymentConfiguration =
      strategy === "LINEAR"
        ? { strategy, bakeTimeInMinutes: 1, linearConfiguration: { stepPercent: 50, stepBakeTimeInMinutes: 2 } }
        : { strategy, bakeTimeInMinutes: 1, canaryConfiguration: { canaryPercent: 10, canaryBakeTimeInMinutes: 2 } };
    const { svc, b } = blueGreen({ config });
    const blue = tasks(2, D1, "running", healthy);
    const up = decideReplica(input({ service: svc, book: b, units: checked, tasks: blue, now: T0 }));
    expect(summary(up.effects)[0]).toBe(`start ${D2} ×2`);
    const green = tasks(2, D2, "running", healthy);
    const shift = decideReplica(input({ service: up.service, book: up.book, units: checked, tasks: [...blue, ...green], now: T0 + MIN }));
    expect(sdPatches(shift.effects).map((p) => p.lifecycleStage)).toContain("PRODUCTION_TRAFFIC_SHIFT");
    expect(shift.wakeAt).toBe(T0 + 3 * MIN);
    const bake = decideReplica(input({ service: shift.service, book: shift.book, units: checked, tasks: [...blue, ...green], now: T0 + 3 * MIN }));
    expect(sdPatches(bake.effects).map((p) => p.lifecycleStage)).toContain("BAKE_TIME");
    expect(bake.effects.some((e) => e.kind === "stop")).toBe(false);
    expect(bake.wakeAt).toBe(T0 + 4 * MIN);
    const clean = decideReplica(input({ service: bake.service, book: bake.book, units: checked, tasks: [...blue, ...green], now: T0 + 4 * MIN }));
    expect(clean.effects.flatMap((e) => (e.kind === "stop" ? e.taskArns : []))).toEqual(blue.map((t) => t.arn));
  });
});
