import type { Deployment, Service } from "../../../generated/shapes.ts";
import { bakeTimeMs, blueGreenStep, isBlueGreen, trafficShiftMs, type BlueGreenStep } from "./blue-green-decision.ts";
import { circuitBreakerThreshold, maximumTasks, minimumHealthyTasks } from "./deployment-math.ts";
import { followPrimary, newDeployment, ROLLOUT_REASON, specOf } from "./deployment-records.ts";
import {
  percents,
  type Decision,
  type DecisionInput,
  type DeploymentLink,
  type Effect,
  type SchedTask,
  type ServiceBook,
} from "./scheduler-types.ts";
import { serviceEvents } from "./service-events.ts";
import {
  accountStops,
  graceEndsAt,
  isHealthy,
  isLive,
  isStarting,
  isThrottled,
  isUnhealthy,
  launchAllowance,
} from "./task-accounting.ts";

/** Drained deployments remembered (their ids), so a straggler task of one is recognised and stopped. */
const MAX_RETIRED = 50;

/**
 * Tasks launched in one step at most; the snapshots of those tasks bring the next step, so a large
 * service is started in batches and no single step holds the event loop for long.
 */
export const MAX_LAUNCHES_PER_STEP = 50;

export const STOP_REASONS = {
  scaling: (deploymentId: string): string => `Scaling activity initiated by (deployment ${deploymentId})`,
  unhealthy: "Task failed container health checks",
  draining: "Task stopped during instance draining",
} as const;

/**
 * The ECS service scheduler for the rolling update (ECS) deployment controller, REPLICA and DAEMON
 * strategies: one pure step from the service, its bookkeeping and its tasks to what to do now.
 *
 * - The PRIMARY deployment is kept at the desired count: missing tasks are started (startedBy = the
 *   deployment id), tasks that stop for any reason are replaced, extra tasks are stopped.
 * - While older (ACTIVE) deployments still have tasks, tasks are started for the PRIMARY only while all
 *   live tasks stay within maximumPercent, and old tasks are stopped only while the healthy ones stay at
 *   or above minimumHealthyPercent ("Rolling update deployments"). A drained deployment disappears.
 * - Tasks UNHEALTHY after healthCheckGracePeriodSeconds are replaced.
 * - The deployment circuit breaker fails the PRIMARY after ECS's threshold of failed tasks and, with
 *   rollback, makes the last completed deployment PRIMARY again; StopServiceDeployment ROLLBACK does the same.
 * - Launch failures back off ("Service throttle logic").
 * - Tasks on a DRAINING container instance are replaced elsewhere: PENDING ones are stopped at once,
 *   RUNNING ones once their replacements keep the service within minimumHealthyPercent/maximumPercent
 *   ("Draining behavior for services").
 * - Task scale-in protection: a protected task is not stopped by a scale-in (another one is, if any) nor
 *   by a deployment; the deployment waits for the protection to be cleared or to expire ("Protect your
 *   Amazon ECS tasks from being terminated by scale-in events"). Unhealthy tasks, tasks on a draining
 *   instance and a deleted service's tasks are stopped all the same.
 * - One deployment, all its tasks healthy: the deployment COMPLETES and the service reaches a steady state.
 * - The BLUE_GREEN strategy (blue-green-decision.ts): the new (green) deployment is scaled to the desired
 *   count whatever maximumPercent says, the older (blue) ones keep every task until green is healthy and
 *   the bake time is over, then they are stopped at once; the service deployment reports its
 *   lifecycleStage. A rollback goes back to blue, which still runs, and stops green.
 */
export function decideReplica(input: DecisionInput): Decision {
  const { now } = input;
  const at = new Date(now);
  const service: Service = structuredClone(input.service);
  const name = service.serviceName ?? "";
  const effects: Effect[] = [];
  let wakeAt: number | undefined;
  const wake = (t: number): void => {
    wakeAt = wakeAt === undefined ? t : Math.min(wakeAt, t);
  };

  const deployments: Deployment[] = service.deployments ?? [];
  service.deployments = deployments;
  const visible = new Set(deployments.map((d) => d.id ?? ""));
  const ours = input.tasks.filter((t) => t.startedBy !== undefined && (visible.has(t.startedBy) || input.book.retired.includes(t.startedBy)));

  const accounting = accountStops(ours, input.book);
  const book: ServiceBook = structuredClone(accounting.book);
  for (const d of deployments) {
    const failed = accounting.failuresByUnit.get(d.id ?? "") ?? 0;
    if (failed > 0 && d.rolloutState === "IN_PROGRESS") {
      d.failedTasks = (d.failedTasks ?? 0) + failed;
      d.updatedAt = at;
    }
  }
  if (accounting.sawStartFailure && isThrottled(book)) {
    effects.push({
      kind: "event",
      message: serviceEvents.unableToConsistentlyStart(name),
      condition: true,
      notice: { type: "serviceAction", eventName: "SERVICE_TASK_START_IMPAIRED" },
    });
  }

  const facts = (id: string | undefined): { healthChecked: boolean; placeable: number; placementProblem?: string | undefined; placementReason?: string | undefined } =>
    input.units[id ?? ""] ?? { healthChecked: false, placeable: Number.POSITIVE_INFINITY };
  const grace = service.healthCheckGracePeriodSeconds ?? 0;
  /** Tasks told to stop in this step: no longer counted as live. */
  const stopping = new Set<string>();
  const liveOf = (id: string | undefined): SchedTask[] => ours.filter((t) => t.startedBy === id && isLive(t) && !stopping.has(t.arn));
  const stop = (tasks: readonly SchedTask[], reason: (t: SchedTask) => string, announce: boolean): void => {
    const fresh = tasks.filter((t) => !stopping.has(t.arn));
    if (fresh.length === 0) return;
    for (const t of fresh) stopping.add(t.arn);
    // One effect per reason, so every stopped task carries its own.
    const byReason = new Map<string, SchedTask[]>();
    for (const t of fresh) byReason.set(reason(t), [...(byReason.get(reason(t)) ?? []), t]);
    for (const [r, group] of byReason) {
      effects.push({ kind: "stop", taskArns: group.map((t) => t.arn), taskIds: group.map((t) => t.id), reason: r, announce });
    }
  };
  const scalingReason = (t: SchedTask): string => STOP_REASONS.scaling(t.startedBy ?? "");
  /** Protected tasks a scale-in or a deployment passed over: looked at again when the first protection ends. */
  let shielded = 0;
  const unprotected = (tasks: readonly SchedTask[]): SchedTask[] =>
    tasks.filter((t) => {
      if (t.protectedUntil === undefined || t.protectedUntil <= now) return true;
      shielded++;
      wake(t.protectedUntil);
      return false;
    });

  // Tasks of drained deployments that still run (e.g. found again after a restart).
  stop(
    unprotected(ours.filter((t) => isLive(t) && book.retired.includes(t.startedBy ?? ""))),
    scalingReason,
    true,
  );

  // Unhealthy tasks past the grace period are replaced; a health-check failure is a failed task.
  const unhealthy: SchedTask[] = [];
  for (const d of deployments) {
    const checked = facts(d.id).healthChecked;
    for (const t of liveOf(d.id)) {
      if (isUnhealthy(t, checked, grace, now)) {
        unhealthy.push(t);
        if (d.rolloutState === "IN_PROGRESS") {
          d.failedTasks = (d.failedTasks ?? 0) + 1;
          d.updatedAt = at;
        }
      } else if (checked && t.lastStatus === "RUNNING" && t.healthStatus === "UNHEALTHY") {
        wake(graceEndsAt(t, grace));
      }
    }
  }
  for (const t of unhealthy) stopping.add(t.arn);

  const desired = service.status === "ACTIVE" ? input.desiredCount : 0;
  let primary = deployments.find((d) => d.status === "PRIMARY");

  // Circuit breaker and requested rollbacks.
  if (primary !== undefined && primary.rolloutState === "IN_PROGRESS" && service.status === "ACTIVE") {
    const link = book.links[primary.id ?? ""];
    const breaker = service.deploymentConfiguration?.deploymentCircuitBreaker;
    const threshold = circuitBreakerThreshold(desired);
    if (book.rollbackRequested !== undefined && link?.serviceDeploymentArn === book.rollbackRequested) {
      primary = rollBack(primary, "requested");
    } else if (breaker?.enable === true && (primary.failedTasks ?? 0) >= threshold) {
      primary.rolloutState = "FAILED";
      primary.rolloutStateReason = ROLLOUT_REASON.circuitBreakerFailed;
      primary.updatedAt = at;
      effects.push({
        kind: "event",
        message: serviceEvents.deploymentFailed(name, primary.id ?? ""),
        notice: { type: "deployment", eventName: "SERVICE_DEPLOYMENT_FAILED", deploymentId: primary.id ?? "" },
      });
      const triggered = { status: "TRIGGERED" as const, failureCount: primary.failedTasks ?? 0, threshold };
      if (breaker.rollback) {
        primary = rollBack(primary, "circuitBreaker", triggered);
      } else if (link !== undefined) {
        link.sdStatus = "STOPPED";
        effects.push({
          kind: "serviceDeployment",
          arn: link.serviceDeploymentArn,
          patch: { status: "STOPPED", statusReason: ROLLOUT_REASON.circuitBreakerFailed, stoppedAt: at, finishedAt: at, deploymentCircuitBreaker: triggered },
        });
      }
    }
  }

  /**
   * Makes the last completed deployment PRIMARY again (re-created if it was already drained) and leaves
   * `failed` ACTIVE, to be drained. Without a completed deployment to go back to, nothing changes.
   */
  function rollBack(
    failed: Deployment,
    trigger: "circuitBreaker" | "requested",
    triggered?: { status: "TRIGGERED"; failureCount: number; threshold: number },
  ): Deployment {
    const target = book.lastCompleted;
    const failedLink = book.links[failed.id ?? ""];
    book.rollbackRequested = undefined;
    if (target === undefined || target.id === failed.id) {
      if (failedLink !== undefined) {
        failedLink.sdStatus = "ROLLBACK_FAILED";
        const patch: Effect & { kind: "serviceDeployment" } = {
          kind: "serviceDeployment",
          arn: failedLink.serviceDeploymentArn,
          patch: { status: "ROLLBACK_FAILED", statusReason: "There is no previous service revision to roll back to.", finishedAt: at },
        };
        if (triggered !== undefined) patch.patch.deploymentCircuitBreaker = triggered;
        effects.push(patch);
      }
      if (trigger === "requested") {
        failed.rolloutState = "FAILED";
        failed.updatedAt = at;
      }
      return failed;
    }
    const reason = trigger === "circuitBreaker" ? ROLLOUT_REASON.rollingBack(target.id) : ROLLOUT_REASON.stopRequested(target.id);
    if (trigger === "requested") {
      failed.rolloutState = "FAILED";
      failed.rolloutStateReason = reason;
    }
    failed.status = "ACTIVE";
    failed.updatedAt = at;
    let back = deployments.find((d) => d.id === target.id);
    if (back === undefined) {
      back = newDeployment(target, desired, at);
      back.createdAt = new Date(target.createdAt);
      deployments.push(back);
      book.retired = book.retired.filter((id) => id !== target.id);
    }
    back.status = "PRIMARY";
    back.desiredCount = desired;
    back.failedTasks = 0;
    back.rolloutState = "IN_PROGRESS";
    back.rolloutStateReason = reason;
    back.updatedAt = at;
    deployments.sort(byPrimaryThenNewest);
    followPrimary(service, back);
    if (failedLink !== undefined) {
      failedLink.sdStatus = "ROLLBACK_IN_PROGRESS";
      book.links[back.id ?? ""] = {
        serviceDeploymentArn: failedLink.serviceDeploymentArn,
        serviceRevisionArn: target.serviceRevisionArn,
        sdStatus: "ROLLBACK_IN_PROGRESS",
      };
      const patch: Effect & { kind: "serviceDeployment" } = {
        kind: "serviceDeployment",
        arn: failedLink.serviceDeploymentArn,
        patch: { status: "ROLLBACK_IN_PROGRESS", rollback: { reason, startedAt: at, serviceRevisionArn: target.serviceRevisionArn } },
      };
      if (triggered !== undefined) patch.patch.deploymentCircuitBreaker = triggered;
      effects.push(patch);
    }
    effects.push({
      kind: "event",
      message: serviceEvents.rollingBack(name, target.id),
      // "The reason field provides the ID of the deployment the service is rolling back to."
      notice: { type: "deployment", eventName: "SERVICE_DEPLOYMENT_IN_PROGRESS", deploymentId: back.id ?? "", reason },
    });
    book.throttle = { failures: 0 };
    return back;
  }

  if (service.status !== "ACTIVE") {
    // DeleteService: every task is stopped (the unhealthy ones too); then the service is INACTIVE.
    for (const t of unhealthy) stopping.delete(t.arn);
    stop(ours.filter((t) => isLive(t)), scalingReason, true);
    service.status = "INACTIVE";
    for (const d of deployments) book.retired.push(d.id ?? "");
    book.retired = book.retired.slice(-MAX_RETIRED);
    service.deployments = [];
    book.links = {};
    book.steady = false;
    return { service, book, effects, wakeAt };
  }

  // A blue/green deployment in progress. Its rollback is not one: blue runs already, green just goes.
  const primaryLink = primary === undefined ? undefined : book.links[primary.id ?? ""];
  const greenLink: DeploymentLink | undefined =
    primary?.rolloutState === "IN_PROGRESS" && primaryLink?.sdStatus !== "ROLLBACK_IN_PROGRESS" && isBlueGreen(service) ? primaryLink : undefined;

  const { min, max } = percents(service.deploymentConfiguration, service.schedulingStrategy === "DAEMON");
  const minHealthy = minimumHealthyTasks(desired, min);
  const maxLive = maximumTasks(desired, max);
  const healthyOf = (d: Deployment): SchedTask[] => liveOf(d.id).filter((t) => isHealthy(t, facts(d.id).healthChecked));
  const liveTotal = (): number => deployments.reduce((n, d) => n + liveOf(d.id).length, 0);
  let started = 0;
  let stoppedHealthy = 0;
  let want = 0;
  let room = 0;
  let allowance = Number.POSITIVE_INFINITY;
  let placeable = Number.POSITIVE_INFINITY;

  if (primary !== undefined) {
    // Scale-in: the primary's extra tasks, those not yet serving first, then the newest. Tasks leaving a
    // draining instance are not counted: their replacements are not extras.
    const primaryLive = liveOf(primary.id).filter((t) => t.draining !== true);
    if (primaryLive.length > desired) {
      const checked = facts(primary.id).healthChecked;
      const order = [...primaryLive].sort(
        (a, b) =>
          Number(isHealthy(a, checked)) - Number(isHealthy(b, checked)) || (b.startedAt ?? b.createdAt) - (a.startedAt ?? a.createdAt),
      );
      stop(unprotected(order).slice(0, primaryLive.length - desired), scalingReason, true);
    }

    if (primary.rolloutState !== "FAILED") {
      want = Math.max(0, desired - liveOf(primary.id).filter((t) => t.draining !== true).length);
      // Blue/green: green is scaled up to 100 % next to blue (ECS needs room for 200 %), whatever maximumPercent.
      room = greenLink !== undefined ? Number.POSITIVE_INFINITY : Math.max(0, maxLive - liveTotal());
      const gate = launchAllowance(book, ours, now);
      allowance = gate.allowed;
      if (gate.wakeAt !== undefined && want > 0) wake(gate.wakeAt);
      const unit = facts(primary.id);
      placeable = unit.placeable;
      const count = Math.min(want, room, allowance, placeable, MAX_LAUNCHES_PER_STEP);
      if (want > 0 && placeable < Math.min(want, room, allowance) && unit.placementProblem !== undefined) {
        const event: Effect = { kind: "event", message: unit.placementProblem, condition: true };
        if (unit.placementReason !== undefined) {
          event.notice = { type: "serviceAction", eventName: "SERVICE_TASK_PLACEMENT_FAILURE", reason: unit.placementReason };
        }
        effects.push(event);
      }
      if (count > 0) {
        const replaced = unhealthy.filter((t) => t.startedBy === primary!.id).length;
        effects.push({ kind: "start", unitId: primary.id ?? "", count, unhealthyReplaced: Math.min(replaced, count) });
        started = count;
      }
    }
  }

  for (const t of unhealthy) effects.push({ kind: "event", message: serviceEvents.failedHealthChecks(name, t.id) });
  for (const t of unhealthy) stopping.delete(t.arn);
  stop(unhealthy, () => STOP_REASONS.unhealthy, true);

  // Drain older deployments within minimumHealthyPercent. A failed primary keeps them: it launches nothing.
  // Blue/green: blue keeps every task until green is healthy and the bake time is over, then goes at once.
  const olds = deployments.filter((d) => d.status !== "PRIMARY").sort((a, b) => (a.createdAt?.getTime() ?? 0) - (b.createdAt?.getTime() ?? 0));
  let blueGreen: BlueGreenStep | undefined;
  if (greenLink !== undefined && primary !== undefined) {
    blueGreen = blueGreenStep({
      stage: greenLink.lifecycleStage,
      bakeStartedAt: greenLink.bakeStartedAt,
      greenReady: started === 0 && liveOf(primary.id).length === desired && healthyOf(primary).length === desired,
      hasBlue: olds.some((d) => liveOf(d.id).length > 0),
      bakeMs: bakeTimeMs(service.deploymentConfiguration),
      shiftMs: trafficShiftMs(service.deploymentConfiguration),
      now,
    });
    if (blueGreen.wakeAt !== undefined) wake(blueGreen.wakeAt);
    if (blueGreen.cleanUp) for (const old of olds) stop(unprotected(liveOf(old.id)), scalingReason, true);
  } else if (primary === undefined || primary.rolloutState !== "FAILED") {
    let canStop = deployments.reduce((n, d) => n + healthyOf(d).length, 0) - minHealthy;
    for (const old of olds) {
      const live = liveOf(old.id);
      const checked = facts(old.id).healthChecked;
      stop(unprotected(live.filter((t) => !isHealthy(t, checked))), scalingReason, true);
      const healthy = unprotected(live.filter((t) => isHealthy(t, checked)));
      const n = Math.max(0, Math.min(canStop, healthy.length));
      if (n > 0) {
        stop(healthy.slice(0, n), scalingReason, true);
        canStop -= n;
        stoppedHealthy += n;
      }
    }
  }

  // Tasks on draining instances: PENDING ones go at once, RUNNING ones within minimumHealthyPercent.
  const leaving = deployments.flatMap((d) => liveOf(d.id).filter((t) => t.draining === true).map((t) => ({ t, checked: facts(d.id).healthChecked })));
  if (leaving.length > 0) {
    stop(
      leaving.filter(({ t, checked }) => !isHealthy(t, checked)).map(({ t }) => t),
      () => STOP_REASONS.draining,
      true,
    );
    let canStop = deployments.reduce((n, d) => n + healthyOf(d).length, 0) - minHealthy;
    const healthyLeaving = leaving.filter(({ t, checked }) => isHealthy(t, checked) && !stopping.has(t.arn)).map(({ t }) => t);
    const n = Math.max(0, Math.min(canStop, healthyLeaving.length));
    if (n > 0) {
      stop(healthyLeaving.slice(0, n), () => STOP_REASONS.draining, true);
      canStop -= n;
      stoppedHealthy += n;
    }
  }

  // Neither a start nor a stop is possible and nothing is in flight: the configuration forbids progress.
  const inFlight = ours.some((t) => isStarting(t) || (t.desiredStatus === "STOPPED" && t.lastStatus !== "STOPPED"));
  if (want > 0 && started === 0 && room === 0 && stoppedHealthy === 0 && allowance > 0 && placeable > 0 && !inFlight && olds.length > 0 && shielded === 0) {
    effects.push({ kind: "event", message: serviceEvents.deploymentConfigurationStuck(name), condition: true });
  }

  for (const old of olds) {
    const remaining = liveOf(old.id).length;
    if (old.desiredCount !== remaining) {
      old.desiredCount = remaining;
      old.updatedAt = at;
    }
    if (remaining === 0) {
      deployments.splice(deployments.indexOf(old), 1);
      delete book.links[old.id ?? ""];
      book.retired = [...book.retired.filter((id) => id !== old.id), old.id ?? ""].slice(-MAX_RETIRED);
    }
  }

  if (primary !== undefined) {
    if (primary.desiredCount !== desired) {
      primary.desiredCount = desired;
      primary.updatedAt = at;
    }
    const link = book.links[primary.id ?? ""];
    const stage = blueGreen !== undefined && link !== undefined && link.lifecycleStage !== blueGreen.stage ? blueGreen.stage : undefined;
    if (blueGreen !== undefined && link !== undefined) {
      link.lifecycleStage = blueGreen.stage;
      link.bakeStartedAt = blueGreen.bakeStartedAt;
    }
    if (link?.sdStatus === "PENDING") {
      link.sdStatus = "IN_PROGRESS";
      const patch: Effect & { kind: "serviceDeployment" } = { kind: "serviceDeployment", arn: link.serviceDeploymentArn, patch: { status: "IN_PROGRESS", startedAt: at } };
      if (stage !== undefined) patch.patch.lifecycleStage = stage;
      effects.push(patch);
      effects.push({ kind: "notify", notice: { type: "deployment", eventName: "SERVICE_DEPLOYMENT_IN_PROGRESS", deploymentId: primary.id ?? "" } });
      const hooks = service.deploymentConfiguration?.lifecycleHooks ?? [];
      if (hooks.length > 0) {
        effects.push({
          kind: "log",
          event: "deployment-lifecycle-hooks-not-run",
          fields: { deploymentId: primary.id, hookTargetArns: hooks.map((h) => h.hookTargetArn), note: "lifecycle hooks are recorded but not invoked locally" },
        });
      }
    } else if (stage !== undefined && link !== undefined) {
      effects.push({ kind: "serviceDeployment", arn: link.serviceDeploymentArn, patch: { lifecycleStage: stage } });
    }
  }

  const acted = effects.some((e) => e.kind === "start" || e.kind === "stop");
  const steady =
    primary !== undefined &&
    primary.rolloutState !== "FAILED" &&
    deployments.length === 1 &&
    !acted &&
    !ours.some((t) => isLive(t) && t.draining === true) &&
    liveOf(primary.id).length === desired &&
    healthyOf(primary).length === desired &&
    // A blue/green deployment completes after its bake time, once blue is cleaned up.
    (blueGreen === undefined || blueGreen.stage === "CLEAN_UP");
  if (steady && primary !== undefined) {
    if (primary.rolloutState === "IN_PROGRESS") {
      primary.rolloutState = "COMPLETED";
      primary.rolloutStateReason = ROLLOUT_REASON.completed(primary.id ?? "");
      primary.updatedAt = at;
      effects.push({
        kind: "event",
        message: serviceEvents.deploymentCompleted(name, primary.id ?? ""),
        notice: { type: "deployment", eventName: "SERVICE_DEPLOYMENT_COMPLETED", deploymentId: primary.id ?? "" },
      });
      const link = book.links[primary.id ?? ""];
      if (link !== undefined) {
        book.lastCompleted = specOf(primary, link.serviceRevisionArn);
        const status = link.sdStatus === "ROLLBACK_IN_PROGRESS" ? "ROLLBACK_SUCCESSFUL" : "SUCCESSFUL";
        const patch: Effect & { kind: "serviceDeployment" } = {
          kind: "serviceDeployment",
          arn: link.serviceDeploymentArn,
          // A rollback leaves nothing of the target revision running.
          patch: { status, finishedAt: at, finalCounts: { running: status === "SUCCESSFUL" ? desired : 0, pending: 0, requested: desired } },
        };
        if (link.sdStatus === "PENDING") patch.patch.startedAt = at;
        link.sdStatus = status;
        effects.push(patch);
      }
    }
    if (!book.steady) {
      effects.push({ kind: "event", message: serviceEvents.steadyState(name), notice: { type: "serviceAction", eventName: "SERVICE_STEADY_STATE" } });
    }
    book.steady = true;
    book.throttle = { failures: 0 };
  } else {
    book.steady = false;
  }
  return { service, book, effects, wakeAt };
}

function byPrimaryThenNewest(a: Deployment, b: Deployment): number {
  if (a.status === "PRIMARY" && b.status !== "PRIMARY") return -1;
  if (b.status === "PRIMARY" && a.status !== "PRIMARY") return 1;
  return (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0);
}
