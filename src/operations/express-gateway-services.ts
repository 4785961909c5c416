import { randomBytes } from "node:crypto";
import { InvalidParameterException, ResourceNotFoundException, ServiceNotActiveException, ServiceNotFoundException } from "../../generated/errors.ts";
import type { EcsOperations } from "../../generated/operations.ts";
import type {
  ContainerDefinition,
  CreateExpressGatewayServiceRequest,
  CreateExpressGatewayServiceResponse,
  DeleteExpressGatewayServiceRequest,
  DeleteExpressGatewayServiceResponse,
  DescribeExpressGatewayServiceRequest,
  DescribeExpressGatewayServiceResponse,
  ECSExpressGatewayService,
  ExpressGatewayContainer,
  ExpressGatewayScalingTarget,
  ExpressGatewayServiceConfiguration,
  ExpressGatewayServiceStatusCode,
  UpdateExpressGatewayServiceRequest,
  UpdateExpressGatewayServiceResponse,
} from "../../generated/shapes.ts";
import { DEFAULT_HEALTH_CHECK_PATH, EXPRESS_CONTAINER, type ExpressGateways } from "../runtime/services/express-gateways.ts";
import type { ExpressServiceRecord, ExpressServiceStore } from "../runtime/store/express-service-store.ts";
import type { OperationContext, OperationDeps } from "./context.ts";
import type { ServiceOperationsOptions } from "./service-context.ts";
import { checkServiceName } from "./service-requests.ts";
import { serviceOperations } from "./services.ts";
import { assertValidTags } from "./tags.ts";
import { taskDefinitionOperations } from "./task-definitions.ts";
import type { ControlPlaneStores } from "./index.ts";

// Express Gateway services, locally: an ordinary ECS service (same ARN, visible to DescribeServices and
// every service API) run by the scheduler, whose task definition is made from the primary container, and
// whose "Application Load Balancer" is a real HTTP listener on the host (express-ingress.ts), reported as
// the configuration's ingress path. The tasks run in bridge mode with a dynamic host port (on AWS they are
// Fargate tasks): several tasks, and a rolling update's new ones next to the old, fit on one host.
// `scalingTarget` bounds the desired count (min at creation; nothing scales on a metric locally).

const DEFAULT_CONTAINER_PORT = 80;
const DEFAULT_CPU = "256";
const DEFAULT_MEMORY = "512";
const DEFAULT_MIN_TASKS = 1;
const DEFAULT_MAX_TASKS = 20;

export function expressGatewayOperations(
  deps: OperationDeps,
  stores: ControlPlaneStores,
  options: ServiceOperationsOptions & { express: ExpressServiceStore; gateways: ExpressGateways },
): Partial<EcsOperations<OperationContext>> {
  const services = serviceOperations(deps, options);
  const taskDefinitions = taskDefinitionOperations(deps, stores);
  const { express, gateways } = options;
  /** The URL the ingress answers on (as the API's own: a wildcard bind is reached on loopback). */
  const endpointOf = (port: number): string => {
    const host = deps.config.host === "0.0.0.0" || deps.config.host === "::" ? "127.0.0.1" : deps.config.host;
    return `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  };

  const render = (r: ExpressServiceRecord, withTags: boolean): ECSExpressGatewayService => {
    const record = options.services.get(r.serviceArn);
    const s = record?.service;
    const deployments = s?.deployments ?? [];
    const live = new Set(deployments.map((d) => d.id));
    const active = r.configurations.filter((c) => live.has(c.deploymentId));
    const configs = (active.length > 0 ? active : r.configurations.slice(0, 1)).map((c) => configView(c, record?.book.links[c.deploymentId]?.serviceRevisionArn));
    const primary = deployments.find((d) => d.status === "PRIMARY");
    const out: ECSExpressGatewayService = {
      cluster: r.clusterArn,
      serviceName: r.serviceName,
      serviceArn: r.serviceArn,
      infrastructureRoleArn: r.infrastructureRoleArn,
      status: { statusCode: statusOf(s?.status) },
      activeConfigurations: configs,
      createdAt: r.createdAt,
      updatedAt: r.updatedAt,
    };
    const sd = primary?.id === undefined ? undefined : record?.book.links[primary.id]?.serviceDeploymentArn;
    if (sd !== undefined) out.currentDeployment = sd;
    if (withTags) out.tags = stores.tags.get(r.serviceArn);
    return out;
  };
  const configView = (c: ExpressServiceRecord["configurations"][number], revisionArn: string | undefined): ExpressGatewayServiceConfiguration => {
    const out = structuredClone(c.config);
    if (revisionArn !== undefined) out.serviceRevisionArn = revisionArn;
    return out;
  };

  /** The Express service an ARN names, in the caller's region. */
  const find = (serviceArn: string, ctx: OperationContext): ExpressServiceRecord | undefined => {
    const r = express.get(serviceArn);
    return r !== undefined && r.region === ctx.region ? r : undefined;
  };

  /** Registers the task definition of a configuration (family: the service's name). */
  const registerRevision = async (name: string, config: ExpressGatewayServiceConfiguration, ctx: OperationContext): Promise<string> => {
    const c = config.primaryContainer!;
    const container: ContainerDefinition = {
      name: EXPRESS_CONTAINER,
      image: c.image,
      essential: true,
      portMappings: [{ containerPort: c.containerPort ?? DEFAULT_CONTAINER_PORT, protocol: "tcp" }],
    };
    if (c.command !== undefined) container.command = [...c.command];
    if (c.environment !== undefined) container.environment = structuredClone(c.environment);
    if (c.secrets !== undefined) container.secrets = structuredClone(c.secrets);
    if (c.repositoryCredentials?.credentialsParameter !== undefined) container.repositoryCredentials = { credentialsParameter: c.repositoryCredentials.credentialsParameter };
    if (c.awsLogsConfiguration !== undefined) {
      container.logConfiguration = {
        logDriver: "awslogs",
        options: {
          "awslogs-group": c.awsLogsConfiguration.logGroup,
          "awslogs-stream-prefix": c.awsLogsConfiguration.logStreamPrefix,
          "awslogs-region": ctx.region,
        },
      };
    }
    const out = await taskDefinitions.registerTaskDefinition!(
      {
        family: name,
        networkMode: "bridge",
        cpu: config.cpu,
        memory: config.memory,
        executionRoleArn: config.executionRoleArn,
        ...(config.taskRoleArn === undefined ? {} : { taskRoleArn: config.taskRoleArn }),
        containerDefinitions: [container],
      },
      ctx,
    );
    return out.taskDefinition?.taskDefinitionArn ?? "";
  };

  return {
    async createExpressGatewayService(input: CreateExpressGatewayServiceRequest, ctx: OperationContext): Promise<CreateExpressGatewayServiceResponse> {
      const cluster = stores.clusters.inRegion(ctx.region).require(input.cluster);
      const name = input.serviceName ?? generatedName(input.primaryContainer.image);
      checkServiceName(name);
      assertValidTags(input.tags ?? []);
      const config = configurationOf(
        {
          executionRoleArn: input.executionRoleArn,
          taskRoleArn: input.taskRoleArn,
          cpu: input.cpu ?? DEFAULT_CPU,
          memory: input.memory ?? DEFAULT_MEMORY,
          networkConfiguration: input.networkConfiguration ?? {},
          healthCheckPath: input.healthCheckPath ?? DEFAULT_HEALTH_CHECK_PATH,
          primaryContainer: input.primaryContainer,
          scalingTarget: input.scalingTarget ?? {},
        },
        deps.clock.now(),
      );
      const serviceArn = deps.arns.inRegion(ctx.region).service(cluster.clusterName ?? "default", name);
      const existing = options.services.get(serviceArn);
      if (existing !== undefined && existing.service.status !== "INACTIVE") throw new InvalidParameterException("Creation of service was not idempotent.");
      const taskDefinition = await registerRevision(name, config, ctx);
      const created = await services.createService!(
        {
          cluster: cluster.clusterArn,
          serviceName: name,
          taskDefinition,
          desiredCount: config.scalingTarget!.minTaskCount,
          launchType: "EC2",
          deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200, deploymentCircuitBreaker: { enable: true, rollback: true } },
          ...(input.tags === undefined || input.tags.length === 0 ? {} : { tags: input.tags }),
        },
        ctx,
      );
      const now = deps.clock.now();
      const record: ExpressServiceRecord = {
        region: ctx.region,
        serviceArn,
        clusterArn: cluster.clusterArn ?? "",
        serviceName: name,
        infrastructureRoleArn: input.infrastructureRoleArn,
        createdAt: now,
        updatedAt: now,
        configurations: [{ deploymentId: created.service?.deployments?.[0]?.id ?? "", config }],
        ingressPort: 0,
      };
      record.ingressPort = await gateways.open(record);
      record.configurations[0]!.config.ingressPaths = [{ accessType: "PUBLIC", endpoint: endpointOf(record.ingressPort) }];
      express.save(record);
      deps.logger.info("express-service.created", { serviceArn, endpoint: endpointOf(record.ingressPort) });
      return { service: render(record, true) };
    },

    async updateExpressGatewayService(input: UpdateExpressGatewayServiceRequest, ctx: OperationContext): Promise<UpdateExpressGatewayServiceResponse> {
      const r = find(input.serviceArn, ctx);
      if (r === undefined) throw new ServiceNotFoundException("Service not found.");
      const current = options.services.get(r.serviceArn)?.service;
      if (current?.status !== "ACTIVE") throw new ServiceNotActiveException("Service was not ACTIVE.");
      const previous = r.configurations[0]!.config;
      const config = configurationOf(
        {
          executionRoleArn: input.executionRoleArn ?? previous.executionRoleArn!,
          taskRoleArn: input.taskRoleArn ?? previous.taskRoleArn,
          cpu: input.cpu ?? previous.cpu ?? DEFAULT_CPU,
          memory: input.memory ?? previous.memory ?? DEFAULT_MEMORY,
          networkConfiguration: input.networkConfiguration ?? previous.networkConfiguration ?? {},
          healthCheckPath: input.healthCheckPath ?? previous.healthCheckPath ?? DEFAULT_HEALTH_CHECK_PATH,
          primaryContainer: input.primaryContainer ?? previous.primaryContainer!,
          scalingTarget: { ...previous.scalingTarget, ...input.scalingTarget },
        },
        deps.clock.now(),
      );
      config.ingressPaths = previous.ingressPaths;
      const taskDefinition = await registerRevision(r.serviceName, config, ctx);
      const bounds = config.scalingTarget!;
      const desired = Math.min(Math.max(current.desiredCount ?? 0, bounds.minTaskCount ?? DEFAULT_MIN_TASKS), bounds.maxTaskCount ?? DEFAULT_MAX_TASKS);
      const updated = await services.updateService!({ cluster: r.clusterArn, service: r.serviceArn, taskDefinition, desiredCount: desired }, ctx);
      const primary = updated.service?.deployments?.find((d) => d.status === "PRIMARY");
      r.configurations = [{ deploymentId: primary?.id ?? "", config }, ...r.configurations].slice(0, 20);
      r.updatedAt = deps.clock.now();
      express.save(r);
      await gateways.open(r);
      return {
        service: {
          serviceArn: r.serviceArn,
          cluster: r.clusterArn,
          serviceName: r.serviceName,
          status: { statusCode: statusOf(updated.service?.status) },
          targetConfiguration: configView(r.configurations[0]!, options.services.get(r.serviceArn)?.book.links[primary?.id ?? ""]?.serviceRevisionArn),
          createdAt: r.createdAt,
          updatedAt: r.updatedAt,
        },
      };
    },

    async deleteExpressGatewayService(input: DeleteExpressGatewayServiceRequest, ctx: OperationContext): Promise<DeleteExpressGatewayServiceResponse> {
      const r = find(input.serviceArn, ctx);
      const status = r === undefined ? undefined : options.services.get(r.serviceArn)?.service.status;
      if (r === undefined || status === undefined || status === "INACTIVE") throw new ServiceNotFoundException("Service not found.");
      if (status !== "ACTIVE") throw new ServiceNotActiveException("Service was not ACTIVE.");
      // The tasks stop (DRAINING); the ingress goes once the service is INACTIVE.
      await services.deleteService!({ cluster: r.clusterArn, service: r.serviceArn, force: true }, ctx);
      r.updatedAt = deps.clock.now();
      express.save(r);
      return { service: render(r, false) };
    },

    async describeExpressGatewayService(input: DescribeExpressGatewayServiceRequest, ctx: OperationContext): Promise<DescribeExpressGatewayServiceResponse> {
      const r = find(input.serviceArn, ctx);
      if (r === undefined) throw new ResourceNotFoundException(`The Express service ${input.serviceArn} was not found.`);
      return { service: render(r, input.include?.includes("TAGS") ?? false) };
    },
  };
}

function statusOf(status: string | undefined): ExpressGatewayServiceStatusCode {
  return status === "ACTIVE" ? "ACTIVE" : status === "DRAINING" ? "DRAINING" : "INACTIVE";
}

/** "nginx:1.27" → "nginx-3fa2": the name ECS would otherwise generate. */
function generatedName(image: string): string {
  const repo = image.split("@")[0]!.split(":")[0]!.split("/").at(-1) ?? "express";
  const base = repo.replace(/[^A-Za-z0-9_-]+/g, "-").slice(0, 200) || "express";
  return `${base}-${randomBytes(2).toString("hex")}`;
}

/** A configuration revision with its defaults, checked. */
function configurationOf(
  c: {
    executionRoleArn: string;
    taskRoleArn?: string | undefined;
    cpu: string;
    memory: string;
    networkConfiguration: NonNullable<ExpressGatewayServiceConfiguration["networkConfiguration"]>;
    healthCheckPath: string;
    primaryContainer: ExpressGatewayContainer;
    scalingTarget: ExpressGatewayScalingTarget;
  },
  now: Date,
): ExpressGatewayServiceConfiguration {
  if (!c.healthCheckPath.startsWith("/")) throw new InvalidParameterException(`Invalid healthCheckPath '${c.healthCheckPath}': it must start with a forward slash (/).`);
  const port = c.primaryContainer.containerPort ?? DEFAULT_CONTAINER_PORT;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InvalidParameterException(`Invalid containerPort ${port}: it must be between 1 and 65535.`);
  for (const [field, value] of [["cpu", c.cpu], ["memory", c.memory]] as const) {
    if (!/^\d+$/.test(value)) throw new InvalidParameterException(`Invalid ${field} '${value}': it must be a number.`);
  }
  const min = c.scalingTarget.minTaskCount ?? DEFAULT_MIN_TASKS;
  const max = c.scalingTarget.maxTaskCount ?? Math.max(DEFAULT_MAX_TASKS, min);
  if (!Number.isInteger(min) || min < 0) throw new InvalidParameterException(`Invalid minTaskCount ${min}: it must be 0 or more.`);
  if (!Number.isInteger(max) || max < min) throw new InvalidParameterException(`maxTaskCount (${max}) must be greater than or equal to minTaskCount (${min}).`);
  const out: ExpressGatewayServiceConfiguration = {
    executionRoleArn: c.executionRoleArn,
    cpu: c.cpu,
    memory: c.memory,
    networkConfiguration: structuredClone(c.networkConfiguration),
    healthCheckPath: c.healthCheckPath,
    primaryContainer: { ...structuredClone(c.primaryContainer), containerPort: port },
    scalingTarget: {
      ...structuredClone(c.scalingTarget),
      minTaskCount: min,
      maxTaskCount: max,
      autoScalingMetric: c.scalingTarget.autoScalingMetric ?? "AVERAGE_CPU",
      autoScalingTargetValue: c.scalingTarget.autoScalingTargetValue ?? 60,
    },
    createdAt: now,
  };
  if (c.taskRoleArn !== undefined) out.taskRoleArn = c.taskRoleArn;
  return out;
}
