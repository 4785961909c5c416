// What the tasks of a cluster hold on each container instance — CPU, memory and ports, task groups,
// running and pending counts — computed from the tasks themselves (pure). Every answer derives it afresh
// from the engine's tasks, so counts and remaining resources cannot drift from what really runs.
import type { Task, TaskDefinition } from "../../../generated/shapes.ts";
import { addTask, emptyReservation, portsOf, type Reservation } from "./task-reservation.ts";

export interface InstanceUsage {
  /** The sum of what the instance's tasks hold. */
  held: Reservation;
  /** Groups of the tasks whose desired status is RUNNING (distinctInstance, spread, task:group). */
  groups: Map<string, number>;
  /** ContainerInstance.runningTasksCount: tasks on the instance that are RUNNING. */
  running: number;
  /** ContainerInstance.pendingTasksCount: tasks on the instance on their way to RUNNING. */
  pending: number;
}

export function emptyUsage(): InstanceUsage {
  return { held: emptyReservation(), groups: new Map(), running: 0, pending: 0 };
}

/** Usage per container instance ARN, from the cluster's tasks (stopped ones hold nothing). */
export function usageByInstance(tasks: Iterable<Task>, definitionOf: (taskDefinitionArn: string) => TaskDefinition | undefined): Map<string, InstanceUsage> {
  const out = new Map<string, InstanceUsage>();
  const ports = new Map<string, ReturnType<typeof portsOf> | undefined>();
  for (const task of tasks) {
    const arn = task.containerInstanceArn;
    if (arn === undefined || task.lastStatus === "STOPPED") continue;
    let usage = out.get(arn);
    if (usage === undefined) out.set(arn, (usage = emptyUsage()));
    const tdArn = task.taskDefinitionArn;
    let p: ReturnType<typeof portsOf> | undefined;
    if (tdArn !== undefined) {
      if (ports.has(tdArn)) p = ports.get(tdArn);
      else {
        const td = definitionOf(tdArn);
        p = td === undefined ? undefined : portsOf(td);
        ports.set(tdArn, p);
      }
    }
    addTask(usage.held, task, p);
    if (task.desiredStatus === "RUNNING" && task.group !== undefined) usage.groups.set(task.group, (usage.groups.get(task.group) ?? 0) + 1);
    if (task.lastStatus === "RUNNING") usage.running++;
    else if (task.desiredStatus === "RUNNING") usage.pending++;
  }
  return out;
}
