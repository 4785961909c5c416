// An in-memory TaskBackend for engine tests: containers exist only here, never exit on their own, and
// report through the same events a real backend sends. Tests drive them (`exit`, `setHealth`, `vanish`)
// and read what the engine asked for in `calls` ("create app", "stop db t=7", …).
import type { NetworkBinding } from "../../generated/shapes.ts";
import {
  ContainerCreateError,
  ContainerMissingError,
  ContainerStartError,
  ImagePullError,
  TaskResourceError,
  type BackendEvent,
  type BackendEventHandlers,
  type BackendTask,
  type ContainerPlan,
  type ImageFacts,
  type LogChunk,
  type ObservedContainer,
  type ObservedHealth,
  type ObservedState,
  type ProvisionOptions,
  type ProvisionedTask,
  type Subscription,
  type TaskBackend,
  type TaskPlan,
  type TaskRuntimeFacts,
} from "../../src/runtime/backend/task-backend.ts";
import type { ExecBackend } from "../../src/runtime/exec/exec-backend.ts";
import { FakeExecBackend } from "../runtime/exec/fake-exec-backend.ts";

export interface FakeBackendContainer {
  runtimeId: string;
  taskArn: string;
  name: string;
  plan: ContainerPlan;
  status: "created" | "running" | "exited";
  exitCode: number | undefined;
  startedAt: Date | undefined;
  finishedAt: Date | undefined;
  health: ObservedHealth | undefined;
  oomKilled: boolean;
  bindings: NetworkBinding[];
  /** Like a PID 1 ignoring SIGTERM: a stop ends in SIGKILL (137). */
  ignoresSigterm: boolean;
  output: LogChunk[];
}

export class FakeBackend implements TaskBackend {
  /** Images present; others "pull" instantly unless listed in pullFailures. */
  images = new Set<string>();
  pullFailures = new Map<string, string>();
  /** ECS container name → message: create / start throws. */
  createFailures = new Map<string, string>();
  startFailures = new Map<string, string>();
  /** Task ARN → message: provisioning fails. */
  provisionFailures = new Map<string, string>();
  containers = new Map<string, FakeBackendContainer>();
  calls: string[] = [];
  /** Runs right after a container started. */
  onStart: ((c: FakeBackendContainer) => void) | undefined;
  /** false: events are dropped (the stream is "down"). */
  eventsConnected = true;
  provisioned = new Set<string>();
  deprovisioned = new Set<string>();
  cleanedUp = new Set<string>();
  /** Shared networks (Service Connect namespaces) that exist → the tasks holding them; and every one removed. */
  sharedNetworks = new Map<string, Set<string>>();
  removedSharedNetworks: string[] = [];
  /** What each task was provisioned with (extra networks and their aliases). */
  provisionOptions = new Map<string, ProvisionOptions>();
  #nextId = 1;
  #nextPort = 49153;
  #subscribers = new Set<BackendEventHandlers>();

  async start(): Promise<void> {}
  async close(): Promise<void> {}

  initTask(plan: TaskPlan): { data: Record<string, unknown>; runtimeNames: Record<string, string> } {
    const names = (plan.taskDefinition.containerDefinitions ?? []).map((d) => d.name ?? "");
    return { data: { fake: true }, runtimeNames: Object.fromEntries(names.map((n) => [n, `fake-${n}-${plan.taskArn.slice(-6)}`])) };
  }

  async provision(task: BackendTask, options: ProvisionOptions): Promise<ProvisionedTask> {
    await tick();
    this.calls.push("provision");
    this.provisionOptions.set(task.plan.taskArn, options);
    for (const net of options.networks.filter((n) => n.shared === true)) {
      const holders = this.sharedNetworks.get(net.name) ?? new Set<string>();
      holders.add(task.plan.taskArn);
      this.sharedNetworks.set(net.name, holders);
    }
    const failure = this.provisionFailures.get(task.plan.taskArn);
    if (failure !== undefined) throw new TaskResourceError(failure);
    this.provisioned.add(task.plan.taskArn);
    return task.plan.networkMode === "awsvpc" ? { ipv4: "10.0.0.7" } : {};
  }

  async prepareImage(_task: BackendTask, image: string): Promise<ImageFacts> {
    await tick();
    if (!this.images.has(image)) {
      this.calls.push(`pull ${image}`);
      const failure = this.pullFailures.get(image);
      if (failure !== undefined) throw new ImagePullError(failure);
      this.images.add(image);
    }
    return { digest: `sha256:${hash(image)}`, env: ["PATH=/bin"] };
  }

  async createContainer(task: BackendTask, plan: ContainerPlan): Promise<string> {
    await tick();
    this.calls.push(`create ${plan.name}`);
    const failure = this.createFailures.get(plan.name);
    if (failure !== undefined) throw new ContainerCreateError(failure);
    const runtimeId = `${String(this.#nextId++).padStart(4, "0")}${"e".repeat(60)}`;
    this.containers.set(runtimeId, {
      runtimeId,
      taskArn: task.plan.taskArn,
      name: plan.name,
      plan,
      status: "created",
      exitCode: undefined,
      startedAt: undefined,
      finishedAt: undefined,
      health: undefined,
      oomKilled: false,
      bindings: [],
      ignoresSigterm: false,
      output: [],
    });
    return runtimeId;
  }

  async startContainer(_task: BackendTask, runtimeId: string): Promise<ObservedContainer | undefined> {
    await tick();
    const c = this.containers.get(runtimeId);
    if (c === undefined) throw new ContainerMissingError(`no container ${runtimeId}`);
    this.calls.push(`start ${c.name}`);
    const failure = this.startFailures.get(c.name);
    if (failure !== undefined) throw new ContainerStartError(failure);
    c.status = "running";
    c.startedAt = new Date();
    if (c.plan.definition.healthCheck !== undefined) c.health = "starting";
    c.bindings = (c.plan.definition.portMappings ?? []).map((p) => ({
      bindIP: "0.0.0.0",
      containerPort: p.containerPort ?? 0,
      hostPort: p.hostPort === undefined || p.hostPort === 0 ? this.#nextPort++ : p.hostPort,
      protocol: p.protocol ?? "tcp",
    }));
    this.#emit({ kind: "started", ...this.#about(c) });
    this.onStart?.(c);
    return observed(c);
  }

  async stopContainer(_task: BackendTask, runtimeId: string, timeoutSec: number): Promise<ObservedContainer | undefined> {
    await tick();
    const c = this.containers.get(runtimeId);
    if (c === undefined) return undefined;
    this.calls.push(`stop ${c.name} t=${timeoutSec}`);
    if (c.status === "running") this.exit(c.runtimeId, c.ignoresSigterm ? 137 : 143);
    return observed(c);
  }

  async deprovision(task: BackendTask): Promise<void> {
    await tick();
    this.calls.push("deprovision");
    this.deprovisioned.add(task.plan.taskArn);
    for (const [name, holders] of this.sharedNetworks) {
      if (!holders.delete(task.plan.taskArn) || holders.size > 0) continue;
      this.sharedNetworks.delete(name);
      this.removedSharedNetworks.push(name);
    }
  }

  async cleanup(task: BackendTask, runtimeIds: string[]): Promise<void> {
    this.calls.push("cleanup");
    for (const id of runtimeIds) this.containers.delete(id);
    this.cleanedUp.add(task.plan.taskArn);
  }

  async observe(task: BackendTask, containers: ReadonlyArray<{ name: string; runtimeId: string | undefined }>): Promise<Record<string, ObservedState>> {
    const out: Record<string, ObservedState> = {};
    for (const want of containers) {
      const c =
        want.runtimeId === undefined
          ? [...this.containers.values()].find((x) => x.taskArn === task.plan.taskArn && x.name === want.name)
          : this.containers.get(want.runtimeId);
      out[want.name] = c !== undefined ? observed(c) : want.runtimeId === undefined ? "unknown" : "gone";
    }
    return out;
  }

  subscribe(handlers: BackendEventHandlers): Subscription {
    this.#subscribers.add(handlers);
    queueMicrotask(() => handlers.onConnect());
    return { close: () => this.#subscribers.delete(handlers) };
  }

  facts(): TaskRuntimeFacts {
    return { volumes: {} };
  }

  async *logs(_task: BackendTask, runtimeId: string): AsyncIterable<LogChunk> {
    const c = this.containers.get(runtimeId);
    if (c === undefined) throw new ContainerMissingError(`no container ${runtimeId}`);
    yield* c.output;
  }

  async stats(_task: BackendTask, runtimeId: string): Promise<Record<string, unknown> | null> {
    return this.containers.get(runtimeId)?.status === "running" ? { memory_stats: { usage: 1 } } : null;
  }

  /** ECS Exec on the fake runtime: commands are scripted by the fake exec backend. */
  execBackend: ExecBackend = new FakeExecBackend();

  exec(): ExecBackend {
    return this.execBackend;
  }

  // ---------------------------------------------------------------- test controls

  /** The container of ECS container `name` (optionally of one task). */
  find(name: string, taskArn?: string): FakeBackendContainer | undefined {
    return [...this.containers.values()].find((c) => c.name === name && (taskArn === undefined || c.taskArn === taskArn));
  }

  exit(runtimeId: string, exitCode: number, options: { oom?: boolean; silent?: boolean } = {}): void {
    const c = this.containers.get(runtimeId);
    if (c === undefined || c.status !== "running") return;
    c.status = "exited";
    c.exitCode = exitCode;
    c.finishedAt = new Date();
    c.oomKilled = options.oom === true;
    if (options.silent === true) return;
    if (options.oom === true) this.#emit({ kind: "oom", ...this.#about(c) });
    this.#emit({ kind: "exited", ...this.#about(c), exitCode });
  }

  setHealth(runtimeId: string, health: ObservedHealth): void {
    const c = this.containers.get(runtimeId);
    if (c === undefined) return;
    c.health = health;
    this.#emit({ kind: "health", ...this.#about(c), health });
  }

  /** Removed behind the engine's back; `silent`: the engine was away and saw no event. */
  vanish(runtimeId: string, options: { silent?: boolean } = {}): void {
    const c = this.containers.get(runtimeId);
    if (c === undefined) return;
    if (c.status === "running") this.exit(runtimeId, 137, options);
    this.containers.delete(runtimeId);
    if (options.silent !== true) this.#emit({ kind: "removed", ...this.#about(c) });
  }

  print(runtimeId: string, text: string, stream: "stdout" | "stderr" = "stdout"): void {
    this.containers.get(runtimeId)?.output.push({ stream, text });
  }

  /** The event stream came back: subscribers reconcile. */
  reconnect(): void {
    for (const s of this.#subscribers) s.onConnect();
  }

  #about(c: FakeBackendContainer): { taskArn: string; containerName: string; runtimeId: string; at: Date } {
    return { taskArn: c.taskArn, containerName: c.name, runtimeId: c.runtimeId, at: new Date() };
  }

  #emit(event: BackendEvent): void {
    if (!this.eventsConnected) return;
    for (const s of this.#subscribers) queueMicrotask(() => s.onEvent(event));
  }
}

function observed(c: FakeBackendContainer): ObservedContainer {
  return {
    runtimeId: c.runtimeId,
    imageId: `sha256:${hash(c.plan.definition.image ?? "")}`,
    running: c.status === "running",
    exited: c.status === "exited",
    exitCode: c.exitCode,
    startedAt: c.startedAt,
    finishedAt: c.finishedAt,
    oomKilled: c.oomKilled,
    health: c.health,
    networks: { "fake-net": "10.0.0.9" },
    bindings: c.status === "running" ? c.bindings : [],
  };
}

function hash(s: string): string {
  let h = 0;
  for (const ch of s) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return h.toString(16).padStart(64, "0");
}

function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
