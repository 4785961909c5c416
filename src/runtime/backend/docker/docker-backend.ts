// The Docker implementation of TaskBackend: a task is a set of containers on one Docker engine, bridge
// tasks get a user-defined network of their own (from the pool), awsvpc tasks a pause container holding
// the network namespace, volumes become bind mounts or Docker volumes (docker-mapping.ts decides how
// each container looks). The engine above decides when; this file only does each step on Docker.
import type { NetworkBinding } from "../../../../generated/shapes.ts";
import { taskIdOf } from "../../arns.ts";
import type { Logger } from "../../logger.ts";
import type { ExecBackend } from "../../exec/exec-backend.ts";
import {
  BackendError,
  ContainerCreateError,
  ContainerMissingError,
  ContainerStartError,
  ECS_LABELS,
  ImagePullError,
  NETWORK_HOLDER_NAME,
  TaskResourceError,
  VolumeError,
  type BackendEvent,
  type BackendEventHandlers,
  type BackendTask,
  type BackendTaskData,
  type ContainerPlan,
  type ImageFacts,
  type LogChunk,
  type LogOptions,
  type ObservedContainer,
  type ObservedState,
  type ProvisionOptions,
  type ProvisionedTask,
  type Subscription,
  type TaskBackend,
  type TaskPlan,
  type TaskRuntimeFacts,
} from "../task-backend.ts";
import type { ContainerRuntime, ContainerSnapshot, RuntimeEvent } from "./container-runtime.ts";
import { RuntimeError } from "./container-runtime.ts";
import {
  buildContainerCreateOptions,
  dockerContainerName,
  randomHex20,
  taskVolumePlan,
  type TaskVolumeBinding,
  type VolumeToEnsure,
} from "./docker-mapping.ts";
import { ImagePuller } from "./image-puller.ts";
import { choosePauseSpec, pauseCreateOptions, type PauseSpec } from "./pause-container.ts";
import { demultiplex } from "./log-stream.ts";
import { TaskNetworkPool, type TaskNetworkPoolOptions } from "./task-network-pool.ts";
import { SharedNetworks } from "./shared-networks.ts";

/** Label on everything the engine creates; the events subscription filters on it. */
export const MANAGED_LABEL = "local-ecs-api.managed";

/** Where Docker's local volume driver keeps a named volume (the agent reports the mountpoint). */
const LOCAL_VOLUME_ROOT = "/var/lib/docker/volumes";

/** What this backend keeps per task (persisted by the engine). Dates never appear here. */
export interface DockerTaskData extends BackendTaskData {
  /** The per-task user-defined network (bridge, awsvpc). */
  networkName?: string;
  /** The network went back to the pool or was removed: cleanup must not touch it any more. */
  networkReleased?: boolean;
  pause?: { dockerName: string; runtimeId?: string; ipv4?: string; macAddress?: string; bindings?: NetworkBinding[] };
  volumes: VolumeToEnsure[];
  volumeBindings: Record<string, TaskVolumeBinding>;
  /** Networks the task's containers (or its pause container) joined besides their own. */
  extraNetworks: string[];
  /** Aliases on those networks (network → names). */
  networkAliases?: Record<string, string[]>;
  /** Of those, the shared ones (Service Connect namespaces) this task holds until it is deprovisioned. */
  sharedNetworks?: string[];
  /** The task let go of its shared networks (deprovisioned). */
  sharedReleased?: boolean;
}

export interface DockerBackendOptions {
  runtime: ContainerRuntime;
  logger: Logger;
  /** Existing Docker networks every task also joins (ECS_EXTERNAL_NETWORKS). */
  externalNetworks?: readonly string[];
  /** Stop timeout for containers without stopTimeout (the agent's ECS_CONTAINER_STOP_TIMEOUT). */
  defaultStopTimeoutSec?: number;
  /**
   * Pause container for awsvpc tasks. Default: the first locally present of amazon/amazon-ecs-pause:0.1.0
   * and registry.k8s.io/pause:3.9, else the task's first container image running `sleep` (works offline
   * with any image that has a sleep binary).
   */
  pause?: PauseSpec;
  /**
   * Per-task networks come from a pool of idle networks and are recycled when a task stops (see
   * task-network-pool.ts). `false`: one network per task, `ecs-task-<task id>`, created at provision and
   * removed at stop.
   */
  networkPool: TaskNetworkPoolOptions | false;
  /** ECS Exec on this engine (the `docker exec` bridge). */
  exec?: ExecBackend | undefined;
}

export class DockerBackend implements TaskBackend {
  readonly #runtime: ContainerRuntime;
  readonly #logger: Logger;
  readonly #externalNetworks: readonly string[];
  readonly #defaultStopTimeoutSec: number;
  readonly #pause: PauseSpec | undefined;
  readonly #pool: TaskNetworkPool | undefined;
  readonly #images: ImagePuller;
  readonly #exec: ExecBackend | undefined;
  readonly #shared: SharedNetworks;
  #live: () => Iterable<BackendTask> = () => [];

  constructor(options: DockerBackendOptions) {
    this.#runtime = options.runtime;
    this.#logger = options.logger.child({ component: "docker-backend" });
    this.#externalNetworks = options.externalNetworks ?? [];
    this.#defaultStopTimeoutSec = options.defaultStopTimeoutSec ?? 30;
    this.#pause = options.pause;
    this.#pool = options.networkPool === false ? undefined : new TaskNetworkPool(this.#runtime, this.#logger, options.networkPool);
    this.#images = new ImagePuller(this.#runtime, this.#logger);
    this.#exec = options.exec;
    this.#shared = new SharedNetworks(this.#runtime, this.#logger, options.networkPool === false ? "local" : options.networkPool.owner);
  }

  async start(live: () => Iterable<BackendTask>): Promise<void> {
    this.#live = live;
    void this.#shared.reclaim((name) => this.#sharedHeld(name)).catch((err: unknown) => this.#logger.warn("shared-network-reclaim-failed", { error: err }));
    if (this.#pool === undefined) return;
    const inUse = (name: string): boolean => {
      for (const task of live()) {
        const data = task.data as DockerTaskData;
        if (data.networkName === name && data.networkReleased !== true) return true;
      }
      return false;
    };
    // In the background (a server without Docker must still start), so tasks may start meanwhile.
    void this.#pool.adopt(inUse).catch((err: unknown) => this.#logger.warn("task-network-adopt-failed", { error: err }));
  }

  async close(): Promise<void> {
    await this.#pool?.close();
  }

  // ---------------------------------------------------------------- task lifecycle

  initTask(plan: TaskPlan): { data: DockerTaskData; runtimeNames: Record<string, string> } {
    const td = plan.taskDefinition;
    const family = td.family ?? "";
    const revision = td.revision ?? 0;
    const volumes = taskVolumePlan(td, family, revision, randomHex20(), { [MANAGED_LABEL]: "true", [ECS_LABELS.taskArn]: plan.taskArn });
    const data: DockerTaskData = { volumes: volumes.toEnsure, volumeBindings: volumes.volumes, extraNetworks: [] };
    // With the pool, provisioning picks the network.
    if ((plan.networkMode === "bridge" || plan.networkMode === "awsvpc") && this.#pool === undefined) {
      data.networkName = `ecs-task-${taskIdOf(plan.taskArn)}`;
    }
    if (plan.networkMode === "awsvpc") {
      data.pause = { dockerName: dockerContainerName(family, revision, "internalecspause") };
      if (plan.macAddress !== undefined) data.pause.macAddress = plan.macAddress;
    }
    const runtimeNames = Object.fromEntries((td.containerDefinitions ?? []).map((d) => [d.name ?? "", dockerContainerName(family, revision, d.name ?? "")]));
    return { data, runtimeNames };
  }

  async provision(task: BackendTask, options: ProvisionOptions): Promise<ProvisionedTask> {
    const data = task.data as DockerTaskData;
    data.extraNetworks = unique([...this.#externalNetworks, ...options.networks.map((n) => n.name)]);
    const aliases = Object.fromEntries(options.networks.filter((n) => (n.aliases ?? []).length > 0).map((n) => [n.name, n.aliases ?? []]));
    if (Object.keys(aliases).length > 0) data.networkAliases = aliases;
    else delete data.networkAliases;
    const labels = this.#labels(task.plan);
    try {
      for (const net of options.networks.filter((n) => n.shared === true)) {
        await this.#shared.ensure(net.name, { [MANAGED_LABEL]: "true" }, () => {
          data.sharedNetworks = unique([...(data.sharedNetworks ?? []), net.name]);
          delete data.sharedReleased;
        });
      }
      if (data.sharedNetworks !== undefined) task.save();
      // Volumes and the network are independent; settle both so a failure of one never leaves the
      // other in flight once provisioning is over.
      const settled = await Promise.allSettled([this.#provisionVolumes(data), this.#provisionNetwork(task, labels)]);
      for (const r of settled) if (r.status === "rejected") throw r.reason;
      if (task.plan.networkMode === "awsvpc" && data.pause !== undefined) {
        await this.#startPause(task, options.extraHosts, labels);
        return { ipv4: data.pause.ipv4 };
      }
    } catch (err) {
      if (err instanceof TaskResourceError) throw err;
      throw new TaskResourceError(messageOf(err), { cause: err });
    }
    return {};
  }

  async #provisionVolumes(data: DockerTaskData): Promise<void> {
    for (const v of data.volumes) {
      if (v.ensure === "create" || v.ensure === "create-if-missing") {
        if (v.ensure === "create-if-missing" && (await this.#runtime.volumeExists(v.name))) continue;
        await this.#runtime.createVolume({ name: v.name, driver: v.driver, driverOpts: v.driverOpts, labels: v.labels }).catch((err: unknown) => {
          throw new VolumeError(messageOf(err), { cause: err });
        });
      } else if (!(await this.#runtime.volumeExists(v.name))) {
        throw new VolumeError(`volume '${v.name}' does not exist and autoprovision is set to false`);
      }
    }
  }

  async #provisionNetwork(task: BackendTask, labels: Record<string, string>): Promise<void> {
    const data = task.data as DockerTaskData;
    if (task.plan.networkMode !== "bridge" && task.plan.networkMode !== "awsvpc") return;
    if (this.#pool === undefined) {
      if (data.networkName === undefined) return;
      await this.#runtime.removeNetwork(data.networkName);
      await this.#runtime.createNetwork(data.networkName, labels);
      return;
    }
    const cluster = task.plan.clusterName;
    // A retry after a restart: the network taken last time holds no container yet; hand it back first.
    if (data.networkName !== undefined) await this.#pool.release(cluster, data.networkName).catch(() => {});
    data.networkName = await this.#pool.acquire(cluster);
    data.networkReleased = false;
    // At once, so a restart knows the network is this task's.
    task.save();
  }

  async #startPause(task: BackendTask, extraHosts: string[], labels: Record<string, string>): Promise<void> {
    const data = task.data as DockerTaskData;
    const pause = data.pause!;
    const defs = task.plan.taskDefinition.containerDefinitions ?? [];
    const spec = await choosePauseSpec(this.#runtime, this.#images, this.#pause, defs[0]?.image ?? "");
    const options = pauseCreateOptions({ spec, name: pause.dockerName, definitions: defs, network: data.networkName, extraHosts, macAddress: pause.macAddress, labels });
    if (pause.runtimeId !== undefined) await this.#runtime.removeContainer(pause.runtimeId, { force: true });
    pause.runtimeId = await this.#runtime.createContainer(options);
    task.save();
    for (const net of data.extraNetworks) await this.#runtime.connectNetwork(net, pause.runtimeId, data.networkAliases?.[net]);
    await this.#runtime.startContainer(pause.runtimeId);
    const snap = await this.#runtime.inspectContainer(pause.runtimeId);
    if (snap !== undefined) pause.bindings = bindingsOf(snap);
    const ip = data.networkName === undefined ? undefined : snap?.networks[data.networkName]?.ipAddress;
    if (ip !== undefined && ip !== "") pause.ipv4 = ip;
  }

  async prepareImage(_task: BackendTask, image: string): Promise<ImageFacts> {
    try {
      // One inspect answers both "is it here?" and the digest/env; only a missing image costs a pull.
      let img = await this.#runtime.inspectImage(image);
      if (img === undefined) {
        await this.#images.pull(image);
        img = await this.#runtime.inspectImage(image);
      }
      if (img === undefined) throw new RuntimeError(`image ${image} is not present after its pull`);
      return { digest: img.repoDigests[0]?.split("@")[1] ?? img.id, env: img.env ?? [] };
    } catch (err) {
      throw new ImagePullError(messageOf(err), { cause: err });
    }
  }

  async createContainer(task: BackendTask, c: ContainerPlan): Promise<string> {
    const { plan } = task;
    const data = task.data as DockerTaskData;
    const td = plan.taskDefinition;
    let id: string;
    try {
      const input: Parameters<typeof buildContainerCreateOptions>[0] = {
        taskArn: plan.taskArn,
        clusterName: plan.clusterName,
        family: td.family ?? "",
        revision: td.revision ?? 0,
        taskId: taskIdOf(plan.taskArn),
        definition: c.definition,
        networkMode: plan.networkMode,
        dockerName: c.runtimeName,
        siblings: c.siblings,
        volumes: data.volumeBindings,
        extraLabels: { ...c.labels, [MANAGED_LABEL]: "true" },
        defaultStopTimeout: this.#defaultStopTimeoutSec,
        imageEnv: c.imageEnv,
      };
      if (c.override !== undefined) input.override = c.override;
      if (data.pause?.runtimeId !== undefined) input.networkContainerId = data.pause.runtimeId;
      if (plan.networkMode === "bridge" && data.networkName !== undefined) input.taskNetwork = data.networkName;
      if (c.env !== undefined) input.extraEnv = c.env;
      if (c.secretEnv !== undefined) input.secretEnv = c.secretEnv;
      if (c.envFileEnv !== undefined) input.envFileEnv = c.envFileEnv;
      if (c.extraHosts !== undefined) input.extraHosts = c.extraHosts;
      if (plan.cpu !== undefined) input.taskCpu = plan.cpu;
      if (plan.memory !== undefined) input.taskMemory = plan.memory;
      id = await this.#runtime.createContainer(buildContainerCreateOptions(input));
    } catch (err) {
      throw new ContainerCreateError(messageOf(err), { cause: err });
    }
    if (plan.networkMode === "bridge") {
      const nets = unique([...data.extraNetworks, ...(c.networks ?? []).map((n) => n.name)]);
      const aliasesOf = (net: string): string[] => unique([c.name, ...(data.networkAliases?.[net] ?? []), ...((c.networks ?? []).find((n) => n.name === net)?.aliases ?? [])]);
      try {
        await Promise.all(nets.map((net) => this.#runtime.connectNetwork(net, id, aliasesOf(net))));
      } catch (err) {
        // A half-made container would only be in the way of a retry.
        await this.#runtime.removeContainer(id, { force: true }).catch(() => {});
        throw new ContainerCreateError(messageOf(err), { cause: err });
      }
    }
    return id;
  }

  async startContainer(task: BackendTask, runtimeId: string): Promise<ObservedContainer | undefined> {
    try {
      await this.#runtime.startContainer(runtimeId);
    } catch (err) {
      if (isMissing(err)) throw new ContainerMissingError(messageOf(err), { cause: err });
      throw new ContainerStartError(messageOf(err), { cause: err });
    }
    try {
      const snap = await this.#runtime.inspectContainer(runtimeId);
      return snap === undefined ? undefined : this.#observed(task, snap);
    } catch (err) {
      this.#logger.warn("inspect-failed", { taskArn: task.plan.taskArn, runtimeId, error: err });
      return undefined;
    }
  }

  async stopContainer(task: BackendTask, runtimeId: string, timeoutSec: number): Promise<ObservedContainer | undefined> {
    try {
      await this.#runtime.stopContainer(runtimeId, timeoutSec);
    } catch (err) {
      if (isMissing(err)) return undefined;
      this.#logger.warn("container-stop-failed", { taskArn: task.plan.taskArn, runtimeId, error: err });
      await this.#runtime.killContainer(runtimeId).catch(() => {});
    }
    const snap = await this.#runtime.inspectContainer(runtimeId).catch(() => undefined);
    return snap === undefined ? undefined : this.#observed(task, snap);
  }

  async deprovision(task: BackendTask, runtimeIds: string[]): Promise<void> {
    const data = task.data as DockerTaskData;
    if (data.pause?.runtimeId !== undefined) {
      await this.#runtime.killContainer(data.pause.runtimeId);
      await this.#runtime.removeContainer(data.pause.runtimeId, { force: true });
    }
    const network = data.networkName;
    if (network !== undefined && data.networkReleased !== true) {
      // Stopped containers stay (for `docker logs`) until cleanup, but must not pin the network: a
      // Docker host only has room for a limited number of bridge networks, and a recycled network
      // must hold nothing of this task.
      await Promise.all(runtimeIds.map((id) => this.#runtime.disconnectNetwork(network, id)));
      if (this.#pool !== undefined) await this.#pool.release(task.plan.clusterName, network);
      else await this.#runtime.removeNetwork(network);
      data.networkReleased = true;
    }
    if (data.sharedNetworks !== undefined && data.sharedReleased !== true) {
      // Leaving the namespace's network drops the task's names from its DNS at once.
      for (const net of data.sharedNetworks) {
        await Promise.all(runtimeIds.map((id) => this.#runtime.disconnectNetwork(net, id).catch(() => {})));
      }
      data.sharedReleased = true;
      task.save();
      for (const net of data.sharedNetworks) await this.#shared.release(net, () => this.#sharedHeld(net));
    }
  }

  /** Whether a live task of this engine holds the shared network (provisioned, not yet deprovisioned). */
  #sharedHeld(name: string): boolean {
    for (const t of this.#live()) {
      const d = t.data as DockerTaskData;
      if (d.sharedReleased !== true && (d.sharedNetworks ?? []).includes(name)) return true;
    }
    return false;
  }

  async cleanup(task: BackendTask, runtimeIds: string[]): Promise<void> {
    const data = task.data as DockerTaskData;
    for (const id of runtimeIds) {
      await this.#runtime.removeContainer(id, { force: true }).catch((err: unknown) => {
        this.#logger.warn("container-remove-failed", { taskArn: task.plan.taskArn, runtimeId: id, error: err });
      });
    }
    if (data.pause?.runtimeId !== undefined) await this.#runtime.removeContainer(data.pause.runtimeId, { force: true }).catch(() => {});
    // A released network may already serve another task.
    if (data.networkName !== undefined && data.networkReleased !== true) await this.#runtime.removeNetwork(data.networkName).catch(() => {});
    for (const v of data.volumes) {
      if (v.scope === "task") await this.#runtime.removeVolume(v.name).catch(() => {});
    }
  }

  /** The task reached RUNNING: the moment to make spare networks (not earlier, not to slow its start). */
  onTaskRunning(task: BackendTask): void {
    if ((task.data as DockerTaskData).networkName !== undefined) void this.#pool?.replenish(task.plan.clusterName);
  }

  // ---------------------------------------------------------------- observation

  async observe(task: BackendTask, containers: ReadonlyArray<{ name: string; runtimeId: string | undefined }>): Promise<Record<string, ObservedState>> {
    const data = task.data as DockerTaskData;
    let byName = new Map<string, ContainerSnapshot>();
    if (containers.some((c) => c.runtimeId === undefined) || (data.pause !== undefined && data.pause.runtimeId === undefined)) {
      const found = await this.#runtime.listContainers([`${ECS_LABELS.taskArn}=${task.plan.taskArn}`]);
      byName = new Map(found.map((s) => [s.labels[ECS_LABELS.containerName] ?? "", s]));
      const pause = byName.get(NETWORK_HOLDER_NAME);
      if (data.pause !== undefined && data.pause.runtimeId === undefined && pause !== undefined) data.pause.runtimeId = pause.id;
    }
    if (task.plan.networkMode === "awsvpc" && data.pause?.runtimeId !== undefined) {
      const snap = await this.#runtime.inspectContainer(data.pause.runtimeId).catch(() => undefined);
      if (snap !== undefined) data.pause.bindings = bindingsOf(snap);
    }
    const out: Record<string, ObservedState> = {};
    for (const c of containers) {
      if (c.runtimeId === undefined) {
        const adopted = byName.get(c.name);
        out[c.name] = adopted === undefined ? "unknown" : this.#observed(task, adopted);
        continue;
      }
      const snap = await this.#runtime.inspectContainer(c.runtimeId);
      out[c.name] = snap === undefined ? "gone" : this.#observed(task, snap);
    }
    return out;
  }

  subscribe(handlers: BackendEventHandlers): Subscription {
    return this.#runtime.events(
      { labels: [`${MANAGED_LABEL}=true`] },
      {
        onEvent: (event) => {
          const translated = translateEvent(event);
          if (translated !== undefined) handlers.onEvent(translated);
        },
        onError: (err) => {
          // The engine stopped answering: its tasks are disconnected until it is back.
          handlers.onEvent({ kind: "connectivity", connected: false, affects: () => true });
          handlers.onError(err);
        },
        onConnect: () => {
          handlers.onEvent({ kind: "connectivity", connected: true, affects: () => true });
          handlers.onConnect();
        },
      },
    );
  }

  facts(task: BackendTask): TaskRuntimeFacts {
    const data = task.data as DockerTaskData;
    const volumes: TaskRuntimeFacts["volumes"] = {};
    for (const [name, b] of Object.entries(data.volumeBindings ?? {})) {
      volumes[name] = { ...b, hostPath: b.type === "bind" ? b.source : `${LOCAL_VOLUME_ROOT}/${b.source}/_data` };
    }
    const facts: TaskRuntimeFacts = { volumes };
    if (data.networkName !== undefined) facts.networkName = data.networkName;
    if (data.pause !== undefined) facts.holder = { runtimeId: data.pause.runtimeId, runtimeName: data.pause.dockerName };
    return facts;
  }

  async *logs(_task: BackendTask, runtimeId: string, options: LogOptions): AsyncIterable<LogChunk> {
    const { chunks, tty } = await this.#runtime.logs(runtimeId, options).catch((err: unknown) => {
      throw isMissing(err) ? new ContainerMissingError(messageOf(err), { cause: err }) : err;
    });
    yield* tty ? ttyChunks(chunks) : demultiplex(chunks);
  }

  stats(_task: BackendTask, runtimeId: string): Promise<Record<string, unknown> | null> {
    return this.#runtime.stats(runtimeId);
  }

  exec(): ExecBackend {
    if (this.#exec === undefined) throw new BackendError("ECS Exec is not available on this Docker engine");
    return this.#exec;
  }

  // ---------------------------------------------------------------- helpers

  #labels(plan: TaskPlan): Record<string, string> {
    const td = plan.taskDefinition;
    return {
      [MANAGED_LABEL]: "true",
      [ECS_LABELS.taskArn]: plan.taskArn,
      [ECS_LABELS.family]: td.family ?? "",
      [ECS_LABELS.version]: String(td.revision ?? 0),
      [ECS_LABELS.cluster]: plan.clusterName,
    };
  }

  #observed(task: BackendTask, snap: ContainerSnapshot): ObservedContainer {
    const data = task.data as DockerTaskData;
    const name = snap.labels[ECS_LABELS.containerName];
    let bindings = bindingsOf(snap);
    if (task.plan.networkMode === "awsvpc") {
      // Ports are published on the pause container; each container reports its own share.
      const def = (task.plan.taskDefinition.containerDefinitions ?? []).find((d) => d.name === name);
      const mine = new Set((def?.portMappings ?? []).map((p) => p.containerPort));
      bindings = (data.pause?.bindings ?? []).filter((b) => mine.has(b.containerPort));
    }
    return {
      runtimeId: snap.id,
      imageId: snap.imageId,
      running: snap.state.running,
      exited: snap.state.status === "exited" || snap.state.status === "dead",
      exitCode: snap.state.exitCode,
      startedAt: snap.state.startedAt,
      finishedAt: snap.state.finishedAt,
      oomKilled: snap.state.oomKilled,
      health: snap.state.health,
      networks: Object.fromEntries(Object.entries(snap.networks).map(([k, v]) => [k, v.ipAddress])),
      bindings,
    };
  }
}

/** A Docker container event in ECS terms; undefined for events about nothing the engine tracks. */
export function translateEvent(event: RuntimeEvent): BackendEvent | undefined {
  const taskArn = event.attributes[ECS_LABELS.taskArn];
  const containerName = event.attributes[ECS_LABELS.containerName];
  if (taskArn === undefined || containerName === undefined) return undefined;
  const base = { taskArn, containerName, runtimeId: event.id, at: event.time };
  if (containerName === NETWORK_HOLDER_NAME) return event.action === "die" ? { kind: "holder-exited", taskArn, at: event.time } : undefined;
  switch (event.action) {
    case "start":
      return { kind: "started", ...base };
    case "die":
      return { kind: "exited", ...base, exitCode: event.exitCode };
    case "oom":
      return { kind: "oom", ...base };
    case "health_status":
      return { kind: "health", ...base, health: event.health };
    case "destroy":
      return { kind: "removed", ...base };
    default:
      return undefined;
  }
}

function bindingsOf(snap: ContainerSnapshot): NetworkBinding[] {
  return snap.ports.map((p) => ({ bindIP: p.hostIp, containerPort: p.containerPort, hostPort: p.hostPort, protocol: p.protocol }));
}

async function* ttyChunks(chunks: AsyncIterable<Buffer>): AsyncIterable<LogChunk> {
  for await (const chunk of chunks) yield { stream: "stdout", text: chunk.toString("utf8") };
}

/**
 * The container itself is gone. Docker also answers 404 for a start whose network is missing: that is a
 * failure to start, not a vanished container.
 */
function isMissing(err: unknown): boolean {
  return err instanceof RuntimeError && err.statusCode === 404 && /no such container/i.test(err.message);
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
