import type Dockerode from "dockerode";
import type {
  ContainerRuntime,
  ContainerSnapshot,
  EventHandlers,
  EventSubscription,
  HealthState,
  ImageSnapshot,
  NetworkSnapshot,
  PullProgress,
  RuntimeEvent,
  VolumeSpec,
} from "../../src/runtime/backend/docker/container-runtime.ts";
import { RuntimeError } from "../../src/runtime/backend/docker/container-runtime.ts";

export interface FakeContainer {
  id: string;
  name: string;
  options: Dockerode.ContainerCreateOptions;
  labels: Record<string, string>;
  status: "created" | "running" | "exited";
  exitCode: number;
  startedAt: Date | undefined;
  finishedAt: Date | undefined;
  health: HealthState | undefined;
  oomKilled: boolean;
  networks: Record<string, string>;
  ports: ContainerSnapshot["ports"];
  /** When true, stop() behaves like a PID 1 ignoring SIGTERM: killed after the timeout → 137. */
  ignoresSigterm: boolean;
  /** What the container printed (`print`), as Docker's multiplexed log frames. */
  output: Buffer[];
}

/** Calls recorded in order, e.g. "stop ecs-x-1-app-…" */
export type FakeCall = string;

/**
 * In-memory ContainerRuntime for engine unit tests. Containers never exit on their own: tests call
 * `exit()`, `setHealth()`, `vanish()`; `onStart` lets a test script behaviour right after start.
 */
export class FakeRuntime implements ContainerRuntime {
  images = new Set<string>();
  /** image → error message; images listed here fail to pull, others "pull" instantly. */
  pullFailures = new Map<string, string>();
  /** container ECS name → message: createContainer / startContainer throws. */
  createFailures = new Map<string, string>();
  startFailures = new Map<string, string>();
  containers = new Map<string, FakeContainer>();
  networks = new Map<string, { id: string; labels: Record<string, string>; subnets?: string[] }>();
  volumes = new Map<string, VolumeSpec>();
  calls: FakeCall[] = [];
  /** Runs after a container started (still synchronously inside startContainer). */
  onStart: ((c: FakeContainer) => void) | undefined;
  /** Host port handed out for HostPort "" bindings. */
  #nextPort = 49153;
  #nextId = 1;
  #nextNetworkId = 0;
  #subscribers = new Set<{ labels: string[]; handlers: EventHandlers }>();
  /** When false, events are swallowed (simulates a dropped stream). */
  eventsConnected = true;

  async inspectImage(image: string): Promise<ImageSnapshot | undefined> {
    return this.images.has(image) ? { id: `sha256:${hash(image)}`, repoDigests: [], env: ["PATH=/bin"] } : undefined;
  }

  async imageExists(image: string): Promise<boolean> {
    return this.images.has(image);
  }

  async pullImage(image: string, onProgress?: (progress: PullProgress) => void): Promise<void> {
    this.calls.push(`pull ${image}`);
    await tick();
    const failure = this.pullFailures.get(image);
    if (failure !== undefined) throw new RuntimeError(failure, 404);
    onProgress?.({ status: "Downloaded newer image" });
    this.images.add(image);
  }

  async createContainer(options: Dockerode.ContainerCreateOptions): Promise<string> {
    await tick();
    const labels = options.Labels ?? {};
    const ecsName = labels["com.amazonaws.ecs.container-name"] ?? "";
    this.calls.push(`create ${ecsName}`);
    const failure = this.createFailures.get(ecsName);
    if (failure !== undefined) throw new RuntimeError(failure, 500);
    const name = options.name ?? `fake-${this.#nextId}`;
    if ([...this.containers.values()].some((c) => c.name === name)) throw new RuntimeError(`Conflict. The container name "/${name}" is already in use`, 409);
    const id = `${String(this.#nextId++).padStart(4, "0")}${"f".repeat(60)}`;
    const networks: Record<string, string> = {};
    const mode = options.HostConfig?.NetworkMode ?? "bridge";
    if (!mode.startsWith("container:") && mode !== "host" && mode !== "none") {
      if (mode !== "bridge" && !this.networks.has(mode)) throw new RuntimeError(`network ${mode} not found`, 404);
      networks[mode] = `172.30.0.${this.#nextId}`;
    }
    this.containers.set(id, {
      id,
      name,
      options,
      labels,
      status: "created",
      exitCode: 0,
      startedAt: undefined,
      finishedAt: undefined,
      health: undefined,
      oomKilled: false,
      networks,
      ports: [],
      ignoresSigterm: false,
      output: [],
    });
    return id;
  }

  async startContainer(id: string): Promise<void> {
    await tick();
    const c = this.#require(id);
    const ecsName = c.labels["com.amazonaws.ecs.container-name"] ?? "";
    this.calls.push(`start ${ecsName}`);
    const failure = this.startFailures.get(ecsName);
    if (failure !== undefined) throw new RuntimeError(failure, 500);
    if (c.status === "running") return;
    c.status = "running";
    c.startedAt = new Date();
    if (c.options.Healthcheck !== undefined) c.health = "starting";
    c.ports = [];
    for (const [key, bindings] of Object.entries(c.options.HostConfig?.PortBindings ?? {})) {
      const [port, proto] = key.split("/");
      for (const b of bindings as Array<{ HostPort?: string }>) {
        const hostPort = b.HostPort === undefined || b.HostPort === "" ? this.#nextPort++ : Number(b.HostPort);
        c.ports.push({ containerPort: Number(port), protocol: proto === "udp" ? "udp" : "tcp", hostIp: "0.0.0.0", hostPort });
      }
    }
    this.#emit(c, "start");
    this.onStart?.(c);
  }

  async stopContainer(id: string, timeoutSec: number): Promise<void> {
    await tick();
    const c = this.#require(id);
    this.calls.push(`stop ${c.labels["com.amazonaws.ecs.container-name"] ?? ""} t=${timeoutSec}`);
    if (c.status !== "running") return;
    this.exit(id, c.ignoresSigterm ? 137 : 143);
  }

  async killContainer(id: string): Promise<void> {
    const c = this.containers.get(id);
    this.calls.push(`kill ${c?.labels["com.amazonaws.ecs.container-name"] ?? id}`);
    if (c?.status === "running") this.exit(id, 137);
  }

  async removeContainer(id: string): Promise<void> {
    const c = this.containers.get(id);
    if (c === undefined) return;
    this.calls.push(`remove ${c.labels["com.amazonaws.ecs.container-name"] ?? id}`);
    if (c.status === "running") this.exit(id, 137);
    this.containers.delete(id);
    this.#emit(c, "destroy");
  }

  async inspectContainer(id: string): Promise<ContainerSnapshot | undefined> {
    const c = this.containers.get(id);
    return c === undefined ? undefined : snapshot(c);
  }

  async listContainers(labels: string[]): Promise<ContainerSnapshot[]> {
    return [...this.containers.values()].filter((c) => matches(c.labels, labels)).map(snapshot);
  }

  async createNetwork(name: string, labels: Record<string, string>): Promise<string> {
    await tick();
    this.calls.push(`network-create ${name}`);
    if (this.networks.has(name)) throw new RuntimeError(`network with name ${name} already exists`, 409);
    const id = `net${this.#nextNetworkId++}`;
    this.networks.set(name, { id, labels });
    return id;
  }

  async removeNetwork(idOrName: string): Promise<void> {
    await tick();
    const name = this.#networkName(idOrName);
    if (name === undefined) return;
    // Like Docker: a network with running containers on it cannot be removed.
    if (this.#attached(name).some((c) => c.status === "running")) {
      throw new RuntimeError(`error while removing network: network ${name} id ${this.networks.get(name)?.id} has active endpoints`, 403);
    }
    for (const c of this.#attached(name)) delete c.networks[name];
    this.networks.delete(name);
    this.calls.push(`network-remove ${name}`);
  }

  async inspectNetwork(idOrName: string): Promise<NetworkSnapshot | undefined> {
    const name = this.#networkName(idOrName);
    const n = name === undefined ? undefined : this.networks.get(name);
    if (name === undefined || n === undefined) return undefined;
    return { id: n.id, name, labels: n.labels, containers: this.#attached(name).map((c) => c.id), ...(n.subnets === undefined ? {} : { subnets: n.subnets }) };
  }

  async connectNetwork(network: string, containerId: string): Promise<void> {
    const c = this.#require(containerId);
    if (!this.networks.has(network)) throw new RuntimeError(`network ${network} not found`, 404);
    this.calls.push(`network-connect ${network} ${c.labels["com.amazonaws.ecs.container-name"] ?? containerId}`);
    c.networks[network] = "10.99.0.2";
  }

  async disconnectNetwork(network: string, containerId: string): Promise<void> {
    const c = this.containers.get(containerId);
    if (c !== undefined) delete c.networks[network];
  }

  async listNetworks(labels: string[]): Promise<Array<{ id: string; name: string; labels: Record<string, string> }>> {
    return [...this.networks].filter(([, n]) => matches(n.labels, labels)).map(([name, n]) => ({ id: n.id, name, labels: n.labels }));
  }

  async createVolume(spec: VolumeSpec): Promise<void> {
    this.calls.push(`volume-create ${spec.name}`);
    this.volumes.set(spec.name, spec);
  }

  async removeVolume(name: string): Promise<void> {
    if (this.volumes.delete(name)) this.calls.push(`volume-remove ${name}`);
  }

  async volumeExists(name: string): Promise<boolean> {
    return this.volumes.has(name);
  }

  /** What the container printed so far (no following: the output ends at once). */
  async logs(id: string): Promise<{ tty: boolean; chunks: AsyncIterable<Buffer> }> {
    const c = this.#require(id);
    const frames = [...c.output];
    return {
      tty: false,
      chunks: (async function* () {
        yield* frames;
      })(),
    };
  }

  async stats(id: string): Promise<Record<string, unknown> | null> {
    const c = this.containers.get(id);
    return c?.status === "running" ? { read: new Date().toISOString(), cpu_stats: {}, memory_stats: { usage: 1 } } : null;
  }

  events(filter: { labels: string[] }, handlers: EventHandlers): EventSubscription {
    const sub = { labels: filter.labels, handlers };
    this.#subscribers.add(sub);
    queueMicrotask(() => handlers.onConnect?.());
    return { close: () => this.#subscribers.delete(sub) };
  }

  /** Simulates a reconnect of the events stream (subscribers reconcile). */
  reconnect(): void {
    for (const s of this.#subscribers) s.handlers.onConnect?.();
  }

  // ---------------------------------------------------------------- test controls

  /** The container created for ECS container `name` (optionally of one task). */
  find(name: string, taskArn?: string): FakeContainer | undefined {
    return [...this.containers.values()].find(
      (c) => c.labels["com.amazonaws.ecs.container-name"] === name && (taskArn === undefined || c.labels["com.amazonaws.ecs.task-arn"] === taskArn),
    );
  }

  exit(id: string, exitCode: number, options: { oom?: boolean; silent?: boolean } = {}): void {
    const c = this.#require(id);
    if (c.status !== "running") return;
    c.status = "exited";
    c.exitCode = exitCode;
    c.finishedAt = new Date();
    c.oomKilled = options.oom === true;
    if (options.silent === true) return;
    if (options.oom === true) this.#emit(c, "oom");
    this.#emit(c, "die", { exitCode: String(exitCode) });
  }

  /** Appends to the container's output as a Docker log frame. */
  print(id: string, text: string, stream: "stdout" | "stderr" = "stdout"): void {
    const payload = Buffer.from(text, "utf8");
    const header = Buffer.alloc(8);
    header[0] = stream === "stderr" ? 2 : 1;
    header.writeUInt32BE(payload.length, 4);
    this.#require(id).output.push(Buffer.concat([header, payload]));
  }

  setHealth(id: string, health: HealthState): void {
    const c = this.#require(id);
    c.health = health;
    this.#emit(c, `health_status: ${health}`);
  }

  /** `docker rm -f` behind the engine's back; `silent` drops the events (engine was away). */
  vanish(id: string, options: { silent?: boolean } = {}): void {
    const c = this.#require(id);
    if (c.status === "running") this.exit(id, 137, options);
    this.containers.delete(id);
    if (options.silent !== true) this.#emit(c, "destroy");
  }

  #networkName(idOrName: string): string | undefined {
    if (this.networks.has(idOrName)) return idOrName;
    return [...this.networks].find(([, n]) => n.id === idOrName)?.[0];
  }

  #attached(network: string): FakeContainer[] {
    return [...this.containers.values()].filter((c) => network in c.networks);
  }

  #require(id: string): FakeContainer {
    const c = this.containers.get(id);
    if (c === undefined) throw new RuntimeError(`No such container: ${id}`, 404);
    return c;
  }

  #emit(c: FakeContainer, actionFull: string, extra: Record<string, string> = {}): void {
    if (!this.eventsConnected) return;
    const attributes = { ...c.labels, name: c.name, ...extra };
    const event: RuntimeEvent = { type: "container", action: actionFull, id: c.id, attributes, time: new Date() };
    if (actionFull.startsWith("health_status")) {
      event.action = "health_status";
      event.health = actionFull.split(": ")[1] as HealthState;
    }
    if (actionFull === "die") event.exitCode = Number(extra["exitCode"]);
    for (const s of this.#subscribers) {
      if (matches(c.labels, s.labels)) queueMicrotask(() => s.handlers.onEvent(event));
    }
  }
}

function snapshot(c: FakeContainer): ContainerSnapshot {
  return {
    id: c.id,
    name: c.name,
    image: c.options.Image ?? "",
    imageId: `sha256:${hash(c.options.Image ?? "")}`,
    labels: c.labels,
    state: {
      status: c.status,
      running: c.status === "running",
      exitCode: c.exitCode,
      startedAt: c.startedAt,
      finishedAt: c.finishedAt,
      oomKilled: c.oomKilled,
      health: c.health,
      error: undefined,
    },
    networks: Object.fromEntries(Object.entries(c.networks).map(([k, ip]) => [k, { ipAddress: ip, networkId: k }])),
    ports: c.status === "running" ? c.ports : [],
  };
}

function matches(labels: Record<string, string>, filter: string[]): boolean {
  return filter.every((f) => {
    const eq = f.indexOf("=");
    return eq < 0 ? f in labels : labels[f.slice(0, eq)] === f.slice(eq + 1);
  });
}

function hash(s: string): string {
  let h = 0;
  for (const ch of s) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return h.toString(16).padStart(64, "0");
}

function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
