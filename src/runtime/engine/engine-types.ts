import type {
  ContainerDefinition,
  ContainerOverride,
  LaunchType,
  NetworkBinding,
  NetworkConfiguration,
  NetworkMode,
  Task,
  TaskDefinition,
  TaskOverride,
} from "../../../generated/shapes.ts";
import type { ContainerSnapshot } from "../container-runtime.ts";
import type { KnownStatus } from "./dependency-graph.ts";
import type { TaskVolumeBinding, VolumeToEnsure } from "./docker-mapping.ts";
import type { HealthStatus } from "./task-status.ts";

/** What RunTask asks the engine to launch (already validated and resolved by the operation). */
export interface RunTaskSpec {
  clusterArn: string;
  clusterName: string;
  /** The caller's region: the task's ARNs and availability zone are in it. Default: the clusterArn's. */
  region?: string | undefined;
  taskDefinition: TaskDefinition;
  overrides?: TaskOverride | undefined;
  startedBy?: string | undefined;
  /** Default `family:<family>`. */
  group?: string | undefined;
  launchType?: LaunchType | undefined;
  capacityProviderName?: string | undefined;
  platformVersion?: string | undefined;
  enableExecuteCommand?: boolean | undefined;
  networkConfiguration?: NetworkConfiguration | undefined;
  clientToken?: string | undefined;
}

export interface BeforeCreateContext {
  task: Task;
  taskDefinition: TaskDefinition;
  containerName: string;
  definition: ContainerDefinition;
  override: ContainerOverride | undefined;
  dockerName: string;
}

/** What hooks may add to a container before it is created. */
export interface ContainerCreateExtras {
  /** Agent variables (metadata URIs, credentials URI …); override the task's own values. */
  env?: Record<string, string>;
  /** Resolved secrets, injected as env vars. */
  secretEnv?: Record<string, string>;
  /** Environment-file variables (first file wins, only absent keys added). */
  envFileEnv?: Record<string, string>;
  extraHosts?: string[];
  /** Extra Docker networks to join (bridge containers, or the awsvpc pause container). */
  networks?: string[];
  labels?: Record<string, string>;
}

export interface TaskProvisionExtras {
  /** Extra Docker networks for the task's network container (awsvpc) or every container (bridge). */
  networks?: string[];
  /** `host:ip` entries for the awsvpc pause container. */
  extraHosts?: string[];
}

/**
 * Extension points for the agent endpoints (metadata, credentials, secrets, awslogs). A hook that
 * throws makes the container fail to start: the message becomes the container reason (prefixed with
 * ResourceInitializationError unless it already names an error) and the task stops TaskFailedToStart.
 */
export interface TaskEngineHooks {
  /** Once per task, before its network/volumes are created. */
  beforeProvision?(task: Task, taskDefinition: TaskDefinition): Promise<TaskProvisionExtras | undefined>;
  beforeCreate?(ctx: BeforeCreateContext): Promise<ContainerCreateExtras | undefined>;
  onContainerStarted?(task: Task, containerName: string, container: ContainerSnapshot): void;
  onTaskStopped?(task: Task): void;
  /** Stopped tasks dropped after retention (for tags, credentials, …). */
  onTasksPurged?(taskArns: string[]): void;
}

/** Per-container engine bookkeeping, persisted with the task (JSON: dates as epoch ms). */
export interface ContainerRecord {
  name: string;
  dockerName: string;
  essential: boolean;
  known: KnownStatus;
  desiredStopped: boolean;
  runtimeId?: string;
  exitCode?: number;
  reason?: string;
  failedToStart?: boolean;
  vanished?: boolean;
  health: HealthStatus;
  startedAt?: number;
  finishedAt?: number;
  oomKilled?: boolean;
  stopIssued?: boolean;
  imageDigest?: string;
  networkBindings?: NetworkBinding[];
  /** Network name → IPv4 address, from inspect after start. */
  networks?: Record<string, string>;
}

/** Everything the engine needs to resume a task after a restart. */
export interface TaskRuntimeState {
  v: 1;
  taskDefinition: TaskDefinition;
  overrides: TaskOverride;
  networkMode: NetworkMode;
  provisioned: boolean;
  deprovisioned: boolean;
  reachedRunning: boolean;
  cleanedUp: boolean;
  /** The per-task user-defined network (bridge, awsvpc). */
  networkName?: string;
  pause?: { dockerName: string; runtimeId?: string; ipv4?: string; macAddress?: string; bindings?: NetworkBinding[] };
  volumes: VolumeToEnsure[];
  volumeBindings: Record<string, TaskVolumeBinding>;
  extraNetworks: string[];
  containers: ContainerRecord[];
}
