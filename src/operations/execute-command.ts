import { ClientException, InvalidParameterException, TargetNotConnectedException } from "../../generated/errors.ts";
import type { EcsOperations } from "../../generated/operations.ts";
import type { Container, ExecuteCommandRequest, ExecuteCommandResponse, Task } from "../../generated/shapes.ts";
import { parseEcsArn } from "../runtime/arns.ts";
import { ExecSessionLimitError, type IssueRequest, type IssuedSession } from "../runtime/exec/exec-sessions.ts";
import type { ClusterStore } from "../runtime/store/cluster-store.ts";
import type { OperationContext, OperationDeps } from "./context.ts";

/** What ExecuteCommand needs: task snapshots, clusters, and somewhere to open sessions. */
export interface ExecuteCommandOptions {
  tasks: { get(taskArn: string): Task | undefined };
  clusters: ClusterStore;
  sessions: { issue(request: IssueRequest): IssuedSession };
}

// ECS's own words (as the CLI prints them).
export const NOT_ENABLED_MESSAGE =
  "The execute command failed because execute command was not enabled when the task was run or the execute command agent isn’t running. Wait and try again or run a new task with execute command enabled and try again.";
export const INTERACTIVE_ONLY_MESSAGE = "Interactive is the only mode supported currently.";
export const INTERNAL_ERROR_MESSAGE = "The execute command failed due to an internal error. Try again later.";

const EXEC_AGENT = "ExecuteCommandAgent";

/** ExecuteCommand: the checks ECS makes, then a Session Manager session on our own data channel endpoint. */
export function executeCommandOperations(deps: OperationDeps, options: ExecuteCommandOptions): Partial<EcsOperations<OperationContext>> {
  return {
    async executeCommand(input: ExecuteCommandRequest, ctx: OperationContext): Promise<ExecuteCommandResponse> {
      if (!input.interactive) throw new InvalidParameterException(INTERACTIVE_ONLY_MESSAGE);
      const cluster = options.clusters.require(input.cluster);
      const clusterArn = cluster.clusterArn!;
      const taskArn = taskArnOf(deps, ctx, cluster.clusterName ?? "default", input.task);
      const task = options.tasks.get(taskArn);
      if (task === undefined || task.clusterArn !== clusterArn) throw new InvalidParameterException("The referenced task was not found.");

      const containers = task.containers ?? [];
      let container: Container | undefined;
      if (input.container === undefined || input.container === "") {
        if (containers.length !== 1) {
          throw new InvalidParameterException("A container name must be specified when the task has more than one container.");
        }
        container = containers[0];
      } else {
        container = containers.find((c) => c.name === input.container);
        if (container === undefined) throw new InvalidParameterException(`The container ${input.container} does not exist in the task.`);
      }
      const agent = container?.managedAgents?.find((a) => a.name === EXEC_AGENT);
      if (task.enableExecuteCommand !== true || task.lastStatus !== "RUNNING" || agent?.lastStatus !== "RUNNING") {
        throw new InvalidParameterException(NOT_ENABLED_MESSAGE);
      }
      if (container?.runtimeId === undefined || container.name === undefined) throw new TargetNotConnectedException(INTERNAL_ERROR_MESSAGE);

      let session: IssuedSession;
      try {
        session = options.sessions.issue({
          clusterArn,
          taskArn,
          containerName: container.name,
          containerArn: container.containerArn ?? "",
          runtimeId: container.runtimeId,
          command: input.command,
          accessKeyId: ctx.accessKeyId,
          region: ctx.region,
          host: ctx.host ?? `127.0.0.1:${deps.config.port}`,
        });
      } catch (err) {
        if (err instanceof ExecSessionLimitError) throw new ClientException(err.message);
        throw err;
      }
      return {
        clusterArn,
        containerArn: container.containerArn,
        containerName: container.name,
        interactive: true,
        session,
        taskArn,
      };
    },
  };
}

/** A task ARN, or a task id (32 hex characters, or 36 for the old UUID form) in the request's cluster. */
function taskArnOf(deps: OperationDeps, ctx: OperationContext, clusterName: string, ref: string): string {
  if (ref.startsWith("arn:") && parseEcsArn(ref)?.resourceType === "task") return ref;
  if (ref.length !== 32 && ref.length !== 36) throw new InvalidParameterException("task length should be one of [32,36]");
  return deps.arns.inRegion(ctx.region).task(clusterName, ref);
}
