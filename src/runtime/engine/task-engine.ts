import { hash, randomBytes, randomUUID } from "node:crypto";
import type { Task } from "../../../generated/shapes.ts";
import type { Arns } from "../arns.ts";
import { newTaskId, regionOf } from "../arns.ts";
import type { BackendEvent, BackendTask, LogChunk, LogOptions, ObservedContainer, TaskBackend, TaskRuntimeFacts } from "../backend/task-backend.ts";
import { ContainerMissingError } from "../backend/task-backend.ts";
import type { Clock, Timer } from "../clock.ts";
import type { ExecBackend } from "../exec/exec-backend.ts";
import type { Config } from "../config.ts";
import type { Logger } from "../logger.ts";
import type { ArnPage, ClientTokenRecord, TaskCounts, TaskListFilter, TaskStore } from "../store/task-store.ts";
import { validateGraph } from "./dependency-graph.ts";
import type { RunTaskSpec, TaskEngineHooks, TaskRuntimeState } from "./engine-types.ts";
import { newTaskDocument, taskPlanOf, upgradeRuntimeState, type TaskDocument } from "./task-document.ts";
import { applyConnectivity, applyEvent, Reconciler } from "./task-reconciler.ts";
import { fingerprintOf, renderTask, summaryOf } from "./task-render.ts";
import { execOnTaskRuntimes } from "./task-exec.ts";
import { TaskHooks } from "./task-hooks.ts";
import { TaskRunner } from "./task-runner.ts";
import { STOP_CODES, STOPPED_REASONS, namedError } from "./task-status.ts";
import { actionKey, decideStep, enterStatus, failTask, nextTaskStatus, setDesiredStopped, type TaskAction } from "./task-transitions.ts";

export type { RunTaskSpec, TaskEngineHooks } from "./engine-types.ts";

export interface TaskEngineOptions {
  backend: TaskBackend;
  store: TaskStore;
  config: Pick<Config, "stoppedTaskRetentionMs" | "containerCleanupDelayMs" | "region">;
  arns: Arns;
  clock: Clock;
  logger: Logger;
  hooks?: TaskEngineHooks;
  /** Stop timeout for containers without stopTimeout (the agent's ECS_CONTAINER_STOP_TIMEOUT). */
  defaultStopTimeoutSec?: number;
  /** How often stopped tasks past retention are purged. */
  purgeIntervalMs?: number;
}

/** A live task: its document plus what is under way for it. */
export interface Working extends TaskDocument {
  /** Action keys (container names, "task:provision" …) with runtime work in flight. */
  ops: Set<string>;
  wakeTimer?: Timer | undefined;
  cleanupTimer?: Timer | undefined;
  fingerprint: string;
  stateFingerprint?: string;
  clientToken?: string;
  stoppedNotified: boolean;
  /** The document as the backend sees it. */
  backendTask: BackendTask;
  /**
   * Re-adopted after a restart and not yet looked at on the runtime: commands are recorded on it but
   * acted on only once the reconcile has observed it (what ran, what exited while the server was away).
   */
  unobserved?: boolean;
}

/**
 * Runs ECS tasks on a backend. RunTask returns at once; each task then advances in the background. All
 * state changes happen synchronously in `#step` (level-triggered: the pure transitions say which runtime
 * work is due, the runner does it, and every settled step steps again). Backend events drive exits and
 * health; a reconcile on every (re)connection of the event stream catches what was missed.
 */
export class TaskEngine {
  readonly #backend: TaskBackend;
  readonly #store: TaskStore;
  readonly #config: TaskEngineOptions["config"];
  readonly #arns: Arns;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #defaultStopTimeoutSec: number;
  readonly #purgeIntervalMs: number;
  readonly #runner: TaskRunner;
  readonly #hooks: TaskHooks;
  #work = new Map<string, Working>();
  #listeners = new Set<(task: Task) => void>();
  #subscription: { close(): void } | undefined;
  #purgeTimer: Timer | undefined;
  #closed = false;
  readonly #reconciler: Reconciler;
  /** start() has re-adopted the stored tasks (before that, #work holds only tasks run since). */
  #adopted = false;

  constructor(options: TaskEngineOptions) {
    this.#backend = options.backend;
    this.#store = options.store;
    this.#config = options.config;
    this.#arns = options.arns;
    this.#clock = options.clock;
    this.#logger = options.logger.child({ component: "task-engine" });
    this.#hooks = new TaskHooks(this.#logger);
    if (options.hooks !== undefined) this.#hooks.use(options.hooks);
    this.#defaultStopTimeoutSec = options.defaultStopTimeoutSec ?? 30;
    this.#purgeIntervalMs = options.purgeIntervalMs ?? 60_000;
    this.#runner = new TaskRunner({
      backend: this.#backend,
      clock: this.#clock,
      logger: this.#logger,
      hooks: () => this.#hooks.all(),
      snapshot: (w) => this.#store.get(w.task.taskArn ?? "") ?? w.task,
      commit: (w) => this.#commit(w),
      started: (w, name, observed) => this.#notifyStarted(w, name, observed),
      closed: () => this.#closed,
    });
    this.exec = execOnTaskRuntimes((runtimeId) => this.#taskOfRuntimeId(runtimeId)?.backendTask, this.#backend);
    this.#reconciler = new Reconciler({
      backend: this.#backend,
      clock: this.#clock,
      logger: this.#logger,
      live: () => this.#work.values(),
      step: (w) => this.#step(w),
      closed: () => this.#closed,
    });
  }

  /** Registers hooks (e.g. the agent endpoints); returns an unregister function. */
  use(hooks: TaskEngineHooks): () => void {
    return this.#hooks.use(hooks);
  }

  /** Re-adopts persisted tasks, subscribes to the backend's events and reconciles once. */
  async start(): Promise<void> {
    // adoptable(): every task but the STOPPED and cleaned-up ones, which the loop below skips anyway
    // (read from their bookkeeping, so a restart does not parse thousands of stopped tasks' documents).
    for (const task of this.#store.adoptable()) {
      const state = upgradeRuntimeState(this.#store.runtime(task.taskArn ?? ""));
      if (state === undefined || task.taskArn === undefined) continue;
      if (task.lastStatus === "STOPPED" && state.cleanedUp) continue;
      // A drain (beforeStop) in progress when the server went away is not waited for again.
      delete state.draining;
      const w = this.#working(structuredClone(task) as Task, state);
      w.stoppedNotified = task.lastStatus === "STOPPED";
      w.unobserved = task.lastStatus !== "STOPPED";
      this.#work.set(task.taskArn, w);
      if (task.lastStatus === "STOPPED") this.#scheduleCleanup(w);
    }
    this.#adopted = true;
    await this.#backend.start(() => [...this.#work.values()].map((w) => w.backendTask));
    // Resolves after the first reconcile, or at the first error so a server without a runtime still
    // starts (the subscription keeps retrying and reconciles once it connects).
    let ready: () => void = () => {};
    const connected = new Promise<void>((resolve) => (ready = resolve));
    this.#subscription = this.#backend.subscribe({
      onEvent: (event) => this.#onEvent(event),
      onError: (err) => {
        this.#logger.warn("runtime-events-error", { error: err });
        ready();
      },
      onConnect: () => {
        void this.reconcile().finally(ready);
      },
    });
    this.#purgeTimer = this.#clock.setInterval(() => this.purge(), this.#purgeIntervalMs);
    await connected;
  }

  /** Stops listening and clears timers. Containers keep running; a new engine re-adopts them. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#subscription?.close();
    this.#purgeTimer?.cancel();
    for (const w of this.#work.values()) {
      w.wakeTimer?.cancel();
      w.cleanupTimer?.cancel();
    }
    await this.#reconciler.settled();
    await this.#backend.close();
  }

  // ---------------------------------------------------------------- read path (memory only)

  get(taskArn: string): Task | undefined {
    return this.#store.get(taskArn);
  }

  taskExists(taskArn: string): boolean {
    return this.#store.has(taskArn);
  }

  list(filter: TaskListFilter): Task[] {
    return this.#store.list(filter);
  }

  /** One page of task ARNs (ListTasks), cached by the store until a task of the page changes. */
  listArns(filter: TaskListFilter & { desiredStatus: string }, offset: number, limit: number): ArnPage {
    return this.#store.arnPage(filter, offset, limit);
  }

  /** A task's wire JSON (DescribeTasks builds answers from it without serialising again). */
  taskJson(task: Task): Buffer {
    return this.#store.wireJsonBytes(task);
  }

  taskCounts(clusterArn: string): TaskCounts {
    return this.#store.counts(clusterArn);
  }

  /** RunTask's idempotency record for a client token, if the token was used in the cluster. */
  clientToken(clusterArn: string, clientToken: string): ClientTokenRecord | undefined {
    return this.#store.findClientToken(clusterArn, clientToken);
  }

  rememberClientToken(record: ClientTokenRecord): void {
    this.#store.putClientToken(record);
  }

  /** The engine's bookkeeping for a task (runtime ids, networks, …), e.g. for the metadata endpoint. */
  runtimeState(taskArn: string): TaskRuntimeState | undefined {
    const w = this.#work.get(taskArn);
    if (w !== undefined) return structuredClone(w.state);
    return upgradeRuntimeState(this.#store.runtime(taskArn));
  }

  /** What the runtime knows of a task that the ECS task does not say (networks, namespace holder, volumes). */
  runtimeFacts(taskArn: string): TaskRuntimeFacts | undefined {
    const found = this.#backendTaskOf(taskArn);
    return found === undefined ? undefined : this.#backend.facts(found.task);
  }

  /**
   * A task as the backend knows it, with its containers' runtime ids: the live one, or (for a task not
   * driven now: cleaned up, or not yet re-adopted at start-up) read from its stored record, read-only.
   */
  #backendTaskOf(taskArn: string): { task: BackendTask; state: TaskRuntimeState } | undefined {
    const live = this.#work.get(taskArn);
    if (live !== undefined) return { task: live.backendTask, state: live.state };
    const stored = this.#store.get(taskArn);
    const state = stored === undefined ? undefined : upgradeRuntimeState(this.#store.runtime(taskArn));
    if (stored === undefined || state === undefined) return undefined;
    return { task: { plan: taskPlanOf(stored, state), data: state.backend, save: () => {} }, state };
  }

  /** A container's output, through the backend. Throws ContainerMissingError. */
  logs(taskArn: string, containerName: string, options: LogOptions): AsyncIterable<LogChunk> {
    const { task, runtimeId } = this.#container(taskArn, containerName);
    return this.#backend.logs(task, runtimeId, options);
  }

  /** One resource-usage sample of a container; null when it is not running. */
  stats(taskArn: string, containerName: string): Promise<Record<string, unknown> | null> {
    const found = this.#backendTaskOf(taskArn);
    const id = found?.state.containers.find((c) => c.name === containerName)?.runtimeId;
    return found === undefined || id === undefined ? Promise.resolve(null) : this.#backend.stats(found.task, id);
  }

  /** ECS Exec on whichever runtime each container runs, found by its runtime id. */
  readonly exec: ExecBackend;

  #container(taskArn: string, containerName: string): { task: BackendTask; runtimeId: string } {
    const found = this.#backendTaskOf(taskArn);
    const runtimeId = found?.state.containers.find((c) => c.name === containerName)?.runtimeId;
    if (found === undefined || runtimeId === undefined) throw new ContainerMissingError(`no container ${containerName} in task ${taskArn}`);
    return { task: found.task, runtimeId };
  }

  #taskOfRuntimeId(runtimeId: string): Working | undefined {
    for (const w of this.#work.values()) if (w.state.containers.some((c) => c.runtimeId === runtimeId)) return w;
    return undefined;
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
      // A real-time guard for callers (tests, the CLI), not part of the task's life: never the clock's.
      const timer = setTimeout(() => {
        unsubscribe();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for task ${taskArn}; last: ${JSON.stringify(summaryOf(this.get(taskArn)))}`));
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
    const defs = spec.taskDefinition.containerDefinitions ?? [];
    const awsvpc = (spec.taskDefinition.networkMode ?? "bridge") === "awsvpc";
    // ECS resources are regional: the task lives in its cluster's region.
    const arns = this.#arns.inRegion(spec.region ?? regionOf(spec.clusterArn) ?? this.#arns.region);
    const doc = newTaskDocument(spec, {
      arns,
      region: arns.region,
      now: this.#clock.now(),
      ids: {
        taskId: newTaskId(),
        containerIds: defs.map(() => randomUUID()),
        eni: awsvpc ? { attachmentId: randomUUID(), networkInterfaceId: `eni-${randomBytes(9).toString("hex").slice(0, 17)}`, macAddress: macAddress() } : undefined,
      },
      backend: (plan) => this.#backend.initTask(plan),
    });
    const w = this.#working(doc.task, doc.state);
    if (spec.clientToken !== undefined) w.clientToken = spec.clientToken;
    const taskArn = doc.task.taskArn ?? "";
    this.#work.set(taskArn, w);
    this.#store.put(w.task, w.state, spec.clientToken);
    this.#emit(w);

    const invalid = validateGraph(defs);
    if (invalid !== undefined) failTask(w, namedError("CannotStartContainerError", invalid), this.#clock.now());
    queueMicrotask(() => this.#step(w));
    return this.#store.get(taskArn) ?? w.task;
  }

  /**
   * desiredStatus STOPPED, then SIGTERM/SIGKILL each container in reverse dependency order. A task
   * already desired STOPPED is returned unchanged. Undefined when the task is unknown.
   */
  stopTask(taskArn: string, reason?: string, stopCode: NonNullable<Task["stopCode"]> = STOP_CODES.userInitiated): Task | undefined {
    const w = this.#work.get(taskArn) ?? this.#notAdopted(taskArn);
    if (w === undefined || w.task.desiredStatus === "STOPPED") return this.#store.get(taskArn);
    const running = w.task.lastStatus === "RUNNING";
    setDesiredStopped(w, stopCode, reason ?? STOPPED_REASONS.userInitiated, this.#clock.now());
    if (running) this.#holdWhileDraining(w);
    // As ECS does for an instance whose agent is disconnected: the desired status is recorded now and
    // acted on once the task has been observed on the runtime (start()'s reconcile steps it).
    if (w.unobserved === true) this.#commit(w);
    else this.#step(w);
    return this.#store.get(taskArn);
  }

  /** beforeStop hooks (load balancer draining): the containers are stopped once every one has settled. */
  #holdWhileDraining(w: Working): void {
    const holds = this.#hooks.beforeStop(this.#store.get(w.task.taskArn ?? "") ?? w.task);
    if (holds.length === 0) return;
    w.state.draining = true;
    void Promise.allSettled(holds).then((outcomes) => {
      for (const o of outcomes) if (o.status === "rejected") this.#logger.warn("before-stop-failed", { taskArn: w.task.taskArn, error: o.reason });
      delete w.state.draining;
      this.#step(w);
    });
  }

  /** Before start(): a stored live task as a working copy to record a command on (start() adopts it from the store). */
  #notAdopted(taskArn: string): Working | undefined {
    if (this.#adopted) return undefined;
    const task = this.#store.get(taskArn);
    const state = task === undefined ? undefined : upgradeRuntimeState(this.#store.runtime(taskArn));
    if (task === undefined || state === undefined || task.lastStatus === "STOPPED") return undefined;
    const w = this.#working(structuredClone(task) as Task, state);
    w.unobserved = true;
    return w;
  }

  /** Drops stopped tasks older than the retention; runs on a timer, callable by tests. */
  purge(): string[] {
    const before = new Date(this.#clock.now().getTime() - this.#config.stoppedTaskRetentionMs);
    const purged = this.#store.purgeStoppedBefore(before);
    for (const arn of purged) {
      const w = this.#work.get(arn);
      // Keep bookkeeping of tasks whose containers still await cleanup.
      if (w !== undefined && w.state.cleanedUp) this.#work.delete(arn);
    }
    if (purged.length > 0) this.#hooks.tasksPurged(purged);
    return purged;
  }

  /** Removes a stopped task's containers and task-scoped volumes (normally after containerCleanupDelayMs). */
  async cleanup(taskArn: string): Promise<void> {
    const w = this.#work.get(taskArn);
    if (w === undefined || w.task.lastStatus !== "STOPPED" || w.state.cleanedUp || w.ops.has("task:cleanup")) return;
    w.ops.add("task:cleanup");
    try {
      await this.#backend.cleanup(w.backendTask, runtimeIds(w));
    } catch (err) {
      this.#logger.warn("task-cleanup-failed", { taskArn, error: err });
    } finally {
      w.ops.delete("task:cleanup");
    }
    if (this.#closed) return;
    w.state.cleanedUp = true;
    this.#commit(w);
    // Nothing is left to drive: the stored snapshot and bookkeeping serve every read from here on (as
    // after a restart, which does not re-adopt cleaned-up tasks), so the working copy is not kept.
    this.#work.delete(taskArn);
  }

  // ---------------------------------------------------------------- the state machine

  #step(w: Working): void {
    if (this.#closed) return;
    const now = this.#clock.now();
    // Nothing is done on the runtime for a task before it has been observed there (see `unobserved`).
    const decision = w.unobserved === true ? { actions: [], wakeAt: undefined } : decideStep(w, w.ops, now, this.#defaultStopTimeoutSec);
    for (const action of decision.actions) this.#launch(w, action);
    this.#scheduleWake(w, decision.wakeAt);

    for (let next = nextTaskStatus(w); next !== undefined; next = nextTaskStatus(w)) {
      enterStatus(w, next, this.#clock.now());
      this.#commit(w);
      if (next === "RUNNING") this.#backend.onTaskRunning?.(w.backendTask);
    }
    this.#commit(w);

    if (w.task.lastStatus === "STOPPED" && !w.stoppedNotified) {
      w.stoppedNotified = true;
      w.wakeTimer?.cancel();
      this.#scheduleCleanup(w);
      const snapshot = this.#store.get(w.task.taskArn ?? "");
      if (snapshot !== undefined) this.#hooks.taskStopped(snapshot);
    }
  }

  /** Runs one piece of runtime work for the task and steps again when it settles. */
  #launch(w: Working, action: TaskAction): void {
    const key = actionKey(action);
    if (w.ops.has(key)) return;
    w.ops.add(key);
    void this.#run(w, action)
      .catch((err: unknown) => {
        this.#logger.error("task-operation-failed", { taskArn: w.task.taskArn, op: key, error: err });
      })
      .finally(() => {
        w.ops.delete(key);
        this.#step(w);
      });
  }

  async #run(w: Working, action: TaskAction): Promise<void> {
    switch (action.kind) {
      case "provision":
        return this.#runner.provision(w);
      case "create":
        return this.#runner.create(w, action.container);
      case "start":
        return this.#runner.start(w, action.container);
      case "stop":
        return this.#runner.stop(w, action.container, action.timeoutSec);
      case "deprovision":
        return this.#runner.deprovision(w, runtimeIds(w));
    }
  }

  #scheduleCleanup(w: Working): void {
    if (w.state.cleanedUp || w.cleanupTimer !== undefined || this.#closed) return;
    const stoppedAt = w.task.stoppedAt?.getTime() ?? this.#clock.now().getTime();
    const delay = Math.max(0, stoppedAt + this.#config.containerCleanupDelayMs - this.#clock.now().getTime());
    w.cleanupTimer = this.#clock.setTimeout(() => {
      w.cleanupTimer = undefined;
      void this.cleanup(w.task.taskArn ?? "");
    }, delay);
  }

  #scheduleWake(w: Working, at: number | undefined): void {
    w.wakeTimer?.cancel();
    w.wakeTimer = undefined;
    if (at === undefined) return;
    // A little past the deadline, so the step that runs sees it as passed.
    w.wakeTimer = this.#clock.setTimeout(() => {
      w.wakeTimer = undefined;
      this.#step(w);
    }, Math.max(0, at - this.#clock.now().getTime()) + 5);
  }

  // ---------------------------------------------------------------- events and reconciliation

  #onEvent(event: BackendEvent): void {
    if (this.#closed) return;
    if (event.kind === "connectivity") {
      for (const w of this.#work.values()) {
        if (!event.affects(w.backendTask)) continue;
        applyConnectivity(w, event.connected, this.#clock.now());
        this.#commit(w);
      }
      return;
    }
    const w = this.#work.get(event.taskArn);
    if (w === undefined) return;
    if (event.kind === "holder-exited") {
      if (w.task.desiredStatus !== "STOPPED") this.#logger.warn("network-holder-exited", { taskArn: event.taskArn });
      return;
    }
    if (applyEvent(w, event, w.ops.has(event.containerName), this.#clock.now())) this.#step(w);
  }

  /** Brings every live task in line with the runtime (start-up and every reconnection of the events). */
  reconcile(): Promise<void> {
    return this.#reconciler.run();
  }

  // ---------------------------------------------------------------- persistence

  #working(task: Task, state: TaskRuntimeState): Working {
    const w: Working = {
      task,
      state,
      ops: new Set(),
      fingerprint: fingerprintOf(task),
      stoppedNotified: false,
      backendTask: undefined as unknown as BackendTask,
    };
    const plan = taskPlanOf(task, state);
    w.backendTask = {
      plan,
      get data() {
        return w.state.backend;
      },
      save: () => this.#commit(w),
    };
    return w;
  }

  /** Renders containers into the task; saves (bumping `version`) when anything visible changed. */
  #commit(w: Working): void {
    if (this.#closed) return;
    renderTask(w);
    const fp = fingerprintOf(w.task);
    const stateFp = digest(JSON.stringify(w.state));
    if (fp !== w.fingerprint) {
      w.task.version = (w.task.version ?? 0) + 1;
      w.fingerprint = fp;
      w.stateFingerprint = stateFp;
      this.#store.put(w.task, w.state, w.clientToken);
      this.#emit(w);
    } else if (stateFp !== w.stateFingerprint) {
      // Bookkeeping only (runtime ids, …): persist without a new version.
      w.stateFingerprint = stateFp;
      this.#store.put(w.task, w.state, w.clientToken);
    }
  }

  #emit(w: Working): void {
    const snapshot = this.#store.get(w.task.taskArn ?? "");
    if (snapshot === undefined) return;
    for (const l of this.#listeners) safely(this.#logger, () => l(snapshot));
  }

  /** Hooks see the started container as the runtime reported it. */
  #notifyStarted(w: Working, name: string, observed: ObservedContainer): void {
    const fresh = this.#store.get(w.task.taskArn ?? "");
    if (fresh !== undefined) this.#hooks.containerStarted(fresh, name, observed);
  }
}

/** Fingerprints are only compared, so a digest is kept instead of a few KB of JSON per task. */
function digest(json: string): string {
  return hash("sha1", json, "base64");
}

function runtimeIds(w: Working): string[] {
  return w.state.containers.flatMap((c) => (c.runtimeId === undefined ? [] : [c.runtimeId]));
}

/** A locally administered unicast MAC (02:42 is Docker's own prefix). */
function macAddress(): string {
  const bytes = [0x02, 0x42, ...randomBytes(4)];
  return bytes.map((b) => b.toString(16).padStart(2, "0")).join(":");
}

function safely(logger: Logger, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    logger.warn("hook-failed", { error: err });
  }
}
