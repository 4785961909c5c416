import { QUICK_EXIT_MS, THROTTLE_AFTER_FAILURES, throttleDelayMs } from "./deployment-math.ts";
import type { SchedTask, ServiceBook } from "./scheduler-types.ts";

// How the scheduler reads its tasks: which count as running, healthy, failed; and the launch back-off.

/** Counted against desiredCount and maximumPercent: wanted RUNNING and not stopped yet. */
export function isLive(t: SchedTask): boolean {
  return t.desiredStatus === "RUNNING" && t.lastStatus !== "STOPPED";
}

/** Launched but not RUNNING yet. */
export function isStarting(t: SchedTask): boolean {
  return isLive(t) && t.lastStatus !== "RUNNING";
}

/**
 * Counted for minimumHealthyPercent and steady state: RUNNING and, when an essential container has a
 * health check, HEALTHY ("tasks … are considered healthy if they're in the RUNNING state", and the
 * container health checks must pass when there are some).
 */
export function isHealthy(t: SchedTask, healthChecked: boolean): boolean {
  return isLive(t) && t.lastStatus === "RUNNING" && (!healthChecked || t.healthStatus === "HEALTHY");
}

/** When the health check grace period of a task ends (it runs from the time the task started). */
export function graceEndsAt(t: SchedTask, graceSeconds: number): number {
  return (t.startedAt ?? t.createdAt) + graceSeconds * 1000;
}

/** UNHEALTHY after the grace period: the scheduler replaces it. */
export function isUnhealthy(t: SchedTask, healthChecked: boolean, graceSeconds: number, now: number): boolean {
  return (
    isLive(t) && t.lastStatus === "RUNNING" && healthChecked && t.healthStatus === "UNHEALTHY" && now >= graceEndsAt(t, graceSeconds)
  );
}

export type StopKind =
  /** Never reached RUNNING (pull failure, port clash, …): throttled and reported. */
  | "failedToStart"
  /** Its essential container exited within QUICK_EXIT_MS of starting: backed off, not reported. */
  | "quickExit"
  /** Stopped on its own after running a while: a deployment failure, but a healthy launch. */
  | "exited"
  /** Stopped by the scheduler (deployments, scale-in, health checks) or by a user: not a failure. */
  | "stopped";

export function stopKindOf(t: SchedTask): StopKind {
  if (t.stopCode === "ServiceSchedulerInitiated" || t.stopCode === "UserInitiated") return "stopped";
  if (t.stopCode === "TaskFailedToStart" || t.startedAt === undefined) return "failedToStart";
  if ((t.stoppedAt ?? t.startedAt) - t.startedAt < QUICK_EXIT_MS) return "quickExit";
  return "exited";
}

export interface StopAccounting {
  book: ServiceBook;
  /** Failed tasks (failedToStart, quickExit, exited) per deployment or task set id. */
  failuresByUnit: Map<string, number>;
  /** Some newly counted task never reached RUNNING. */
  sawStartFailure: boolean;
}

/**
 * Counts every task of the service that stopped since the last evaluation, exactly once: its failure
 * goes to its deployment (circuit breaker) and to the service's launch back-off; a task that ran a
 * while and then stopped on its own ends the streak of consecutive launch failures.
 */
export function accountStops(tasks: readonly SchedTask[], book: ServiceBook): StopAccounting {
  const present = new Set(tasks.map((t) => t.arn));
  // Tasks the engine has purged can never come back: forget them, so the list stays bounded.
  const accounted = new Set(book.accountedStops.filter((arn) => present.has(arn)));
  const throttle = { ...book.throttle };
  const failuresByUnit = new Map<string, number>();
  let sawStartFailure = false;
  const stopped = tasks.filter((t) => t.lastStatus === "STOPPED" && !accounted.has(t.arn)).sort((a, b) => (a.stoppedAt ?? 0) - (b.stoppedAt ?? 0));
  for (const t of stopped) {
    accounted.add(t.arn);
    const kind = stopKindOf(t);
    if (kind === "stopped") continue;
    if (t.startedBy !== undefined) failuresByUnit.set(t.startedBy, (failuresByUnit.get(t.startedBy) ?? 0) + 1);
    if (kind === "exited") {
      throttle.failures = 0;
      delete throttle.lastFailureAt;
      continue;
    }
    if (kind === "failedToStart") sawStartFailure = true;
    throttle.failures += 1;
    throttle.lastFailureAt = Math.max(throttle.lastFailureAt ?? 0, t.stoppedAt ?? 0);
  }
  return { book: { ...book, accountedStops: [...accounted], throttle }, failuresByUnit, sawStartFailure };
}

/** Whether the back-off is in force ("is unable to consistently start tasks successfully"). */
export function isThrottled(book: ServiceBook): boolean {
  return book.throttle.failures >= THROTTLE_AFTER_FAILURES;
}

/**
 * How many launches the back-off allows now: unlimited below the threshold; otherwise none until the
 * delay since the last failure has passed, then one at a time (a probe), and none while a probe is still
 * on its way to RUNNING.
 */
export function launchAllowance(book: ServiceBook, tasks: readonly SchedTask[], now: number): { allowed: number; wakeAt?: number } {
  if (!isThrottled(book)) return { allowed: Number.POSITIVE_INFINITY };
  const readyAt = (book.throttle.lastFailureAt ?? 0) + throttleDelayMs(book.throttle.failures);
  if (now < readyAt) return { allowed: 0, wakeAt: readyAt };
  if (tasks.some(isStarting)) return { allowed: 0 };
  return { allowed: 1 };
}
