// Per-task networks, ready before they are asked for. Creating a bridge network is the most expensive
// Docker call of a bridge task's start (~70–110 ms, more under load) and removing one costs more still,
// so a few idle networks are kept per cluster and a stopped task's network is recycled instead of removed.
//
// Isolation holds because a network is only handed out with no container attached: a task's containers
// are disconnected before its network is released, and `release` checks that nothing is left on it
// (Docker drops a container's names from the network's DNS when it leaves). Labels cannot be changed
// after creation, so a pooled network carries the cluster label (clean-up by cluster still finds it)
// and an owner label instead of the task's labels.
import { randomBytes } from "node:crypto";
import type { ContainerRuntime } from "./container-runtime.ts";
import type { Logger } from "../../logger.ts";

/** Marks a network as one of this pool's; the value identifies the emulator (data dir) that owns it. */
export const POOL_OWNER_LABEL = "local-ecs-api.task-network-pool";
const CLUSTER_LABEL = "com.amazonaws.ecs.cluster";
const MANAGED_LABEL = "local-ecs-api.managed";

export interface TaskNetworkPoolOptions {
  /** Identifies this emulator's networks on a shared daemon; another owner's networks are never touched. */
  owner: string;
  /** Idle networks kept ready per cluster once it ran a task that needed one (default 2). */
  spare?: number;
  /** A cluster keeps at most this many idle networks; recycling beyond it removes (default spare + 1). */
  maxIdlePerCluster?: number;
  /** At most this many idle networks over all clusters (default 8). */
  maxIdle?: number;
}

export interface PoolStats {
  idle: Record<string, number>;
  created: number;
  reused: number;
  recycled: number;
  removed: number;
}

export class TaskNetworkPool {
  readonly owner: string;
  #runtime: ContainerRuntime;
  #logger: Logger;
  #spare: number;
  #maxPerCluster: number;
  #maxIdle: number;
  /** cluster → idle network names, oldest first. */
  #idle = new Map<string, string[]>();
  /** Clusters with a replenishment running. */
  #filling = new Map<string, Promise<void>>();
  #closed = false;
  /** Networks this instance made: start-up adoption, which runs alongside new tasks, leaves them alone. */
  #made = new Set<string>();
  #stats = { created: 0, reused: 0, recycled: 0, removed: 0 };

  constructor(runtime: ContainerRuntime, logger: Logger, options: TaskNetworkPoolOptions) {
    this.#runtime = runtime;
    this.#logger = logger.child({ component: "task-network-pool" });
    this.owner = options.owner;
    this.#spare = Math.max(0, options.spare ?? 2);
    this.#maxPerCluster = Math.max(this.#spare, options.maxIdlePerCluster ?? this.#spare + 1);
    this.#maxIdle = Math.max(0, options.maxIdle ?? 8);
  }

  /** A network for a task of `cluster`: an idle one when there is one, else a new one. */
  async acquire(cluster: string): Promise<string> {
    const name = this.#idle.get(cluster)?.shift();
    if (name !== undefined) {
      this.#stats.reused++;
      return name;
    }
    return this.#create(cluster);
  }

  /**
   * Takes back a task's network once its containers are disconnected: kept idle when nothing is attached
   * any more and the caps allow, removed otherwise. Networks this pool did not make (another owner's, or
   * named per task by an older version) are removed. Throws when removal fails (e.g. still in use).
   */
  async release(cluster: string, name: string): Promise<void> {
    const info = await this.#runtime.inspectNetwork(name);
    if (info === undefined) return;
    const ours = info.labels[POOL_OWNER_LABEL] === this.owner && info.labels[CLUSTER_LABEL] === cluster;
    if (ours && info.containers.length === 0 && this.#hasRoom(cluster)) {
      this.#idleOf(cluster).push(name);
      this.#stats.recycled++;
      return;
    }
    await this.#runtime.removeNetwork(name);
    this.#stats.removed++;
  }

  /** Tops the cluster up to `spare` idle networks in the background (one creation at a time). */
  replenish(cluster: string): Promise<void> {
    const running = this.#filling.get(cluster);
    if (running !== undefined || this.#closed) return running ?? Promise.resolve();
    const fill = (async () => {
      while (!this.#closed && this.#idleOf(cluster).length < this.#spare && this.#totalIdle() < this.#maxIdle) {
        const name = await this.#create(cluster);
        if (this.#closed) {
          await this.#runtime.removeNetwork(name).catch(() => {});
          return;
        }
        this.#idleOf(cluster).push(name);
      }
    })()
      .catch((err: unknown) => this.#logger.warn("task-network-replenish-failed", { cluster, error: err }))
      .finally(() => this.#filling.delete(cluster));
    this.#filling.set(cluster, fill);
    return fill;
  }

  /**
   * At start-up: this owner's networks that no live task uses were left by a crash. Idle ones are taken
   * back (within the caps), the rest removed. `inUse` is asked at the moment each network is looked at.
   */
  async adopt(inUse: (name: string) => boolean): Promise<void> {
    const found = await this.#runtime.listNetworks([`${POOL_OWNER_LABEL}=${this.owner}`]);
    for (const n of found) {
      if (this.#made.has(n.name) || this.#isIdle(n.name) || inUse(n.name)) continue;
      const cluster = n.labels[CLUSTER_LABEL] ?? "";
      try {
        const info = await this.#runtime.inspectNetwork(n.name);
        if (info === undefined || inUse(n.name)) continue;
        if (cluster !== "" && info.containers.length === 0 && this.#hasRoom(cluster)) {
          this.#idleOf(cluster).push(n.name);
          continue;
        }
        await this.#runtime.removeNetwork(n.name);
        this.#stats.removed++;
      } catch (err) {
        this.#logger.warn("task-network-adopt-failed", { network: n.name, error: err });
      }
    }
  }

  /** Removes every idle network (after any replenishment in flight); acquire/replenish stop creating. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#filling.values());
    const names = [...this.#idle.values()].flat();
    this.#idle.clear();
    await Promise.all(
      names.map((name) =>
        this.#runtime.removeNetwork(name).then(
          () => void this.#stats.removed++,
          (err: unknown) => this.#logger.warn("task-network-remove-failed", { network: name, error: err }),
        ),
      ),
    );
  }

  stats(): PoolStats {
    return { idle: Object.fromEntries([...this.#idle].filter(([, v]) => v.length > 0).map(([k, v]) => [k, v.length])), ...this.#stats };
  }

  async #create(cluster: string): Promise<string> {
    const name = `ecs-task-net-${randomBytes(6).toString("hex")}`;
    this.#made.add(name);
    await this.#runtime.createNetwork(name, { [MANAGED_LABEL]: "true", [CLUSTER_LABEL]: cluster, [POOL_OWNER_LABEL]: this.owner });
    this.#stats.created++;
    return name;
  }

  #hasRoom(cluster: string): boolean {
    return !this.#closed && this.#idleOf(cluster).length < this.#maxPerCluster && this.#totalIdle() < this.#maxIdle;
  }

  #isIdle(name: string): boolean {
    for (const list of this.#idle.values()) if (list.includes(name)) return true;
    return false;
  }

  #idleOf(cluster: string): string[] {
    let list = this.#idle.get(cluster);
    if (list === undefined) {
      list = [];
      this.#idle.set(cluster, list);
    }
    return list;
  }

  #totalIdle(): number {
    let n = 0;
    for (const list of this.#idle.values()) n += list.length;
    return n;
  }
}
