// Per-task networks, ready before they are asked for. Creating a bridge network is the most expensive
// Docker call of a bridge task's start (~70–110 ms, more under load) and removing one costs more still,
// so a few idle networks are kept per cluster and a stopped task's network is recycled instead of removed.
//
// Isolation holds because a network is only handed out with no container attached: a task's containers
// are disconnected before its network is released, and `release` checks that nothing is left on it
// (Docker drops a container's names from the network's DNS when it leaves). Labels cannot be changed
// after creation, so a pooled network carries the cluster label (clean-up by cluster still finds it)
// and an owner label instead of the task's labels.
//
// Orphans cannot pile up: every network also names the process that holds it (a lease, see
// task-network-lease.ts). A server killed, or stopped faster than it could remove its spares, leaves idle
// networks whose holder is dead; any server removes those when it starts, and again before it gives up
// on a full TASK_SUBNET_POOL. A server only keeps networks that carry its own lease: one it takes back
// from an earlier run of its data directory is removed once idle rather than pooled again, so it never
// hands out a network another server may be removing.
import { randomBytes } from "node:crypto";
import { SubnetPoolExhaustedError, subnetWithin, type ContainerRuntime } from "./container-runtime.ts";
import type { Logger } from "../../logger.ts";
import { POOL_LEASE_LABEL, processLease, type OwnerLease } from "./task-network-lease.ts";

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
  /** Who holds the networks this pool makes, and whether others' holders live (default: this process). */
  lease?: OwnerLease;
}

export interface PoolStats {
  idle: Record<string, number>;
  created: number;
  reused: number;
  recycled: number;
  removed: number;
  /** Idle networks of dead holders (other servers, or an earlier run of this one) removed. */
  reclaimed: number;
}

export class TaskNetworkPool {
  readonly owner: string;
  #runtime: ContainerRuntime;
  #logger: Logger;
  #lease: OwnerLease;
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
  #stats = { created: 0, reused: 0, recycled: 0, removed: 0, reclaimed: 0 };
  /** The reclamation in flight, shared by whoever needs one no wider. */
  #reclaiming: { legacy: string | undefined; done: Promise<number> } | undefined;

  constructor(runtime: ContainerRuntime, logger: Logger, options: TaskNetworkPoolOptions) {
    this.#runtime = runtime;
    this.#logger = logger.child({ component: "task-network-pool" });
    this.owner = options.owner;
    this.#spare = Math.max(0, options.spare ?? 2);
    this.#maxPerCluster = Math.max(this.#spare, options.maxIdlePerCluster ?? this.#spare + 1);
    this.#maxIdle = Math.max(0, options.maxIdle ?? 8);
    this.#lease = options.lease ?? processLease(runtime);
  }

  /**
   * A network for a task of `cluster`: an idle one when there is one, else a new one. When the subnet
   * pool is full even after reclaiming dead holders' networks, an idle network of another cluster is
   * taken; failing that, SubnetPoolExhaustedError (its message names TASK_SUBNET_POOL).
   */
  async acquire(cluster: string): Promise<string> {
    const name = this.#idle.get(cluster)?.shift();
    if (name !== undefined) {
      this.#stats.reused++;
      return name;
    }
    try {
      return await this.#create(cluster);
    } catch (err) {
      if (!(err instanceof SubnetPoolExhaustedError)) throw err;
      const spare = [...this.#idle.values()].find((list) => list.length > 0)?.shift();
      if (spare === undefined) throw err;
      this.#stats.reused++;
      return spare;
    }
  }

  /**
   * Takes back a task's network once its containers are disconnected: kept idle when nothing is attached
   * any more and the caps allow, removed otherwise. Networks this pool did not make (another owner's, or
   * named per task by an older version) are removed. Throws when removal fails (e.g. still in use).
   */
  async release(cluster: string, name: string): Promise<void> {
    const info = await this.#runtime.inspectNetwork(name);
    if (info === undefined) return;
    const ours =
      info.labels[POOL_OWNER_LABEL] === this.owner &&
      info.labels[POOL_LEASE_LABEL] === (await this.#lease.own()) &&
      info.labels[CLUSTER_LABEL] === cluster;
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
   * At start-up: this owner's networks that no live task uses were left by an earlier run (a crash, or a
   * stop cut short), and other servers' idle networks whose holder is dead. Both are removed (the
   * in-use ones of this owner are released by their tasks as usual). `inUse` is asked at the moment each
   * network is looked at.
   */
  async adopt(inUse: (name: string) => boolean): Promise<void> {
    const found = await this.#runtime.listNetworks([`${POOL_OWNER_LABEL}=${this.owner}`]);
    let removed = 0;
    for (const n of found) {
      if (this.#made.has(n.name) || this.#isIdle(n.name) || inUse(n.name)) continue;
      try {
        const info = await this.#runtime.inspectNetwork(n.name);
        if (info === undefined || inUse(n.name) || info.containers.length > 0) continue;
        await this.#runtime.removeNetwork(n.name);
        this.#stats.removed++;
        removed++;
      } catch (err) {
        this.#logger.warn("task-network-adopt-failed", { network: n.name, error: err });
      }
    }
    if (removed > 0) this.#logger.info("task-network.left-by-earlier-run-removed", { removed });
    await this.reclaim();
  }

  /**
   * Removes other servers' idle networks whose holder is dead. `legacyWithin` (a full subnet pool, where
   * the alternative is failing): also the idle networks without a lease (written by versions before
   * leases) whose subnet lies in that range; outside it they would free nothing. Returns how many.
   */
  reclaim(options: { legacyWithin?: string } = {}): Promise<number> {
    const legacy = options.legacyWithin;
    const running = this.#reclaiming;
    if (running !== undefined && (legacy === undefined || running.legacy === legacy)) return running.done;
    // A wider sweep than the one in flight starts when that one is over.
    const done = (async () => (running === undefined ? 0 : await running.done) + (await this.#reclaim(legacy)))().finally(() => {
      if (this.#reclaiming?.done === done) this.#reclaiming = undefined;
    });
    this.#reclaiming = { legacy, done };
    return done;
  }

  async #reclaim(legacyWithin: string | undefined): Promise<number> {
    const found = await this.#runtime.listNetworks([POOL_OWNER_LABEL]);
    let reclaimed = 0;
    const owners = new Set<string>();
    for (const n of found) {
      if (this.#closed) break;
      if (n.labels[POOL_OWNER_LABEL] === this.owner) continue;
      const lease = n.labels[POOL_LEASE_LABEL];
      const liveness = lease === undefined ? (legacyWithin !== undefined ? "dead" : "unknown") : await this.#lease.liveness(lease);
      if (liveness !== "dead") continue;
      try {
        const info = await this.#runtime.inspectNetwork(n.name);
        if (info === undefined || info.containers.length > 0) continue;
        if (lease === undefined && !(info.subnets ?? []).some((s) => subnetWithin(s, legacyWithin!))) continue;
        await this.#runtime.removeNetwork(n.name);
        reclaimed++;
        owners.add(n.labels[POOL_OWNER_LABEL] ?? "");
      } catch (err) {
        // Another server reclaiming it at the same time, or a container joined it meanwhile.
        this.#logger.debug("task-network-reclaim-skipped", { network: n.name, error: err });
      }
    }
    this.#stats.reclaimed += reclaimed;
    if (reclaimed > 0) {
      this.#logger.info("task-network.orphans-reclaimed", { networks: reclaimed, owners: owners.size, message: "idle task networks of servers that are no longer running were removed" });
    }
    return reclaimed;
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

  /** A new network; when the subnet pool is full, dead holders' networks are reclaimed and it is tried once more. */
  async #create(cluster: string): Promise<string> {
    const name = `ecs-task-net-${randomBytes(6).toString("hex")}`;
    this.#made.add(name);
    const labels = { [MANAGED_LABEL]: "true", [CLUSTER_LABEL]: cluster, [POOL_OWNER_LABEL]: this.owner, [POOL_LEASE_LABEL]: await this.#lease.own() };
    try {
      await this.#runtime.createNetwork(name, labels);
    } catch (err) {
      if (!(err instanceof SubnetPoolExhaustedError) || this.#closed) throw err;
      this.#logger.warn("task-network.subnet-pool-full", { message: err.message });
      if ((await this.reclaim({ legacyWithin: err.cidr })) === 0) throw err;
      await this.#runtime.createNetwork(name, labels);
    }
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
