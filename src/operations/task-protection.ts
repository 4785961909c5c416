// GetTaskProtection and UpdateTaskProtection over the same store the agent's
// ECS_AGENT_URI/task-protection/v1/state endpoint uses, so both views always agree.
//
// Divergence kept on purpose: real ECS only protects tasks that belong to a service and answers
// TASK_NOT_VALID for standalone tasks. The emulator runs standalone tasks (and the agent endpoint accepts
// them), so any live task may be protected; a stopped or stopping task gets TASK_NOT_VALID.
import { ClusterNotFoundException, InvalidParameterException } from "../../generated/errors.ts";
import type { EcsOperations } from "../../generated/operations.ts";
import type { Cluster, Failure, ProtectedTask } from "../../generated/shapes.ts";
import type { TaskEngine } from "../runtime/engine/task-engine.ts";
import type { ClusterStore } from "../runtime/store/cluster-store.ts";
import {
  DEFAULT_PROTECTION_MINUTES,
  MAX_PROTECTION_MINUTES,
  type TaskProtection,
  type TaskProtectionStore,
} from "../runtime/agent/task-protection-store.ts";
import type { OperationContext, OperationDeps } from "./context.ts";

export interface TaskProtectionOperationsOptions {
  engine: Pick<TaskEngine, "get">;
  protection: TaskProtectionStore;
  /** Checks that the cluster exists (ClusterNotFoundException); without it only the task's cluster is compared. */
  clusters?: Pick<ClusterStore, "inRegion"> | undefined;
}

const MAX_GET = 100;
const MAX_UPDATE = 10;

export function taskProtectionOperations(
  deps: Pick<OperationDeps, "arns">,
  options: TaskProtectionOperationsOptions,
): Partial<EcsOperations<OperationContext>> {
  const { engine, protection } = options;

  const clusterOf = (ref: string, ctx: OperationContext): Pick<Cluster, "clusterArn" | "clusterName"> => {
    if (options.clusters !== undefined) return options.clusters.inRegion(ctx.region).require(ref);
    const arns = deps.arns.inRegion(ctx.region);
    const resolved = arns.resolve(ref, "cluster");
    if (resolved.kind === "elsewhere") throw new ClusterNotFoundException("Cluster not found.");
    return { clusterName: resolved.id, clusterArn: arns.cluster(resolved.id) };
  };

  /** Task ids or ARNs → the tasks of this cluster, failures for the rest (each ARN once). */
  const lookup = (cluster: Pick<Cluster, "clusterArn" | "clusterName">, refs: readonly string[], live: boolean, ctx: OperationContext) => {
    const arns = deps.arns.inRegion(ctx.region);
    const found: string[] = [];
    const failures: Failure[] = [];
    const seen = new Set<string>();
    for (const ref of refs) {
      // Another region's or account's task ARN is kept as given: it is no task of this cluster (MISSING).
      const arn = arns.taskArnOf(cluster.clusterName ?? "default", ref).arn;
      if (seen.has(arn)) continue;
      seen.add(arn);
      const task = engine.get(arn);
      if (task === undefined || task.clusterArn !== cluster.clusterArn) {
        failures.push({ arn, reason: "MISSING" });
      } else if (live && (task.lastStatus === "STOPPED" || task.desiredStatus === "STOPPED")) {
        failures.push({ arn, reason: "TASK_NOT_VALID", detail: "The task is stopped or stopping." });
      } else {
        found.push(arn);
      }
    }
    return { found, failures };
  };

  return {
    async getTaskProtection(input, ctx) {
      const refs = input.tasks ?? [];
      if (refs.length > MAX_GET) throw new InvalidParameterException(`At most ${MAX_GET} tasks can be given.`);
      const cluster = clusterOf(input.cluster, ctx);
      const { found, failures } = lookup(cluster, refs, false, ctx);
      return { protectedTasks: found.map((arn) => view(protection.get(arn))), failures };
    },

    async updateTaskProtection(input, ctx) {
      if (input.tasks.length === 0) throw new InvalidParameterException("Tasks cannot be empty.");
      if (input.tasks.length > MAX_UPDATE) throw new InvalidParameterException(`At most ${MAX_UPDATE} tasks can be given.`);
      const minutes = input.protectionEnabled ? (input.expiresInMinutes ?? DEFAULT_PROTECTION_MINUTES) : undefined;
      if (minutes !== undefined && (!Number.isInteger(minutes) || minutes < 1 || minutes > MAX_PROTECTION_MINUTES)) {
        throw new InvalidParameterException(`expiresInMinutes must be between 1 and ${MAX_PROTECTION_MINUTES} minutes.`);
      }
      const cluster = clusterOf(input.cluster, ctx);
      const { found, failures } = lookup(cluster, input.tasks, true, ctx);
      const protectedTasks = found.map((arn) => view(protection.update(arn, input.protectionEnabled, minutes)));
      return { protectedTasks, failures };
    },
  };
}

function view(p: TaskProtection): ProtectedTask {
  const out: ProtectedTask = { taskArn: p.taskArn, protectionEnabled: p.protectionEnabled };
  if (p.expirationDate !== undefined) out.expirationDate = p.expirationDate;
  return out;
}
