// "ECS Service Action" and "ECS Deployment State Change" events, as the developer guide shows them. Unlike
// task and container instance events their detail carries no resource version. The service scheduler (built
// elsewhere) decides when; these builders only give the exact shapes.
import { DETAIL_TYPES, detailTime, ecsEvent, type EcsEvent } from "./ecs-event.ts";

export type ServiceEventType = "INFO" | "WARN" | "ERROR";

/** Every service action event name, with the event type ECS sends it with. */
export const SERVICE_ACTION_EVENT_TYPES = {
  SERVICE_STEADY_STATE: "INFO",
  TASKSET_STEADY_STATE: "INFO",
  CAPACITY_PROVIDER_STEADY_STATE: "INFO",
  SERVICE_DESIRED_COUNT_UPDATED: "INFO",
  SERVICE_TASK_START_IMPAIRED: "WARN",
  SERVICE_DISCOVERY_INSTANCE_UNHEALTHY: "WARN",
  VPC_LATTICE_TARGET_UNHEALTHY: "WARN",
  SERVICE_DAEMON_PLACEMENT_CONSTRAINT_VIOLATED: "ERROR",
  ECS_OPERATION_THROTTLED: "ERROR",
  SERVICE_DISCOVERY_OPERATION_THROTTLED: "ERROR",
  SERVICE_TASK_PLACEMENT_FAILURE: "ERROR",
  SERVICE_TASK_CONFIGURATION_FAILURE: "ERROR",
} as const satisfies Record<string, ServiceEventType>;

export type ServiceActionEventName = keyof typeof SERVICE_ACTION_EVENT_TYPES;

export interface ServiceActionInput {
  serviceArn: string;
  clusterArn: string;
  eventName: ServiceActionEventName;
  /** When it happened (`detail.createdAt` and the envelope's `time`). */
  at: Date;
  /** Why, e.g. "RESOURCE:MEMORY" for SERVICE_TASK_PLACEMENT_FAILURE. */
  reason?: string | undefined;
  capacityProviderArns?: string[] | undefined;
  containerInstanceArns?: string[] | undefined;
  taskSetArns?: string[] | undefined;
  /** SERVICE_DESIRED_COUNT_UPDATED: the desired count the scheduler computed. */
  desiredCount?: number | undefined;
}

export function serviceActionEvent(input: ServiceActionInput): EcsEvent {
  const detail: Record<string, unknown> = {
    eventType: SERVICE_ACTION_EVENT_TYPES[input.eventName],
    eventName: input.eventName,
    clusterArn: input.clusterArn,
  };
  if (input.capacityProviderArns !== undefined) detail["capacityProviderArns"] = input.capacityProviderArns;
  if (input.containerInstanceArns !== undefined) detail["containerInstanceArns"] = input.containerInstanceArns;
  if (input.taskSetArns !== undefined) detail["taskSetArns"] = input.taskSetArns;
  if (input.desiredCount !== undefined) detail["desiredCount"] = input.desiredCount;
  if (input.reason !== undefined) detail["reason"] = input.reason;
  detail["createdAt"] = detailTime(input.at);
  return ecsEvent(DETAIL_TYPES.serviceAction, input.serviceArn, detail, input.at);
}

export const DEPLOYMENT_EVENT_TYPES = {
  SERVICE_DEPLOYMENT_IN_PROGRESS: "INFO",
  SERVICE_DEPLOYMENT_COMPLETED: "INFO",
  SERVICE_DEPLOYMENT_FAILED: "ERROR",
} as const satisfies Record<string, ServiceEventType>;

export type DeploymentEventName = keyof typeof DEPLOYMENT_EVENT_TYPES;

export interface DeploymentStateChangeInput {
  serviceArn: string;
  /** e.g. "ecs-svc/1234567890123456789". */
  deploymentId: string;
  eventName: DeploymentEventName;
  at: Date;
  /** Defaults: "ECS deployment <id> in progress." / "ECS deployment <id> completed." (FAILED needs one). */
  reason?: string | undefined;
}

export function deploymentStateChangeEvent(input: DeploymentStateChangeInput): EcsEvent {
  const detail = {
    eventType: DEPLOYMENT_EVENT_TYPES[input.eventName],
    eventName: input.eventName,
    deploymentId: input.deploymentId,
    updatedAt: detailTime(input.at),
    reason: input.reason ?? defaultDeploymentReason(input.eventName, input.deploymentId),
  };
  return ecsEvent(DETAIL_TYPES.deploymentStateChange, input.serviceArn, detail, input.at);
}

/** The reasons the guide shows; a rollback's IN_PROGRESS names the deployment it goes back to. */
export const DEPLOYMENT_REASONS = {
  inProgress: (deploymentId: string) => `ECS deployment ${deploymentId} in progress.`,
  completed: (deploymentId: string) => `ECS deployment ${deploymentId} completed.`,
  rollingBack: (toDeploymentId: string) => `ECS deployment circuit breaker: rolling back to deploymentId ${toDeploymentId}.`,
  taskFailedToStart: "ECS deployment circuit breaker: task failed to start.",
} as const;

function defaultDeploymentReason(eventName: DeploymentEventName, deploymentId: string): string {
  if (eventName === "SERVICE_DEPLOYMENT_IN_PROGRESS") return DEPLOYMENT_REASONS.inProgress(deploymentId);
  if (eventName === "SERVICE_DEPLOYMENT_COMPLETED") return DEPLOYMENT_REASONS.completed(deploymentId);
  return DEPLOYMENT_REASONS.taskFailedToStart;
}
