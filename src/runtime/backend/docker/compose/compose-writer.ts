import { clusterNameOf, taskIdOf } from "../../../arns.ts";
import type { TaskEngineHooks } from "../../../engine/engine-types.ts";
import type { Logger } from "../../../logger.ts";

/**
 * Writes a readable docker-compose.yml of every task to `<composeDest>/<task-id>/` when the task is
 * provisioned (the original project's feature). Secrets are placeholders only. A failure to write is
 * logged and never affects the task. The YAML writer loads with the first task, not at start-up.
 */
export function composeWriterHooks(options: { composeDest: string; externalNetworks: string[]; logger: Logger }): TaskEngineHooks {
  return {
    async beforeProvision(task, taskDefinition) {
      const taskArn = task.taskArn ?? "";
      const taskId = taskIdOf(taskArn);
      try {
        const { taskToComposeProject, writeComposeFile } = await import("./compose-file.ts");
        const project = taskToComposeProject({
          taskDefinition,
          taskId,
          taskArn,
          clusterName: clusterNameOf(task.clusterArn),
          ...(task.overrides === undefined ? {} : { overrides: task.overrides }),
          externalNetworks: options.externalNetworks,
        });
        const path = await writeComposeFile(options.composeDest, taskId, project);
        options.logger.debug("compose.written", { taskArn, path });
      } catch (err) {
        options.logger.warn("compose.write_failed", { taskArn, dest: options.composeDest, error: err });
      }
      return undefined;
    },
  };
}
