// "Exactly one daemon task on each matching container instance" as a pure function of state + now →
// actions (CreateDaemon: "Amazon ECS deploys exactly one daemon task on each container instance of the
// specified capacity providers. When a container instance registers with the cluster, Amazon ECS
// automatically starts daemon tasks."). The scheduler around it only gathers the state and runs actions.

export interface DaemonState {
  arn: string;
  clusterArn: string;
  status: "ACTIVE" | "DELETE_IN_PROGRESS";
  /** The revision every matching instance should run. */
  revisionArn: string;
  /** Names of the capacity providers whose instances the daemon covers. */
  capacityProviders: readonly string[];
}

export interface DaemonInstanceState {
  arn: string;
  clusterArn: string;
  /** ACTIVE and DRAINING instances keep their daemon task; INACTIVE ones lose it. */
  status: string;
  capacityProviderName?: string | undefined;
  connected: boolean;
}

export interface DaemonTaskState {
  taskArn: string;
  daemonArn: string;
  revisionArn: string;
  containerInstanceArn: string;
  lastStatus: string;
  desiredStatus: string;
  /** Epoch ms, for stopped tasks. */
  stoppedAt?: number | undefined;
}

export interface DeploymentState {
  arn: string;
  daemonArn: string;
  /** Undefined for a DeleteDaemon deployment (drain only). */
  targetRevisionArn?: string | undefined;
}

export interface DaemonWorld {
  daemons: readonly DaemonState[];
  instances: readonly DaemonInstanceState[];
  tasks: readonly DaemonTaskState[];
  /** Deployments still IN_PROGRESS. */
  deployments: readonly DeploymentState[];
}

export type DaemonAction =
  | { kind: "start"; daemonArn: string; revisionArn: string; instanceArn: string }
  | { kind: "stop"; taskArn: string; reason: string }
  | { kind: "complete"; deploymentArn: string };

export interface DaemonDecision {
  actions: DaemonAction[];
  /** When to decide again even if nothing changes (a restart held back by the back-off). */
  wakeAt?: number | undefined;
}

/** A daemon task that stopped on an instance is started again no sooner than this after it stopped. */
export const RESTART_BACKOFF_MS = 5_000;

export const STOP_REASONS = {
  replaced: "Daemon task replaced by a new daemon revision.",
  duplicate: "Daemon task stopped: another daemon task of the same revision runs on the container instance.",
  unmatched: "Daemon task stopped: the container instance is no longer covered by the daemon.",
  deleted: "Daemon deleted.",
} as const;

export function decideDaemons(world: DaemonWorld, now: number): DaemonDecision {
  const actions: DaemonAction[] = [];
  let wakeAt: number | undefined;
  const live = (t: DaemonTaskState): boolean => t.lastStatus !== "STOPPED" && t.desiredStatus !== "STOPPED";

  for (const daemon of world.daemons) {
    const tasks = world.tasks.filter((t) => t.daemonArn === daemon.arn);
    const covered = new Map(
      world.instances
        .filter(
          (i) =>
            daemon.status === "ACTIVE" &&
            i.clusterArn === daemon.clusterArn &&
            i.status !== "INACTIVE" &&
            i.capacityProviderName !== undefined &&
            daemon.capacityProviders.includes(i.capacityProviderName),
        )
        .map((i) => [i.arn, i]),
    );
    for (const t of tasks.filter(live)) {
      if (daemon.status !== "ACTIVE") actions.push({ kind: "stop", taskArn: t.taskArn, reason: STOP_REASONS.deleted });
      else if (!covered.has(t.containerInstanceArn)) actions.push({ kind: "stop", taskArn: t.taskArn, reason: STOP_REASONS.unmatched });
    }
    for (const instance of covered.values()) {
      const here = tasks.filter((t) => t.containerInstanceArn === instance.arn);
      const current = here.filter((t) => live(t) && t.revisionArn === daemon.revisionArn);
      for (const old of here.filter((t) => live(t) && t.revisionArn !== daemon.revisionArn)) {
        actions.push({ kind: "stop", taskArn: old.taskArn, reason: STOP_REASONS.replaced });
      }
      for (const extra of current.slice(1)) actions.push({ kind: "stop", taskArn: extra.taskArn, reason: STOP_REASONS.duplicate });
      if (current.length > 0 || !instance.connected) continue;
      const lastStop = Math.max(-Infinity, ...here.filter((t) => !live(t)).map((t) => t.stoppedAt ?? 0));
      if (lastStop + RESTART_BACKOFF_MS > now) {
        wakeAt = Math.min(wakeAt ?? Infinity, lastStop + RESTART_BACKOFF_MS);
        continue;
      }
      actions.push({ kind: "start", daemonArn: daemon.arn, revisionArn: daemon.revisionArn, instanceArn: instance.arn });
    }
  }

  // A deployment is done when its daemon runs the target revision everywhere it should (and nothing
  // else), or — for a delete — when no daemon task is left.
  for (const d of world.deployments) {
    const daemon = world.daemons.find((x) => x.arn === d.daemonArn);
    const tasks = world.tasks.filter((t) => t.daemonArn === d.daemonArn && live(t));
    if (d.targetRevisionArn === undefined || daemon === undefined || daemon.status !== "ACTIVE") {
      if (tasks.length === 0) actions.push({ kind: "complete", deploymentArn: d.arn });
      continue;
    }
    if (daemon.revisionArn !== d.targetRevisionArn) continue;
    const targets = world.instances.filter(
      (i) =>
        i.clusterArn === daemon.clusterArn &&
        i.status !== "INACTIVE" &&
        i.connected &&
        i.capacityProviderName !== undefined &&
        daemon.capacityProviders.includes(i.capacityProviderName),
    );
    const done =
      tasks.every((t) => t.revisionArn === d.targetRevisionArn) &&
      targets.every((i) => tasks.some((t) => t.containerInstanceArn === i.arn && t.lastStatus === "RUNNING"));
    if (done) actions.push({ kind: "complete", deploymentArn: d.arn });
  }
  return wakeAt === undefined ? { actions } : { actions, wakeAt };
}
