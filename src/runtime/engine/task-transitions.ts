// The task state machine as functions of (task document, operations in flight, now): which runtime work
// is due, and how the document changes when something happens (an exit, a failure, a stop request).
// No I/O and no clock of their own, like the agent's task and container state rules: the engine runs
// what they return. The functions change the document they are given (the engine's working copy).
import type { Task } from "../../../generated/shapes.ts";
import {
  DEPENDENCY_FAILURE_EXIT_CODE,
  KNOWN_STATUS_RANK,
  canStop,
  resolveNextTransition,
  type GraphContainerState,
  type KnownStatus,
} from "./dependency-graph.ts";
import type { ContainerRecord, TaskRuntimeState } from "./engine-types.ts";
import type { TaskDocument } from "./task-document.ts";
import {
  STOP_CODES,
  deriveTaskStatus,
  essentialStopDecision,
  namedError,
  taskHealthStatus,
  type TaskLastStatus,
} from "./task-status.ts";

/** Runtime work the engine runs for a task; at most one per key is in flight. */
export type TaskAction =
  | { kind: "provision" }
  | { kind: "create"; container: string }
  | { kind: "start"; container: string }
  | { kind: "stop"; container: string; timeoutSec: number }
  | { kind: "deprovision" };

export function actionKey(action: TaskAction): string {
  return action.kind === "provision" || action.kind === "deprovision" ? `task:${action.kind}` : action.container;
}

export interface StepDecision {
  actions: TaskAction[];
  /** When the task must be looked at again although nothing happens (a dependency's startTimeout). */
  wakeAt: number | undefined;
}

/**
 * The runtime work due now. Also settles what needs no runtime: a container whose dependency can no
 * longer be met fails (exit 143), the essential-container rule sets the desired status, and containers
 * that never ran are simply STOPPED once the task is stopping. Dependents stop before their dependencies.
 */
export function decideStep(doc: TaskDocument, inFlight: ReadonlySet<string>, now: Date, defaultStopTimeoutSec: number): StepDecision {
  const { task, state } = doc;
  const actions: TaskAction[] = [];
  let wakeAt: number | undefined;
  if (task.lastStatus === "STOPPED") return { actions, wakeAt };
  const defs = state.taskDefinition.containerDefinitions ?? [];

  if (task.desiredStatus !== "STOPPED") {
    if (!state.provisioned) {
      actions.push({ kind: "provision" });
    } else {
      for (const c of state.containers) {
        if (inFlight.has(c.name) || c.desiredStopped || c.known === "RUNNING" || c.known === "STOPPED") continue;
        const res = resolveNextTransition(c.name, defs, graphStates(state), now);
        if (res.kind === "blocked") {
          failContainer(c, namedError("CannotStartContainerError", res.message), now, DEPENDENCY_FAILURE_EXIT_CODE);
        } else if (res.kind === "ready") {
          actions.push({ kind: c.known === "CREATED" ? "start" : "create", container: c.name });
        } else if (res.deadline !== undefined) {
          wakeAt = Math.min(wakeAt ?? Infinity, res.deadline.getTime());
        }
      }
    }
    const decision = essentialStopDecision(
      state.containers.map((c) => ({ essential: c.essential, known: c.known, failedToStart: c.failedToStart === true, vanished: c.vanished === true, reason: c.reason })),
      state.reachedRunning,
    );
    if (decision !== undefined) setDesiredStopped(doc, decision.stopCode, decision.stoppedReason, now);
  }

  if (task.desiredStatus === "STOPPED" && state.draining !== true) {
    wakeAt = undefined;
    let changed = true;
    while (changed) {
      changed = false;
      for (const c of state.containers) {
        if (c.known === "STOPPED" || inFlight.has(c.name)) continue;
        c.desiredStopped = true;
        if (KNOWN_STATUS_RANK[c.known] < KNOWN_STATUS_RANK.RUNNING) {
          c.known = "STOPPED";
          changed = true;
        } else if (!c.stopIssued && canStop(c.name, defs, graphStates(state))) {
          c.stopIssued = true;
          const def = defs.find((d) => d.name === c.name);
          const timeoutSec = def?.stopTimeout !== undefined && def.stopTimeout > 0 ? def.stopTimeout : defaultStopTimeoutSec;
          actions.push({ kind: "stop", container: c.name, timeoutSec });
        }
      }
    }
    if (state.containers.every((c) => c.known === "STOPPED") && !state.deprovisioned && !inFlight.has("task:provision")) {
      actions.push({ kind: "deprovision" });
    }
  }

  task.healthStatus = taskHealthStatus(
    state.containers.map((c, i) => ({ essential: c.essential, hasHealthCheck: defs[i]?.healthCheck !== undefined, health: c.health })),
  );
  return { actions: actions.filter((a) => !inFlight.has(actionKey(a))), wakeAt };
}

/** The next visible task status, one step at a time (so every status gets its own version); undefined when there is none. */
export function nextTaskStatus(doc: TaskDocument): TaskLastStatus | undefined {
  const { task, state } = doc;
  const current = (task.lastStatus ?? "PENDING") as TaskLastStatus;
  const next = deriveTaskStatus({
    networkMode: state.networkMode,
    current,
    desiredStopped: task.desiredStatus === "STOPPED",
    draining: state.draining === true,
    provisioned: state.provisioned,
    deprovisioned: state.deprovisioned,
    containers: state.containers.map((c) => c.known),
  });
  return next === current ? undefined : next;
}

/** Moves the task to `status`, with the timestamps that status sets. */
export function enterStatus(doc: TaskDocument, status: TaskLastStatus, now: Date): void {
  const { task, state } = doc;
  task.lastStatus = status;
  if (status === "RUNNING") {
    state.reachedRunning = true;
    task.startedAt ??= now;
  }
  if (status === "STOPPED") {
    task.stoppedAt = now;
    // A container can exit before its start is even observed; the task still ran, as ECS would
    // report it: started when the last of its containers started.
    const started = state.containers.flatMap((c) => (c.startedAt === undefined ? [] : [c.startedAt]));
    if (task.startedAt === undefined && started.length > 0 && !state.containers.some((c) => c.failedToStart === true)) {
      task.startedAt = new Date(Math.max(...started));
    }
  }
}

// ---------------------------------------------------------------- what happens to a task

export function setDesiredStopped(doc: TaskDocument, stopCode: string, stoppedReason: string, now: Date): void {
  const { task } = doc;
  if (task.desiredStatus === "STOPPED") return;
  task.desiredStatus = "STOPPED";
  task.stopCode = stopCode as Task["stopCode"];
  task.stoppedReason = stoppedReason;
  task.stoppingAt = now;
  for (const c of doc.state.containers) c.desiredStopped = true;
}

/** A task-level failure before any container could start (volumes, network, namespace holder, invalid graph). */
export function failTask(doc: TaskDocument, reason: string, now: Date): void {
  for (const c of doc.state.containers) {
    if (c.known !== "STOPPED") {
      c.known = "STOPPED";
      c.reason ??= reason;
      c.failedToStart = true;
    }
  }
  setDesiredStopped(doc, STOP_CODES.taskFailedToStart, reason, now);
}

/** A container that could not be pulled, created or started. */
export function failContainer(c: ContainerRecord, reason: string, now: Date, exitCode?: number): void {
  if (c.known === "STOPPED") return;
  c.known = "STOPPED";
  c.reason = reason.slice(0, 1024);
  c.failedToStart = true;
  c.desiredStopped = true;
  if (exitCode !== undefined) c.exitCode = exitCode;
  c.finishedAt = now.getTime();
}

export function recordExit(doc: TaskDocument, c: ContainerRecord, exitCode: number | undefined, at: Date, oomKilled: boolean): void {
  if (c.known === "STOPPED") return;
  c.known = "STOPPED";
  if (exitCode !== undefined) c.exitCode = exitCode;
  c.finishedAt = at.getTime();
  if (oomKilled || c.oomKilled === true) c.reason = "OutOfMemoryError: Container killed due to memory usage";
  if (c.essential) doc.task.executionStoppedAt ??= at;
}

/** The container was removed behind the engine's back. */
export function recordVanished(doc: TaskDocument, c: ContainerRecord, now: Date): void {
  if (c.known === "STOPPED") return;
  c.known = "STOPPED";
  c.vanished = true;
  c.reason = `ContainerVanishedError: container ${c.runtimeName} was removed outside of ECS`;
  c.finishedAt = now.getTime();
  if (c.essential) doc.task.executionStoppedAt ??= now;
}

/** Raises a container's known status (it never goes back). */
export function raiseKnown(c: ContainerRecord, to: KnownStatus): void {
  if (KNOWN_STATUS_RANK[c.known] < KNOWN_STATUS_RANK[to]) c.known = to;
}

function graphStates(state: TaskRuntimeState): Map<string, GraphContainerState> {
  return new Map(
    state.containers.map((c) => [
      c.name,
      {
        known: c.known,
        desiredStopped: c.desiredStopped,
        exitCode: c.exitCode,
        health: c.health,
        startedAt: c.startedAt === undefined ? undefined : new Date(c.startedAt),
      },
    ]),
  );
}
