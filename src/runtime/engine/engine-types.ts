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
import type { BackendTaskData, ExtraNetwork, ObservedContainer } from "../backend/task-backend.ts";
import type { KnownStatus } from "./dependency-graph.ts";
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
  /** The container instance placement chose (EC2 tasks), and its availability zone. */
  containerInstanceArn?: string | undefined;
  availabilityZone?: string | undefined;
}

export interface BeforeCreateContext {
  task: Task;
  taskDefinition: TaskDefinition;
  containerName: string;
  definition: ContainerDefinition;
  override: ContainerOverride | undefined;
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
  /** Extra networks to join (bridge containers). */
  networks?: ExtraNetwork[];
  labels?: Record<string, string>;
}

export interface TaskProvisionExtras {
  /** Extra networks for the task's network holder (awsvpc) or every container (bridge). */
  networks?: ExtraNetwork[];
  /** `host:ip` entries for the awsvpc network holder. */
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
  onContainerStarted?(task: Task, containerName: string, container: ObservedContainer): void;
  onTaskStopped?(task: Task): void;
  /**
   * StopTask (or the service scheduler) stops a RUNNING task: a hook that returns a promise holds its
   * containers until it settles, and the task shows DEACTIVATING meanwhile — ECS deregisters load balancer
   * targets and waits for them to drain there. Undefined: nothing to wait for.
   */
  beforeStop?(task: Task): Promise<void> | undefined;
  /** Stopped tasks dropped after retention (for tags, credentials, …). */
  onTasksPurged?(taskArns: string[]): void;
}

/** Per-container engine bookkeeping, persisted with the task (JSON: dates as epoch ms). */
export interface ContainerRecord {
  name: string;
  /** The backend's name for the container (Docker: `ecs-<family>-<rev>-<name>-<hex>`). */
  runtimeName: string;
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
  /** Network name → IPv4 address, as observed after start. */
  networks?: Record<string, string>;
}

/** Everything the engine needs to resume a task after a restart. */
export interface TaskRuntimeState {
  v: 2;
  taskDefinition: TaskDefinition;
  overrides: TaskOverride;
  networkMode: NetworkMode;
  provisioned: boolean;
  deprovisioned: boolean;
  reachedRunning: boolean;
  cleanedUp: boolean;
  /** A beforeStop hook holds the task's containers (DEACTIVATING); not resumed after a restart. */
  draining?: boolean;
  /** awsvpc: the task's address (its ENI's). */
  ipv4?: string;
  containers: ContainerRecord[];
  /** The backend's own record of the task (network, namespace holder, volumes …). */
  backend: BackendTaskData;
}
