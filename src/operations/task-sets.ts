import { InvalidParameterException, TaskSetNotFoundException } from "../../generated/errors.ts";
import type { EcsOperations } from "../../generated/operations.ts";
import type {
  CreateTaskSetRequest,
  CreateTaskSetResponse,
  DeleteTaskSetRequest,
  DeleteTaskSetResponse,
  DescribeTaskSetsRequest,
  DescribeTaskSetsResponse,
  Failure,
  Scale,
  Service,
  TaskSet,
  UpdateServicePrimaryTaskSetRequest,
  UpdateServicePrimaryTaskSetResponse,
  UpdateTaskSetRequest,
  UpdateTaskSetResponse,
} from "../../generated/shapes.ts";
import { newNumericId, taskSetIdOf } from "../runtime/arns.ts";
import { computedDesiredCount } from "../runtime/services/task-set-decision.ts";
import type { ServiceRecord } from "../runtime/store/service-store.ts";
import type { OperationContext, OperationDeps } from "./context.ts";
import { findActiveService, findService, type ServiceOperationsOptions } from "./service-context.ts";
import { checkTargetGroups } from "./service-load-balancers.ts";
import { checkLoadBalancers, networkOf, placementOf, platformVersionOf, resolveServiceTaskDefinition } from "./service-requests.ts";
import { withoutUndefined } from "./services.ts";
import { renderTaskSet } from "./service-views.ts";
import { assertValidTags } from "./tags.ts";

/**
 * Task sets of services with the EXTERNAL (or CODE_DEPLOY) deployment controller: CreateTaskSet,
 * UpdateTaskSet (scale), DeleteTaskSet, DescribeTaskSets and UpdateServicePrimaryTaskSet. The scheduler
 * keeps each task set at its computed desired count (scale × the service's desiredCount, rounded up).
 */
export function taskSetOperations(deps: OperationDeps, options: ServiceOperationsOptions): Partial<EcsOperations<OperationContext>> {
  const { services, clusters, tags } = options;
  const tasksOf = (s: Service) => options.tasks.list({ clusterArn: s.clusterArn ?? "", serviceName: s.serviceName ?? "" });
  const render = (record: ServiceRecord, ts: TaskSet, withTags = false): TaskSet =>
    renderTaskSet(ts, tasksOf(record.service), withTags ? tags.get(ts.taskSetArn ?? "") : undefined);
  const requireTaskSet = (record: ServiceRecord, ref: string): TaskSet => {
    const id = taskSetIdOf(ref);
    const ts = (record.service.taskSets ?? []).find((t) => t.id === id);
    if (ts === undefined) throw new TaskSetNotFoundException("The specified task set does not exist.");
    return ts;
  };
  const externallyDeployed = (record: ServiceRecord): void => {
    const type = record.service.deploymentController?.type ?? "ECS";
    if (type === "ECS") {
      throw new InvalidParameterException("Task sets are only supported for services that use the EXTERNAL or CODE_DEPLOY deployment controller.");
    }
  };
  const save = (record: ServiceRecord): ServiceRecord => {
    const saved = services.save(record);
    options.scheduler.poke(saved.service.serviceArn ?? "");
    return saved;
  };
  const checkScale = (scale: Scale | undefined): Scale => {
    const value = scale?.value ?? 0;
    if (!(value >= 0 && value <= 100)) throw new InvalidParameterException(`Invalid scale value ${value}: it must be between 0 and 100.`);
    return { value, unit: scale?.unit ?? "PERCENT" };
  };

  return {
    async createTaskSet(input: CreateTaskSetRequest, ctx: OperationContext): Promise<CreateTaskSetResponse> {
      const arns = deps.arns.inRegion(ctx.region);
      const cluster = clusters.inRegion(ctx.region).require(input.cluster);
      externallyDeployed(findActiveService(options, deps.arns.inRegion(ctx.region), cluster, input.service));
      const newTags = input.tags ?? [];
      assertValidTags(newTags);
      const scale = checkScale(input.scale);
      const td = await resolveServiceTaskDefinition(deps, options.taskDefinitions.inRegion(ctx.region), input.taskDefinition);
      const placement = placementOf(cluster, input.launchType, input.capacityProviderStrategy);
      const platformVersion = platformVersionOf(placement, input.platformVersion);
      const network = networkOf(td, placement, input.networkConfiguration);
      const loadBalancers = input.loadBalancers ?? [];
      checkLoadBalancers(loadBalancers, td);
      await checkTargetGroups(options.targetGroups, loadBalancers, td);

      const record = findActiveService(options, deps.arns.inRegion(ctx.region), cluster, input.service);
      const now = deps.clock.now();
      const id = `ecs-svc/${newNumericId()}`;
      const taskSet: TaskSet = withoutUndefined({
        id,
        taskSetArn: arns.taskSet(cluster.clusterName ?? "default", record.service.serviceName ?? "", id),
        serviceArn: record.service.serviceArn,
        clusterArn: record.service.clusterArn,
        externalId: input.externalId,
        status: "ACTIVE",
        taskDefinition: td.taskDefinitionArn,
        computedDesiredCount: computedDesiredCount(record.service.desiredCount ?? 0, scale.value ?? 0),
        pendingCount: 0,
        runningCount: 0,
        createdAt: now,
        updatedAt: now,
        ...placement,
        platformVersion,
        networkConfiguration: network,
        loadBalancers: structuredClone(loadBalancers),
        serviceRegistries: structuredClone(input.serviceRegistries ?? []),
        scale,
        stabilityStatus: "STABILIZING" as const,
        stabilityStatusAt: now,
      });
      record.service.taskSets = [...(record.service.taskSets ?? []), taskSet];
      if (newTags.length > 0) tags.put(taskSet.taskSetArn ?? "", newTags);
      const saved = save(record);
      deps.logger.info("task-set.created", { taskSetArn: taskSet.taskSetArn, taskDefinition: taskSet.taskDefinition });
      return { taskSet: render(saved, requireTaskSet(saved, id), newTags.length > 0) };
    },

    async updateTaskSet(input: UpdateTaskSetRequest, ctx: OperationContext): Promise<UpdateTaskSetResponse> {
      const cluster = clusters.inRegion(ctx.region).require(input.cluster);
      const record = findActiveService(options, deps.arns.inRegion(ctx.region), cluster, input.service);
      externallyDeployed(record);
      const ts = requireTaskSet(record, input.taskSet);
      const now = deps.clock.now();
      ts.scale = checkScale(input.scale);
      ts.computedDesiredCount = computedDesiredCount(record.service.desiredCount ?? 0, ts.scale.value ?? 0);
      ts.updatedAt = now;
      ts.stabilityStatus = "STABILIZING";
      ts.stabilityStatusAt = now;
      const saved = save(record);
      return { taskSet: render(saved, requireTaskSet(saved, ts.id ?? "")) };
    },

    async deleteTaskSet(input: DeleteTaskSetRequest, ctx: OperationContext): Promise<DeleteTaskSetResponse> {
      const cluster = clusters.inRegion(ctx.region).require(input.cluster);
      const record = findActiveService(options, deps.arns.inRegion(ctx.region), cluster, input.service);
      externallyDeployed(record);
      const ts = requireTaskSet(record, input.taskSet);
      if (ts.status === "PRIMARY" && input.force !== true) {
        throw new InvalidParameterException("The primary task set of a service cannot be deleted. Make another task set primary first, or use force.");
      }
      if (input.force !== true && (ts.scale?.value ?? 0) > 0) {
        throw new InvalidParameterException("The task set cannot be deleted while it is scaled above 0. Scale it to 0 first, or use force.");
      }
      const now = deps.clock.now();
      ts.status = "DRAINING";
      ts.updatedAt = now;
      ts.stabilityStatus = "STABILIZING";
      ts.stabilityStatusAt = now;
      // "When a resource is deleted, the tags that are associated with that resource are deleted as well."
      const rendered = render(record, ts);
      tags.deleteAll(ts.taskSetArn ?? "");
      save(record);
      return { taskSet: rendered };
    },

    async describeTaskSets(input: DescribeTaskSetsRequest, ctx: OperationContext): Promise<DescribeTaskSetsResponse> {
      const cluster = clusters.inRegion(ctx.region).require(input.cluster);
      const record = findService(options, deps.arns.inRegion(ctx.region), cluster, input.service);
      const withTags = input.include?.includes("TAGS") ?? false;
      const all = record.service.taskSets ?? [];
      if (input.taskSets === undefined || input.taskSets.length === 0) {
        return { taskSets: all.map((ts) => render(record, ts, withTags)), failures: [] };
      }
      const found: TaskSet[] = [];
      const failures: Failure[] = [];
      for (const ref of input.taskSets) {
        const ts = all.find((t) => t.id === taskSetIdOf(ref));
        if (ts === undefined) failures.push({ arn: ref, reason: "MISSING" });
        else found.push(render(record, ts, withTags));
      }
      return { taskSets: found, failures };
    },

    async updateServicePrimaryTaskSet(input: UpdateServicePrimaryTaskSetRequest, ctx: OperationContext): Promise<UpdateServicePrimaryTaskSetResponse> {
      const cluster = clusters.inRegion(ctx.region).require(input.cluster);
      const record = findActiveService(options, deps.arns.inRegion(ctx.region), cluster, input.service);
      externallyDeployed(record);
      const ts = requireTaskSet(record, input.primaryTaskSet);
      if (ts.status === "DRAINING") throw new InvalidParameterException("A DRAINING task set cannot be made the primary task set.");
      const now = deps.clock.now();
      for (const other of record.service.taskSets ?? []) {
        if (other.status === "PRIMARY" && other !== ts) {
          other.status = "ACTIVE";
          other.updatedAt = now;
        }
      }
      ts.status = "PRIMARY";
      ts.updatedAt = now;
      // "When you call DescribeServices, it returns all fields specified for a primary task set."
      const s = record.service;
      s.taskDefinition = ts.taskDefinition;
      for (const f of ["launchType", "capacityProviderStrategy", "platformVersion", "platformFamily", "networkConfiguration"] as const) {
        if (ts[f] === undefined) delete s[f];
        else (s as Record<string, unknown>)[f] = structuredClone(ts[f]);
      }
      s.loadBalancers = structuredClone(ts.loadBalancers ?? []);
      s.serviceRegistries = structuredClone(ts.serviceRegistries ?? []);
      const saved = save(record);
      return { taskSet: render(saved, requireTaskSet(saved, ts.id ?? "")) };
    },
  };
}
