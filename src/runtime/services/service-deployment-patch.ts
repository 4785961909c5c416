import type { ServiceDeployment } from "../../../generated/shapes.ts";
import type { ServiceDeploymentPatch } from "./scheduler-types.ts";

/** Applies a decision's change to a stored service deployment. */
export function applyServiceDeploymentPatch(sd: ServiceDeployment, patch: ServiceDeploymentPatch, at: Date): void {
  if (patch.status !== undefined) sd.status = patch.status;
  if (patch.statusReason !== undefined) sd.statusReason = patch.statusReason;
  if (patch.startedAt !== undefined) sd.startedAt = patch.startedAt;
  if (patch.finishedAt !== undefined) sd.finishedAt = patch.finishedAt;
  if (patch.stoppedAt !== undefined) sd.stoppedAt = patch.stoppedAt;
  if (patch.rollback !== undefined) sd.rollback = patch.rollback;
  if (patch.deploymentCircuitBreaker !== undefined) sd.deploymentCircuitBreaker = patch.deploymentCircuitBreaker;
  if (patch.lifecycleStage !== undefined) sd.lifecycleStage = patch.lifecycleStage;
  if (patch.finalCounts !== undefined && sd.targetServiceRevision !== undefined) {
    sd.targetServiceRevision = {
      ...sd.targetServiceRevision,
      requestedTaskCount: patch.finalCounts.requested,
      runningTaskCount: patch.finalCounts.running,
      pendingTaskCount: patch.finalCounts.pending,
    };
  }
  sd.updatedAt = at;
}
