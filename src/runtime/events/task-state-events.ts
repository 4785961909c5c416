// Turns the engine's stream of task snapshots into "ECS Task State Change" events, at the moments ECS sends
// them: the first snapshot of a task, then each one whose state key changed (see `taskStateKey`). The
// snapshot stream is in order per task, so the events are too.
import type { Task } from "../../../generated/shapes.ts";
import type { TimeSource } from "../clock.ts";
import type { EcsEvent } from "./ecs-event.ts";
import { taskStateChangeEvent, taskStateKey } from "./task-state-change.ts";

/** The part of the engine this needs (its public `subscribe`). */
export interface TaskSnapshots {
  subscribe(listener: (task: Task) => void): () => void;
}

/** Keys of this many tasks are remembered (oldest forgotten first), so memory stays flat. */
const REMEMBERED_TASKS = 20_000;

export function publishTaskStateChanges(tasks: TaskSnapshots, publish: (event: EcsEvent) => void, clock: TimeSource): () => void {
  const lastKey = new Map<string, string>();
  return tasks.subscribe((task) => {
    const arn = task.taskArn;
    if (arn === undefined) return;
    const key = taskStateKey(task);
    if (lastKey.get(arn) === key) return;
    // Re-inserted so the map's order is least recently changed first.
    lastKey.delete(arn);
    lastKey.set(arn, key);
    if (lastKey.size > REMEMBERED_TASKS) lastKey.delete(lastKey.keys().next().value!);
    publish(taskStateChangeEvent(task, clock.now()));
  });
}
