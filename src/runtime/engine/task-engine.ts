import { hash, randomBytes, randomUUID } from "node:crypto";
import type Dockerode from "dockerode";
import type {
  Attachment,
  Container,
  ContainerDefinition,
  ContainerOverride,
  NetworkBinding,
  NetworkMode,
  Task,
  TaskOverride,
} from "../../../generated/shapes.ts";
import type { Arns } from "../arns.ts";
import { newTaskId } from "../arns.ts";
import type { Clock } from "../clock.ts";
import type { Config } from "../config.ts";
import type { ContainerRuntime, ContainerSnapshot, ImageSnapshot } from "../container-runtime.ts";
import { RuntimeError } from "../container-runtime.ts";
import type { Logger } from "../logger.ts";
import type { TaskCounts, TaskListFilter, TaskStore } from "../store/task-store.ts";
import {
  DEPENDENCY_FAILURE_EXIT_CODE,
  KNOWN_STATUS_RANK,
  canStop,
  resolveNextTransition,
  validateGraph,
  type GraphContainerState,
  type KnownStatus,
} from "./dependency-graph.ts";
import {
  ECS_LABELS,
  buildContainerCreateOptions,
  dockerContainerName,
  parseTaskCpu,
  parseTaskMemory,
  portBindingsFor,
  randomHex20,
  taskVolumePlan,
} from "./docker-mapping.ts";
import type {
  ContainerCreateExtras,
  ContainerRecord,
  RunTaskSpec,
  TaskEngineHooks,
  TaskProvisionExtras,
  TaskRuntimeState,
} from "./engine-types.ts";
import {
  STOP_CODES,
  STOPPED_REASONS,
  containerBackendStatus,
  containerHealthFromDocker,
  deriveTaskStatus,
  essentialStopDecision,
  namedError,
  taskHealthStatus,
} from "./task-status.ts";
import { TaskNetworkPool, type TaskNetworkPoolOptions } from "./task-network-pool.ts";

export type { RunTaskSpec, TaskEngineHooks } from "./engine-types.ts";

/** Label on everything the engine creates; the events subscription filters on it. */
export const MANAGED_LABEL = "local-ecs-api.managed";
/** The agent's name for the awsvpc network-namespace holder. */
export const PAUSE_CONTAINER_NAME = "~internal~ecs~pause";

/** How to run the awsvpc pause container: an image and, for non-pause images, a command that idles. */
export interface PauseSpec {
  image: string;
  entrypoint?: string[];
  cmd?: string[];
}

export interface TaskEngineOptions {
  runtime: ContainerRuntime;
  store: TaskStore;
  /** `dataDir` (optional) names this emulator's pooled networks so a restart can take them back. */
  config: Pick<Config, "externalNetworks" | "stoppedTaskRetentionMs" | "containerCleanupDelayMs" | "region"> & Partial<Pick<Config, "dataDir">>;
  arns: Arns;
  clock: Clock;
  logger: Logger;
  hooks?: TaskEngineHooks;
  /** Stop timeout for containers without stopTimeout (the agent's ECS_CONTAINER_STOP_TIMEOUT). */
  defaultStopTimeoutSec?: number;
  /**
   * Pause container for awsvpc tasks. Default: the first locally present of amazon/amazon-ecs-pause:0.1.0
   * and registry.k8s.io/pause:3.9, else the task's first container image running `sleep` (works offline
   * with any image that has a sleep binary).
   */
  pause?: PauseSpec;
  /** How often stopped tasks past retention are purged. */
  purgeIntervalMs?: number;
  /**
   * Per-task networks (bridge, awsvpc) come from a pool of idle networks and are recycled when a task
   * stops (see task-network-pool.ts). `false`: one network per task, `ecs-task-<task id>`, created at
   * provision and removed at stop. The owner defaults to the store's instance id (it lives with DATA_DIR).
   */
  networkPool?: (Omit<TaskNetworkPoolOptions, "owner"> & { owner?: string }) | false;
}

/** The persisted runtime state plus the engine's own bookkeeping of the task network. */
type EngineState = TaskRuntimeState & {
  /** The task network went back to the pool or was removed: cleanup must not touch it any more. */
  networkReleased?: boolean;
};

interface Working {
  task: Task;
  state: EngineState;
  /** Container names (or "task:provision"/"task:deprovision"/"task:cleanup") with an operation in flight. */
  ops: Set<string>;
  deadlineTimer?: NodeJS.Timeout | undefined;
  cleanupTimer?: NodeJS.Timeout | undefined;
  fingerprint: string;
  stateFingerprint?: string;
  clientToken?: string;
  stoppedNotified: boolean;
}

const KNOWN_PAUSE_IMAGES: PauseSpec[] = [{ image: "amazon/amazon-ecs-pause:0.1.0" }, { image: "registry.k8s.io/pause:3.9" }];

/**
 * Runs ECS tasks as Docker containers. RunTask returns at once; each task then advances in the
 * background. All state changes happen synchronously in `#step` (level-triggered: it looks at the
 * containers and launches whatever Docker call is due), and Docker calls report back by updating
 * state and stepping again. Docker events (die, health_status, destroy, oom, start) from one
 * subscription drive exits and health; a reconcile on every (re)connection catches what was missed.
 */
export class TaskEngine {
  readonly store: TaskStore;
  #runtime: ContainerRuntime;
  #config: TaskEngineOptions["config"];
  #arns: Arns;
  #clock: Clock;
  #logger: Logger;
  #hooks: TaskEngineHooks[] = [];
  #defaultStopTimeoutSec: number;
  #pause: PauseSpec | undefined;
  #purgeIntervalMs: number;
  #work = new Map<string, Working>();
  #pulls = new Map<string, Promise<void>>();
  #listeners = new Set<(task: Task) => void>();
  #subscription: { close(): void } | undefined;
  #purgeTimer: NodeJS.Timeout | undefined;
  #closed = false;
  #reconciling: Promise<void> | undefined;
  #reconcileAgain = false;
  #pool: TaskNetworkPool | undefined;

  constructor(options: TaskEngineOptions) {
    this.#runtime = options.runtime;
    this.store = options.store;
    this.#config = options.config;
    this.#arns = options.arns;
    this.#clock = options.clock;
    this.#logger = options.logger.child({ component: "task-engine" });
    if (options.hooks !== undefined) this.#hooks.push(options.hooks);
    this.#defaultStopTimeoutSec = options.defaultStopTimeoutSec ?? 30;
    this.#pause = options.pause;
    this.#purgeIntervalMs = options.purgeIntervalMs ?? 60_000;
    if (options.networkPool !== false) {
      const { owner, ...rest } = options.networkPool ?? {};
      this.#pool = new TaskNetworkPool(this.#runtime, this.#logger, { ...rest, owner: owner ?? options.store.instanceId() });
    }
  }

  /** Registers hooks (e.g. the agent endpoints); returns an unregister function. */
  use(hooks: TaskEngineHooks): () => void {
    this.#hooks.push(hooks);
    return () => {
      this.#hooks = this.#hooks.filter((h) => h !== hooks);
    };
  }

  /** Re-adopts persisted tasks, subscribes to Docker events and reconciles once. */
  async start(): Promise<void> {
    // adoptable(): every task but the STOPPED and cleaned-up ones, which the loop below skips anyway
    // (read from their bookkeeping, so a restart does not parse thousands of stopped tasks' documents).
    for (const task of this.store.adoptable()) {
      const state = this.store.runtime(task.taskArn ?? "") as TaskRuntimeState | undefined;
      if (state?.v !== 1 || task.taskArn === undefined) continue;
      if (task.lastStatus === "STOPPED" && state.cleanedUp) continue;
      const w: Working = {
        task: structuredClone(task) as Task,
        state,
        ops: new Set(),
        fingerprint: "",
        stoppedNotified: task.lastStatus === "STOPPED",
      };
      w.fingerprint = fingerprintOf(w.task);
      this.#work.set(task.taskArn, w);
      if (task.lastStatus === "STOPPED") this.#scheduleCleanup(w);
    }
    if (this.#pool !== undefined) {
      // In the background (a server without Docker must still start), so tasks may start meanwhile.
      const inUse = (name: string): boolean => {
        for (const w of this.#work.values()) if (w.state.networkName === name && w.state.networkReleased !== true) return true;
        return false;
      };
      void this.#pool.adopt(inUse).catch((err: unknown) => this.#logger.warn("task-network-adopt-failed", { error: err }));
    }
    // Resolves after the first reconcile, or at the first error so a server without Docker still
    // starts (the subscription keeps retrying and reconciles once it connects).
    let ready: () => void = () => {};
    const connected = new Promise<void>((resolve) => (ready = resolve));
    this.#subscription = this.#runtime.events(
      { labels: [`${MANAGED_LABEL}=true`] },
      {
        onEvent: (event) => this.#onEvent(event),
        onError: (err) => {
          this.#logger.warn("docker-events-error", { error: err });
          ready();
        },
        onConnect: () => {
          void this.reconcile().finally(ready);
        },
      },
    );
    this.#purgeTimer = setInterval(() => this.purge(), this.#purgeIntervalMs);
    this.#purgeTimer.unref();
    await connected;
  }

  /** Stops listening and clears timers. Containers keep running; a new engine re-adopts them. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#subscription?.close();
    if (this.#purgeTimer !== undefined) clearInterval(this.#purgeTimer);
    for (const w of this.#work.values()) {
      if (w.deadlineTimer !== undefined) clearTimeout(w.deadlineTimer);
      if (w.cleanupTimer !== undefined) clearTimeout(w.cleanupTimer);
    }
    await this.#reconciling;
    await this.#pool?.close();
  }

  // ---------------------------------------------------------------- read path

  get(taskArn: string): Task | undefined {
    return this.store.get(taskArn);
  }

  taskExists(taskArn: string): boolean {
    return this.store.has(taskArn);
  }

  list(filter: TaskListFilter): Task[] {
    return this.store.list(filter);
  }

  taskCounts(clusterArn: string): TaskCounts {
    return this.store.counts(clusterArn);
  }

  /** The engine's bookkeeping for a task (docker names/ids, networks, …), e.g. for the metadata endpoint. */
  runtimeState(taskArn: string): TaskRuntimeState | undefined {
    const w = this.#work.get(taskArn);
    if (w !== undefined) return structuredClone(w.state);
    return this.store.runtime(taskArn) as TaskRuntimeState | undefined;
  }

  /** Called with every new task snapshot. Returns an unsubscribe function. */
  subscribe(listener: (task: Task) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Resolves with the first snapshot satisfying `predicate` (checked now and on every change). */
  waitFor(taskArn: string, predicate: (task: Task) => boolean, timeoutMs: number): Promise<Task> {
    return new Promise((resolve, reject) => {
      const current = this.get(taskArn);
      if (current !== undefined && predicate(current)) return resolve(current);
      const timer = setTimeout(() => {
        unsubscribe();
        const last = this.get(taskArn);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for task ${taskArn}; last: ${JSON.stringify(summary(last))}`));
      }, timeoutMs);
      const unsubscribe = this.subscribe((task) => {
        if (task.taskArn === taskArn && predicate(task)) {
          clearTimeout(timer);
          unsubscribe();
          resolve(task);
        }
      });
    });
  }

  // ---------------------------------------------------------------- commands

  /** Creates the task (PENDING, or PROVISIONING for awsvpc) and starts it in the background. */
  runTask(spec: RunTaskSpec): Task {
    const td = spec.taskDefinition;
    const family = td.family ?? "";
    const revision = td.revision ?? 0;
    const networkMode: NetworkMode = td.networkMode ?? "bridge";
    const defs = td.containerDefinitions ?? [];
    const now = this.#clock.now();
    const taskId = newTaskId();
    const taskArn = this.#arns.task(spec.clusterName, taskId);
    const overrides = echoOverrides(spec.overrides, defs);

    const containers: Container[] = defs.map((def) => {
      const ov = overrideFor(spec.overrides, def.name);
      const c: Container = {
        containerArn: this.#arns.container(spec.clusterName, taskId),
        taskArn,
        name: def.name ?? "",
        image: def.image ?? "",
        lastStatus: "PENDING",
        networkBindings: [],
        networkInterfaces: [],
        healthStatus: "UNKNOWN",
        cpu: String(ov?.cpu ?? def.cpu ?? 0),
      };
      const memory = ov?.memory ?? def.memory;
      if (memory !== undefined) c.memory = String(memory);
      const reservation = ov?.memoryReservation ?? def.memoryReservation;
      if (reservation !== undefined) c.memoryReservation = String(reservation);
      if (spec.enableExecuteCommand === true) {
        c.managedAgents = [{ name: "ExecuteCommandAgent", lastStatus: "PENDING" }];
      }
      return c;
    });

    const launchType = spec.launchType ?? (spec.capacityProviderName === undefined ? defaultLaunchType(td.requiresCompatibilities) : undefined);
    const fargate = launchType === "FARGATE" || (spec.capacityProviderName?.startsWith("FARGATE") ?? false);
    const task: Task = {
      attachments: [],
      availabilityZone: `${this.#config.region}a`,
      clusterArn: spec.clusterArn,
      connectivity: "CONNECTED",
      connectivityAt: now,
      containers,
      createdAt: now,
      desiredStatus: "RUNNING",
      enableExecuteCommand: spec.enableExecuteCommand ?? false,
      group: spec.group ?? `family:${family}`,
      healthStatus: "UNKNOWN",
      lastStatus: networkMode === "awsvpc" ? "PROVISIONING" : "PENDING",
      overrides,
      taskArn,
      taskDefinitionArn: td.taskDefinitionArn ?? this.#arns.taskDefinition(family, revision),
      version: 1,
    };
    if (launchType !== undefined) task.launchType = launchType;
    if (spec.capacityProviderName !== undefined) task.capacityProviderName = spec.capacityProviderName;
    const cpu = spec.overrides?.cpu ?? td.cpu;
    if (cpu !== undefined) task.cpu = cpu;
    const memory = spec.overrides?.memory ?? td.memory;
    if (memory !== undefined) task.memory = memory;
    if (spec.startedBy !== undefined) task.startedBy = spec.startedBy;
    if (fargate) {
      task.platformVersion = spec.platformVersion === undefined || spec.platformVersion === "LATEST" ? "1.4.0" : spec.platformVersion;
      task.platformFamily = "Linux";
      task.ephemeralStorage = { sizeInGiB: spec.overrides?.ephemeralStorage?.sizeInGiB ?? td.ephemeralStorage?.sizeInGiB ?? 20 };
    } else if (spec.platformVersion !== undefined) {
      task.platformVersion = spec.platformVersion;
    }

    const plan = taskVolumePlan(td, family, revision, randomHex20(), { [MANAGED_LABEL]: "true", [ECS_LABELS.taskArn]: taskArn });
    const state: TaskRuntimeState = {
      v: 1,
      taskDefinition: td,
      overrides: spec.overrides ?? {},
      networkMode,
      provisioned: false,
      deprovisioned: false,
      reachedRunning: false,
      cleanedUp: false,
      volumes: plan.toEnsure,
      volumeBindings: plan.volumes,
      extraNetworks: [],
      containers: defs.map((def) => ({
        name: def.name ?? "",
        dockerName: dockerContainerName(family, revision, def.name ?? ""),
        essential: def.essential ?? true,
        known: "NONE",
        desiredStopped: false,
        health: "UNKNOWN",
      })),
    };
    // With the pool, provisioning picks the network.
    if ((networkMode === "bridge" || networkMode === "awsvpc") && this.#pool === undefined) state.networkName = `ecs-task-${taskId}`;
    if (networkMode === "awsvpc") {
      const attachmentId = randomUUID();
      const mac = macAddress();
      state.pause = { dockerName: dockerContainerName(family, revision, "internalecspause"), macAddress: mac };
      const attachment: Attachment = {
        id: attachmentId,
        type: "ElasticNetworkInterface",
        status: "PRECREATED",
        details: [
          { name: "subnetId", value: spec.networkConfiguration?.awsvpcConfiguration?.subnets[0] ?? "subnet-local" },
          { name: "networkInterfaceId", value: `eni-${randomBytes(9).toString("hex").slice(0, 17)}` },
          { name: "macAddress", value: mac },
        ],
      };
      task.attachments = [attachment];
    }

    const w: Working = { task, state, ops: new Set(), fingerprint: fingerprintOf(task), stoppedNotified: false };
    if (spec.clientToken !== undefined) w.clientToken = spec.clientToken;
    this.#work.set(taskArn, w);
    this.store.put(task, state, spec.clientToken);
    this.#emit(w);

    const invalid = validateGraph(defs);
    if (invalid !== undefined) {
      this.#failTask(w, namedError("CannotStartContainerError", invalid));
    }
    queueMicrotask(() => this.#step(w));
    return this.store.get(taskArn) ?? task;
  }

  /**
   * desiredStatus STOPPED, then SIGTERM/SIGKILL each container in reverse dependency order. A task
   * already desired STOPPED is returned unchanged. Undefined when the task is unknown.
   */
  stopTask(taskArn: string, reason?: string): Task | undefined {
    const w = this.#work.get(taskArn);
    if (w === undefined) return this.store.get(taskArn);
    if (w.task.desiredStatus === "STOPPED") return this.store.get(taskArn);
    this.#setDesiredStopped(w, STOP_CODES.userInitiated, reason ?? STOPPED_REASONS.userInitiated);
    this.#step(w);
    return this.store.get(taskArn);
  }

  /** Drops stopped tasks older than the retention; runs on a timer, callable by tests. */
  purge(): string[] {
    const before = new Date(this.#clock.now().getTime() - this.#config.stoppedTaskRetentionMs);
    const purged = this.store.purgeStoppedBefore(before);
    for (const arn of purged) {
      const w = this.#work.get(arn);
      // Keep bookkeeping of tasks whose containers still await cleanup.
      if (w !== undefined && w.state.cleanedUp) this.#work.delete(arn);
    }
    if (purged.length > 0) for (const h of this.#hooks) safely(this.#logger, () => h.onTasksPurged?.(purged));
    return purged;
  }

  // ---------------------------------------------------------------- the state machine

  #step(w: Working): void {
    if (this.#closed) return;
    const { task, state } = w;
    if (task.lastStatus === "STOPPED") {
      this.#commit(w);
      return;
    }
    const now = this.#clock.now();
    const defs = state.taskDefinition.containerDefinitions ?? [];

    if (task.desiredStatus !== "STOPPED") {
      if (!state.provisioned) {
        this.#launch(w, "task:provision", () => this.#provision(w));
      } else {
        let deadline: number | undefined;
        for (const c of state.containers) {
          if (w.ops.has(c.name) || c.desiredStopped || c.known === "RUNNING" || c.known === "STOPPED") continue;
          const res = resolveNextTransition(c.name, defs, graphStates(state), now);
          if (res.kind === "blocked") {
            this.#failContainer(w, c, namedError("CannotStartContainerError", res.message), DEPENDENCY_FAILURE_EXIT_CODE);
          } else if (res.kind === "ready") {
            if (c.known === "CREATED") this.#launch(w, c.name, () => this.#startContainer(w, c));
            else this.#launch(w, c.name, () => this.#createContainer(w, c));
          } else if (res.deadline !== undefined) {
            deadline = Math.min(deadline ?? Infinity, res.deadline.getTime());
          }
        }
        this.#scheduleDeadline(w, deadline);
      }
      const decision = essentialStopDecision(
        state.containers.map((c) => ({
          essential: c.essential,
          known: c.known,
          failedToStart: c.failedToStart === true,
          vanished: c.vanished === true,
          reason: c.reason,
        })),
        state.reachedRunning,
      );
      if (decision !== undefined) this.#setDesiredStopped(w, decision.stopCode, decision.stoppedReason);
    }

    if (task.desiredStatus === "STOPPED") {
      // Dependents stop before their dependencies; containers that never ran just become STOPPED.
      let changed = true;
      while (changed) {
        changed = false;
        for (const c of state.containers) {
          if (c.known === "STOPPED" || w.ops.has(c.name)) continue;
          c.desiredStopped = true;
          if (KNOWN_STATUS_RANK[c.known] < KNOWN_STATUS_RANK.RUNNING) {
            c.known = "STOPPED";
            changed = true;
          } else if (!c.stopIssued && canStop(c.name, defs, graphStates(state))) {
            c.stopIssued = true;
            this.#launch(w, c.name, () => this.#stopContainer(w, c));
          }
        }
      }
      if (state.containers.every((c) => c.known === "STOPPED") && !state.deprovisioned && !w.ops.has("task:provision")) {
        this.#launch(w, "task:deprovision", () => this.#deprovision(w));
      }
    }

    task.healthStatus = taskHealthStatus(
      state.containers.map((c, i) => ({
        essential: c.essential,
        hasHealthCheck: defs[i]?.healthCheck !== undefined,
        health: c.health,
      })),
    );

    // Walk the lifecycle one status at a time so every visible status gets its own version.
    for (;;) {
      const current = (task.lastStatus ?? "PENDING") as Parameters<typeof deriveTaskStatus>[0]["current"];
      const next = deriveTaskStatus({
        networkMode: state.networkMode,
        current,
        desiredStopped: task.desiredStatus === "STOPPED",
        provisioned: state.provisioned,
        deprovisioned: state.deprovisioned,
        containers: state.containers.map((c) => c.known),
      });
      if (next === current) break;
      task.lastStatus = next;
      if (next === "RUNNING") {
        state.reachedRunning = true;
        task.startedAt ??= this.#clock.now();
        // Now, not at acquire: creating spares must not slow down this task's own start.
        if (state.networkName !== undefined) void this.#pool?.replenish(clusterNameOfArn(task.clusterArn ?? ""));
      }
      if (next === "STOPPED") {
        task.stoppedAt = this.#clock.now();
        // A container can exit before its start is even observed; the task still ran, as ECS would
        // report it: started when the last of its containers started.
        const started = state.containers.flatMap((c) => (c.startedAt === undefined ? [] : [c.startedAt]));
        if (task.startedAt === undefined && started.length > 0 && !state.containers.some((c) => c.failedToStart === true)) {
          task.startedAt = new Date(Math.max(...started));
        }
      }
      this.#commit(w);
    }
    this.#commit(w);

    if (task.lastStatus === "STOPPED" && !w.stoppedNotified) {
      w.stoppedNotified = true;
      if (w.deadlineTimer !== undefined) clearTimeout(w.deadlineTimer);
      this.#scheduleCleanup(w);
      const snapshot = this.store.get(task.taskArn ?? "");
      if (snapshot !== undefined) for (const h of this.#hooks) safely(this.#logger, () => h.onTaskStopped?.(snapshot));
    }
  }

  /** Runs one Docker operation for a container (or the task) and steps again when it settles. */
  #launch(w: Working, key: string, op: () => Promise<void>): void {
    if (w.ops.has(key)) return;
    w.ops.add(key);
    void op()
      .catch((err: unknown) => {
        this.#logger.error("task-operation-failed", { taskArn: w.task.taskArn, op: key, error: err });
      })
      .finally(() => {
        w.ops.delete(key);
        this.#step(w);
      });
  }

  #setDesiredStopped(w: Working, stopCode: string, stoppedReason: string): void {
    const { task } = w;
    if (task.desiredStatus === "STOPPED") return;
    task.desiredStatus = "STOPPED";
    task.stopCode = stopCode as Task["stopCode"];
    task.stoppedReason = stoppedReason;
    task.stoppingAt = this.#clock.now();
    for (const c of w.state.containers) c.desiredStopped = true;
  }

  /** A task-level failure before any container could start (volumes, network, pause, invalid graph). */
  #failTask(w: Working, reason: string): void {
    for (const c of w.state.containers) {
      if (c.known !== "STOPPED") {
        c.known = "STOPPED";
        c.reason ??= reason;
        c.failedToStart = true;
      }
    }
    this.#setDesiredStopped(w, STOP_CODES.taskFailedToStart, reason);
  }

  #failContainer(w: Working, c: ContainerRecord, reason: string, exitCode?: number): void {
    if (c.known === "STOPPED") return;
    c.known = "STOPPED";
    c.reason = reason.slice(0, 1024);
    c.failedToStart = true;
    c.desiredStopped = true;
    if (exitCode !== undefined) c.exitCode = exitCode;
    c.finishedAt = this.#clock.now().getTime();
    this.#logger.info("container-failed", { taskArn: w.task.taskArn, container: c.name, reason });
  }

  #recordExit(w: Working, c: ContainerRecord, exitCode: number | undefined, at: Date, oomKilled: boolean): void {
    if (c.known === "STOPPED") return;
    c.known = "STOPPED";
    if (exitCode !== undefined) c.exitCode = exitCode;
    c.finishedAt = at.getTime();
    if (oomKilled || c.oomKilled === true) c.reason = "OutOfMemoryError: Container killed due to memory usage";
    if (c.essential) w.task.executionStoppedAt ??= at;
    this.#logger.info("container-exited", { taskArn: w.task.taskArn, container: c.name, exitCode });
  }

  #vanished(w: Working, c: ContainerRecord): void {
    if (c.known === "STOPPED") return;
    c.known = "STOPPED";
    c.vanished = true;
    c.reason = `ContainerVanishedError: container ${c.dockerName} was removed outside of ECS`;
    c.finishedAt = this.#clock.now().getTime();
    if (c.essential) w.task.executionStoppedAt ??= this.#clock.now();
  }

  // ---------------------------------------------------------------- Docker operations

  async #provision(w: Working): Promise<void> {
    const { task, state } = w;
    const labels = this.#labels(w);
    try {
      const extras: TaskProvisionExtras = {};
      for (const h of this.#hooks) {
        const more = await h.beforeProvision?.(this.store.get(task.taskArn ?? "") ?? task, state.taskDefinition);
        if (more?.networks !== undefined) (extras.networks ??= []).push(...more.networks);
        if (more?.extraHosts !== undefined) (extras.extraHosts ??= []).push(...more.extraHosts);
      }
      state.extraNetworks = unique([...this.#config.externalNetworks, ...(extras.networks ?? [])]);

      // Volumes and the network are independent; settle both so a failure of one never leaves the
      // other in flight once provisioning is over.
      const settled = await Promise.allSettled([this.#provisionVolumes(w), this.#provisionNetwork(w, labels)]);
      for (const r of settled) if (r.status === "rejected") throw r.reason;

      if (state.networkMode === "awsvpc" && state.pause !== undefined) {
        await this.#startPause(w, extras, labels);
      }
    } catch (err) {
      if (this.#closed) return;
      this.#failTask(w, namedError("ResourceInitializationError", messageOf(err)));
      return;
    }
    if (this.#closed) return;
    state.provisioned = true;
    const eni = task.attachments?.find((a) => a.type === "ElasticNetworkInterface");
    if (eni !== undefined) eni.status = "ATTACHED";
  }

  async #provisionVolumes(w: Working): Promise<void> {
    for (const v of w.state.volumes) {
      if (v.ensure === "create" || v.ensure === "create-if-missing") {
        if (v.ensure === "create-if-missing" && (await this.#runtime.volumeExists(v.name))) continue;
        await this.#runtime
          .createVolume({ name: v.name, driver: v.driver, driverOpts: v.driverOpts, labels: v.labels })
          .catch((err: unknown) => {
            throw new Error(namedError("CannotCreateVolumeError", messageOf(err)));
          });
      } else if (!(await this.#runtime.volumeExists(v.name))) {
        throw new Error(`CannotCreateVolumeError: volume '${v.name}' does not exist and autoprovision is set to false`);
      }
    }
  }

  async #provisionNetwork(w: Working, labels: Record<string, string>): Promise<void> {
    const { state } = w;
    if (state.networkMode !== "bridge" && state.networkMode !== "awsvpc") return;
    if (this.#pool === undefined) {
      if (state.networkName === undefined) return;
      await this.#runtime.removeNetwork(state.networkName);
      await this.#runtime.createNetwork(state.networkName, labels);
      return;
    }
    const cluster = clusterNameOfArn(w.task.clusterArn ?? "");
    // A retry after a restart: the network taken last time holds no container yet; hand it back first.
    if (state.networkName !== undefined) await this.#pool.release(cluster, state.networkName).catch(() => {});
    state.networkName = await this.#pool.acquire(cluster);
    state.networkReleased = false;
    // Persist at once, so a restart knows the network is this task's.
    this.#commit(w);
  }

  async #startPause(w: Working, extras: TaskProvisionExtras, labels: Record<string, string>): Promise<void> {
    const { state } = w;
    const pause = state.pause!;
    const defs = state.taskDefinition.containerDefinitions ?? [];
    const spec = await this.#pauseSpec(defs[0]?.image ?? "");
    const ports = portBindingsFor(defs);
    const options: Dockerode.ContainerCreateOptions = {
      name: pause.dockerName,
      Image: spec.image,
      Labels: { ...labels, [ECS_LABELS.containerName]: PAUSE_CONTAINER_NAME },
      ExposedPorts: ports.ExposedPorts,
      HostConfig: {
        NetworkMode: state.networkName ?? "bridge",
        PortBindings: ports.PortBindings,
        ExtraHosts: extras.extraHosts ?? [],
        Init: spec.entrypoint !== undefined,
      },
    };
    if (pause.macAddress !== undefined) options.MacAddress = pause.macAddress;
    if (spec.entrypoint !== undefined) options.Entrypoint = spec.entrypoint;
    if (spec.cmd !== undefined) options.Cmd = spec.cmd;
    if (pause.runtimeId !== undefined) await this.#runtime.removeContainer(pause.runtimeId, { force: true });
    pause.runtimeId = await this.#runtime.createContainer(options);
    this.#commit(w);
    for (const net of state.extraNetworks) await this.#runtime.connectNetwork(net, pause.runtimeId);
    await this.#runtime.startContainer(pause.runtimeId);
    const snap = await this.#runtime.inspectContainer(pause.runtimeId);
    if (snap !== undefined) pause.bindings = bindingsOf(snap);
    const ip = state.networkName === undefined ? undefined : snap?.networks[state.networkName]?.ipAddress;
    if (ip !== undefined && ip !== "") {
      pause.ipv4 = ip;
      const eni = w.task.attachments?.find((a) => a.type === "ElasticNetworkInterface");
      eni?.details?.push(
        { name: "privateDnsName", value: `ip-${ip.replaceAll(".", "-")}.ec2.internal` },
        { name: "privateIPv4Address", value: ip },
      );
    }
  }

  async #pauseSpec(taskImage: string): Promise<PauseSpec> {
    if (this.#pause !== undefined) {
      if (!(await this.#runtime.imageExists(this.#pause.image))) await this.#ensureImage(this.#pause.image);
      return this.#pause;
    }
    for (const candidate of KNOWN_PAUSE_IMAGES) {
      if (await this.#runtime.imageExists(candidate.image)) return candidate;
    }
    await this.#ensureImage(taskImage);
    return { image: taskImage, entrypoint: ["sleep"], cmd: ["2147483647"] };
  }

  async #ensureImage(image: string): Promise<void> {
    if (await this.#runtime.imageExists(image)) return;
    let pull = this.#pulls.get(image);
    if (pull === undefined) {
      const log = this.#logger.child({ image });
      log.info("image-pull-started");
      // Layer state changes (Pulling fs layer, Download complete, Pull complete …) are worth an info
      // line each; the byte-level progress bars are only for debug.
      const lastStatus = new Map<string, string>();
      pull = this.#runtime
        .pullImage(image, (p) => {
          const key = p.id ?? "";
          if (p.status !== undefined && lastStatus.get(key) !== p.status) {
            lastStatus.set(key, p.status);
            log.info("image-pull-progress", { layer: p.id, status: p.status });
          } else log.debug("image-pull-progress", { layer: p.id, status: p.status, progress: p.progress });
        })
        .then(() => log.info("image-pull-finished"))
        .finally(() => this.#pulls.delete(image));
      this.#pulls.set(image, pull);
    }
    await pull;
  }

  async #createContainer(w: Working, c: ContainerRecord): Promise<void> {
    const { task, state } = w;
    const td = state.taskDefinition;
    const def = (td.containerDefinitions ?? []).find((d) => d.name === c.name);
    if (def === undefined) return;
    const image = def.image ?? "";

    task.pullStartedAt ??= this.#clock.now();
    this.#commit(w);
    // One inspect answers both "is it here?" and the digest/env; only a missing image costs a pull.
    let img: ImageSnapshot | undefined;
    try {
      img = await this.#runtime.inspectImage(image);
      if (img === undefined) await this.#ensureImage(image);
    } catch (err) {
      if (this.#closed) return;
      task.pullStoppedAt = this.#clock.now();
      this.#failContainer(w, c, namedError("CannotPullContainerError", `pull image manifest has been retried 1 time(s): ${messageOf(err)}`));
      return;
    }
    if (this.#closed) return;
    task.pullStoppedAt = this.#clock.now();
    if (KNOWN_STATUS_RANK[c.known] < KNOWN_STATUS_RANK.PULLED) c.known = "PULLED";
    if (c.desiredStopped) return;

    const override = overrideFor(state.overrides, c.name);
    const extras: ContainerCreateExtras = {};
    let imageEnv: string[] = [];
    try {
      for (const h of this.#hooks) {
        const more = await h.beforeCreate?.({
          task: this.store.get(task.taskArn ?? "") ?? task,
          taskDefinition: td,
          containerName: c.name,
          definition: def,
          override,
          dockerName: c.dockerName,
        });
        if (more !== undefined) mergeExtras(extras, more);
      }
      img ??= await this.#runtime.inspectImage(image);
      if (img !== undefined) {
        const digest = img.repoDigests[0]?.split("@")[1];
        c.imageDigest = digest ?? img.id;
        imageEnv = img.env ?? [];
      }
    } catch (err) {
      if (this.#closed) return;
      this.#failContainer(w, c, namedError("ResourceInitializationError", messageOf(err)));
      return;
    }
    if (this.#closed || c.desiredStopped) return;

    let id: string;
    try {
      const family = td.family ?? "";
      const revision = td.revision ?? 0;
      const taskId = taskIdOf(task.taskArn ?? "");
      const input: Parameters<typeof buildContainerCreateOptions>[0] = {
        taskArn: task.taskArn ?? "",
        clusterName: clusterNameOfArn(task.clusterArn ?? ""),
        family,
        revision,
        taskId,
        definition: def,
        networkMode: state.networkMode,
        dockerName: c.dockerName,
        siblings: Object.fromEntries(state.containers.map((s) => [s.name, s.dockerName])),
        volumes: state.volumeBindings,
        extraLabels: { ...extras.labels, [MANAGED_LABEL]: "true" },
        defaultStopTimeout: this.#defaultStopTimeoutSec,
        imageEnv,
      };
      if (override !== undefined) input.override = override;
      if (state.pause?.runtimeId !== undefined) input.networkContainerId = state.pause.runtimeId;
      if (state.networkMode === "bridge" && state.networkName !== undefined) input.taskNetwork = state.networkName;
      if (extras.env !== undefined) input.extraEnv = extras.env;
      if (extras.secretEnv !== undefined) input.secretEnv = extras.secretEnv;
      if (extras.envFileEnv !== undefined) input.envFileEnv = extras.envFileEnv;
      if (extras.extraHosts !== undefined) input.extraHosts = extras.extraHosts;
      const taskCpu = parseTaskCpu(task.cpu);
      if (taskCpu !== undefined) input.taskCpu = taskCpu;
      const taskMemory = parseTaskMemory(task.memory);
      if (taskMemory !== undefined) input.taskMemory = taskMemory;
      const options = buildContainerCreateOptions(input);
      id = await this.#runtime.createContainer(options);
    } catch (err) {
      if (this.#closed) return;
      this.#failContainer(w, c, namedError("CannotCreateContainerError", messageOf(err)));
      return;
    }
    if (this.#closed) return;
    c.runtimeId = id;
    if (KNOWN_STATUS_RANK[c.known] < KNOWN_STATUS_RANK.CREATED) c.known = "CREATED";
    this.#commit(w);

    if (state.networkMode === "bridge") {
      const nets = unique([...state.extraNetworks, ...(extras.networks ?? [])]);
      try {
        await Promise.all(nets.map((net) => this.#runtime.connectNetwork(net, id, [c.name])));
      } catch (err) {
        if (this.#closed) return;
        this.#failContainer(w, c, namedError("CannotCreateContainerError", messageOf(err)));
      }
    }
  }

  async #startContainer(w: Working, c: ContainerRecord): Promise<void> {
    const id = c.runtimeId;
    if (id === undefined) return;
    try {
      await this.#runtime.startContainer(id);
    } catch (err) {
      if (this.#closed) return;
      if (err instanceof RuntimeError && err.statusCode === 404) this.#vanished(w, c);
      else this.#failContainer(w, c, namedError("CannotStartContainerError", messageOf(err)));
      return;
    }
    if (this.#closed) return;
    let snap: ContainerSnapshot | undefined;
    try {
      snap = await this.#runtime.inspectContainer(id);
    } catch (err) {
      this.#logger.warn("inspect-failed", { taskArn: w.task.taskArn, container: c.name, error: err });
    }
    if (this.#closed) return;
    if (snap === undefined) {
      if (c.known !== "STOPPED") c.known = "RUNNING";
      return;
    }
    this.#applySnapshot(w, c, snap);
    this.#commit(w);
    const fresh = this.store.get(w.task.taskArn ?? "");
    if (fresh !== undefined) for (const h of this.#hooks) safely(this.#logger, () => h.onContainerStarted?.(fresh, c.name, snap));
  }

  /** Folds an inspect result into the container record (start, reconcile). */
  #applySnapshot(w: Working, c: ContainerRecord, snap: ContainerSnapshot): void {
    if (snap.state.startedAt !== undefined) c.startedAt ??= snap.state.startedAt.getTime();
    c.networks = Object.fromEntries(Object.entries(snap.networks).map(([k, v]) => [k, v.ipAddress]));
    const defs = w.state.taskDefinition.containerDefinitions ?? [];
    const def = defs.find((d) => d.name === c.name);
    if (def?.healthCheck !== undefined) c.health = containerHealthFromDocker(snap.state.health);
    if (w.state.networkMode === "awsvpc") {
      c.networkBindings = this.#pauseBindings(w, def);
    } else {
      c.networkBindings = bindingsOf(snap);
    }
    if (snap.state.running) {
      if (KNOWN_STATUS_RANK[c.known] < KNOWN_STATUS_RANK.RUNNING) c.known = "RUNNING";
    } else if (snap.state.status === "exited" || snap.state.status === "dead") {
      if (c.known === "CREATED" && snap.state.startedAt === undefined) return;
      this.#recordExit(w, c, snap.state.exitCode, snap.state.finishedAt ?? this.#clock.now(), snap.state.oomKilled);
    }
  }

  #pauseBindings(w: Working, def: ContainerDefinition | undefined): NetworkBinding[] {
    const mine = new Set((def?.portMappings ?? []).map((p) => p.containerPort));
    return (w.state.pause?.bindings ?? []).filter((b) => mine.has(b.containerPort));
  }

  async #stopContainer(w: Working, c: ContainerRecord): Promise<void> {
    const id = c.runtimeId;
    if (id === undefined) {
      c.known = "STOPPED";
      return;
    }
    const def = (w.state.taskDefinition.containerDefinitions ?? []).find((d) => d.name === c.name);
    const timeout = def?.stopTimeout !== undefined && def.stopTimeout > 0 ? def.stopTimeout : this.#defaultStopTimeoutSec;
    try {
      await this.#runtime.stopContainer(id, timeout);
    } catch (err) {
      if (this.#closed) return;
      if (err instanceof RuntimeError && err.statusCode === 404) {
        this.#vanished(w, c);
        return;
      }
      this.#logger.warn("container-stop-failed", { taskArn: w.task.taskArn, container: c.name, error: err });
      await this.#runtime.killContainer(id).catch(() => {});
    }
    if (this.#closed || isStopped(c)) return;
    const snap = await this.#runtime.inspectContainer(id).catch(() => undefined);
    if (this.#closed || isStopped(c)) return;
    if (snap === undefined) this.#vanished(w, c);
    else if (!snap.state.running) {
      this.#recordExit(w, c, snap.state.exitCode, snap.state.finishedAt ?? this.#clock.now(), snap.state.oomKilled);
    } else {
      // Still running after stop: allow another attempt on the next step.
      c.stopIssued = false;
    }
  }

  async #deprovision(w: Working): Promise<void> {
    const { state } = w;
    try {
      if (state.pause?.runtimeId !== undefined) {
        await this.#runtime.killContainer(state.pause.runtimeId);
        await this.#runtime.removeContainer(state.pause.runtimeId, { force: true });
      }
      const network = state.networkName;
      if (network !== undefined && state.networkReleased !== true) {
        // Stopped containers stay (for `docker logs`) until cleanup, but must not pin the network: a
        // Docker host only has room for a limited number of bridge networks, and a recycled network
        // must hold nothing of this task.
        await Promise.all(state.containers.map((c) => (c.runtimeId === undefined ? undefined : this.#runtime.disconnectNetwork(network, c.runtimeId))));
        if (this.#pool !== undefined) await this.#pool.release(clusterNameOfArn(w.task.clusterArn ?? ""), network);
        else await this.#runtime.removeNetwork(network);
        state.networkReleased = true;
      }
    } catch (err) {
      this.#logger.warn("task-deprovision-failed", { taskArn: w.task.taskArn, error: err });
    }
    if (this.#closed) return;
    state.deprovisioned = true;
    const eni = w.task.attachments?.find((a) => a.type === "ElasticNetworkInterface");
    if (eni !== undefined) eni.status = "DELETED";
  }

  #scheduleCleanup(w: Working): void {
    if (w.state.cleanedUp || w.cleanupTimer !== undefined || this.#closed) return;
    const stoppedAt = w.task.stoppedAt?.getTime() ?? this.#clock.now().getTime();
    const delay = Math.max(0, stoppedAt + this.#config.containerCleanupDelayMs - this.#clock.now().getTime());
    w.cleanupTimer = setTimeout(() => {
      w.cleanupTimer = undefined;
      void this.cleanup(w.task.taskArn ?? "");
    }, Math.min(delay, 2 ** 31 - 1));
    w.cleanupTimer.unref();
  }

  /** Removes a stopped task's containers and task-scoped volumes (normally after containerCleanupDelayMs). */
  async cleanup(taskArn: string): Promise<void> {
    const w = this.#work.get(taskArn);
    if (w === undefined || w.task.lastStatus !== "STOPPED" || w.state.cleanedUp) return;
    const { state } = w;
    for (const c of state.containers) {
      if (c.runtimeId !== undefined) await this.#runtime.removeContainer(c.runtimeId, { force: true }).catch((err: unknown) => {
        this.#logger.warn("container-remove-failed", { taskArn, container: c.name, error: err });
      });
    }
    if (state.pause?.runtimeId !== undefined) await this.#runtime.removeContainer(state.pause.runtimeId, { force: true }).catch(() => {});
    // A released network may already serve another task.
    if (state.networkName !== undefined && state.networkReleased !== true) await this.#runtime.removeNetwork(state.networkName).catch(() => {});
    for (const v of state.volumes) {
      if (v.scope === "task") await this.#runtime.removeVolume(v.name).catch(() => {});
    }
    if (this.#closed) return;
    state.cleanedUp = true;
    this.#commit(w);
    // Nothing is left to drive: the stored snapshot and bookkeeping serve every read from here on (as
    // after a restart, which does not re-adopt cleaned-up tasks), so the working copy is not kept.
    this.#work.delete(taskArn);
  }

  #scheduleDeadline(w: Working, deadline: number | undefined): void {
    if (w.deadlineTimer !== undefined) {
      clearTimeout(w.deadlineTimer);
      w.deadlineTimer = undefined;
    }
    if (deadline === undefined) return;
    const delay = Math.max(0, deadline - this.#clock.now().getTime()) + 5;
    w.deadlineTimer = setTimeout(() => {
      w.deadlineTimer = undefined;
      this.#step(w);
    }, delay);
    w.deadlineTimer.unref();
  }

  // ---------------------------------------------------------------- events and reconciliation

  #onEvent(event: { action: string; id: string; attributes: Record<string, string>; time: Date; exitCode?: number; health?: "starting" | "healthy" | "unhealthy" }): void {
    if (this.#closed) return;
    const arn = event.attributes[ECS_LABELS.taskArn];
    const w = arn === undefined ? undefined : this.#work.get(arn);
    if (w === undefined) return;
    const name = event.attributes[ECS_LABELS.containerName];
    if (name === PAUSE_CONTAINER_NAME) {
      if (event.action === "die" && w.task.desiredStatus !== "STOPPED") {
        this.#logger.warn("pause-container-died", { taskArn: arn });
      }
      return;
    }
    const c = w.state.containers.find((x) => x.name === name);
    if (c === undefined || (c.runtimeId !== undefined && c.runtimeId !== event.id)) return;
    switch (event.action) {
      case "oom":
        c.oomKilled = true;
        break;
      case "die":
        c.runtimeId ??= event.id;
        this.#recordExit(w, c, event.exitCode, event.time, c.oomKilled === true);
        break;
      case "health_status": {
        // Image HEALTHCHECKs are not monitored, only the task definition's.
        const def = (w.state.taskDefinition.containerDefinitions ?? []).find((d) => d.name === c.name);
        if (c.known !== "STOPPED" && def?.healthCheck !== undefined) c.health = containerHealthFromDocker(event.health);
        break;
      }
      case "start":
        if (!w.ops.has(c.name) && c.known === "CREATED") {
          c.known = "RUNNING";
          c.startedAt ??= event.time.getTime();
        }
        break;
      case "destroy":
        this.#vanished(w, c);
        break;
      default:
        return;
    }
    this.#step(w);
  }

  /** Brings every live task in line with Docker (start-up and every events reconnect). */
  reconcile(): Promise<void> {
    if (this.#reconciling !== undefined) {
      this.#reconcileAgain = true;
      return this.#reconciling;
    }
    this.#reconciling = (async () => {
      do {
        this.#reconcileAgain = false;
        for (const w of [...this.#work.values()]) {
          if (this.#closed) return;
          if (w.task.lastStatus === "STOPPED") continue;
          try {
            await this.#reconcileTask(w);
          } catch (err) {
            this.#logger.warn("reconcile-failed", { taskArn: w.task.taskArn, error: err });
          }
          this.#step(w);
        }
      } while (this.#reconcileAgain && !this.#closed);
    })().finally(() => {
      this.#reconciling = undefined;
    });
    return this.#reconciling;
  }

  async #reconcileTask(w: Working): Promise<void> {
    const { state } = w;
    const missingIds = state.containers.some((c) => c.runtimeId === undefined && c.known !== "STOPPED" && !w.ops.has(c.name));
    let byName = new Map<string, ContainerSnapshot>();
    if (missingIds) {
      const found = await this.#runtime.listContainers([`${ECS_LABELS.taskArn}=${w.task.taskArn ?? ""}`]);
      byName = new Map(found.map((s) => [s.labels[ECS_LABELS.containerName] ?? "", s]));
      const pause = byName.get(PAUSE_CONTAINER_NAME);
      if (state.pause !== undefined && state.pause.runtimeId === undefined && pause !== undefined) state.pause.runtimeId = pause.id;
    }
    for (const c of state.containers) {
      if (w.ops.has(c.name) || c.known === "STOPPED") continue;
      if (c.runtimeId === undefined) {
        const adopted = byName.get(c.name);
        if (adopted === undefined) continue;
        c.runtimeId = adopted.id;
        if (KNOWN_STATUS_RANK[c.known] < KNOWN_STATUS_RANK.CREATED) c.known = "CREATED";
        this.#applySnapshot(w, c, adopted);
        continue;
      }
      const snap = await this.#runtime.inspectContainer(c.runtimeId);
      if (this.#closed || w.ops.has(c.name)) continue;
      if (snap === undefined) this.#vanished(w, c);
      else this.#applySnapshot(w, c, snap);
    }
    if (state.networkMode === "awsvpc" && state.pause?.runtimeId !== undefined && state.provisioned) {
      await this.#refreshPauseBindings(w);
    }
  }

  async #refreshPauseBindings(w: Working): Promise<void> {
    const id = w.state.pause?.runtimeId;
    if (id === undefined) return;
    const snap = await this.#runtime.inspectContainer(id).catch(() => undefined);
    if (snap !== undefined && w.state.pause !== undefined) w.state.pause.bindings = bindingsOf(snap);
  }

  // ---------------------------------------------------------------- rendering and persistence

  #labels(w: Working): Record<string, string> {
    const td = w.state.taskDefinition;
    return {
      [MANAGED_LABEL]: "true",
      [ECS_LABELS.taskArn]: w.task.taskArn ?? "",
      [ECS_LABELS.family]: td.family ?? "",
      [ECS_LABELS.version]: String(td.revision ?? 0),
      [ECS_LABELS.cluster]: clusterNameOfArn(w.task.clusterArn ?? ""),
    };
  }

  /** Renders containers into the task; saves (bumping `version`) when anything visible changed. */
  #commit(w: Working): void {
    if (this.#closed) return;
    const { task, state } = w;
    const eni = task.attachments?.find((a) => a.type === "ElasticNetworkInterface");
    task.containers = (task.containers ?? []).map((prev) => {
      const c = state.containers.find((x) => x.name === prev.name);
      if (c === undefined) return prev;
      const out: Container = { ...prev, lastStatus: containerBackendStatus(c.known), healthStatus: c.health };
      if (c.runtimeId !== undefined) out.runtimeId = c.runtimeId;
      if (c.imageDigest !== undefined) out.imageDigest = c.imageDigest;
      if (c.exitCode !== undefined) out.exitCode = c.exitCode;
      if (c.reason !== undefined) out.reason = c.reason;
      if (c.networkBindings !== undefined) out.networkBindings = c.networkBindings;
      if (eni?.id !== undefined && state.pause?.ipv4 !== undefined) {
        out.networkInterfaces = [{ attachmentId: eni.id, privateIpv4Address: state.pause.ipv4 }];
      }
      if (out.managedAgents !== undefined) {
        out.managedAgents = out.managedAgents.map((a) => {
          const agent = { ...a, lastStatus: containerBackendStatus(c.known) as string };
          if (c.startedAt !== undefined) agent.lastStartedAt = new Date(c.startedAt);
          return agent;
        });
      }
      return out;
    });
    const fp = fingerprintOf(task);
    const stateFp = digest(JSON.stringify(state));
    if (fp !== w.fingerprint) {
      task.version = (task.version ?? 0) + 1;
      w.fingerprint = fp;
      w.stateFingerprint = stateFp;
      this.store.put(task, state, w.clientToken);
      this.#emit(w);
    } else if (stateFp !== w.stateFingerprint) {
      // Bookkeeping only (container ids, …): persist without a new version.
      w.stateFingerprint = stateFp;
      this.store.put(task, state, w.clientToken);
    }
  }

  #emit(w: Working): void {
    const snapshot = this.store.get(w.task.taskArn ?? "");
    if (snapshot === undefined) return;
    for (const l of this.#listeners) safely(this.#logger, () => l(snapshot));
  }
}

// ---------------------------------------------------------------- helpers

function graphStates(state: TaskRuntimeState): Map<string, GraphContainerState> {
  return new Map(
    state.containers.map((c) => [
      c.name,
      {
        known: c.known as KnownStatus,
        desiredStopped: c.desiredStopped,
        exitCode: c.exitCode,
        health: c.health,
        startedAt: c.startedAt === undefined ? undefined : new Date(c.startedAt),
      },
    ]),
  );
}

/** Re-reads the status, which events may have changed while we awaited (defeats TS narrowing). */
function isStopped(c: ContainerRecord): boolean {
  return c.known === "STOPPED";
}

function bindingsOf(snap: ContainerSnapshot): NetworkBinding[] {
  return snap.ports.map((p) => ({ bindIP: p.hostIp, containerPort: p.containerPort, hostPort: p.hostPort, protocol: p.protocol }));
}

function overrideFor(overrides: TaskOverride | undefined, name: string | undefined): ContainerOverride | undefined {
  return overrides?.containerOverrides?.find((o) => o.name === name);
}

/** The task's `overrides` as ECS echoes them: every container listed, `{name}` when not overridden. */
export function echoOverrides(overrides: TaskOverride | undefined, defs: readonly ContainerDefinition[]): TaskOverride {
  const out: TaskOverride = {
    containerOverrides: defs.map((d) => ({ ...overrideFor(overrides, d.name), name: d.name ?? "" })),
    inferenceAcceleratorOverrides: overrides?.inferenceAcceleratorOverrides ?? [],
  };
  if (overrides?.cpu !== undefined) out.cpu = overrides.cpu;
  if (overrides?.memory !== undefined) out.memory = overrides.memory;
  if (overrides?.taskRoleArn !== undefined) out.taskRoleArn = overrides.taskRoleArn;
  if (overrides?.executionRoleArn !== undefined) out.executionRoleArn = overrides.executionRoleArn;
  if (overrides?.ephemeralStorage !== undefined) out.ephemeralStorage = overrides.ephemeralStorage;
  return out;
}

function defaultLaunchType(requires: readonly string[] | undefined): Task["launchType"] {
  if (requires !== undefined && requires.length > 0 && !requires.includes("EC2")) {
    return requires[0] as Task["launchType"];
  }
  return "EC2";
}

function mergeExtras(into: ContainerCreateExtras, more: ContainerCreateExtras): void {
  if (more.env !== undefined) into.env = { ...into.env, ...more.env };
  if (more.secretEnv !== undefined) into.secretEnv = { ...into.secretEnv, ...more.secretEnv };
  if (more.envFileEnv !== undefined) into.envFileEnv = { ...more.envFileEnv, ...into.envFileEnv };
  if (more.labels !== undefined) into.labels = { ...into.labels, ...more.labels };
  if (more.extraHosts !== undefined) into.extraHosts = [...(into.extraHosts ?? []), ...more.extraHosts];
  if (more.networks !== undefined) into.networks = [...(into.networks ?? []), ...more.networks];
}

function fingerprintOf(task: Task): string {
  const { version: _version, ...rest } = task;
  return digest(JSON.stringify(rest));
}

/** Fingerprints are only compared, so a digest is kept instead of a few KB of JSON per task. */
function digest(json: string): string {
  return hash("sha1", json, "base64");
}

function summary(task: Task | undefined): unknown {
  if (task === undefined) return undefined;
  return {
    lastStatus: task.lastStatus,
    desiredStatus: task.desiredStatus,
    stopCode: task.stopCode,
    stoppedReason: task.stoppedReason,
    containers: task.containers?.map((c) => ({ name: c.name, lastStatus: c.lastStatus, exitCode: c.exitCode, reason: c.reason, health: c.healthStatus })),
  };
}

function taskIdOf(taskArn: string): string {
  return taskArn.slice(taskArn.lastIndexOf("/") + 1);
}

function clusterNameOfArn(clusterArn: string): string {
  return clusterArn.slice(clusterArn.lastIndexOf("/") + 1);
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

/** A locally administered unicast MAC (02:42 is Docker's own prefix). */
function macAddress(): string {
  const bytes = [0x02, 0x42, ...randomBytes(4)];
  return bytes.map((b) => b.toString(16).padStart(2, "0")).join(":");
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function safely(logger: Logger, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    logger.warn("hook-failed", { error: err });
  }
}
