// The engine's hooks (agent endpoints, load balancer draining, Service Connect networks, …): who is
// registered, and the notifications that go to every one of them. A hook that throws is logged and never
// stops the engine or the other hooks.
import type { Task } from "../../../generated/shapes.ts";
import type { ObservedContainer } from "../backend/task-backend.ts";
import type { Logger } from "../logger.ts";
import type { TaskEngineHooks } from "./engine-types.ts";

export class TaskHooks {
  readonly #logger: Logger;
  #hooks: TaskEngineHooks[] = [];

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Registers hooks; returns the function that unregisters them. */
  use(hooks: TaskEngineHooks): () => void {
    this.#hooks.push(hooks);
    return () => {
      this.#hooks = this.#hooks.filter((h) => h !== hooks);
    };
  }

  /** The registered hooks, for the steps that ask them for something (provisioning, container creation). */
  all(): readonly TaskEngineHooks[] {
    return this.#hooks;
  }

  /** What the hooks hold a RUNNING task's stop for (load balancer draining); empty when nothing. */
  beforeStop(task: Task): Promise<void>[] {
    const holds: Promise<void>[] = [];
    for (const h of this.#hooks) {
      this.#safely(() => {
        const hold = h.beforeStop?.(task);
        if (hold !== undefined) holds.push(hold);
      });
    }
    return holds;
  }

  containerStarted(task: Task, containerName: string, observed: ObservedContainer): void {
    for (const h of this.#hooks) this.#safely(() => h.onContainerStarted?.(task, containerName, observed));
  }

  taskStopped(task: Task): void {
    for (const h of this.#hooks) this.#safely(() => h.onTaskStopped?.(task));
  }

  tasksPurged(taskArns: string[]): void {
    for (const h of this.#hooks) this.#safely(() => h.onTasksPurged?.(taskArns));
  }

  #safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#logger.warn("hook-failed", { error: err });
    }
  }
}
