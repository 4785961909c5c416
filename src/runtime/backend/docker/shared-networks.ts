// Networks shared by the tasks of several services (a Service Connect namespace): made on the engine when
// the first task that needs one is provisioned, removed when the last task holding it stops. A task's
// record (DockerTaskData.sharedNetworks) says which it holds, so "is it still in use" is a question about
// the engine's live tasks, asked under a per-network lock: a task being provisioned has recorded its
// network before any other task's release can look, and a release never removes a network another task
// has just taken.
//
// Every shared network carries the owner label (the emulator's data directory id, as the task network pool
// does), so a server only ever removes its own, and a restart removes what a killed server left idle.
import type { Logger } from "../../logger.ts";
import type { ContainerRuntime } from "./container-runtime.ts";

/** Label on every shared network; the value is the owner (one emulator's data directory). */
export const SHARED_NETWORK_LABEL = "local-ecs-api.shared-network";

export class SharedNetworks {
  readonly #runtime: ContainerRuntime;
  readonly #logger: Logger;
  readonly #owner: string;
  /** Network name → the operation on it in flight (ensure or release), chained. */
  readonly #locks = new Map<string, Promise<unknown>>();

  constructor(runtime: ContainerRuntime, logger: Logger, owner: string) {
    this.#runtime = runtime;
    this.#logger = logger.child({ component: "shared-networks" });
    this.#owner = owner;
  }

  /**
   * Makes sure the network exists; `hold` records, before the lock is released, that the caller's task
   * holds it (so a concurrent release sees it in use).
   */
  ensure(name: string, labels: Record<string, string>, hold: () => void): Promise<void> {
    return this.#locked(name, async () => {
      hold();
      if ((await this.#runtime.inspectNetwork(name)) !== undefined) return;
      try {
        await this.#runtime.createNetwork(name, { ...labels, [SHARED_NETWORK_LABEL]: this.#owner });
        this.#logger.info("shared-network-created", { network: name });
      } catch (err) {
        // Made meanwhile by someone else (another engine call, a retried step): fine if it is there now.
        if ((await this.#runtime.inspectNetwork(name).catch(() => undefined)) === undefined) throw err;
      }
    });
  }

  /** Removes the network once `held()` (asked under the lock) says no live task holds it any more. */
  release(name: string, held: () => boolean): Promise<void> {
    return this.#locked(name, async () => {
      if (held()) return;
      const info = await this.#runtime.inspectNetwork(name);
      if (info === undefined || info.labels[SHARED_NETWORK_LABEL] !== this.#owner) return;
      // Stopped containers of our tasks were disconnected; anything still attached is someone else's.
      if (info.containers.length > 0) return;
      await this.#runtime.removeNetwork(name);
      this.#logger.info("shared-network-removed", { network: name });
    }).catch((err: unknown) => this.#logger.warn("shared-network-remove-failed", { network: name, error: err }));
  }

  /** At start-up: this owner's shared networks that no live task holds were left by an earlier run. */
  async reclaim(held: (name: string) => boolean): Promise<void> {
    const found = await this.#runtime.listNetworks([`${SHARED_NETWORK_LABEL}=${this.#owner}`]);
    for (const n of found) await this.release(n.name, () => held(n.name));
  }

  #locked<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(name) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(fn);
    const settled = next.catch(() => undefined);
    this.#locks.set(name, settled);
    void settled.then(() => {
      if (this.#locks.get(name) === settled) this.#locks.delete(name);
    });
    return next;
  }
}
