// Daemons, revisions and deployments as the Describe/List operations answer them (pure). Running
// counts come from the daemon tasks the caller found on the engine.
import type {
  DaemonDeployment,
  DaemonDeploymentConfiguration,
  DaemonDeploymentRevisionDetail,
  DaemonDeploymentSummary,
  DaemonDetail,
  DaemonRevision,
  DaemonSummary,
} from "../../../generated/shapes.ts";
import type { DaemonDeploymentRecord, DaemonRecord, DaemonRevisionRecord } from "../store/daemon-store.ts";

/** RUNNING daemon tasks: revision ARN → capacity provider ARN → count. */
export type RunningCounts = Map<string, Map<string, number>>;

export function daemonSummary(d: DaemonRecord): DaemonSummary {
  return { daemonArn: d.arn, status: d.status, createdAt: new Date(d.createdAt), updatedAt: new Date(d.updatedAt) };
}

export function daemonDetail(d: DaemonRecord, revisions: readonly DaemonRevisionRecord[], running: RunningCounts): DaemonDetail {
  // The target revision, plus any older one that still has running tasks.
  const shown = revisions.filter((r) => r.arn === d.revisionArn || (running.get(r.arn)?.size ?? 0) > 0);
  return {
    daemonArn: d.arn,
    clusterArn: d.clusterArn,
    status: d.status,
    currentRevisions: shown.map((r) => {
      const perProvider = running.get(r.arn) ?? new Map<string, number>();
      const capacityProviders = r.capacityProviderArns.map((arn) => ({ arn, runningCount: perProvider.get(arn) ?? 0 }));
      return { arn: r.arn, capacityProviders, totalRunningCount: capacityProviders.reduce((s, c) => s + c.runningCount, 0) };
    }),
    deploymentArn: d.deploymentArn,
    createdAt: new Date(d.createdAt),
    updatedAt: new Date(d.updatedAt),
  };
}

export function daemonRevision(r: DaemonRevisionRecord): DaemonRevision {
  return {
    daemonRevisionArn: r.arn,
    clusterArn: r.clusterArn,
    daemonArn: r.daemonArn,
    daemonTaskDefinitionArn: r.daemonTaskDefinitionArn,
    createdAt: new Date(r.createdAt),
    containerImages: r.containerImages,
    propagateTags: r.propagateTags,
    enableECSManagedTags: r.enableECSManagedTags,
    enableExecuteCommand: r.enableExecuteCommand,
  };
}

/** The deployment configuration with ECS's defaults filled in. */
export function deploymentConfigurationOf(given: DaemonDeploymentConfiguration | undefined): DaemonDeploymentConfiguration {
  const out: DaemonDeploymentConfiguration = {
    bakeTimeInMinutes: given?.bakeTimeInMinutes ?? 0,
    alarms: { alarmNames: given?.alarms?.alarmNames ?? [], enable: given?.alarms?.enable ?? false },
  };
  if (given?.drainPercent !== undefined) out.drainPercent = given.drainPercent;
  return out;
}

export function daemonDeployment(
  d: DaemonDeploymentRecord,
  revision: (arn: string) => DaemonRevisionRecord | undefined,
  running: RunningCounts,
): DaemonDeployment {
  const detail = (arn: string): DaemonDeploymentRevisionDetail => {
    const perProvider = running.get(arn) ?? new Map<string, number>();
    const capacityProviders = (revision(arn)?.capacityProviderArns ?? []).map((cp) => ({
      arn: cp,
      runningInstanceCount: perProvider.get(cp) ?? 0,
      drainingInstanceCount: 0,
    }));
    return {
      arn,
      capacityProviders,
      totalRunningInstanceCount: capacityProviders.reduce((s, c) => s + (c.runningInstanceCount ?? 0), 0),
      totalDrainingInstanceCount: 0,
    };
  };
  const finished = d.status !== "IN_PROGRESS" && d.status !== "PENDING";
  const alarmsOn = d.deploymentConfiguration.alarms?.enable === true;
  const out: DaemonDeployment = {
    daemonDeploymentArn: d.arn,
    clusterArn: d.clusterArn,
    status: d.status,
    sourceDaemonRevisions: d.sourceRevisionArns.map(detail),
    circuitBreaker: { failureCount: 0, status: finished ? "MONITORING_COMPLETE" : "MONITORING", threshold: 10 },
    alarms: {
      status: alarmsOn ? (finished ? "MONITORING_COMPLETE" : "MONITORING") : "DISABLED",
      alarmNames: d.deploymentConfiguration.alarms?.alarmNames ?? [],
      triggeredAlarmNames: [],
    },
    deploymentConfiguration: d.deploymentConfiguration,
    createdAt: new Date(d.createdAt),
  };
  if (d.targetRevisionArn !== undefined) out.targetDaemonRevision = detail(d.targetRevisionArn);
  if (d.statusReason !== undefined) out.statusReason = d.statusReason;
  if (d.startedAt !== undefined) out.startedAt = new Date(d.startedAt);
  if (d.finishedAt !== undefined) out.finishedAt = new Date(d.finishedAt);
  if (d.status === "STOPPED" && d.finishedAt !== undefined) out.stoppedAt = new Date(d.finishedAt);
  return out;
}

export function daemonDeploymentSummary(d: DaemonDeploymentRecord): DaemonDeploymentSummary {
  const out: DaemonDeploymentSummary = {
    daemonDeploymentArn: d.arn,
    daemonArn: d.daemonArn,
    clusterArn: d.clusterArn,
    status: d.status,
    createdAt: new Date(d.createdAt),
  };
  if (d.statusReason !== undefined) out.statusReason = d.statusReason;
  if (d.targetRevisionArn !== undefined) out.targetDaemonRevisionArn = d.targetRevisionArn;
  if (d.startedAt !== undefined) out.startedAt = new Date(d.startedAt);
  if (d.finishedAt !== undefined) out.finishedAt = new Date(d.finishedAt);
  if (d.status === "STOPPED" && d.finishedAt !== undefined) out.stoppedAt = new Date(d.finishedAt);
  return out;
}
