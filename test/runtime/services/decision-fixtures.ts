import type { Deployment, DeploymentConfiguration, Service, TaskSet } from "../../../generated/shapes.ts";
import { newDeployment } from "../../../src/runtime/services/deployment-records.ts";
import { newBook, type DecisionInput, type Effect, type SchedTask, type ServiceBook, type UnitFacts } from "../../../src/runtime/services/scheduler-types.ts";

export const T0 = Date.parse("2026-01-01T00:00:00Z");
export const SD1 = "arn:aws:ecs:us-east-1:123456789012:service-deployment/c/web/sd1";
export const SD2 = "arn:aws:ecs:us-east-1:123456789012:service-deployment/c/web/sd2";
export const REV1 = "arn:aws:ecs:us-east-1:123456789012:service-revision/c/web/1";
export const REV2 = "arn:aws:ecs:us-east-1:123456789012:service-revision/c/web/2";
export const TD1 = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1";
export const TD2 = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:2";

export function deployment(id: string, td: string, desired: number, overrides: Partial<Deployment> = {}): Deployment {
  return { ...newDeployment({ id, taskDefinition: td }, desired, new Date(T0)), ...overrides };
}

export function service(options: {
  desired: number;
  deployments?: Deployment[];
  taskSets?: TaskSet[];
  config?: DeploymentConfiguration;
  grace?: number;
  daemon?: boolean;
  status?: string;
  controller?: "ECS" | "EXTERNAL" | "CODE_DEPLOY";
}): Service {
  const s: Service = {
    serviceArn: "arn:aws:ecs:us-east-1:123456789012:service/c/web",
    serviceName: "web",
    clusterArn: "arn:aws:ecs:us-east-1:123456789012:cluster/c",
    status: options.status ?? "ACTIVE",
    desiredCount: options.desired,
    deployments: options.deployments ?? [],
    events: [],
    schedulingStrategy: options.daemon === true ? "DAEMON" : "REPLICA",
    deploymentController: { type: options.controller ?? "ECS" },
  };
  if (options.taskSets !== undefined) s.taskSets = options.taskSets;
  if (options.config !== undefined) s.deploymentConfiguration = options.config;
  if (options.grace !== undefined) s.healthCheckGracePeriodSeconds = options.grace;
  return s;
}

let seq = 0;

/** A task of deployment `startedBy`. `state`: running (default), pending, stopping, or stopped. */
export function task(
  startedBy: string,
  state: "running" | "pending" | "stopping" | "stopped" = "running",
  more: Partial<SchedTask> = {},
): SchedTask {
  seq += 1;
  const id = `t${String(seq).padStart(4, "0")}`;
  const base: SchedTask = {
    arn: `arn:aws:ecs:us-east-1:123456789012:task/c/${id}`,
    id,
    startedBy,
    lastStatus: state === "pending" ? "PENDING" : state === "stopped" ? "STOPPED" : "RUNNING",
    desiredStatus: state === "stopping" || state === "stopped" ? "STOPPED" : "RUNNING",
    healthStatus: "UNKNOWN",
    createdAt: T0 + seq,
    startedAt: state === "pending" ? undefined : T0 + seq,
    stoppedAt: state === "stopped" ? T0 + 60_000 + seq : undefined,
    stopCode: state === "stopped" ? "EssentialContainerExited" : state === "stopping" ? "ServiceSchedulerInitiated" : undefined,
  };
  return { ...base, ...more };
}

export function tasks(n: number, startedBy: string, state: Parameters<typeof task>[1] = "running", more: Partial<SchedTask> = {}): SchedTask[] {
  return Array.from({ length: n }, () => task(startedBy, state, more));
}

export function book(options: Partial<ServiceBook> = {}): ServiceBook {
  return { ...newBook(), ...options };
}

export function input(options: {
  service: Service;
  tasks?: SchedTask[];
  book?: ServiceBook;
  now?: number;
  units?: Record<string, Partial<UnitFacts>>;
  desired?: number;
}): DecisionInput {
  const units: Record<string, UnitFacts> = {};
  for (const [id, facts] of Object.entries(options.units ?? {})) units[id] = { healthChecked: false, placeable: Number.POSITIVE_INFINITY, ...facts };
  return {
    now: options.now ?? T0 + 120_000,
    service: options.service,
    book: options.book ?? book(),
    tasks: options.tasks ?? [],
    desiredCount: options.desired ?? options.service.desiredCount ?? 0,
    units,
  };
}

/** The effects in a compact form for table assertions. */
export function summary(effects: readonly Effect[]): string[] {
  return effects.map((e) => {
    switch (e.kind) {
      case "start":
        return `start ${e.unitId} ×${e.count}${e.unhealthyReplaced > 0 ? ` (replacing ${e.unhealthyReplaced} unhealthy)` : ""}`;
      case "stop":
        return `stop ${e.taskIds.length}: ${e.reason}`;
      case "event":
        return `event ${e.message}`;
      case "serviceDeployment":
        return `sd ${e.patch.status ?? "(update)"}`;
      case "notify":
        return `notify ${e.notice.eventName}`;
      case "log":
        return `log ${e.event}`;
    }
  });
}

/** A link to the given service deployment and revision, as CreateService/UpdateService records one. */
export function link(sd: string, rev: string, sdStatus: "PENDING" | "IN_PROGRESS" | "SUCCESSFUL" = "IN_PROGRESS") {
  return { serviceDeploymentArn: sd, serviceRevisionArn: rev, sdStatus } as const;
}
