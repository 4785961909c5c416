// The thin loop around decideDaemons: gathers daemons, instances and daemon tasks, runs the actions
// through the engine's public API. Woken by instance changes, daemon tasks' snapshots and daemon
// operations (never by polling); a back-off wake-up is the only timer.
import type { Tag, Task } from "../../../generated/shapes.ts";
import type { Arns } from "../arns.ts";
import { lastSegmentOf, parseEcsArn } from "../arns.ts";
import type { Clock, Timer } from "../clock.ts";
import type { RunTaskSpec } from "../engine/engine-types.ts";
import { attributeMap } from "../instances/container-instance-view.ts";
import type { InstanceRegistry } from "../instances/instance-registry.ts";
import type { Logger } from "../logger.ts";
import type { DaemonStore } from "../store/daemon-store.ts";
import type { DaemonTaskDefinitionStore } from "../store/daemon-task-definition-store.ts";
import type { TagStore } from "../store/tag-store.ts";
import type { TaskListFilter } from "../store/task-store.ts";
import { decideDaemons, type DaemonAction, type DaemonInstanceState, type DaemonTaskState } from "./daemon-decisions.ts";
import { asTaskDefinition } from "./daemon-task-definition-rules.ts";

/** What the scheduler needs from the task engine (its public API). */
export interface DaemonTaskPort {
  runTask(spec: RunTaskSpec): Task;
  stopTask(taskArn: string, reason?: string): Task | undefined;
  list(filter: TaskListFilter): Task[];
  subscribe(listener: (task: Task) => void): () => void;
}

export interface DaemonSchedulerOptions {
  daemons: DaemonStore;
  definitions: DaemonTaskDefinitionStore;
  registry: InstanceRegistry;
  tasks: DaemonTaskPort;
  tags: TagStore;
  arns: Arns;
  clock: Clock;
  logger: Logger;
}

/** Daemon tasks carry their daemon in the group and their revision in startedBy. */
export const DAEMON_GROUP_PREFIX = "daemon:";
const STARTED_BY_PREFIX = "ecs-daemon/";

export class DaemonScheduler {
  readonly #o: DaemonSchedulerOptions;
  readonly #unsubscribe: Array<() => void> = [];
  #queued = false;
  #closed = false;
  #wake: Timer | undefined;

  constructor(options: DaemonSchedulerOptions) {
    this.#o = options;
  }

  start(): void {
    this.#unsubscribe.push(this.#o.registry.subscribe(() => this.poke()));
    this.#unsubscribe.push(
      this.#o.tasks.subscribe((task) => {
        if (task.group?.startsWith(DAEMON_GROUP_PREFIX) === true) this.poke();
      }),
    );
    this.poke();
  }

  close(): void {
    this.#closed = true;
    this.#wake?.cancel();
    for (const u of this.#unsubscribe.splice(0)) u();
  }

  /** Schedules one decision pass (several pokes in a row coalesce). */
  poke(): void {
    if (this.#queued || this.#closed) return;
    this.#queued = true;
    queueMicrotask(() => {
      this.#queued = false;
      if (this.#closed) return;
      try {
        this.#pass();
      } catch (err) {
        this.#o.logger.error("daemon.pass-failed", { error: err });
      }
    });
  }

  #pass(): void {
    const { daemons, registry, tasks } = this.#o;
    const now = this.#o.clock.now().getTime();
    const all = daemons.daemons();
    const inProgress = all.flatMap((d) => daemons.deploymentsOf(d.arn).filter((x) => x.status === "IN_PROGRESS"));
    // Deleted daemons stay in the pass only while they still have tasks to stop or a deployment to finish.
    const clusters = new Map<string, { region: string; clusterName: string; clusterArn: string }>();
    for (const d of all) clusters.set(d.clusterArn, { region: d.region, clusterName: d.clusterName, clusterArn: d.clusterArn });
    const instances: DaemonInstanceState[] = [];
    const daemonTasks: DaemonTaskState[] = [];
    for (const c of clusters.values()) {
      for (const r of registry.instances(c.region, c.clusterName, c.clusterArn)) {
        instances.push({ arn: r.arn, clusterArn: r.clusterArn, status: r.status, capacityProviderName: r.capacityProviderName, connected: registry.connected(r) });
      }
      for (const t of tasks.list({ clusterArn: c.clusterArn })) {
        const state = this.#taskState(t, c.region, c.clusterName);
        if (state !== undefined) daemonTasks.push(state);
      }
    }
    const decision = decideDaemons(
      {
        daemons: all.map((d) => ({
          arn: d.arn,
          clusterArn: d.clusterArn,
          status: d.status,
          revisionArn: d.revisionArn,
          capacityProviders: (daemons.revision(d.revisionArn)?.capacityProviderArns ?? []).map(lastSegmentOf),
        })),
        instances,
        tasks: daemonTasks,
        deployments: inProgress.map((x) => ({ arn: x.arn, daemonArn: x.daemonArn, targetRevisionArn: x.targetRevisionArn })),
      },
      now,
    );
    for (const action of decision.actions) this.#run(action, now);
    this.#wake?.cancel();
    this.#wake = decision.wakeAt === undefined ? undefined : this.#o.clock.setTimeout(() => this.poke(), Math.max(0, decision.wakeAt - now));
  }

  #taskState(t: Task, region: string, clusterName: string): DaemonTaskState | undefined {
    if (t.group?.startsWith(DAEMON_GROUP_PREFIX) !== true || t.containerInstanceArn === undefined) return undefined;
    const name = t.group.slice(DAEMON_GROUP_PREFIX.length);
    const revisionId = t.startedBy?.startsWith(STARTED_BY_PREFIX) === true ? t.startedBy.slice(STARTED_BY_PREFIX.length) : "";
    const arns = this.#o.arns.inRegion(region);
    const state: DaemonTaskState = {
      taskArn: t.taskArn!,
      daemonArn: arns.daemon(clusterName, name),
      revisionArn: arns.daemonRevision(clusterName, name, revisionId),
      containerInstanceArn: t.containerInstanceArn,
      lastStatus: t.lastStatus ?? "PENDING",
      desiredStatus: t.desiredStatus ?? "RUNNING",
    };
    if (t.stoppedAt !== undefined) state.stoppedAt = t.stoppedAt.getTime();
    else if (t.lastStatus === "STOPPED") state.stoppedAt = 0;
    return state;
  }

  #run(action: DaemonAction, now: number): void {
    const { daemons, definitions, registry, tasks, tags, logger } = this.#o;
    if (action.kind === "stop") {
      tasks.stopTask(action.taskArn, action.reason);
      return;
    }
    if (action.kind === "complete") {
      const d = daemons.deployment(action.deploymentArn);
      if (d !== undefined && d.status === "IN_PROGRESS") {
        daemons.saveDeployment({ ...d, status: "SUCCESSFUL", statusReason: "Deployment completed successfully.", finishedAt: now });
      }
      return;
    }
    const daemon = daemons.daemon(action.daemonArn);
    const revision = daemons.revision(action.revisionArn);
    const instance = registry.get(action.instanceArn);
    if (daemon === undefined || revision === undefined || instance === undefined) return;
    const ref = parseEcsArn(revision.daemonTaskDefinitionArn);
    const m = /^(.+):(\d+)$/.exec(ref?.resource ?? "");
    const dtd = m === null ? undefined : definitions.get(daemon.region, m[1]!, Number(m[2]));
    if (dtd === undefined) {
      logger.warn("daemon.definition-missing", { daemonArn: daemon.arn, daemonTaskDefinitionArn: revision.daemonTaskDefinitionArn });
      return;
    }
    const revisionId = lastSegmentOf(revision.arn);
    const task = tasks.runTask({
      clusterArn: daemon.clusterArn,
      clusterName: daemon.clusterName,
      taskDefinition: asTaskDefinition(dtd),
      group: `${DAEMON_GROUP_PREFIX}${daemon.name}`,
      startedBy: `${STARTED_BY_PREFIX}${revisionId}`,
      launchType: "EC2",
      capacityProviderName: instance.capacityProviderName,
      containerInstanceArn: instance.arn,
      availabilityZone: attributeMap(instance).get("ecs.availability-zone"),
      enableExecuteCommand: revision.enableExecuteCommand,
    });
    const taskTags: Tag[] = revision.propagateTags === "DAEMON" ? [...tags.get(daemon.arn)] : [];
    if (revision.enableECSManagedTags) taskTags.push({ key: "aws:ecs:clusterName", value: daemon.clusterName });
    if (taskTags.length > 0) tags.put(task.taskArn!, taskTags);
    logger.debug("daemon.task-started", { daemonArn: daemon.arn, taskArn: task.taskArn, containerInstanceArn: instance.arn });
  }
}
