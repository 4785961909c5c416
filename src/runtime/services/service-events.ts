import type { ServiceEvent } from "../../../generated/shapes.ts";

/**
 * Service event messages, worded as the ECS service scheduler words them (DescribeServices `events`,
 * the console's "Events" tab). Sources: the Developer Guide's "Service event messages" page and real
 * describe-services output. Task ids are the last part of the task ARN.
 */
export const serviceEvents = {
  started(prefix: string, taskIds: readonly string[], unhealthyReplaced = 0): string {
    const base = `${prefix} has started ${taskIds.length} tasks: ${taskIds.map((id) => `(task ${id})`).join(" ")}.`;
    return unhealthyReplaced > 0 ? `${base} Amazon ECS replaced ${unhealthyReplaced} tasks due to an unhealthy status.` : base;
  },
  stopped(prefix: string, taskIds: readonly string[]): string {
    return `${prefix} has stopped ${taskIds.length} running tasks: ${taskIds.map((id) => `(task ${id})`).join(" ")}.`;
  },
  steadyState(name: string): string {
    return `(service ${name}) has reached a steady state.`;
  },
  deploymentCompleted(name: string, deploymentId: string): string {
    return `(service ${name}) (deployment ${deploymentId}) deployment completed.`;
  },
  deploymentFailed(name: string, deploymentId: string): string {
    return `(service ${name}) (deployment ${deploymentId}) deployment failed: tasks failed to start.`;
  },
  rollingBack(name: string, deploymentId: string): string {
    return `(service ${name}) rolling back to deployment ${deploymentId}.`;
  },
  failedHealthChecks(name: string, taskId: string): string {
    return `(service ${name}) (task ${taskId}) failed container health checks.`;
  },
  unableToConsistentlyStart(name: string): string {
    return `(service ${name}) is unable to consistently start tasks successfully.`;
  },
  portInUse(name: string, containerInstanceId: string): string {
    return (
      `(service ${name}) was unable to place a task because no container instance met all of its requirements. ` +
      `The closest matching (container-instance ${containerInstanceId}) is already using a port required by your task. ` +
      "For more information, see the Troubleshooting section of the Amazon ECS Developer Guide."
    );
  },
  unableToPlace(name: string, reason: string): string {
    return `(service ${name}) was unable to place a task. Reason: ${reason}.`;
  },
  registeredTargets(name: string, count: number, targetGroupArn: string): string {
    return `(service ${name}) registered ${count} targets in (target-group ${targetGroupArn})`;
  },
  deregisteredTargets(name: string, count: number, targetGroupArn: string): string {
    return `(service ${name}) deregistered ${count} targets in (target-group ${targetGroupArn})`;
  },
  drainingConnections(name: string, taskCount: number): string {
    return `(service ${name}) has begun draining connections on ${taskCount} tasks.`;
  },
  failedToRegisterTargets(name: string, targetGroupArn: string, reason: string): string {
    return `(service ${name}) failed to register targets in (target-group ${targetGroupArn}) with (error ${reason})`;
  },
  deploymentConfigurationStuck(name: string): string {
    return (
      `(service ${name}) was unable to stop or start tasks during a deployment because of the service deployment configuration. ` +
      "Update the minimumHealthyPercent or maximumPercent value and try again."
    );
  },
} as const;

/** `(service web)`, or `(service web, taskSet ecs-svc/…)` for a task set's tasks. */
export function eventPrefix(serviceName: string, taskSetId?: string): string {
  return taskSetId === undefined ? `(service ${serviceName})` : `(service ${serviceName}, taskSet ${taskSetId})`;
}

/** "DescribeServices … only show the 100 most recent events". */
export const MAX_SERVICE_EVENTS = 100;

/** Messages about a lasting condition are not repeated within this window unless it was resolved. */
const DUPLICATE_WINDOW_MS = 6 * 60 * 60 * 1000;

/**
 * The service's events with `message` added first (newest first, at most 100). A message about a
 * condition (`condition: true`: unable to place, throttled, stuck deployment) is left out when the same
 * message was recorded in the last six hours and the service has not reached a steady state since —
 * "duplicate event messages are omitted until either the cause is resolved or six hours passes".
 */
export function withEvent(
  events: readonly ServiceEvent[],
  message: string,
  now: Date,
  id: string,
  options: { condition?: boolean; steadyMessage?: string } = {},
): ServiceEvent[] {
  if (options.condition === true) {
    for (const e of events) {
      if (options.steadyMessage !== undefined && e.message === options.steadyMessage) break;
      if (e.message === message && now.getTime() - (e.createdAt?.getTime() ?? 0) < DUPLICATE_WINDOW_MS) return [...events];
    }
  }
  return [{ id, createdAt: now, message }, ...events].slice(0, MAX_SERVICE_EVENTS);
}
