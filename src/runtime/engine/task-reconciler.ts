// Keeps the engine's records in line with what the runtime says: events as they come, and a full look at
// every live task whenever the event stream (re)connects — at start-up that re-adopts the containers a
// previous run left, and after a disconnection it catches the exits that happened meanwhile.
import type { BackendEvent, ObservedContainer, ObservedState } from "../backend/task-backend.ts";
import type { ContainerRecord } from "./engine-types.ts";
import type { TaskDocument } from "./task-document.ts";
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
