// ECS Exec addresses a container by its runtime id; the command must run on the runtime the container's
// task runs on. This finds the task (the engine's lookup) and hands the call to that task's backend.
import type { BackendTask, TaskBackend } from "../backend/task-backend.ts";
import { ContainerMissingError } from "../backend/task-backend.ts";
import type { ExecBackend } from "../exec/exec-backend.ts";

export function execOnTaskRuntimes(taskOf: (runtimeId: string) => BackendTask | undefined, backend: TaskBackend): ExecBackend {
  return {
    start: (runtimeId, options) => {
      const task = taskOf(runtimeId);
      if (task === undefined) return Promise.reject(new ContainerMissingError(`no task container ${runtimeId}`));
      return backend.exec(task).start(runtimeId, options);
    },
    reap: async (runtimeId, options) => {
      const task = taskOf(runtimeId);
      // A container the engine no longer drives is gone, and so is everything it ran.
      return task === undefined ? true : backend.exec(task).reap(runtimeId, options);
    },
  };
}
