import type {
  CapacityProviderStrategyItem,
  DeploymentConfiguration,
  LaunchType,
  NetworkConfiguration,
  Rollback,
  Service,
  ServiceConnectConfiguration,
  ServiceDeploymentCircuitBreaker,
  ServiceDeploymentLifecycleStage,
  ServiceDeploymentStatus,
  ServiceVolumeConfiguration,
  Task,
} from "../../../generated/shapes.ts";
import { taskIdOf } from "../arns.ts";

/** What the decisions need to know of one task of the service (a projection of the engine's Task). */
export interface SchedTask {
  arn: string;
  /** Last part of the ARN, as events name tasks. */
  id: string;
  /** The deployment or task set id (`ecs-svc/…`) the task belongs to. */
  startedBy: string | undefined;
  lastStatus: string;
  desiredStatus: string;
  healthStatus: string | undefined;
  createdAt: number;
  /** When the task reached RUNNING; undefined if it never did. */
  startedAt: number | undefined;
  stoppedAt: number | undefined;
  stopCode: string | undefined;
  /** Its container instance is DRAINING: the task is to be replaced elsewhere. */
  draining?: boolean | undefined;
  /** Task scale-in protection: until then (epoch ms) neither a scale-in nor a deployment stops it. */
  protectedUntil?: number | undefined;
}

export function schedTaskOf(task: Task): SchedTask {
  const arn = task.taskArn ?? "";
  return {
    arn,
    id: taskIdOf(arn),
    startedBy: task.startedBy,
    lastStatus: task.lastStatus ?? "PENDING",
    desiredStatus: task.desiredStatus ?? "RUNNING",
    healthStatus: task.healthStatus,
    createdAt: task.createdAt?.getTime() ?? 0,
    startedAt: task.startedAt?.getTime(),
    stoppedAt: task.stoppedAt?.getTime(),
    stopCode: task.stopCode,
  };
}

/** What a deployment runs: enough to re-create it for a rollback. Plain JSON (times in epoch ms). */
export interface DeploymentSpec {
  id: string;
  taskDefinition: string;
  launchType?: LaunchType | undefined;
  capacityProviderStrategy?: CapacityProviderStrategyItem[] | undefined;
  platformVersion?: string | undefined;
  platformFamily?: string | undefined;
  networkConfiguration?: NetworkConfiguration | undefined;
  serviceConnectConfiguration?: ServiceConnectConfiguration | undefined;
  volumeConfigurations?: ServiceVolumeConfiguration[] | undefined;
  createdAt: number;
  serviceRevisionArn: string;
}

/** The service deployment (the newer API) that drives a legacy deployment, and that deployment's revision. */
export interface DeploymentLink {
  serviceDeploymentArn: string;
  serviceRevisionArn: string;
  /** Mirror of the service deployment's status, so decisions need not read that store. */
  sdStatus: ServiceDeploymentStatus;
  /** A blue/green deployment's lifecycle stage (mirrored to its service deployment). */
  lifecycleStage?: ServiceDeploymentLifecycleStage | undefined;
  /** When a blue/green deployment's bake time began (epoch ms): it ends bakeTimeInMinutes later. */
  bakeStartedAt?: number | undefined;
}

/**
 * The scheduler's own bookkeeping of a service, persisted next to the Service document (plain JSON). Counts
 * are never stored: they are derived from the engine's tasks whenever they are shown.
 */
export interface ServiceBook {
  v: 1;
  /** Per visible deployment id. */
  links: Record<string, DeploymentLink>;
  /** Drained deployments (newest last, bounded); tasks still carrying their id are stopped. */
  retired: string[];
  /** The last deployment that reached COMPLETED: what a rollback restores. */
  lastCompleted?: DeploymentSpec | undefined;
  /** Stopped tasks already counted (failures, back-off), so each is counted once, restarts included. */
  accountedStops: string[];
  /** Consecutive launch failures of the service and when the last one happened (the back-off). */
  throttle: { failures: number; lastFailureAt?: number | undefined };
  /** The last evaluation found the service steady (the steady-state event is sent on the transition). */
  steady: boolean;
  /** StopServiceDeployment ROLLBACK asked for the current primary deployment's service deployment. */
  rollbackRequested?: string | undefined;
}

export function newBook(): ServiceBook {
  return { v: 1, links: {}, retired: [], accountedStops: [], throttle: { failures: 0 }, steady: false };
}

/** Per deployment or task set: facts the pure decisions cannot look up themselves. */
export interface UnitFacts {
  /** An essential container of its task definition has a healthCheck. */
  healthChecked: boolean;
  /** How many more of its tasks fit on the cluster now (placement); Infinity when nothing limits it. */
  placeable: number;
  /** The event message when `placeable` is smaller than what is wanted. */
  placementProblem?: string | undefined;
  /** ECS's reason code for that problem in a SERVICE_TASK_PLACEMENT_FAILURE event, e.g. "RESOURCE:PORTS". */
  placementReason?: string | undefined;
}

export interface ServiceDeploymentPatch {
  status?: ServiceDeploymentStatus;
  statusReason?: string;
  startedAt?: Date;
  finishedAt?: Date;
  stoppedAt?: Date;
  rollback?: Rollback;
  deploymentCircuitBreaker?: ServiceDeploymentCircuitBreaker;
  lifecycleStage?: ServiceDeploymentLifecycleStage;
  /** Freeze the target revision's counts (the deployment finished). */
  finalCounts?: { running: number; pending: number; requested: number };
}

/**
 * What the scheduler tells EventBridge ("ECS Service Action", "ECS Deployment State Change"); the loop
 * builds the events. A notice on an `event` effect is sent only if that service event was recorded (a
 * repeated condition is sent neither to the service's events nor to EventBridge).
 */
export type SchedulerNotice =
  | {
      type: "serviceAction";
      eventName: "SERVICE_STEADY_STATE" | "SERVICE_TASK_START_IMPAIRED" | "SERVICE_TASK_PLACEMENT_FAILURE";
      reason?: string | undefined;
    }
  | {
      type: "deployment";
      eventName: "SERVICE_DEPLOYMENT_IN_PROGRESS" | "SERVICE_DEPLOYMENT_COMPLETED" | "SERVICE_DEPLOYMENT_FAILED";
      deploymentId: string;
      reason?: string | undefined;
    };

export type Effect =
  /** Launch `count` tasks for the deployment or task set `unitId` (startedBy = unitId). */
  | { kind: "start"; unitId: string; count: number; unhealthyReplaced: number; taskSetId?: string | undefined }
  /** Stop tasks (ServiceSchedulerInitiated); `announce` adds "has stopped N running tasks". */
  | { kind: "stop"; taskArns: string[]; taskIds: string[]; reason: string; announce: boolean; taskSetId?: string | undefined }
  | { kind: "event"; message: string; condition?: boolean; notice?: SchedulerNotice }
  | { kind: "notify"; notice: SchedulerNotice }
  /** A line in the server's log (what the emulator leaves out, said once). */
  | { kind: "log"; event: string; fields: Record<string, unknown> }
  | { kind: "serviceDeployment"; arn: string; patch: ServiceDeploymentPatch };

export interface DecisionInput {
  now: number;
  service: Service;
  book: ServiceBook;
  /** Every task of the service known to the engine (any status). */
  tasks: readonly SchedTask[];
  /** Tasks wanted: desiredCount, the instance count for DAEMON. */
  desiredCount: number;
  units: Readonly<Record<string, UnitFacts>>;
}

export interface Decision {
  service: Service;
  book: ServiceBook;
  effects: Effect[];
  /** Evaluate again at this time (epoch ms) even if no task changes (grace periods, back-off). */
  wakeAt?: number | undefined;
}

export const DEFAULT_MIN_HEALTHY_PERCENT = 100;
export const DEFAULT_MAX_PERCENT = 200;

/** minimumHealthyPercent/maximumPercent with ECS's defaults (DAEMON: 0 / 100). */
export function percents(config: DeploymentConfiguration | undefined, daemon: boolean): { min: number; max: number } {
  return {
    min: config?.minimumHealthyPercent ?? (daemon ? 0 : DEFAULT_MIN_HEALTHY_PERCENT),
    max: config?.maximumPercent ?? (daemon ? 100 : DEFAULT_MAX_PERCENT),
  };
}
