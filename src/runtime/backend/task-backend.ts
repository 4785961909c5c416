// The seam between the task engine (which speaks ECS: tasks, containers, known statuses) and whatever runs
// the containers. The engine decides *what* happens and *when* (dependency order, essential exits, stop
// order, retention); a backend only knows *how* to do one step on its runtime. Nothing above this
// interface knows about Docker: the Docker implementation lives in ./docker/, and a Kubernetes one (pods ≈
// awsvpc tasks, see docs/kubernetes-backend.md) can be written against the same interface.
//
// Every task keeps a small record of the backend's own (network names, the namespace holder's id, volume
// names …): `BackendTask.data`. The engine persists it with the task and hands it back on every call, so a
// restarted server resumes with the same containers, networks and volumes without asking the backend
// to remember anything itself.
import type { ExecBackend } from "../exec/exec-backend.ts";
import type {
  ContainerDefinition,
  ContainerOverride,
  NetworkBinding,
  NetworkMode,
  TaskDefinition,
  TaskOverride,
} from "../../../generated/shapes.ts";

/** The labels the ECS agent puts on every container it runs (tools and the metadata endpoint show them). */
export const ECS_LABELS = {
  taskArn: "com.amazonaws.ecs.task-arn",
  containerName: "com.amazonaws.ecs.container-name",
  family: "com.amazonaws.ecs.task-definition-family",
  version: "com.amazonaws.ecs.task-definition-version",
  cluster: "com.amazonaws.ecs.cluster",
} as const;

/** The agent's name for the awsvpc network-namespace holder (the pause container). */
export const NETWORK_HOLDER_NAME = "~internal~ecs~pause";

/** JSON the backend keeps per task; opaque to the engine, which only persists it. */
export type BackendTaskData = Record<string, unknown>;

/** What the backend needs to know about a task; fixed when the task is created. */
export interface TaskPlan {
  taskArn: string;
  clusterName: string;
  taskDefinition: TaskDefinition;
  overrides: TaskOverride;
  networkMode: NetworkMode;
  /** awsvpc: the MAC address of the task's ENI (the namespace holder gets it). */
  macAddress?: string | undefined;
  /** Task-level cpu units and memory MiB (already normalised), when the task sets them. */
  cpu?: number | undefined;
  memory?: number | undefined;
  /** The container instance placement chose: which runtime the task runs on. */
  containerInstanceArn?: string | undefined;
}

/** A task as the engine hands it to the backend on every call. */
export interface BackendTask {
  readonly plan: TaskPlan;
  /** The backend's record of this task: read and change it freely, then `save()` what must survive a crash. */
  readonly data: BackendTaskData;
  /** Persists `data` at once (e.g. right after a network was taken, so a restart knows it is this task's). */
  save(): void;
}

/** A network a feature asks the task to join besides its own (e.g. a shared per-namespace network). */
export interface ExtraNetwork {
  name: string;
  /** Names the task's containers answer to on that network. */
  aliases?: string[] | undefined;
  /**
   * Shared by the tasks of several services (a Service Connect namespace): the backend makes it on the
   * task's runtime if it does not exist yet, and removes it once no live task holds it any more.
   */
  shared?: boolean | undefined;
}

/** What engine hooks add to the task before it is provisioned. */
export interface ProvisionOptions {
  networks: ExtraNetwork[];
  /** `host:ip` entries for the task's network holder (awsvpc). */
  extraHosts: string[];
}

/** The task's own address, for awsvpc tasks (the ENI's). */
export interface ProvisionedTask {
  ipv4?: string | undefined;
}

/** Everything needed to create one container of a task. */
export interface ContainerPlan {
  /** ECS container name. */
  name: string;
  /** The runtime's name for it (see `containerRuntimeName`). */
  runtimeName: string;
  definition: ContainerDefinition;
  override?: ContainerOverride | undefined;
  /** ECS container name → runtime name of every container of the task (links, volumesFrom). */
  siblings: Record<string, string>;
  /** Agent variables (metadata URIs, credentials …): override the task's own values. */
  env?: Record<string, string> | undefined;
  /** Resolved secrets, injected as environment variables. */
  secretEnv?: Record<string, string> | undefined;
  /** Environment-file variables (only keys the task does not set). */
  envFileEnv?: Record<string, string> | undefined;
  /** The image's own environment (`KEY=value`), from `prepareImage`. */
  imageEnv: string[];
  extraHosts?: string[] | undefined;
  labels?: Record<string, string> | undefined;
  /** Networks to join besides the task's own (bridge containers). */
  networks?: ExtraNetwork[] | undefined;
}

export interface ImageFacts {
  /** "sha256:…": the registry digest when there is one, else the image id. */
  digest: string;
  /** The image's ENV. */
  env: string[];
}

export type ObservedHealth = "starting" | "healthy" | "unhealthy";

/** A container as the runtime sees it right now. */
export interface ObservedContainer {
  runtimeId: string;
  /** The image the container runs (sha256:… id). */
  imageId: string;
  running: boolean;
  /** Exited (or dead): it will not run again by itself. */
  exited: boolean;
  exitCode: number | undefined;
  startedAt: Date | undefined;
  finishedAt: Date | undefined;
  oomKilled: boolean;
  health: ObservedHealth | undefined;
  /** Network name → IPv4 address ("" when none). */
  networks: Record<string, string>;
  /** Host ports published for this container (awsvpc: its share of the task's). */
  bindings: NetworkBinding[];
}

/** The backend's answer for one container during reconciliation. */
export type ObservedState = ObservedContainer | "gone" | "unknown";

/** What happened to a container, as the runtime reports it (in order, per container). */
export type BackendEvent =
  | { kind: "started"; taskArn: string; containerName: string; runtimeId: string; at: Date }
  | { kind: "exited"; taskArn: string; containerName: string; runtimeId: string; at: Date; exitCode: number | undefined }
  | { kind: "oom"; taskArn: string; containerName: string; runtimeId: string; at: Date }
  | { kind: "health"; taskArn: string; containerName: string; runtimeId: string; at: Date; health: ObservedHealth | undefined }
  | { kind: "removed"; taskArn: string; containerName: string; runtimeId: string; at: Date }
  /** The namespace holder of an awsvpc task went away while the task was not stopping. */
  | { kind: "holder-exited"; taskArn: string; at: Date }
  /** The runtime stopped or started answering: the tasks it holds are (dis)connected, as ECS says of an agent. */
  | { kind: "connectivity"; connected: boolean; affects: (task: BackendTask) => boolean };

export interface BackendEventHandlers {
  onEvent(event: BackendEvent): void;
  /** After every (re)connection, including the first: the engine reconciles what it may have missed. */
  onConnect(): void;
  onError(error: Error): void;
}

export interface Subscription {
  close(): void;
}

export interface LogOptions {
  follow: boolean;
  /** Prefix every line with the runtime's RFC 3339 (nano) timestamp and a space. */
  timestamps: boolean;
  /** Only output at or after this instant: UNIX seconds with up to nine decimals ("1700000000.123456789"). */
  since?: string | undefined;
  /** Only the last N lines. */
  tail?: number | undefined;
  signal?: AbortSignal | undefined;
}

/** A piece of a container's output; `text` may hold several lines or a part of one. */
export interface LogChunk {
  stream: "stdout" | "stderr";
  text: string;
}

/** Per-task facts the agent's metadata endpoint reports that only the backend knows. */
export interface TaskRuntimeFacts {
  /** The task's own network (bridge/awsvpc), listed first in a container's networks. */
  networkName?: string | undefined;
  /** The awsvpc namespace holder. */
  holder?: { runtimeId: string | undefined; runtimeName: string } | undefined;
  /** Task volume name → where it lives on the host. */
  volumes: Record<string, { type: "bind" | "volume"; source: string; hostPath: string }>;
}

/**
 * One container runtime the engine runs tasks on. Every method that changes something is idempotent
 * enough to be retried after a crash (the engine retries a step whose outcome it never recorded), and
 * reports failures as the typed errors below rather than runtime-specific ones.
 */
export interface TaskBackend {
  /**
   * Start-up work (e.g. taking back idle networks an earlier run left); `live` lists the tasks the engine
   * still tracks, whatever they hold is in use. Never throws.
   */
  start(live: () => Iterable<BackendTask>): Promise<void>;
  close(): Promise<void>;

  /** The backend's record for a new task, and the runtime name of each of its containers. */
  initTask(plan: TaskPlan): { data: BackendTaskData; runtimeNames: Record<string, string> };
  /** Network, volumes and (awsvpc) the namespace holder. Throws TaskResourceError. */
  provision(task: BackendTask, options: ProvisionOptions): Promise<ProvisionedTask>;
  /** Makes the image present where the task runs (pulling it at most once at a time). Throws ImagePullError. */
  prepareImage(task: BackendTask, image: string): Promise<ImageFacts>;
  /** Returns the runtime id. Throws ContainerCreateError. */
  createContainer(task: BackendTask, container: ContainerPlan): Promise<string>;
  /** Throws ContainerStartError, or ContainerMissingError when the container is gone. */
  startContainer(task: BackendTask, runtimeId: string): Promise<ObservedContainer | undefined>;
  /** SIGTERM (or the image's stop signal), SIGKILL after `timeoutSec`. undefined: the container is gone. */
  stopContainer(task: BackendTask, runtimeId: string, timeoutSec: number): Promise<ObservedContainer | undefined>;
  /** After every container stopped: frees what the task held while running (namespace holder, network). */
  deprovision(task: BackendTask, runtimeIds: string[]): Promise<void>;
  /** Removes the stopped task's containers and task-scoped volumes. */
  cleanup(task: BackendTask, runtimeIds: string[]): Promise<void>;
  /** The current state of each container (by ECS name), finding containers whose id was never recorded. */
  observe(task: BackendTask, containers: ReadonlyArray<{ name: string; runtimeId: string | undefined }>): Promise<Record<string, ObservedState>>;
  /** One subscription to what happens to the containers of every task; reconnects by itself. */
  subscribe(handlers: BackendEventHandlers): Subscription;
  facts(task: BackendTask): TaskRuntimeFacts;
  /** The task reached RUNNING: a good moment for background work that must not slow its start. */
  onTaskRunning?(task: BackendTask): void;

  /** A container's output. Throws ContainerMissingError. */
  logs(task: BackendTask, runtimeId: string, options: LogOptions): AsyncIterable<LogChunk>;
  /** One sample of resource usage in the Docker stats format TMDS serves; null when not running. */
  stats(task: BackendTask, runtimeId: string): Promise<Record<string, unknown> | null>;
  /** Commands in the task's containers (ECS Exec), on the runtime the task runs on. */
  exec(task: BackendTask): ExecBackend;
}

// ---------------------------------------------------------------- typed errors

/** Base of the errors a backend raises; `message` is the runtime's own words (the engine prefixes ECS's). */
export class BackendError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}
/** The task's network, volumes or namespace holder could not be set up (→ ResourceInitializationError). */
export class TaskResourceError extends BackendError {}
/** A volume could not be created or does not exist (→ CannotCreateVolumeError). */
export class VolumeError extends TaskResourceError {}
/** → CannotPullContainerError. */
export class ImagePullError extends BackendError {}
/** → CannotCreateContainerError. */
export class ContainerCreateError extends BackendError {}
/** → CannotStartContainerError. */
export class ContainerStartError extends BackendError {}
/** The container does not exist (any more). */
export class ContainerMissingError extends BackendError {}
