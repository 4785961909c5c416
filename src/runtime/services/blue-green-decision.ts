import type { DeploymentConfiguration, Service, ServiceDeploymentLifecycleStage } from "../../../generated/shapes.ts";

// The ECS-native blue/green deployment strategy (deploymentController ECS, deploymentConfiguration.strategy
// BLUE_GREEN), as "Amazon ECS blue/green service deployments workflow" describes it: the green (new
// PRIMARY) revision scales up to 100 % next to the blue one, production traffic shifts to green, both run
// for the bake time, then blue is scaled down to 0 at once (CLEAN_UP). The pure part the replica decision
// asks: which lifecycle stage a deployment is in, when the bake time ends, and whether blue goes now.

/**
 * bakeTimeInMinutes when the service gives none. The API reference: for rolling deployments and the
 * EXTERNAL / CODE_DEPLOY controllers 3 hours, "for all other cases, the value is set to 36 hours (2160
 * minutes)". Only the blue/green strategy waits for it here.
 */
export const DEFAULT_BLUE_GREEN_BAKE_TIME_MINUTES = 2160;

/** LinearConfiguration / CanaryConfiguration defaults (API reference). */
const LINEAR_STEP_PERCENT = 10;
const LINEAR_STEP_BAKE_MINUTES = 6;
const CANARY_BAKE_MINUTES = 10;

/**
 * A deployment of this service follows the blue/green workflow (REPLICA services only): BLUE_GREEN, and
 * LINEAR and CANARY, which are the same workflow with production traffic shifted in steps.
 */
export function isBlueGreen(service: Service): boolean {
  const strategy = service.deploymentConfiguration?.strategy;
  return (
    (service.deploymentController?.type ?? "ECS") === "ECS" &&
    service.schedulingStrategy !== "DAEMON" &&
    (strategy === "BLUE_GREEN" || strategy === "LINEAR" || strategy === "CANARY")
  );
}

export function bakeTimeMs(config: DeploymentConfiguration | undefined): number {
  const minutes = config?.bakeTimeInMinutes ?? DEFAULT_BLUE_GREEN_BAKE_TIME_MINUTES;
  return Math.max(0, minutes) * 60_000;
}

/**
 * How long PRODUCTION_TRAFFIC_SHIFT lasts. BLUE_GREEN shifts everything at once. LINEAR shifts stepPercent
 * at a time and waits stepBakeTimeInMinutes between steps ("not applied after reaching 100 percent"), so
 * ceil(100 / stepPercent) − 1 waits. CANARY shifts canaryPercent, waits canaryBakeTimeInMinutes, then
 * shifts the rest. Locally no traffic moves (see isBlueGreen's callers); the stage lasts as long.
 */
export function trafficShiftMs(config: DeploymentConfiguration | undefined): number {
  switch (config?.strategy) {
    case "LINEAR": {
      const step = config.linearConfiguration?.stepPercent ?? LINEAR_STEP_PERCENT;
      const waits = step > 0 ? Math.max(0, Math.ceil(100 / step - 1e-9) - 1) : 0;
      return waits * Math.max(0, config.linearConfiguration?.stepBakeTimeInMinutes ?? LINEAR_STEP_BAKE_MINUTES) * 60_000;
    }
    case "CANARY":
      return Math.max(0, config.canaryConfiguration?.canaryBakeTimeInMinutes ?? CANARY_BAKE_MINUTES) * 60_000;
    default:
      return 0;
  }
}

export interface BlueGreenInput {
  /** The stage recorded for the deployment so far; undefined before its first step. */
  stage: ServiceDeploymentLifecycleStage | undefined;
  /** When the bake time begins (epoch ms), once production traffic has begun to shift (may be ahead). */
  bakeStartedAt: number | undefined;
  /** Every green task wanted runs and is healthy (the same rules as a rolling update's new tasks). */
  greenReady: boolean;
  /** An older (blue) deployment is still shown. */
  hasBlue: boolean;
  bakeMs: number;
  /** How long production traffic takes to shift (LINEAR / CANARY steps; 0 for BLUE_GREEN). */
  shiftMs?: number | undefined;
  now: number;
}

export interface BlueGreenStep {
  /** The stage after this step. */
  stage: ServiceDeploymentLifecycleStage;
  bakeStartedAt?: number | undefined;
  /** Blue's tasks are to be stopped now, all at once. */
  cleanUp: boolean;
  /** The bake time ends then: evaluate again. */
  wakeAt?: number | undefined;
}

/**
 * One step of a blue/green deployment that is in progress (not failed, not rolling back):
 *
 * - PRE_SCALE_UP (and RECONCILE_SERVICE) have nothing to do locally (lifecycle hooks are not run), so a
 *   deployment starts in SCALE_UP: green is scaled to the full desired count, blue keeps all its tasks.
 * - Once every green task is RUNNING and healthy, POST_SCALE_UP and the test traffic shift pass at once: a
 *   headless service has no traffic ECS shifts, and locally there is no listener rule to flip for a load
 *   balancer or Service Connect. PRODUCTION_TRAFFIC_SHIFT lasts as long as the strategy's steps and their
 *   bake times (none for BLUE_GREEN), then BAKE_TIME begins: blue and green both run.
 * - When the bake time is over, CLEAN_UP: blue is scaled down to 0 at once. The deployment completes once
 *   blue is gone (the caller decides that, as for a rolling update).
 * - A first deployment (nothing blue to keep) goes from SCALE_UP straight to CLEAN_UP.
 */
export function blueGreenStep(input: BlueGreenInput): BlueGreenStep {
  let stage: ServiceDeploymentLifecycleStage = input.stage ?? "SCALE_UP";
  let bakeStartedAt = input.bakeStartedAt;
  if (stage !== "PRODUCTION_TRAFFIC_SHIFT" && stage !== "BAKE_TIME" && stage !== "CLEAN_UP" && input.greenReady) {
    if (input.hasBlue) {
      stage = "PRODUCTION_TRAFFIC_SHIFT";
      bakeStartedAt = input.now + (input.shiftMs ?? 0);
    } else {
      stage = "CLEAN_UP";
    }
  }
  let wakeAt: number | undefined;
  if (stage === "PRODUCTION_TRAFFIC_SHIFT") {
    if (input.now >= (bakeStartedAt ?? input.now)) stage = "BAKE_TIME";
    else wakeAt = bakeStartedAt;
  }
  if (stage === "BAKE_TIME") {
    const ends = (bakeStartedAt ?? input.now) + input.bakeMs;
    if (input.now >= ends) stage = "CLEAN_UP";
    else wakeAt = ends;
  }
  return { stage, bakeStartedAt, cleanUp: stage === "CLEAN_UP", wakeAt };
}
