// Tasks across several container runtimes (one per container instance's engine) behind one TaskBackend:
// each task is pinned to the engine of its container instance when it is created, and every later call is
// routed there. The engine above sees one backend; each runtime backend sees only its own tasks. The
// pinning is part of the task's persisted record, so a restart routes every task where it ran.
import type {
  BackendEvent,
  BackendEventHandlers,
  BackendTask,
  BackendTaskData,
  ContainerPlan,
  ImageFacts,
  LogChunk,
  LogOptions,
  ObservedContainer,
  ObservedState,
  ProvisionOptions,
  ProvisionedTask,
  Subscription,
  TaskBackend,
  TaskPlan,
  TaskRuntimeFacts,
} from "./task-backend.ts";
import type { ExecBackend } from "../exec/exec-backend.ts";

/** How the router's record of a task looks: which engine, and that engine's own record. */
interface RoutedData extends BackendTaskData {
  engine: string;
  inner: BackendTaskData;
}

export interface EngineRouterOptions {
  /** The engine of tasks that name no container instance (or one the router cannot place). */
  defaultEngine: string;
  /** The engine (e.g. Docker endpoint URL) a container instance runs on; undefined: the default. */
  engineOf(containerInstanceArn: string): string | undefined;
  /** Builds the backend of an engine the first time a task needs it. */
  backendFor(engine: string): TaskBackend;
}

export class EngineRouter implements TaskBackend {
  readonly #options: EngineRouterOptions;
  readonly #backends = new Map<string, TaskBackend>();
  /** Subscriptions are made for every backend, including ones built after `subscribe`. */
  #handlers: BackendEventHandlers | undefined;
  readonly #subscriptions: Subscription[] = [];
  #live: () => Iterable<BackendTask> = () => [];

  constructor(options: EngineRouterOptions) {
    this.#options = options;
  }

  /** The engines in use (at least the default one). */
  engines(): string[] {
    return [...new Set([this.#options.defaultEngine, ...this.#backends.keys()])];
  }

  async start(live: () => Iterable<BackendTask>): Promise<void> {
    this.#live = live;
    const engines = new Set([this.#options.defaultEngine]);
    for (const task of live()) engines.add(this.#routed(task).engine);
    await Promise.all([...engines].filter((e) => !this.#backends.has(e)).map((engine) => this.#add(engine).start(() => this.#tasksOf(engine))));
  }

  async close(): Promise<void> {
    for (const s of this.#subscriptions.splice(0)) s.close();
    await Promise.all([...this.#backends.values()].map((b) => b.close()));
  }

  initTask(plan: TaskPlan): { data: BackendTaskData; runtimeNames: Record<string, string> } {
    const engine = (plan.containerInstanceArn === undefined ? undefined : this.#options.engineOf(plan.containerInstanceArn)) ?? this.#options.defaultEngine;
    const inner = this.#backendSync(engine).initTask(plan);
    const data: RoutedData = { engine, inner: inner.data };
    return { data, runtimeNames: inner.runtimeNames };
  }

  provision(task: BackendTask, options: ProvisionOptions): Promise<ProvisionedTask> {
    return this.#route(task, (b, t) => b.provision(t, options));
  }

  prepareImage(task: BackendTask, image: string): Promise<ImageFacts> {
    return this.#route(task, (b, t) => b.prepareImage(t, image));
  }

  createContainer(task: BackendTask, container: ContainerPlan): Promise<string> {
    return this.#route(task, (b, t) => b.createContainer(t, container));
  }

  startContainer(task: BackendTask, runtimeId: string): Promise<ObservedContainer | undefined> {
    return this.#route(task, (b, t) => b.startContainer(t, runtimeId));
  }

  stopContainer(task: BackendTask, runtimeId: string, timeoutSec: number): Promise<ObservedContainer | undefined> {
    return this.#route(task, (b, t) => b.stopContainer(t, runtimeId, timeoutSec));
  }

  deprovision(task: BackendTask, runtimeIds: string[]): Promise<void> {
    return this.#route(task, (b, t) => b.deprovision(t, runtimeIds));
  }

  cleanup(task: BackendTask, runtimeIds: string[]): Promise<void> {
    return this.#route(task, (b, t) => b.cleanup(t, runtimeIds));
  }

  observe(task: BackendTask, containers: ReadonlyArray<{ name: string; runtimeId: string | undefined }>): Promise<Record<string, ObservedState>> {
    return this.#route(task, (b, t) => b.observe(t, containers));
  }

  subscribe(handlers: BackendEventHandlers): Subscription {
    this.#handlers = handlers;
    for (const [engine, backend] of this.#backends) this.#subscribeTo(engine, backend);
    return {
      close: () => {
        this.#handlers = undefined;
        for (const s of this.#subscriptions.splice(0)) s.close();
      },
    };
  }

  facts(task: BackendTask): TaskRuntimeFacts {
    const { backend, inner } = this.#resolve(task);
    return backend.facts(inner);
  }

  onTaskRunning(task: BackendTask): void {
    const { backend, inner } = this.#resolve(task);
    backend.onTaskRunning?.(inner);
  }

  logs(task: BackendTask, runtimeId: string, options: LogOptions): AsyncIterable<LogChunk> {
    const { backend, inner } = this.#resolve(task);
    return backend.logs(inner, runtimeId, options);
  }

  stats(task: BackendTask, runtimeId: string): Promise<Record<string, unknown> | null> {
    return this.#route(task, (b, t) => b.stats(t, runtimeId));
  }

  exec(task: BackendTask): ExecBackend {
    const { backend, inner } = this.#resolve(task);
    return backend.exec(inner);
  }

  /** The engine a task runs on. */
  engineOfTask(task: BackendTask): string {
    return this.#routed(task).engine;
  }

  // ---------------------------------------------------------------- routing

  /** Tasks created before routing carry the default engine's own record. */
  #routed(task: BackendTask): RoutedData {
    const data = task.data as Partial<RoutedData>;
    if (typeof data.engine === "string" && data.inner !== undefined) return data as RoutedData;
    return { engine: this.#options.defaultEngine, inner: task.data };
  }

  #route<T>(task: BackendTask, call: (backend: TaskBackend, inner: BackendTask) => Promise<T>): Promise<T> {
    const { backend, inner } = this.#resolve(task);
    return call(backend, inner);
  }

  #resolve(task: BackendTask): { backend: TaskBackend; inner: BackendTask } {
    const data = this.#routed(task);
    const inner: BackendTask = {
      plan: task.plan,
      get data() {
        return data.inner;
      },
      save: () => task.save(),
    };
    return { backend: this.#backendSync(data.engine), inner };
  }

  #backendSync(engine: string): TaskBackend {
    const known = this.#backends.get(engine);
    if (known !== undefined) return known;
    const backend = this.#add(engine);
    // A backend first needed after start-up starts now, in the background, with its own tasks.
    void backend.start(() => this.#tasksOf(engine));
    return backend;
  }

  #add(engine: string): TaskBackend {
    const backend = this.#options.backendFor(engine);
    this.#backends.set(engine, backend);
    if (this.#handlers !== undefined) this.#subscribeTo(engine, backend);
    return backend;
  }

  #tasksOf(engine: string): BackendTask[] {
    return [...this.#live()].filter((t) => this.#routed(t).engine === engine).map((t) => this.#resolve(t).inner);
  }

  #subscribeTo(engine: string, backend: TaskBackend): void {
    const handlers = this.#handlers;
    if (handlers === undefined) return;
    const mine = (task: BackendTask): boolean => this.#routed(task).engine === engine;
    this.#subscriptions.push(
      backend.subscribe({
        onEvent: (event: BackendEvent) => {
          // A backend's connectivity only concerns its own tasks.
          if (event.kind === "connectivity") handlers.onEvent({ ...event, affects: (t) => mine(t) && event.affects(this.#resolve(t).inner) });
          else handlers.onEvent(event);
        },
        onConnect: () => handlers.onConnect(),
        onError: (err) => handlers.onError(err),
      }),
    );
  }
}

