// Task-level status rules (ecs-behaviour.md §1.1–1.3, §2.4). Pure functions of the containers' state.
import { KNOWN_STATUS_RANK, type KnownStatus } from "./dependency-graph.ts";

export type TaskLastStatus =
  | "PROVISIONING"
  | "PENDING"
  | "ACTIVATING"
  | "RUNNING"
  | "DEACTIVATING"
  | "STOPPING"
  | "DEPROVISIONING"
  | "STOPPED";

export const TASK_STATUS_RANK: Readonly<Record<TaskLastStatus, number>> = {
  PROVISIONING: 0,
  PENDING: 1,
  ACTIVATING: 2,
  RUNNING: 3,
  DEACTIVATING: 4,
  STOPPING: 5,
  DEPROVISIONING: 6,
  STOPPED: 7,
};

export type HealthStatus = "HEALTHY" | "UNHEALTHY" | "UNKNOWN";
export type ContainerBackendStatus = "PENDING" | "RUNNING" | "STOPPED";

export const STOP_CODES = {
  taskFailedToStart: "TaskFailedToStart",
  essentialContainerExited: "EssentialContainerExited",
  userInitiated: "UserInitiated",
} as const;

export const STOPPED_REASONS = {
  essentialContainerExited: "Essential container in task exited",
  userInitiated: "Task stopped by user",
} as const;

/** Task lifecycle is monotonic: never move backwards. */
export function advanceStatus(current: TaskLastStatus, next: TaskLastStatus): TaskLastStatus {
  return TASK_STATUS_RANK[next] > TASK_STATUS_RANK[current] ? next : current;
}

/** What DescribeTasks shows for a container (ContainerStatus.BackendStatusString). */
export function containerBackendStatus(known: KnownStatus): ContainerBackendStatus {
  if (known === "RUNNING") return "RUNNING";
  if (known === "STOPPED") return "STOPPED";
  return "PENDING";
}

/** The agent's task known status: the minimum over containers. */
export function minimumKnownStatus(statuses: readonly KnownStatus[]): KnownStatus {
  let min: KnownStatus = "STOPPED";
  for (const s of statuses) if (KNOWN_STATUS_RANK[s] < KNOWN_STATUS_RANK[min]) min = s;
  return min;
}

export type NetworkModeName = "bridge" | "host" | "awsvpc" | "none";

export interface TaskStatusInput {
  networkMode: NetworkModeName;
  current: TaskLastStatus;
  desiredStopped: boolean;
  /** Stopping is held while load balancer targets drain (DEACTIVATING). */
  draining?: boolean;
  /** Task resources (network, ENI, volumes) are ready. */
  provisioned: boolean;
  /** After every container stopped: task resources have been released. */
  deprovisioned: boolean;
  containers: readonly KnownStatus[];
}

/**
 * bridge/host/none: PENDING → RUNNING → (STOPPING) → STOPPED.
 * awsvpc: PROVISIONING → PENDING → ACTIVATING → RUNNING → DEACTIVATING → STOPPING → DEPROVISIONING → STOPPED.
 */
export function deriveTaskStatus(input: TaskStatusInput): TaskLastStatus {
  const awsvpc = input.networkMode === "awsvpc";
  const min = minimumKnownStatus(input.containers);
  let next: TaskLastStatus;
  if (min === "STOPPED") {
    if (input.deprovisioned) next = "STOPPED";
    else next = awsvpc ? "DEPROVISIONING" : "STOPPING";
  } else if (input.desiredStopped && input.draining === true && TASK_STATUS_RANK[input.current] >= TASK_STATUS_RANK.RUNNING) {
    next = "DEACTIVATING";
  } else if (input.desiredStopped) {
    // awsvpc passes through DEACTIVATING first (see nextStoppingStatus); both end in STOPPING.
    next = awsvpc && TASK_STATUS_RANK[input.current] < TASK_STATUS_RANK.DEACTIVATING && TASK_STATUS_RANK[input.current] >= TASK_STATUS_RANK.RUNNING
      ? "DEACTIVATING"
      : "STOPPING";
  } else if (!input.provisioned) {
    next = awsvpc ? "PROVISIONING" : "PENDING";
  } else if (min === "RUNNING") {
    next = "RUNNING";
  } else if (awsvpc && input.containers.some((s) => KNOWN_STATUS_RANK[s] >= KNOWN_STATUS_RANK.CREATED)) {
    next = "ACTIVATING";
  } else {
    next = "PENDING";
  }
  return advanceStatus(input.current, next);
}

export interface HealthInput {
  essential: boolean;
  hasHealthCheck: boolean;
  health: HealthStatus;
}

/** Only essential containers with a health check count. */
export function taskHealthStatus(containers: readonly HealthInput[]): HealthStatus {
  const relevant = containers.filter((c) => c.essential && c.hasHealthCheck);
  if (relevant.length === 0) return "UNKNOWN";
  if (relevant.some((c) => c.health === "UNHEALTHY")) return "UNHEALTHY";
  if (relevant.every((c) => c.health === "HEALTHY")) return "HEALTHY";
  return "UNKNOWN";
}

/** Docker health → ECS container health. */
export function containerHealthFromDocker(state: "starting" | "healthy" | "unhealthy" | undefined): HealthStatus {
  if (state === "healthy") return "HEALTHY";
  if (state === "unhealthy") return "UNHEALTHY";
  return "UNKNOWN";
}

export interface StopDecisionInput {
  essential: boolean;
  known: KnownStatus;
  /** The container failed to be pulled/created/started (it carries a NamedError reason). */
  failedToStart: boolean;
  /** Removed behind our back: the task's stoppedReason carries the container's reason. */
  vanished?: boolean;
  reason?: string | undefined;
}

export interface StopDecision {
  stopCode: string;
  stoppedReason: string;
}

/**
 * The task's desiredStatus becomes STOPPED as soon as an essential container is stopped.
 * Returns why, or undefined while every essential container is still alive.
 */
export function essentialStopDecision(containers: readonly StopDecisionInput[], taskReachedRunning: boolean): StopDecision | undefined {
  const stopped = containers.find((c) => c.essential && c.known === "STOPPED");
  if (stopped === undefined) return undefined;
  if (!taskReachedRunning && stopped.failedToStart && stopped.reason !== undefined) {
    return { stopCode: STOP_CODES.taskFailedToStart, stoppedReason: stopped.reason };
  }
  if (stopped.vanished === true && stopped.reason !== undefined) {
    return { stopCode: STOP_CODES.essentialContainerExited, stoppedReason: `${STOPPED_REASONS.essentialContainerExited}: ${stopped.reason}` };
  }
  return { stopCode: STOP_CODES.essentialContainerExited, stoppedReason: STOPPED_REASONS.essentialContainerExited };
}

/** Agent NamedError format: "<ErrorName>: <message>". Keeps a message that already has one. */
export function namedError(name: string, message: string): string {
  return /^[A-Z][A-Za-z]+Error: /.test(message) ? message : `${name}: ${message}`;
}
