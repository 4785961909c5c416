// The task document: the ECS `Task` as DescribeTasks shows it plus the engine's bookkeeping
// (`TaskRuntimeState`). Creating one is pure: a function of the RunTask spec, the clock's now, the ids
// it is given and the backend's record of the task.
import type {
  Attachment,
  Container,
  ContainerDefinition,
  ContainerOverride,
  NetworkMode,
  Task,
  TaskOverride,
} from "../../../generated/shapes.ts";
import { clusterNameOf, type Arns } from "../arns.ts";
import type { BackendTaskData, TaskPlan } from "../backend/task-backend.ts";
import type { RunTaskSpec, TaskRuntimeState } from "./engine-types.ts";

export interface TaskDocument {
  task: Task;
  state: TaskRuntimeState;
}

/** The random parts of a new task, drawn by the caller (tests pass fixed ones). */
export interface NewTaskIds {
  taskId: string;
  /** One per container definition, in order. */
  containerIds: string[];
  /** awsvpc only. */
  eni?: { attachmentId: string; networkInterfaceId: string; macAddress: string } | undefined;
}

export interface NewTaskContext {
  arns: Arns;
  /** For the availability zone (`<region>a`). */
  region: string;
  now: Date;
  ids: NewTaskIds;
  /** The backend's record for the task and the runtime name of each container. */
  backend: (plan: TaskPlan) => { data: BackendTaskData; runtimeNames: Record<string, string> };
}

/** A new task: PENDING (PROVISIONING for awsvpc), desired RUNNING, version 1. */
export function newTaskDocument(spec: RunTaskSpec, ctx: NewTaskContext): TaskDocument {
  const td = spec.taskDefinition;
  const family = td.family ?? "";
  const revision = td.revision ?? 0;
  const networkMode: NetworkMode = td.networkMode ?? "bridge";
  const defs = td.containerDefinitions ?? [];
  const { now, ids } = ctx;
  const taskArn = ctx.arns.task(spec.clusterName, ids.taskId);

  const containers: Container[] = defs.map((def, i) => {
    const ov = overrideFor(spec.overrides, def.name);
    const c: Container = {
      containerArn: ctx.arns.container(spec.clusterName, ids.taskId, ids.containerIds[i]),
      taskArn,
      name: def.name ?? "",
      image: def.image ?? "",
      lastStatus: "PENDING",
      networkBindings: [],
      networkInterfaces: [],
      healthStatus: "UNKNOWN",
      cpu: String(ov?.cpu ?? def.cpu ?? 0),
    };
    const memory = ov?.memory ?? def.memory;
    if (memory !== undefined) c.memory = String(memory);
    const reservation = ov?.memoryReservation ?? def.memoryReservation;
    if (reservation !== undefined) c.memoryReservation = String(reservation);
    if (spec.enableExecuteCommand === true) c.managedAgents = [{ name: "ExecuteCommandAgent", lastStatus: "PENDING" }];
    return c;
  });

  const launchType = spec.launchType ?? (spec.capacityProviderName === undefined ? defaultLaunchType(td.requiresCompatibilities) : undefined);
  const fargate = launchType === "FARGATE" || (spec.capacityProviderName?.startsWith("FARGATE") ?? false);
  const task: Task = {
    attachments: [],
    availabilityZone: spec.availabilityZone ?? `${ctx.region}a`,
    clusterArn: spec.clusterArn,
    connectivity: "CONNECTED",
    connectivityAt: now,
    containers,
    createdAt: now,
    desiredStatus: "RUNNING",
    enableExecuteCommand: spec.enableExecuteCommand ?? false,
    group: spec.group ?? `family:${family}`,
    healthStatus: "UNKNOWN",
    lastStatus: networkMode === "awsvpc" ? "PROVISIONING" : "PENDING",
    overrides: echoOverrides(spec.overrides, defs),
    taskArn,
    taskDefinitionArn: td.taskDefinitionArn ?? ctx.arns.taskDefinition(family, revision),
    version: 1,
  };
  if (launchType !== undefined) task.launchType = launchType;
  if (spec.capacityProviderName !== undefined) task.capacityProviderName = spec.capacityProviderName;
  if (spec.containerInstanceArn !== undefined) task.containerInstanceArn = spec.containerInstanceArn;
  const cpu = spec.overrides?.cpu ?? td.cpu;
  if (cpu !== undefined) task.cpu = cpu;
  const memory = spec.overrides?.memory ?? td.memory;
  if (memory !== undefined) task.memory = memory;
  if (spec.startedBy !== undefined) task.startedBy = spec.startedBy;
  if (fargate) {
    task.platformVersion = spec.platformVersion === undefined || spec.platformVersion === "LATEST" ? "1.4.0" : spec.platformVersion;
    task.platformFamily = "Linux";
    task.ephemeralStorage = { sizeInGiB: spec.overrides?.ephemeralStorage?.sizeInGiB ?? td.ephemeralStorage?.sizeInGiB ?? 20 };
  } else if (spec.platformVersion !== undefined) {
    task.platformVersion = spec.platformVersion;
  }
  if (networkMode === "awsvpc" && ids.eni !== undefined) {
    const attachment: Attachment = {
      id: ids.eni.attachmentId,
      type: "ElasticNetworkInterface",
      status: "PRECREATED",
      details: [
        { name: "subnetId", value: spec.networkConfiguration?.awsvpcConfiguration?.subnets[0] ?? "subnet-local" },
        { name: "networkInterfaceId", value: ids.eni.networkInterfaceId },
        { name: "macAddress", value: ids.eni.macAddress },
      ],
    };
    task.attachments = [attachment];
  }

  const plan = taskPlanOf(task, {
    taskDefinition: td,
    overrides: spec.overrides ?? {},
    networkMode,
    ...(ids.eni === undefined ? {} : { macAddress: ids.eni.macAddress }),
  });
  const backend = ctx.backend(plan);
  const state: TaskRuntimeState = {
    v: 2,
    taskDefinition: td,
    overrides: spec.overrides ?? {},
    networkMode,
    provisioned: false,
    deprovisioned: false,
    reachedRunning: false,
    cleanedUp: false,
    containers: defs.map((def) => ({
      name: def.name ?? "",
      runtimeName: backend.runtimeNames[def.name ?? ""] ?? def.name ?? "",
      essential: def.essential ?? true,
      known: "NONE",
      desiredStopped: false,
      health: "UNKNOWN",
    })),
    backend: backend.data,
  };
  return { task, state };
}

/** What the backend is told about a task (everything is derivable from the document). */
export function taskPlanOf(
  task: Task,
  state: Pick<TaskRuntimeState, "taskDefinition" | "overrides" | "networkMode"> & { macAddress?: string },
): TaskPlan {
  const plan: TaskPlan = {
    taskArn: task.taskArn ?? "",
    clusterName: clusterNameOf(task.clusterArn),
    taskDefinition: state.taskDefinition,
    overrides: state.overrides,
    networkMode: state.networkMode,
  };
  const mac = state.macAddress ?? task.attachments?.find((a) => a.type === "ElasticNetworkInterface")?.details?.find((d) => d.name === "macAddress")?.value;
  if (mac !== undefined) plan.macAddress = mac;
  if (task.containerInstanceArn !== undefined) plan.containerInstanceArn = task.containerInstanceArn;
  const cpu = parseTaskCpu(task.cpu);
  if (cpu !== undefined) plan.cpu = cpu;
  const memory = parseTaskMemory(task.memory);
  if (memory !== undefined) plan.memory = memory;
  return plan;
}

/**
 * Task-level cpu/memory strings as RegisterTaskDefinition normalises them: "1 vCPU"/"0.5 vcpu" → units,
 * "1GB"/"0.5 gb" → MiB, plain numbers as they are. Undefined for absent or unparsable values.
 */
export function parseTaskCpu(value: string | undefined): number | undefined {
  return parseUnits(value, /^([\d.]+)\s*vcpu$/i, 1024);
}

export function parseTaskMemory(value: string | undefined): number | undefined {
  return parseUnits(value, /^([\d.]+)\s*gb$/i, 1024);
}

function parseUnits(value: string | undefined, unitPattern: RegExp, factor: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  const unit = unitPattern.exec(trimmed);
  const n = unit !== null ? Number(unit[1]) * factor : Number(trimmed);
  return trimmed !== "" && Number.isFinite(n) && n > 0 ? Math.round(n) : undefined;
}

/**
 * Runtime state persisted by an earlier version (v1: Docker fields at the top level) in today's shape:
 * the Docker fields become the backend's record, unchanged, so re-adoption finds the same containers.
 */
export function upgradeRuntimeState(raw: unknown): TaskRuntimeState | undefined {
  const s = raw as Record<string, unknown> | undefined;
  if (s?.["v"] === 2) return s as unknown as TaskRuntimeState;
  if (s?.["v"] !== 1) return undefined;
  const { networkName, networkReleased, pause, volumes, volumeBindings, extraNetworks, containers, ...rest } = s;
  const backend: BackendTaskData = { volumes: volumes ?? [], volumeBindings: volumeBindings ?? {}, extraNetworks: extraNetworks ?? [] };
  if (networkName !== undefined) backend["networkName"] = networkName;
  if (networkReleased !== undefined) backend["networkReleased"] = networkReleased;
  if (pause !== undefined) backend["pause"] = pause;
  const ipv4 = (pause as { ipv4?: string } | undefined)?.ipv4;
  return {
    ...(rest as Omit<TaskRuntimeState, "v" | "containers" | "backend">),
    v: 2,
    ...(ipv4 === undefined ? {} : { ipv4 }),
    containers: ((containers ?? []) as Array<Record<string, unknown>>).map(({ dockerName, ...c }) => ({ ...c, runtimeName: dockerName }) as unknown as TaskRuntimeState["containers"][number]),
    backend,
  };
}

export function overrideFor(overrides: TaskOverride | undefined, name: string | undefined): ContainerOverride | undefined {
  return overrides?.containerOverrides?.find((o) => o.name === name);
}

/** The task's `overrides` as ECS echoes them: every container listed, `{name}` when not overridden. */
export function echoOverrides(overrides: TaskOverride | undefined, defs: readonly ContainerDefinition[]): TaskOverride {
  const out: TaskOverride = {
    containerOverrides: defs.map((d) => ({ ...overrideFor(overrides, d.name), name: d.name ?? "" })),
    inferenceAcceleratorOverrides: overrides?.inferenceAcceleratorOverrides ?? [],
  };
  if (overrides?.cpu !== undefined) out.cpu = overrides.cpu;
  if (overrides?.memory !== undefined) out.memory = overrides.memory;
  if (overrides?.taskRoleArn !== undefined) out.taskRoleArn = overrides.taskRoleArn;
  if (overrides?.executionRoleArn !== undefined) out.executionRoleArn = overrides.executionRoleArn;
  if (overrides?.ephemeralStorage !== undefined) out.ephemeralStorage = overrides.ephemeralStorage;
  return out;
}

function defaultLaunchType(requires: readonly string[] | undefined): Task["launchType"] {
  if (requires !== undefined && requires.length > 0 && !requires.includes("EC2")) return requires[0] as Task["launchType"];
  return "EC2";
}
