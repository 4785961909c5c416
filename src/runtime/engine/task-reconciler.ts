// Keeps the engine's records in line with what the runtime says: events as they come, and a full look at
// every live task whenever the event stream (re)connects — at start-up that re-adopts the containers a
// previous run left, and after a disconnection it catches the exits that happened meanwhile.
import type { BackendEvent, ObservedContainer, ObservedState, TaskBackend } from "../backend/task-backend.ts";
import type { Clock } from "../clock.ts";
import type { Logger } from "../logger.ts";
import type { ContainerRecord } from "./engine-types.ts";
import type { TaskDocument } from "./task-document.ts";
import type { Working } from "./task-engine.ts";
import { containerHealthFromDocker } from "./task-status.ts";
import { raiseKnown, recordExit, recordVanished } from "./task-transitions.ts";

/** The task's link to its runtime changed (ECS: the agent of its container instance (dis)connected). */
export function applyConnectivity(doc: TaskDocument, connected: boolean, now: Date): void {
  const connectivity = connected ? "CONNECTED" : "DISCONNECTED";
  if (doc.task.connectivity === connectivity || doc.task.lastStatus === "STOPPED") return;
  doc.task.connectivity = connectivity;
  doc.task.connectivityAt = now;
}

/**
 * Applies one runtime event to the task's records. Returns false when the event is about nothing the
 * task knows (another run's container, an older container of the same name).
 */
export function applyEvent(doc: TaskDocument, event: Extract<BackendEvent, { containerName: string }>, opInFlight: boolean, now: Date): boolean {
  const c = doc.state.containers.find((x) => x.name === event.containerName);
  if (c === undefined || (c.runtimeId !== undefined && c.runtimeId !== event.runtimeId)) return false;
  switch (event.kind) {
    case "oom":
      c.oomKilled = true;
      break;
    case "exited":
      c.runtimeId ??= event.runtimeId;
      recordExit(doc, c, event.exitCode, event.at, c.oomKilled === true);
      break;
    case "health":
      // Image HEALTHCHECKs are not monitored, only the task definition's.
      if (c.known !== "STOPPED" && hasHealthCheck(doc, c)) c.health = containerHealthFromDocker(event.health);
      break;
    case "started":
      if (!opInFlight && c.known === "CREATED") {
        c.known = "RUNNING";
        c.startedAt ??= event.at.getTime();
      }
      break;
    case "removed":
      recordVanished(doc, c, now);
      break;
  }
  return true;
}

/** Folds what the runtime reports about a container into its record (after start, and when reconciling). */
export function applyObserved(doc: TaskDocument, c: ContainerRecord, observed: ObservedContainer, now: Date): void {
  if (observed.startedAt !== undefined) c.startedAt ??= observed.startedAt.getTime();
  c.networks = observed.networks;
  if (hasHealthCheck(doc, c)) c.health = containerHealthFromDocker(observed.health);
  c.networkBindings = observed.bindings;
  if (observed.running) {
    raiseKnown(c, "RUNNING");
  } else if (observed.exited) {
    // Created but never started (e.g. a start the crash interrupted): it may still start.
    if (c.known === "CREATED" && observed.startedAt === undefined) return;
    recordExit(doc, c, observed.exitCode, observed.finishedAt ?? now, observed.oomKilled);
  }
}

/** Applies a reconciliation's findings: adopts containers whose id was never recorded, notices vanished ones. */
export function applyObservation(doc: TaskDocument, observed: Readonly<Record<string, ObservedState>>, skip: (name: string) => boolean, now: Date): void {
  for (const c of doc.state.containers) {
    if (skip(c.name) || c.known === "STOPPED") continue;
    const seen = observed[c.name];
    if (seen === undefined || seen === "unknown") continue;
    if (seen === "gone") {
      if (c.runtimeId !== undefined) recordVanished(doc, c, now);
      continue;
    }
    if (c.runtimeId === undefined) {
      c.runtimeId = seen.runtimeId;
      raiseKnown(c, "CREATED");
    }
    applyObserved(doc, c, seen, now);
  }
}

function hasHealthCheck(doc: TaskDocument, c: ContainerRecord): boolean {
  return (doc.state.taskDefinition.containerDefinitions ?? []).some((d) => d.name === c.name && d.healthCheck !== undefined);
}

export interface ReconcilerOptions {
  backend: TaskBackend;
  clock: Clock;
  logger: Logger;
  /** The engine's live tasks. */
  live: () => Iterable<Working>;
  /** Lets the engine act on what a reconciliation found. */
  step: (w: Working) => void;
  closed: () => boolean;
}

/** One pass over every live task at a time; a request during a pass makes one more pass afterwards. */
export class Reconciler {
  readonly #o: ReconcilerOptions;
  #running: Promise<void> | undefined;
  #again = false;

  constructor(options: ReconcilerOptions) {
    this.#o = options;
  }

  run(): Promise<void> {
    if (this.#running !== undefined) {
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#passes().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** Resolves once no pass is under way. */
  async settled(): Promise<void> {
    await this.#running;
  }

  async #passes(): Promise<void> {
    const { backend, clock, logger, closed } = this.#o;
    do {
      this.#again = false;
      for (const w of [...this.#o.live()]) {
        if (closed()) return;
        if (w.task.lastStatus === "STOPPED") continue;
        try {
          const look = w.state.containers.filter((c) => c.known !== "STOPPED" && !w.ops.has(c.name)).map((c) => ({ name: c.name, runtimeId: c.runtimeId }));
          const observed = await backend.observe(w.backendTask, look);
          if (closed()) return;
          applyObservation(w, observed, (name) => w.ops.has(name), clock.now());
        } catch (err) {
          logger.warn("reconcile-failed", { taskArn: w.task.taskArn, error: err });
        }
        w.unobserved = false;
        this.#o.step(w);
      }
    } while (this.#again && !closed());
  }
}
