import { createHash } from "node:crypto";
import {
  ClientException,
  ConflictException,
  InvalidParameterException,
} from "../../generated/errors.ts";
import type { EcsOperations } from "../../generated/operations.ts";
import { serializeFailures, serializeListTasksResponse } from "../../generated/serde.ts";
import type { Cluster, Failure, RunTaskRequest, StartTaskRequest, Tag, Task, TaskDefinition } from "../../generated/shapes.ts";
import type { TaskEngine } from "../runtime/engine/task-engine.ts";
import type { RunTaskSpec } from "../runtime/engine/engine-types.ts";
import { withRawJson } from "../runtime/raw-json.ts";
import type { ClusterStore } from "../runtime/store/cluster-store.ts";
import type { TagStore } from "../runtime/store/tag-store.ts";
import type { TaskDefinitionStore } from "../runtime/store/task-definition-store.ts";
import type { ArnPage, TaskCounts } from "../runtime/store/task-store.ts";
import type { OperationContext, OperationDeps } from "./context.ts";
import { DescribeTasksMemo } from "./describe-tasks-memo.ts";
import { assertValidTags } from "./tags.ts";
import { resolveTaskDefinition } from "./task-definitions.ts";
import type { LaunchPlan, TaskPlacer } from "./task-placement.ts";

export interface TaskOperationsOptions {
  engine: TaskEngine;
  clusters: ClusterStore;
  taskDefinitions: TaskDefinitionStore;
  tags: TagStore;
  /** Whether a task can be placed now; without it, always. */
  capacity?: TaskCapacity | undefined;
  /**
   * Launch type / capacity provider and container instance of each task (EC2 placement). Without it every
   * task starts on the local engine unplaced, as before container instances existed.
   */
  placer?: TaskPlacer | undefined;
}

/**
 * Whether there is anything to run tasks on: the emulator's one "container instance" is the Docker
 * engine (with the agent endpoint in front of it). While it is away, RunTask answers as real ECS does
 * for a cluster without instances, and works again by itself once it is back.
 */
export interface TaskCapacity {
  available(): boolean;
}

/** RunTask's answer when no container instance can take a task (the EC2 wording of real ECS). */
export const NO_CONTAINER_INSTANCES = "No Container Instances were found in your cluster.";
/** The failure reason real ECS gives a Fargate task it has no capacity for. */
export const FARGATE_CAPACITY_UNAVAILABLE = "Capacity is unavailable at this time. Please try again later or in a different availability zone";

/** What the cluster and tag operations need from the task side (see createOperations' TaskView). */
export interface TaskViewOf {
  taskCounts(clusterArn: string): TaskCounts;
  taskExists(taskArn: string): boolean;
}

export function taskView(engine: TaskEngine): TaskViewOf {
  return {
    taskCounts: (clusterArn) => engine.taskCounts(clusterArn),
    taskExists: (taskArn) => engine.taskExists(taskArn),
  };
}

const TASKS_OPEN = Buffer.from('{"tasks":[');
const COMMA = Buffer.from(",");
const NO_FAILURES_CLOSE = Buffer.from('],"failures":[]}');

const MAX_COUNT = 10;
const MAX_DESCRIBE = 100;
const STARTED_BY = /^[A-Za-z0-9_/-]{1,128}$/;

/** RunTask, StopTask, DescribeTasks, ListTasks over the task engine. */
export function taskOperations(deps: OperationDeps, options: TaskOperationsOptions): Partial<EcsOperations<OperationContext>> {
  const { engine, tags, placer } = options;

  // Tags of tasks dropped after retention go with them.
  engine.use({ onTasksPurged: (arns) => arns.forEach((arn) => tags.deleteAll(arn)) });

  /** Whole DescribeTasks answers, checked against the current task snapshots on every hit. */
  const describeMemo = new DescribeTasksMemo();
  const getTask = (arn: string): Task | undefined => engine.get(arn);

  /** ListTasks bodies by the store's (cached) page they were built from. */
  const listBodies = new WeakMap<ArnPage, Buffer>();

  const withTags = (task: Task): Task => {
    const t = tags.get(task.taskArn ?? "");
    return t.length > 0 ? { ...task, tags: t } : task;
  };

  /**
   * A task id or ARN → the ARN to look up, in the request's cluster and region. An ARN of another region
   * or account is kept as given: no task of this cluster has it, so it is reported missing.
   */
  const taskArnOf = (cluster: Cluster, ref: string, ctx: OperationContext): string =>
    deps.arns.inRegion(ctx.region).taskArnOf(cluster.clusterName ?? "default", ref).arn;

  /** Starts one task per planned launch (RunTask after placement, StartTask on named instances). */
  const launch = (
    input: RunTaskRequest | StartTaskRequest,
    ctx: OperationContext,
    cluster: Cluster,
    td: TaskDefinition,
    group: string,
    plan: LaunchPlan,
  ): Task[] => {
    let taskTags: Tag[] = [...(input.tags ?? [])];
    if (input.propagateTags === "TASK_DEFINITION" && td.taskDefinitionArn !== undefined) {
      const tdTags = options.taskDefinitions.inRegion(ctx.region).tagsOf(td.taskDefinitionArn);
      const own = new Set(taskTags.map((t) => t.key));
      taskTags = [...taskTags, ...tdTags.filter((t) => !own.has(t.key))];
    }
    if (input.enableECSManagedTags === true) {
      taskTags.push({ key: "aws:ecs:clusterName", value: cluster.clusterName ?? "default" });
    }
    const run = "containerInstances" in input ? undefined : input;
    const spec: RunTaskSpec = {
      clusterArn: cluster.clusterArn!,
      clusterName: cluster.clusterName ?? "default",
      region: ctx.region,
      taskDefinition: td,
      overrides: input.overrides,
      startedBy: input.startedBy,
      group,
      launchType: run?.launchType,
      capacityProviderName: run?.capacityProviderStrategy?.[0]?.capacityProvider,
      platformVersion: run?.platformVersion,
      enableExecuteCommand: input.enableExecuteCommand,
      networkConfiguration: input.networkConfiguration,
      clientToken: run?.clientToken,
    };
    const tasks: Task[] = [];
    for (const target of plan.launches) {
      // Placement decides launch type, capacity provider and instance when there is a placer.
      const task = engine.runTask(
        placer === undefined
          ? spec
          : {
              ...spec,
              launchType: target.launchType,
              capacityProviderName: target.capacityProviderName,
              containerInstanceArn: target.containerInstanceArn,
              availabilityZone: target.availabilityZone,
            },
      );
      if (taskTags.length > 0) tags.put(task.taskArn!, taskTags);
      tasks.push(withTags(task));
    }
    return tasks;
  };

  const operations: Partial<EcsOperations<OperationContext>> = {
    async runTask(input: RunTaskRequest, ctx) {
      const cluster = options.clusters.inRegion(ctx.region).require(input.cluster);
      const taskDefinitions = options.taskDefinitions.inRegion(ctx.region);
      const count = input.count ?? 1;
      if (!Number.isInteger(count) || count < 1 || count > MAX_COUNT) {
        throw new InvalidParameterException(`count must be between 1 and ${MAX_COUNT}, inclusive.`);
      }
      if (input.launchType !== undefined && input.capacityProviderStrategy !== undefined && input.capacityProviderStrategy.length > 0) {
        throw new InvalidParameterException(
          "Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.",
        );
      }
      checkStartParameters(input);

      const clusterArn = cluster.clusterArn!;
      const fingerprint = input.clientToken === undefined ? "" : fingerprintOf(input);
      if (input.clientToken !== undefined) {
        const previous = engine.clientToken(clusterArn, input.clientToken);
        if (previous !== undefined) {
          if (previous.fingerprint !== fingerprint) {
            throw new ConflictException("The specified client token has already been used with different request parameters.", {
              resourceIds: previous.taskArns,
            });
          }
          const tasks = previous.taskArns.map((arn) => engine.get(arn)).filter((t): t is Task => t !== undefined);
          return { tasks: tasks.map(withTags), failures: [] };
        }
      }

      const td = await resolveTaskDefinition(deps, taskDefinitions, input.taskDefinition);
      checkRunnable(td, input);

      if (options.capacity !== undefined && !options.capacity.available()) {
        // Every check on the request came first, as on AWS; placement is what fails.
        if (runsOnFargate(td, input)) return { tasks: [], failures: [{ reason: FARGATE_CAPACITY_UNAVAILABLE }] };
        throw new InvalidParameterException(NO_CONTAINER_INSTANCES);
      }

      const group = input.group ?? `family:${td.family ?? ""}`;
      const plan: LaunchPlan =
        placer === undefined
          ? { launches: Array.from({ length: count }, () => ({})), failures: [] }
          : placer.plan({
              region: ctx.region,
              cluster,
              taskDefinition: td,
              overrides: input.overrides,
              count,
              group,
              launchType: input.launchType,
              capacityProviderStrategy: input.capacityProviderStrategy,
              placementConstraints: input.placementConstraints,
              placementStrategy: input.placementStrategy,
            });
      const tasks = launch(input, ctx, cluster, td, group, plan);
      if (input.clientToken !== undefined) {
        engine.rememberClientToken({
          clusterArn,
          clientToken: input.clientToken,
          fingerprint,
          taskArns: tasks.map((t) => t.taskArn!),
          createdAt: deps.clock.now(),
        });
      }
      return { tasks, failures: plan.failures };
    },

    async startTask(input: StartTaskRequest, ctx) {
      if (placer === undefined) throw new Error("unreachable: StartTask is only served with a placer");
      const cluster = options.clusters.inRegion(ctx.region).require(input.cluster);
      if (input.containerInstances.length === 0 || input.containerInstances.length > MAX_COUNT) {
        throw new InvalidParameterException(`containerInstances must contain between 1 and ${MAX_COUNT} container instances.`);
      }
      checkStartParameters(input);
      const td = await resolveTaskDefinition(deps, options.taskDefinitions.inRegion(ctx.region), input.taskDefinition);
      checkRunnable(td, { ...input, launchType: "EC2" });
      if (options.capacity !== undefined && !options.capacity.available()) throw new InvalidParameterException(NO_CONTAINER_INSTANCES);
      const group = input.group ?? `family:${td.family ?? ""}`;
      const plan = placer.onInstances({
        region: ctx.region,
        cluster,
        taskDefinition: td,
        overrides: input.overrides,
        containerInstances: input.containerInstances,
      });
      return { tasks: launch(input, ctx, cluster, td, group, plan), failures: plan.failures };
    },

    async stopTask(input, ctx) {
      const cluster = options.clusters.inRegion(ctx.region).require(input.cluster);
      const arn = taskArnOf(cluster, input.task, ctx);
      const existing = engine.get(arn);
      if (existing === undefined || existing.clusterArn !== cluster.clusterArn) {
        throw new InvalidParameterException("The referenced task was not found.");
      }
      if (input.reason !== undefined && input.reason.length > 1024) {
        throw new InvalidParameterException("reason can have at most 1024 characters.");
      }
      const task = engine.stopTask(arn, input.reason === "" ? undefined : input.reason) ?? existing;
      // "Any tags associated with the task will be deleted."
      tags.deleteAll(arn);
      return { task };
    },

    async describeTasks(input, ctx) {
      if (input.tasks.length === 0) throw new InvalidParameterException("Tasks cannot be empty.");
      if (input.tasks.length > MAX_DESCRIBE) {
        throw new InvalidParameterException(`Too many tasks requested: at most ${MAX_DESCRIBE} tasks can be described at a time.`);
      }
      const cluster = options.clusters.inRegion(ctx.region).require(input.cluster);
      const clusterArn = cluster.clusterArn!;
      const includeTags = input.include?.includes("TAGS") ?? false;
      if (!includeTags) {
        const hit = describeMemo.get(input.cluster, input.tasks, clusterArn, getTask);
        if (hit !== undefined) return hit;
      }
      const tasks: Task[] = [];
      const failures: Failure[] = [];
      const seen = new Set<string>();
      const arns: string[] = [];
      const snapshots: Array<Task | undefined> = [];
      for (const ref of input.tasks) {
        const arn = taskArnOf(cluster, ref, ctx);
        if (seen.has(arn)) continue;
        seen.add(arn);
        arns.push(arn);
        const task = engine.get(arn);
        snapshots.push(task);
        if (task === undefined || task.clusterArn !== clusterArn) {
          failures.push({ arn, reason: "MISSING" });
          continue;
        }
        tasks.push(includeTags ? { ...task, tags: tags.get(arn) } : task);
      }
      if (includeTags) return { tasks, failures };
      // The answer is mostly whole tasks: build it from each one's cached wire JSON bytes rather than
      // re-serializing (and re-encoding) it. Member order as serializeDescribeTasksResponse writes it.
      // Copied into one buffer once; repeated requests are then answered from the memo with it.
      const parts: Buffer[] = [TASKS_OPEN];
      for (let i = 0; i < tasks.length; i++) {
        if (i > 0) parts.push(COMMA);
        parts.push(engine.taskJson(tasks[i]!));
      }
      parts.push(failures.length === 0 ? NO_FAILURES_CLOSE : Buffer.from(`],"failures":${JSON.stringify(serializeFailures(failures))}}`));
      const body = Buffer.concat(parts);
      // Shared by every hit: frozen so no caller can change what the next one is served.
      for (const f of failures) Object.freeze(f);
      const response = Object.freeze(withRawJson({ tasks: Object.freeze(tasks) as Task[], failures: Object.freeze(failures) as Failure[] }, body));
      describeMemo.set(input.cluster, input.tasks, { clusterArn, arns, snapshots, response, bytes: body.length });
      return response;
    },

    async listTasks(input, ctx) {
      const cluster = options.clusters.inRegion(ctx.region).require(input.cluster);
      const maxResults = input.maxResults ?? 100;
      if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > 100) {
        throw new InvalidParameterException("maxResults must be between 1 and 100.");
      }
      let offset = 0;
      if (input.nextToken !== undefined) {
        offset = decodeToken(input.nextToken);
      }
      // The store pages through its (cluster, desiredStatus) index and caches the page.
      const page = engine.listArns(
        {
          clusterArn: cluster.clusterArn!,
          family: input.family,
          startedBy: input.startedBy,
          serviceName: input.serviceName,
          desiredStatus: input.desiredStatus ?? "RUNNING",
          launchType: input.launchType,
          daemonName: input.daemonName,
          // A container instance id names the instance of this cluster.
          containerInstanceArn:
            input.containerInstance === undefined || input.containerInstance.startsWith("arn:")
              ? input.containerInstance
              : deps.arns.inRegion(ctx.region).containerInstance(cluster.clusterName ?? "default", input.containerInstance),
        },
        offset,
        maxResults,
      );
      // Frozen and shared with the store's cache: the response only reads it.
      const out: { taskArns: string[]; nextToken?: string } = { taskArns: page.taskArns as string[] };
      if (page.more) out.nextToken = encodeToken(offset + maxResults);
      // A cached page always comes with the same offset/limit, hence the same nextToken and body.
      let body = listBodies.get(page);
      if (body === undefined) {
        body = Buffer.from(JSON.stringify(serializeListTasksResponse(out)), "utf8");
        listBodies.set(page, body);
      }
      return withRawJson(out, body);
    },
  };
  // StartTask names container instances: without them (no placer) it is not served locally.
  if (placer === undefined) delete operations.startTask;
  return operations;
}

/** RunTask/StartTask checks of the request itself. */
function checkStartParameters(input: RunTaskRequest | StartTaskRequest): void {
  if (input.propagateTags === "SERVICE") {
    throw new InvalidParameterException("The SERVICE value for propagateTags is only valid for tasks started by a service.");
  }
  if (input.startedBy !== undefined && !STARTED_BY.test(input.startedBy)) {
    throw new InvalidParameterException(
      "startedBy can have up to 128 letters (uppercase and lowercase), numbers, hyphens, underscores and forward slashes.",
    );
  }
  assertValidTags(input.tags ?? []);
}

/** RunTask checks that depend on the task definition. */
function checkRunnable(
  td: TaskDefinition,
  input: Pick<RunTaskRequest, "taskDefinition" | "networkConfiguration" | "launchType" | "overrides" | "enableExecuteCommand">,
): void {
  if (td.status === "INACTIVE" || td.status === "DELETE_IN_PROGRESS") {
    throw new ClientException(`TaskDefinition is inactive: ${td.taskDefinitionArn ?? input.taskDefinition}`);
  }
  const mode = td.networkMode ?? "bridge";
  const vpc = input.networkConfiguration?.awsvpcConfiguration;
  if (mode === "awsvpc" && vpc === undefined) {
    throw new InvalidParameterException("Network Configuration must be provided when networkMode 'awsvpc' is specified.");
  }
  if (mode !== "awsvpc" && vpc !== undefined) {
    throw new InvalidParameterException("Network Configuration is not valid for the given networkMode of this task definition.");
  }
  if (vpc !== undefined && vpc.subnets.length === 0) {
    throw new InvalidParameterException("subnets can not be empty.");
  }
  if (input.launchType === "FARGATE" && mode !== "awsvpc") {
    throw new InvalidParameterException("Task definition does not support launch_type FARGATE.");
  }
  const names = new Set((td.containerDefinitions ?? []).map((c) => c.name));
  for (const o of input.overrides?.containerOverrides ?? []) {
    if (o.name === undefined || !names.has(o.name)) {
      throw new InvalidParameterException(`Override for container named ${o.name ?? "null"} is not a container in the TaskDefinition.`);
    }
  }
  if (input.enableExecuteCommand === true && td.taskRoleArn === undefined && input.overrides?.taskRoleArn === undefined) {
    throw new InvalidParameterException("The task role must be specified to enable execute command.");
  }
}

/** Whether the task would run on Fargate: asked for, or the only compatibility of its definition. */
function runsOnFargate(td: TaskDefinition, input: RunTaskRequest): boolean {
  if (input.launchType !== undefined) return input.launchType === "FARGATE";
  const provider = input.capacityProviderStrategy?.[0]?.capacityProvider;
  if (provider !== undefined) return provider.startsWith("FARGATE");
  const requires = td.requiresCompatibilities ?? [];
  return requires.length > 0 && !requires.includes("EC2") && requires[0] === "FARGATE";
}

/** Idempotency compares the whole request except the token itself. */
function fingerprintOf(input: RunTaskRequest): string {
  const { clientToken: _token, ...rest } = input;
  return createHash("sha256").update(canonicalJson(rest)).digest("hex");
}

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

function encodeToken(offset: number): string {
  return Buffer.from(JSON.stringify({ o: offset })).toString("base64url");
}

function decodeToken(token: string): number {
  try {
    const parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as { o?: unknown };
    if (typeof parsed.o === "number" && Number.isInteger(parsed.o) && parsed.o >= 0) return parsed.o;
  } catch {
    // fall through
  }
  throw new InvalidParameterException("Invalid nextToken.");
}
