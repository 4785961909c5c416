import { createHash } from "node:crypto";
import { InvalidParameterException, ServiceNotFoundException } from "../../generated/errors.ts";
import type { EcsOperations } from "../../generated/operations.ts";
import type {
  CreateServiceRequest,
  CreateServiceResponse,
  DeleteServiceRequest,
  DeleteServiceResponse,
  DescribeServicesRequest,
  DescribeServicesResponse,
  Failure,
  ListServicesByNamespaceRequest,
  ListServicesByNamespaceResponse,
  ListServicesRequest,
  ListServicesResponse,
  Service,
  TaskSet,
  UpdateServiceRequest,
  UpdateServiceResponse,
} from "../../generated/shapes.ts";
import { newNumericId } from "../runtime/arns.ts";
import { newDeployment } from "../runtime/services/deployment-records.ts";
import { newBook } from "../runtime/services/scheduler-types.ts";
import { rootPrincipalArn } from "../runtime/store/account-setting-store.ts";
import type { ServiceRecord } from "../runtime/store/service-store.ts";
import type { OperationContext, OperationDeps } from "./context.ts";
import { decodeToken, encodeToken, isNonNegativeInteger, isString } from "./pagination.ts";
import { findActiveService, serviceNameOf, type ServiceOperationsOptions } from "./service-context.ts";
import { recordDeployment } from "./service-history.ts";
import {
  checkDesiredCount,
  checkGracePeriod,
  checkLoadBalancers,
  checkServiceName,
  deploymentConfigurationOf,
  networkOf,
  placementOf,
  platformVersionOf,
  resolveServiceTaskDefinition,
  roleArnOf,
} from "./service-requests.ts";
import { planUpdate } from "./service-update.ts";
import { checkTargetGroups } from "./service-load-balancers.ts";
import { renderService } from "./service-views.ts";
import { assertValidTags } from "./tags.ts";
import { canonicalJson } from "./tasks.ts";

const MAX_DESCRIBE = 10;

/**
 * CreateService, UpdateService, DeleteService, DescribeServices, ListServices and
 * ListServicesByNamespace. The operations only record what is wanted; the scheduler (poked after every
 * change) makes the tasks follow.
 */
export function serviceOperations(deps: OperationDeps, options: ServiceOperationsOptions): Partial<EcsOperations<OperationContext>> {
  const { services, clusters, tags } = options;

  const tasksOf = (s: Service) => options.tasks.list({ clusterArn: s.clusterArn ?? "", serviceName: s.serviceName ?? "" });
  const render = (record: ServiceRecord, withTags = false): Service =>
    renderService(record, tasksOf(record.service), withTags ? tags.get(record.service.serviceArn ?? "") : undefined);
  const save = (record: ServiceRecord): ServiceRecord => {
    const saved = services.save(record);
    options.scheduler.poke(saved.service.serviceArn ?? "");
    return saved;
  };

  return {
    async createService(input: CreateServiceRequest, ctx: OperationContext): Promise<CreateServiceResponse> {
      const arns = deps.arns.inRegion(ctx.region);
      const cluster = clusters.inRegion(ctx.region).require(input.cluster);
      checkServiceName(input.serviceName);
      checkDesiredCount(input.desiredCount);
      checkGracePeriod(input.healthCheckGracePeriodSeconds);
      const newTags = input.tags ?? [];
      assertValidTags(newTags);
      const controller = input.deploymentController?.type ?? "ECS";
      const strategy = input.schedulingStrategy ?? "REPLICA";
      if (strategy === "DAEMON" && controller === "EXTERNAL") {
        throw new InvalidParameterException("The DAEMON scheduling strategy is not supported with the EXTERNAL deployment controller.");
      }
      if (strategy === "DAEMON" && input.launchType === "FARGATE") {
        throw new InvalidParameterException("The DAEMON scheduling strategy is not supported with the FARGATE launch type.");
      }
      if (controller === "EXTERNAL") {
        // "All other service parameters are specified when creating a task set within the service."
        for (const [param, value] of Object.entries({
          taskDefinition: input.taskDefinition,
          launchType: input.launchType,
          capacityProviderStrategy: input.capacityProviderStrategy,
          platformVersion: input.platformVersion,
          networkConfiguration: input.networkConfiguration,
          loadBalancers: input.loadBalancers,
          serviceRegistries: input.serviceRegistries,
        })) {
          if (value !== undefined && !(Array.isArray(value) && value.length === 0)) {
            throw new InvalidParameterException(
              `${param} is not supported for services with an EXTERNAL deployment controller: specify it when you create a task set.`,
            );
          }
        }
      } else if (input.taskDefinition === undefined) {
        throw new InvalidParameterException(`A task definition must be specified for a service with the ${controller} deployment controller.`);
      }

      const td = controller === "EXTERNAL" ? undefined : await resolveServiceTaskDefinition(deps, options.taskDefinitions.inRegion(ctx.region), input.taskDefinition!);
      const placement = controller === "EXTERNAL" ? {} : placementOf(cluster, input.launchType, input.capacityProviderStrategy);
      const platformVersion = controller === "EXTERNAL" ? undefined : platformVersionOf(placement, input.platformVersion);
      const network = td === undefined ? undefined : networkOf(td, placement, input.networkConfiguration);
      const loadBalancers = input.loadBalancers ?? [];
      if (td !== undefined) checkLoadBalancers(loadBalancers, td);
      if (td !== undefined) await checkTargetGroups(options.targetGroups, loadBalancers, td);
      const deploymentConfiguration = deploymentConfigurationOf(input.deploymentConfiguration, undefined, strategy);
      const fingerprint = fingerprintOf(input);

      // From here on nothing awaits: the check for an existing service and the save are one step.
      const clusterArn = cluster.clusterArn ?? "";
      const existing = services.find(ctx.region, clusterArn, input.serviceName);
      if (existing !== undefined && existing.service.status !== "INACTIVE") {
        if (existing.service.status === "ACTIVE" && existing.fingerprint === fingerprint) return { service: render(existing) };
        throw new InvalidParameterException("Creation of service was not idempotent.");
      }

      const now = deps.clock.now();
      const serviceArn = arns.service(cluster.clusterName ?? "default", input.serviceName);
      const desiredCount = strategy === "DAEMON" ? 0 : (input.desiredCount ?? 0);
      const service: Service = {
        serviceArn,
        serviceName: input.serviceName,
        clusterArn,
        loadBalancers: structuredClone(loadBalancers),
        serviceRegistries: structuredClone(input.serviceRegistries ?? []),
        status: "ACTIVE",
        desiredCount,
        runningCount: 0,
        pendingCount: 0,
        deploymentConfiguration,
        deployments: [],
        events: [],
        createdAt: now,
        placementConstraints: structuredClone(input.placementConstraints ?? []),
        placementStrategy: structuredClone(input.placementStrategy ?? []),
        schedulingStrategy: strategy,
        deploymentController: { type: controller },
        createdBy: rootPrincipalArn(deps.arns.accountId),
        enableECSManagedTags: input.enableECSManagedTags ?? false,
        propagateTags: input.propagateTags ?? "NONE",
        enableExecuteCommand: input.enableExecuteCommand ?? false,
      };
      if (input.role !== undefined) service.roleArn = roleArnOf(input.role, deps.arns.accountId);
      if (input.healthCheckGracePeriodSeconds !== undefined) service.healthCheckGracePeriodSeconds = input.healthCheckGracePeriodSeconds;
      if (input.availabilityZoneRebalancing !== undefined) service.availabilityZoneRebalancing = input.availabilityZoneRebalancing;
      const record: ServiceRecord = { region: ctx.region, service, book: newBook(), fingerprint };
      if (input.clientToken !== undefined) record.clientToken = input.clientToken;

      if (controller === "ECS" && td !== undefined) {
        const deployment = newDeployment(
          {
            id: `ecs-svc/${newNumericId()}`,
            taskDefinition: td.taskDefinitionArn ?? "",
            ...placement,
            platformVersion,
            networkConfiguration: network,
            serviceConnectConfiguration: serviceConnectOf(input.serviceConnectConfiguration, cluster.serviceConnectDefaults?.namespace),
            volumeConfigurations: input.volumeConfigurations,
          },
          strategy === "DAEMON" ? 1 : desiredCount,
          now,
        );
        service.deployments = [deployment];
        Object.assign(service, withoutUndefined({ taskDefinition: deployment.taskDefinition, ...placement, platformVersion, networkConfiguration: network }));
        recordDeployment(options, arns, record, deployment, td, { loadBalancers, serviceRegistries: service.serviceRegistries ?? [] }, now);
      } else if (controller === "CODE_DEPLOY" && td !== undefined) {
        // CodeDeploy services start with one PRIMARY task set at 100 %; CodeDeploy itself is not emulated.
        const id = `ecs-svc/${newNumericId()}`;
        const taskSet: TaskSet = withoutUndefined({
          id,
          taskSetArn: arns.taskSet(cluster.clusterName ?? "default", input.serviceName, id),
          serviceArn,
          clusterArn,
          startedBy: "CODE_DEPLOY",
          status: "PRIMARY",
          taskDefinition: td.taskDefinitionArn,
          computedDesiredCount: desiredCount,
          pendingCount: 0,
          runningCount: 0,
          createdAt: now,
          updatedAt: now,
          ...placement,
          platformVersion,
          networkConfiguration: network,
          loadBalancers: structuredClone(loadBalancers),
          serviceRegistries: structuredClone(input.serviceRegistries ?? []),
          scale: { value: 100, unit: "PERCENT" as const },
          stabilityStatus: "STABILIZING" as const,
          stabilityStatusAt: now,
        });
        service.taskSets = [taskSet];
        Object.assign(service, withoutUndefined({ taskDefinition: td.taskDefinitionArn, ...placement, platformVersion, networkConfiguration: network }));
      } else {
        service.taskSets = [];
      }

      // A re-created service starts without the tags of its deleted namesake.
      tags.deleteAll(serviceArn);
      if (newTags.length > 0) tags.put(serviceArn, newTags);
      const saved = save(record);
      deps.logger.info("service.created", { serviceArn, desiredCount, controller, strategy });
      return { service: render(saved) };
    },

    async updateService(input: UpdateServiceRequest, ctx: OperationContext): Promise<UpdateServiceResponse> {
      const arns = deps.arns.inRegion(ctx.region);
      const cluster = clusters.inRegion(ctx.region).require(input.cluster);
      // Validate against the service as it is, resolve what needs resolving (awaits) …
      const before = findActiveService(options, arns, cluster, input.service);
      const td =
        input.taskDefinition === undefined
          ? undefined
          : await resolveServiceTaskDefinition(deps, options.taskDefinitions.inRegion(ctx.region), input.taskDefinition);
      const lbs = input.loadBalancers ?? (td === undefined ? [] : before.service.loadBalancers ?? []);
      const lbTd = td ?? options.taskDefinitions.inRegion(ctx.region).resolve(before.service.taskDefinition ?? "");
      if (lbs.length > 0 && lbTd !== undefined) await checkTargetGroups(options.targetGroups, lbs, lbTd);
      // … then apply to the service as it is now, in one synchronous step, so concurrent updates all land.
      const record = findActiveService(options, arns, cluster, input.service);
      const plan = planUpdate({ deps, options, cluster, record, input, td, at: deps.clock.now(), arns });
      const saved = save(plan.record);
      if (plan.newDeployment !== undefined) {
        deps.logger.info("service.deployment", { serviceArn: saved.service.serviceArn, deployment: plan.newDeployment, taskDefinition: saved.service.taskDefinition });
      }
      return { service: render(saved) };
    },

    async deleteService(input: DeleteServiceRequest, ctx: OperationContext): Promise<DeleteServiceResponse> {
      const cluster = clusters.inRegion(ctx.region).require(input.cluster);
      const name = serviceNameOf(deps.arns.inRegion(ctx.region), input.service);
      const record = name === undefined ? undefined : services.find(ctx.region, cluster.clusterArn ?? "", name);
      if (record === undefined || record.service.status === "INACTIVE") {
        throw new ServiceNotFoundException("Service not found.");
      }
      const s = record.service;
      if (s.status === "DRAINING") return { service: render(record) };
      if (input.force !== true && s.schedulingStrategy !== "DAEMON" && (s.desiredCount ?? 0) > 0) {
        throw new InvalidParameterException("The service cannot be stopped while it is scaled above 0.");
      }
      s.status = "DRAINING";
      s.desiredCount = 0;
      const saved = save(record);
      deps.logger.info("service.deleted", { serviceArn: s.serviceArn });
      return { service: render(saved) };
    },

    async describeServices(input: DescribeServicesRequest, ctx: OperationContext): Promise<DescribeServicesResponse> {
      if (input.services.length === 0) throw new InvalidParameterException("Services cannot be empty.");
      if (input.services.length > MAX_DESCRIBE) {
        throw new InvalidParameterException(`You can specify up to ${MAX_DESCRIBE} services in a single request.`);
      }
      const cluster = clusters.inRegion(ctx.region).require(input.cluster);
      const withTags = input.include?.includes("TAGS") ?? false;
      const found: Service[] = [];
      const failures: Failure[] = [];
      const arns = deps.arns.inRegion(ctx.region);
      for (const ref of input.services) {
        const name = serviceNameOf(arns, ref);
        const record = name === undefined ? undefined : services.find(ctx.region, cluster.clusterArn ?? "", name);
        if (record === undefined) {
          failures.push({ arn: ref.startsWith("arn:") ? ref : arns.service(cluster.clusterName ?? "default", ref), reason: "MISSING" });
        } else {
          found.push(render(record, withTags));
        }
      }
      return { services: found, failures };
    },

    async listServices(input: ListServicesRequest, ctx: OperationContext): Promise<ListServicesResponse> {
      const cluster = clusters.inRegion(ctx.region).require(input.cluster);
      const limit = input.maxResults ?? 10;
      if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new InvalidParameterException("maxResults must be between 1 and 100.");
      const after = input.nextToken === undefined ? undefined : decodeToken(input.nextToken, "service", isString);
      const page = services.list({
        region: ctx.region,
        clusterArn: cluster.clusterArn ?? "",
        launchType: input.launchType,
        schedulingStrategy: input.schedulingStrategy,
        resourceManagementType: input.resourceManagementType,
        after,
        limit: limit + 1,
      });
      const items = page.slice(0, limit);
      const out: ListServicesResponse = { serviceArns: items.map((r) => r.service.serviceArn ?? "") };
      const last = items.at(-1);
      if (page.length > limit && last !== undefined) out.nextToken = encodeToken("service", last.service.serviceName ?? "");
      return out;
    },

    async listServicesByNamespace(input: ListServicesByNamespaceRequest, ctx: OperationContext): Promise<ListServicesByNamespaceResponse> {
      const limit = input.maxResults ?? 100;
      if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new InvalidParameterException("maxResults must be between 1 and 100.");
      const offset = input.nextToken === undefined ? 0 : decodeToken(input.nextToken, "namespace", isNonNegativeInteger);
      // Answered from what the services recorded: the namespace name or ARN they were given.
      const all = services.byNamespace(ctx.region, (ns) => ns === input.namespace);
      const page = all.slice(offset, offset + limit);
      const out: ListServicesByNamespaceResponse = { serviceArns: page.map((r) => r.service.serviceArn ?? "") };
      if (offset + limit < all.length) out.nextToken = encodeToken("namespace", offset + limit);
      return out;
    },
  };
}

/** The Service Connect configuration as recorded, the namespace defaulting to the cluster's. */
export function serviceConnectOf(
  config: CreateServiceRequest["serviceConnectConfiguration"],
  clusterNamespace: string | undefined,
): CreateServiceRequest["serviceConnectConfiguration"] {
  if (config === undefined) return undefined;
  const out = structuredClone(config);
  if (out.enabled && out.namespace === undefined && clusterNamespace !== undefined) out.namespace = clusterNamespace;
  return out;
}

/** Idempotency compares the whole request except the token. */
function fingerprintOf(input: CreateServiceRequest): string {
  const { clientToken: _token, ...rest } = input;
  return createHash("sha256").update(canonicalJson(rest)).digest("hex");
}

export function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
