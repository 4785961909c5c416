// Whether the container runtime (the Docker engine) is there, without asking it per request: an events
// subscription of our own connects when the engine answers and fails or ends when it goes away (the
// runtime's subscription retries by itself), so up/down follow the engine with no probing in between.
import type { ContainerRuntime, EventSubscription } from "./container-runtime.ts";

/** Matches no container: the subscription is only watched for its connection state. */
const PROBE_LABEL = "local-ecs-api.availability-probe=none";

export class RuntimeAvailability {
  readonly #subscription: EventSubscription;
  readonly #listeners = new Set<(up: boolean, error: Error | undefined) => void>();
  #up: boolean | undefined;
  #settle: () => void = () => {};
  /** Resolves once the first connection attempt has succeeded or failed. */
  readonly settled: Promise<void>;

  constructor(runtime: Pick<ContainerRuntime, "events">) {
    this.settled = new Promise<void>((resolve) => (this.#settle = resolve));
    this.#subscription = runtime.events(
      { labels: [PROBE_LABEL] },
      {
        onEvent: () => {},
        onConnect: () => this.#set(true, undefined),
        onError: (err) => this.#set(false, err),
      },
    );
  }

  /** The engine answered on the last attempt (false until the first one succeeded). */
  get up(): boolean {
    return this.#up === true;
  }

  /** Called on every change (up → down, down → up), and for the first outcome. Returns an unsubscribe. */
  onChange(listener: (up: boolean, error: Error | undefined) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): void {
    this.#subscription.close();
    this.#listeners.clear();
    this.#settle();
  }

  #set(up: boolean, error: Error | undefined): void {
    const changed = this.#up !== up;
    this.#up = up;
    this.#settle();
    if (!changed) return;
    for (const l of this.#listeners) l(up, error);
  }
}
