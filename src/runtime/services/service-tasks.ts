import type { Tag, Task, TaskDefinition, TaskStopCode } from "../../../generated/shapes.ts";
import type { RunTaskSpec } from "../engine/engine-types.ts";
import type { TaskListFilter } from "../store/task-store.ts";

/**
 * What the service scheduler needs from the task engine (the engine satisfies it as is; tests pass a
 * fake). Everything it does to tasks goes through these calls.
 */
export interface ServiceTasks {
  /** Creates the task at once (persisted before any container exists) and starts it in the background. */
  runTask(spec: RunTaskSpec): Task;
  stopTask(taskArn: string, reason: string, stopCode: TaskStopCode): Task | undefined;
  get(taskArn: string): Task | undefined;
  list(filter: TaskListFilter): Task[];
  /** Every new task snapshot; returns the unsubscribe function. */
  subscribe(listener: (task: Task) => void): () => void;
}

/** What the scheduler reads of task definitions (resolved by ARN, tags for propagateTags). */
export interface ServiceTaskDefinitions {
  resolve(ref: string): TaskDefinition | undefined;
  tagsOf(taskDefinitionArn: string): Tag[];
}
