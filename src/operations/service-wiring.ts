import { createHash, randomUUID } from "node:crypto";
import type { EcsOperations } from "../../generated/operations.ts";
import type { Cluster } from "../../generated/shapes.ts";
import type { ObservedTaskProtectionStore } from "../runtime/agent/task-protection-store.ts";
import { regionOf } from "../runtime/arns.ts";
import type { EventPublisher } from "../runtime/events/event-publisher.ts";
import { ServiceScheduler, type TaskProtectionView } from "../runtime/services/service-scheduler.ts";
import { instancePlacement, singleInstancePlacement, type InstancePlacer } from "../runtime/services/service-placement.ts";
import { withoutOrphans, type ServiceTasks } from "../runtime/services/service-tasks.ts";
import { ServiceDeploymentStore } from "../runtime/store/service-deployment-store.ts";
import { ServiceRevisionStore } from "../runtime/store/service-revision-store.ts";
import { ServiceStore } from "../runtime/store/service-store.ts";
import { TaskRegistrationStore } from "../runtime/store/task-registration-store.ts";
import type { TaskEngineHooks } from "../runtime/engine/engine-types.ts";
import { ServiceDiscoveryCloudMap, type CloudMap } from "../runtime/services/aws/cloud-map.ts";
import { Elbv2TargetGroups, type TargetGroups } from "../runtime/services/aws/target-groups.ts";
import { serviceConnectHooks } from "../runtime/services/service-connect.ts";
import { serviceEvents, withEvent } from "../runtime/services/service-events.ts";
import { ServiceRegistrations } from "../runtime/services/service-registrations.ts";
import { ExpressGateways } from "../runtime/services/express-gateways.ts";
import { ExpressServiceStore } from "../runtime/store/express-service-store.ts";
import { expressGatewayOperations } from "./express-gateway-services.ts";
import type { OperationContext, OperationDeps } from "./context.ts";
import type { ControlPlaneStores, ServiceView } from "./index.ts";
import type { ServiceOperationsOptions } from "./service-context.ts";
import { serviceDeploymentOperations } from "./service-deployments.ts";
import { serviceOperations } from "./services.ts";
import { taskSetOperations } from "./task-sets.ts";

export interface ServicesWiring {
  operations: Partial<EcsOperations<OperationContext>>[];
  view: ServiceView;
  scheduler: ServiceScheduler;
  /** Load balancer targets and Cloud Map instances of service tasks. */
  registrations: ServiceRegistrations;
  /** Starts the scheduler and the registrations (once the engine has re-adopted its tasks). */
  start(): void;
  close(): void;
}

/**
 * Services on top of the task engine: their stores, the scheduler (started by the caller once the
 * engine has re-adopted its tasks), the 15 service / service deployment / task set operations, and
 * what clusters and tags need to know of services.
 */
export function wireServices(
  deps: OperationDeps,
  stores: ControlPlaneStores,
  tasks: ServiceTasks,
  options: {
    hostId: string;
    /** The container instances' placement step (RunTask's) and their registry; without them, one local instance. */
    instances?:
      | {
          placer: InstancePlacer;
          activeInstances: (region: string, cluster: Cluster) => number;
          /** Whether an instance is DRAINING; `onChange` is told whenever an instance's status may have changed. */
          draining: (containerInstanceArn: string) => boolean;
          /** Whether an instance was deregistered (INACTIVE): its tasks are orphaned. */
          deregistered: (containerInstanceArn: string) => boolean;
          onChange: (listener: () => void) => () => void;
        }
      | undefined;
    events?: EventPublisher | undefined;
    /** Registers engine hooks (Service Connect networks, load balancer draining); the engine's `use`. */
    useHooks?: ((hooks: TaskEngineHooks) => void) | undefined;
    /** The EC2 instance id of a container instance (target registration); derived when unknown. */
    ec2InstanceIdOf?: ((containerInstanceArn: string) => string | undefined) | undefined;
    /** Task scale-in protection (the agent's store, shared with the API): the scheduler honours it. */
    protection?: ObservedTaskProtectionStore | undefined;
    /** Test seams: ELBv2 and Cloud Map clients other than the SDK ones the configuration asks for. */
    targetGroups?: TargetGroups | undefined;
    cloudMap?: CloudMap | undefined;
  },
): ServicesWiring {
  const services = new ServiceStore(deps.db);
  const serviceDeployments = new ServiceDeploymentStore(deps.db);
  const serviceRevisions = new ServiceRevisionStore(deps.db);
  // One local container instance per cluster, with a stable id for the events that name it.
  const containerInstanceId = (clusterArn: string): string => createHash("sha256").update(`${options.hostId}/${clusterArn}`).digest("hex").slice(0, 32);
  // What the scheduler and the service operations count: not the tasks orphaned on a deregistered instance.
  const deregistered = options.instances?.deregistered;
  const accounted = deregistered === undefined ? tasks : withoutOrphans(tasks, deregistered);
  const express = new ExpressServiceStore(deps.db);
  // Express services' local load balancers: their health checks are the scheduler's view of task health.
  const gateways = new ExpressGateways({
    store: express,
    services,
    tasks,
    bindHost: deps.config.host,
    poke: (arn) => scheduler.poke(arn),
    clock: deps.clock,
    logger: deps.logger,
  });
  const scheduler: ServiceScheduler = new ServiceScheduler({
    loadBalancerHealth: (arn) => gateways.health(arn),
    retired: (arn) => gateways.retired(arn),
    ...(options.instances === undefined ? {} : { instanceDraining: options.instances.draining }),
    ...(options.protection === undefined ? {} : { protection: protectionView(options.protection) }),
    services,
    serviceDeployments,
    serviceRevisions,
    tasks: accounted,
    // Task definitions are regional: a deployment's is looked up in the region its ARN names.
    taskDefinitions: {
      resolve: (ref) => stores.taskDefinitions.inRegion(regionOf(ref) ?? deps.config.region).resolve(ref),
      tagsOf: (arn) => stores.taskDefinitions.inRegion(regionOf(arn) ?? deps.config.region).tagsOf(arn),
    },
    tags: stores.tags,
    placement:
      options.instances === undefined
        ? singleInstancePlacement(containerInstanceId)
        : instancePlacement(options.instances.placer, options.instances.activeInstances),
    clusters: (clusterArn) => stores.clusters.inRegion(regionOf(clusterArn) ?? deps.config.region).get(clusterArn),
    clock: deps.clock,
    logger: deps.logger,
    ...(options.events === undefined ? {} : { events: options.events }),
  });
  let stopWatchingInstances: (() => void) | undefined;
  const config = deps.config;
  const targetGroups =
    options.targetGroups ?? (config.elbv2EndpointUrl === undefined ? undefined : new Elbv2TargetGroups(config.elbv2EndpointUrl, config.region, deps.logger));
  const cloudMap =
    options.cloudMap ??
    (config.serviceDiscoveryEndpointUrl === undefined ? undefined : new ServiceDiscoveryCloudMap(config.serviceDiscoveryEndpointUrl, config.region, deps.logger));
  const registrations = new ServiceRegistrations({
    services,
    tasks,
    store: new TaskRegistrationStore(deps.db),
    targetGroups,
    cloudMap,
    ec2InstanceIdOf: (arn) =>
      arn === undefined ? undefined : (options.ec2InstanceIdOf?.(arn) ?? `i-${createHash("sha256").update(`ec2/${arn}`).digest("hex").slice(0, 17)}`),
    // Registration events join the scheduler's on the service (saved at once: the store is synchronous).
    event: (serviceArn, message) => {
      const record = services.get(serviceArn);
      if (record === undefined) return;
      const steadyMessage = serviceEvents.steadyState(record.service.serviceName ?? "");
      record.service.events = withEvent(record.service.events ?? [], message, deps.clock.now(), randomUUID(), { steadyMessage });
      services.save(record);
    },
    clock: deps.clock,
    logger: deps.logger,
  });
  options.useHooks?.(registrations.hooks());
  options.useHooks?.(
    serviceConnectHooks({
      services,
      owner: options.hostId,
      namespaceName: async (region, namespace) => cloudMap?.namespaceName(region, namespace),
      logger: deps.logger,
    }),
  );
  const shared: ServiceOperationsOptions = {
    services,
    serviceDeployments,
    serviceRevisions,
    clusters: stores.clusters,
    taskDefinitions: stores.taskDefinitions,
    tags: stores.tags,
    tasks: accounted,
    scheduler,
    targetGroups,
  };
  const view: ServiceView = {
    serviceCounts: (clusterArn) => services.counts(clusterArn),
    resourceExists: (arn) => {
      const service = services.get(arn);
      if (service !== undefined) return service.service.status !== "INACTIVE";
      return services.live().some((r) => (r.service.taskSets ?? []).some((ts) => ts.taskSetArn === arn));
    },
  };
  return {
    operations: [
      serviceOperations(deps, shared),
      serviceDeploymentOperations(deps, shared),
      taskSetOperations(deps, shared),
      expressGatewayOperations(deps, stores, { ...shared, express, gateways }),
    ],
    view,
    scheduler,
    registrations,
    start() {
      scheduler.start();
      registrations.start();
      gateways.start();
      // An instance set to DRAINING (or back to ACTIVE), or deregistered: every service looks again at where
      // its tasks run.
      stopWatchingInstances = options.instances?.onChange(() => {
        for (const record of services.live()) scheduler.poke(record.service.serviceArn ?? "");
      });
    },
    close() {
      stopWatchingInstances?.();
      scheduler.close();
      registrations.close();
      void gateways.close();
    },
  };
}

function protectionView(store: ObservedTaskProtectionStore): TaskProtectionView {
  return {
    protectedUntil: (taskArn) => store.get(taskArn).expirationDate?.getTime(),
    subscribe: (listener) => store.subscribe(listener),
  };
}
