// "ECS Task State Change": the task as DescribeTasks shows it at that version, with ISO timestamps and an
// `updatedAt`, sent when the task's or a container's state changes (RunTask/StartTask create it, StopTask
// or an essential container's exit flips desiredStatus, the agent reports PENDING → RUNNING → STOPPED, a
// container stops). Health is not part of these events (the guide: use DescribeTasks for health), and a
// change of health, ports or pull timestamps alone sends none.
import type { Container, ManagedAgent, Task } from "../../../generated/shapes.ts";
import { DETAIL_TYPES, ecsEvent, toDetailJson, type EcsEvent } from "./ecs-event.ts";

/** The event for one task snapshot; `at` is the change's time (the detail's `updatedAt`, the envelope's `time`). */
export function taskStateChangeEvent(task: Task, at: Date): EcsEvent {
  return ecsEvent(DETAIL_TYPES.taskStateChange, task.taskArn ?? "", taskStateChangeDetail(task, at), at);
}

export function taskStateChangeDetail(task: Task, at: Date): Record<string, unknown> {
  const { healthStatus: _health, tags: _tags, containers, ...rest } = task;
  const detail: Record<string, unknown> = { ...rest, updatedAt: at };
  if (containers !== undefined) detail["containers"] = containers.map(eventContainer);
  return toDetailJson(detail) as Record<string, unknown>;
}

function eventContainer(c: Container): Record<string, unknown> {
  const { healthStatus: _health, managedAgents, ...rest } = c;
  const out: Record<string, unknown> = { ...rest };
  // Events name a managed agent's state `status` (DescribeTasks says `lastStatus`).
  if (managedAgents !== undefined) out["managedAgents"] = managedAgents.map(eventManagedAgent);
  return out;
}

function eventManagedAgent(a: ManagedAgent): Record<string, unknown> {
  const out: Record<string, unknown> = { name: a.name, status: a.lastStatus };
  if (a.reason !== undefined) out["reason"] = a.reason;
  return out;
}

/**
 * What an event is about: a new value here means the task changed in a way ECS announces. Snapshots that
 * differ only elsewhere (health, runtime ids, network bindings, pull timestamps) send no event.
 */
export function taskStateKey(task: Task): string {
  const containers = (task.containers ?? []).map((c) => [c.name, c.lastStatus, c.exitCode ?? null, c.reason ?? null]);
  return JSON.stringify([task.lastStatus, task.desiredStatus, task.stopCode ?? null, task.stoppedReason ?? null, containers]);
}
