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

/**
 * The tasks as services account for them: those on a deregistered (INACTIVE) container instance are
 * orphaned — "no longer monitored or accounted for by Amazon ECS. If an orphaned task … is part of an
 * Amazon ECS service, then the service scheduler starts another copy of that task" (DeregisterContainerInstance,
 * `force`). They keep running; the scheduler and the service's counts no longer see them.
 */
export function withoutOrphans(tasks: ServiceTasks, deregistered: (containerInstanceArn: string) => boolean): ServiceTasks {
  const accounted = (t: Task): boolean => t.containerInstanceArn === undefined || !deregistered(t.containerInstanceArn);
  return {
    runTask: (spec) => tasks.runTask(spec),
    stopTask: (taskArn, reason, stopCode) => tasks.stopTask(taskArn, reason, stopCode),
    get: (taskArn) => tasks.get(taskArn),
    list: (filter) => tasks.list(filter).filter(accounted),
    subscribe: (listener) => tasks.subscribe(listener),
  };
}
