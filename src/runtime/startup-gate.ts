// The server listens before its Docker side is up: a cold start answers the control plane as soon as its
// stores are open, while bringing up the Docker side (the engine's events, the agent endpoint's network
// checks, the re-adoption and first reconcile of stored tasks, the container instances' probes) is ~200 ms
// more of waiting on dockerd (issue 12). Until that side is up or known to be away, requests whose answers
// depend on it wait here, at most `boundMs` from the start of the attempt; the control plane (task
// definitions, the cluster list, tags, account settings) answers at once.
//
// Why wait rather than answer at once: a restarted server must never act on, nor report, tasks it has not
// re-adopted. DescribeTasks right after a restart shows what the reconcile found (an exit while the server
// was down), and RunTask/StopTask never race it; a client that sends RunTask as soon as the port opens gets
// a task, as it did when the port opened only after start-up, not a refusal it would have to retry.
// Why bounded: if dockerd is that slow, requests are answered as ECS answers them while an instance's agent
// is disconnected (RunTask: no container instance can take the task; StopTask: the desired status is
// recorded and acted on once the task is re-adopted; DescribeTasks: the last known state), and the Docker
// side keeps coming up in the background.
import type { EcsOperations } from "../../generated/operations.ts";
import type { Clock, Timer } from "./clock.ts";

/** Default bound on how long a request waits for the Docker side (the instance registry's own bound). */
export const STARTUP_WAIT_MS = 15_000;

export type StartupPhase = "starting" | "ready" | "unavailable";

export interface StartupGateOptions {
  clock: Clock;
  boundMs: number;
  /** Called when an attempt is still under way at the bound (requests stop waiting for it). */
  onBoundPassed?: () => void;
}

export class StartupGate {
  readonly #clock: Clock;
  readonly #boundMs: number;
  readonly #onBoundPassed: () => void;
  #phase: StartupPhase = "starting";
  #holding = false;
  #deadline: Timer | undefined;
  #release: () => void = () => {};
  #passed: Promise<void> = Promise.resolve();

  constructor(options: StartupGateOptions) {
    this.#clock = options.clock;
    this.#boundMs = options.boundMs;
    this.#onBoundPassed = options.onBoundPassed ?? (() => {});
    this.starting();
  }

  get phase(): StartupPhase {
    return this.#phase;
  }

  /** Whether requests that depend on the Docker side wait now (checked per request, so it stays cheap). */
  get holding(): boolean {
    return this.#holding;
  }

  /** Resolves when the Docker side is up, known to be away, or the bound has passed (at once if not holding). */
  passed(): Promise<void> {
    return this.#passed;
  }

  /**
   * An attempt to bring the Docker side up begins: at start, and when the engine answers again after it
   * was away at start. Once the side is up it stays so (later outages are the engine's to follow).
   */
  starting(): void {
    if (this.#phase === "ready") return;
    this.#phase = "starting";
    if (this.#holding) return;
    this.#holding = true;
    this.#passed = new Promise<void>((resolve) => (this.#release = resolve));
    this.#deadline = this.#clock.setTimeout(() => {
      this.#deadline = undefined;
      this.#open();
      this.#onBoundPassed();
    }, this.#boundMs);
  }

  /** The Docker side is up: tasks re-adopted and reconciled, instances probed. */
  ready(): void {
    this.#phase = "ready";
    this.#open();
  }

  /** The engine does not answer (or the attempt failed): the control plane serves alone for now. */
  unavailable(): void {
    if (this.#phase === "ready") return;
    this.#phase = "unavailable";
    this.#open();
  }

  /** Releases every waiting request (the server is closing). */
  close(): void {
    this.#open();
  }

  #open(): void {
    this.#deadline?.cancel();
    this.#deadline = undefined;
    if (!this.#holding) return;
    this.#holding = false;
    this.#release();
  }
}

type OperationKey = keyof EcsOperations<unknown>;

/**
 * Operations whose answers never depend on the Docker side, the tasks or the container instances: answered
 * at once while it comes up. Everything else waits (a new operation is safe by default).
 */
export const ANSWERED_WHILE_STARTING: ReadonlySet<OperationKey> = new Set<OperationKey>([
  "listClusters",
  "registerTaskDefinition",
  "describeTaskDefinition",
  "listTaskDefinitions",
  "listTaskDefinitionFamilies",
  "deregisterTaskDefinition",
  "deleteTaskDefinitions",
  "putAccountSetting",
  "putAccountSettingDefault",
  "listAccountSettings",
  "deleteAccountSetting",
  "tagResource",
  "untagResource",
  "listTagsForResource",
]);

/** The same operations, those that depend on the Docker side waiting for `gate` first. */
export function gatedOperations<Ctx>(operations: Partial<EcsOperations<Ctx>>, gate: StartupGate): Partial<EcsOperations<Ctx>> {
  const out: Record<string, unknown> = {};
  for (const [key, impl] of Object.entries(operations) as Array<[string, unknown]>) {
    if (typeof impl !== "function" || ANSWERED_WHILE_STARTING.has(key as OperationKey)) {
      out[key] = impl;
      continue;
    }
    const call = impl as (this: unknown, input: unknown, ctx: Ctx) => Promise<unknown>;
    out[key] = (input: unknown, ctx: Ctx): Promise<unknown> =>
      gate.holding ? gate.passed().then(() => call.call(operations, input, ctx)) : call.call(operations, input, ctx);
  }
  return out as Partial<EcsOperations<Ctx>>;
}
