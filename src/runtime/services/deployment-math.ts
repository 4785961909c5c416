// The numbers of the ECS service scheduler, from the Developer Guide ("Rolling update deployments",
// "How the Amazon ECS deployment circuit breaker detects failures", "Service throttle logic").

/** minimumHealthyPercent "is rounded up": 50 % of 4 tasks is 2, 75 % of 2 tasks is 2. */
export function minimumHealthyTasks(desiredCount: number, minimumHealthyPercent: number): number {
  return Math.ceil((desiredCount * minimumHealthyPercent) / 100);
}

/** maximumPercent "is rounded down": 200 % of 4 tasks is 8, 125 % of 3 tasks is 3. */
export function maximumTasks(desiredCount: number, maximumPercent: number): number {
  return Math.floor((desiredCount * maximumPercent) / 100);
}

export const CIRCUIT_BREAKER_MIN_THRESHOLD = 3;
export const CIRCUIT_BREAKER_MAX_THRESHOLD = 200;

/**
 * "The deployment circuit breaker has a minimum threshold of 3 and a maximum threshold of 200 and uses
 * … 0.5 * desired task count" (rounded up: 25 tasks → 13).
 */
export function circuitBreakerThreshold(desiredCount: number): number {
  return Math.min(CIRCUIT_BREAKER_MAX_THRESHOLD, Math.max(CIRCUIT_BREAKER_MIN_THRESHOLD, Math.ceil(desiredCount * 0.5)));
}

/** Consecutive failures before the scheduler starts spacing out its launches. */
export const THROTTLE_AFTER_FAILURES = 3;
const THROTTLE_BASE_MS = 5_000;
/** "incrementally increased up to a maximum of 15 minutes". */
export const THROTTLE_MAX_MS = 15 * 60 * 1000;

/**
 * How long after the last failure the next launch may happen, given the number of consecutive launch
 * failures: none below the threshold, then 5 s doubling per further failure, at most 15 minutes.
 */
export function throttleDelayMs(consecutiveFailures: number): number {
  if (consecutiveFailures < THROTTLE_AFTER_FAILURES) return 0;
  const exponent = Math.min(consecutiveFailures - THROTTLE_AFTER_FAILURES, 20);
  return Math.min(THROTTLE_MAX_MS, THROTTLE_BASE_MS * 2 ** exponent);
}

/**
 * A task whose essential container exits this soon after it started counts as a failed launch for the
 * back-off. Real ECS only throttles tasks that never reach RUNNING, but a launch there takes tens of
 * seconds; locally a container that exits at once would otherwise be restarted several times a second.
 */
export const QUICK_EXIT_MS = 10_000;
