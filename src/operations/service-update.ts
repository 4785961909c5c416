import { ClientException, InvalidParameterException } from "../../generated/errors.ts";
import type { Cluster, Deployment, TaskDefinition, UpdateServiceRequest } from "../../generated/shapes.ts";
import { newNumericId, type Arns } from "../runtime/arns.ts";
import { followPrimary, newDeployment } from "../runtime/services/deployment-records.ts";
import type { ServiceRecord } from "../runtime/store/service-store.ts";
import type { OperationDeps } from "./context.ts";
import type { ServiceOperationsOptions } from "./service-context.ts";
import { recordDeployment } from "./service-history.ts";
import {
  checkDesiredCount,
  checkGracePeriod,
  checkLoadBalancers,
  deploymentConfigurationOf,
  isFargate,
  networkOf,
  placementOf,
  platformVersionOf,
  type Placement,
} from "./service-requests.ts";
import { canonicalJson } from "./tasks.ts";

export interface UpdatePlan {
  record: ServiceRecord;
  /** The id of the deployment the update started, if it started one. */
  newDeployment?: string | undefined;
}

/**
 * What UpdateService does to a service, synchronously (the caller saves the result). With the rolling
 * update controller, a new task definition, forceNewDeployment, or a change of network configuration,
 * launch type / capacity provider strategy, platform version, load balancers, service registries,
 * Service Connect, volumes or ECS Exec starts a new PRIMARY deployment (the previous one becomes ACTIVE
 * and is drained by the scheduler); desiredCount and the other settings apply in place.
 */
export function planUpdate(args: {
  deps: OperationDeps;
  options: ServiceOperationsOptions;
  cluster: Cluster;
  record: ServiceRecord;
  input: UpdateServiceRequest;
  td: TaskDefinition | undefined;
  at: Date;
  arns: Arns;
}): UpdatePlan {
  const { options, cluster, input, at } = args;
  const record = structuredClone(args.record);
  const s = record.service;
  const controller = s.deploymentController?.type ?? "ECS";
  const strategy = s.schedulingStrategy ?? "REPLICA";
  checkDesiredCount(input.desiredCount);
  checkGracePeriod(input.healthCheckGracePeriodSeconds);
  if (input.deploymentController !== undefined && input.deploymentController.type !== controller) {
    throw new InvalidParameterException(`Changing the deployment controller of a service from ${controller} to ${input.deploymentController.type} is not supported.`);
  }
  const revisionChanges = {
    taskDefinition: input.taskDefinition,
    networkConfiguration: input.networkConfiguration,
    platformVersion: input.platformVersion,
    loadBalancers: input.loadBalancers,
    capacityProviderStrategy: input.capacityProviderStrategy,
    serviceRegistries: input.serviceRegistries,
  };
  if (controller === "CODE_DEPLOY") {
    if (input.forceNewDeployment === true) {
      throw new InvalidParameterException(
        "Cannot force a new deployment on services with a CODE_DEPLOY deployment controller. Use AWS CodeDeploy to trigger a new deployment.",
      );
    }
    if (Object.values(revisionChanges).some((v) => v !== undefined)) {
      throw new InvalidParameterException(
        "Unable to update task definition on services with a CODE_DEPLOY deployment controller. Use AWS CodeDeploy to trigger a new deployment.",
      );
    }
  }
  if (controller === "EXTERNAL") {
    const given = Object.entries({ ...revisionChanges, forceNewDeployment: input.forceNewDeployment }).find(([, v]) => v !== undefined);
    if (given !== undefined) {
      throw new InvalidParameterException(`${given[0]} cannot be updated on a service with an EXTERNAL deployment controller: create a new task set.`);
    }
  }

  if (input.desiredCount !== undefined && strategy !== "DAEMON") s.desiredCount = input.desiredCount;
  if (input.deploymentConfiguration !== undefined) {
    s.deploymentConfiguration = deploymentConfigurationOf(input.deploymentConfiguration, s.deploymentConfiguration, strategy);
  }
  if (input.placementConstraints !== undefined) s.placementConstraints = structuredClone(input.placementConstraints);
  if (input.placementStrategy !== undefined) s.placementStrategy = structuredClone(input.placementStrategy);
  if (input.healthCheckGracePeriodSeconds !== undefined) s.healthCheckGracePeriodSeconds = input.healthCheckGracePeriodSeconds;
  if (input.enableECSManagedTags !== undefined) s.enableECSManagedTags = input.enableECSManagedTags;
  if (input.propagateTags !== undefined) s.propagateTags = input.propagateTags;
  if (input.availabilityZoneRebalancing !== undefined) s.availabilityZoneRebalancing = input.availabilityZoneRebalancing;
  if (controller !== "ECS") {
    if (input.enableExecuteCommand !== undefined) s.enableExecuteCommand = input.enableExecuteCommand;
    return { record };
  }

  const deployments = s.deployments ?? [];
  const primary = deployments.find((d) => d.status === "PRIMARY");
  if (primary === undefined) throw new ClientException("The service has no primary deployment.");
  const td = args.td ?? options.taskDefinitions.inRegion(args.arns.region).resolve(primary.taskDefinition ?? "");
  if (td === undefined) throw new ClientException("TaskDefinition not found.");

  const current: Placement = { launchType: primary.launchType, capacityProviderStrategy: primary.capacityProviderStrategy };
  // UpdateService changes the capacity provider strategy only; an empty one goes back to a launch type.
  const placement: Placement =
    input.capacityProviderStrategy === undefined
      ? current
      : input.capacityProviderStrategy.length === 0
        ? { launchType: current.launchType ?? "EC2" }
        : placementOf(cluster, undefined, input.capacityProviderStrategy);
  const platformVersion = platformVersionOf(placement, input.platformVersion ?? (isFargate(placement) ? primary.platformVersion : undefined));
  const network = networkOf(td, placement, input.networkConfiguration ?? primary.networkConfiguration);
  const loadBalancers = input.loadBalancers ?? s.loadBalancers ?? [];
  checkLoadBalancers(loadBalancers, td);
  const serviceRegistries = input.serviceRegistries ?? s.serviceRegistries ?? [];
  const serviceConnect = input.serviceConnectConfiguration ?? primary.serviceConnectConfiguration;
  const exec = input.enableExecuteCommand ?? s.enableExecuteCommand ?? false;

  const differs = (a: unknown, b: unknown): boolean => canonicalJson(a ?? null) !== canonicalJson(b ?? null);
  const startsDeployment =
    input.forceNewDeployment === true ||
    td.taskDefinitionArn !== primary.taskDefinition ||
    differs(placement, current) ||
    platformVersion !== primary.platformVersion ||
    differs(network, primary.networkConfiguration) ||
    differs(loadBalancers, s.loadBalancers ?? []) ||
    differs(serviceRegistries, s.serviceRegistries ?? []) ||
    differs(serviceConnect, primary.serviceConnectConfiguration) ||
    input.volumeConfigurations !== undefined ||
    exec !== (s.enableExecuteCommand ?? false);
  s.loadBalancers = structuredClone(loadBalancers);
  s.serviceRegistries = structuredClone(serviceRegistries);
  s.enableExecuteCommand = exec;
  const desired = strategy === "DAEMON" ? (primary.desiredCount ?? 1) : (s.desiredCount ?? 0);
  if (!startsDeployment) {
    if (primary.desiredCount !== desired) {
      primary.desiredCount = desired;
      primary.updatedAt = at;
    }
    return { record };
  }

  const deployment: Deployment = newDeployment(
    {
      id: `ecs-svc/${newNumericId()}`,
      taskDefinition: td.taskDefinitionArn ?? "",
      ...placement,
      platformVersion,
      networkConfiguration: network,
      serviceConnectConfiguration: serviceConnect,
      volumeConfigurations: input.volumeConfigurations ?? primary.volumeConfigurations,
    },
    desired,
    at,
  );
  for (const d of deployments) {
    if (d.status === "PRIMARY") {
      d.status = "ACTIVE";
      d.updatedAt = at;
    }
  }
  s.deployments = [deployment, ...deployments];
  followPrimary(s, deployment);
  recordDeployment(options, args.arns, record, deployment, td, { loadBalancers, serviceRegistries }, at);
  // A new deployment ends the back-off ("your service returns to a normal, non-throttled state immediately").
  record.book.throttle = { failures: 0 };
  record.book.steady = false;
  record.book.rollbackRequested = undefined;
  return { record, newDeployment: deployment.id };
}
