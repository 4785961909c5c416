// What the tasks of a cluster hold on each container instance — reservations, task groups, running and
// pending counts — computed from the tasks themselves (pure). Every answer derives it afresh from the
// engine's tasks, so counts and remaining resources cannot drift from what really runs.
import type { Task, TaskDefinition } from "../../../generated/shapes.ts";
import { reservationOfTask, type Reservation } from "./task-reservation.ts";

export interface InstanceUsage {
  reservations: Reservation[];
  /** Groups of the tasks whose desired status is RUNNING (distinctInstance, spread, task:group). */
  groups: Map<string, number>;
  /** ContainerInstance.runningTasksCount: tasks on the instance that are RUNNING. */
  running: number;
  /** ContainerInstance.pendingTasksCount: tasks on the instance on their way to RUNNING. */
  pending: number;
}

export function emptyUsage(): InstanceUsage {
  return { reservations: [], groups: new Map(), running: 0, pending: 0 };
}

/** Usage per container instance ARN, from the cluster's tasks (stopped ones hold nothing). */
export function usageByInstance(tasks: Iterable<Task>, definitionOf: (taskDefinitionArn: string) => TaskDefinition | undefined): Map<string, InstanceUsage> {
  const out = new Map<string, InstanceUsage>();
  for (const task of tasks) {
    const arn = task.containerInstanceArn;
    if (arn === undefined || task.lastStatus === "STOPPED") continue;
    let usage = out.get(arn);
    if (usage === undefined) out.set(arn, (usage = emptyUsage()));
    usage.reservations.push(reservationOfTask(task, task.taskDefinitionArn === undefined ? undefined : definitionOf(task.taskDefinitionArn)));
    if (task.desiredStatus === "RUNNING" && task.group !== undefined) usage.groups.set(task.group, (usage.groups.get(task.group) ?? 0) + 1);
    if (task.lastStatus === "RUNNING") usage.running++;
    else if (task.desiredStatus === "RUNNING") usage.pending++;
  }
  return out;
}
