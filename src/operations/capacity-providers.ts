import type { EcsOperations } from "../../generated/operations.ts";
import type {
  AutoScalingGroupProvider,
  CapacityProvider,
  CreateCapacityProviderRequest,
  DeleteCapacityProviderRequest,
  DescribeCapacityProvidersRequest,
  Failure,
  ManagedScaling,
  UpdateCapacityProviderRequest,
} from "../../generated/shapes.ts";
import { ClientException, ClusterNotFoundException, InvalidParameterException } from "../../generated/errors.ts";
import { parseEcsArn } from "../runtime/arns.ts";
import { BUILT_IN_PROVIDERS, type CapacityProviderStore } from "../runtime/store/capacity-provider-store.ts";
import type { ClusterStore } from "../runtime/store/cluster-store.ts";
import type { TagStore } from "../runtime/store/tag-store.ts";
import type { OperationContext, OperationDeps } from "./context.ts";
import { decodeToken, encodeToken, isString } from "./pagination.ts";
import { assertValidTags } from "./tags.ts";

export interface CapacityProviderOperationsOptions {
  providers: CapacityProviderStore;
  clusters: ClusterStore;
  tags: TagStore;
}

/** What clusters and RunTask ask about capacity providers (built-ins included). */
export interface CapacityProviderCatalog {
  /** The ACTIVE provider of that name in the region, or undefined. */
  find(region: string, name: string): CapacityProvider | undefined;
}

const NAME = /^[A-Za-z0-9_-]{1,255}$/;
const RESERVED_PREFIX = /^(aws|ecs|fargate)/i;
const INVALID_NAME =
  'The specified capacity provider name is invalid. Up to 255 characters are allowed, including letters (upper and lowercase), numbers, underscores, and hyphens. The name cannot be prefixed with "aws", "ecs", or "fargate". Specify a valid name and try again.';

/** Managed scaling as ECS stores it: every field filled with its documented default. */
function managedScalingOf(given: ManagedScaling | undefined, base?: ManagedScaling): ManagedScaling {
  return {
    status: given?.status ?? base?.status ?? "DISABLED",
    targetCapacity: given?.targetCapacity ?? base?.targetCapacity ?? 100,
    minimumScalingStepSize: given?.minimumScalingStepSize ?? base?.minimumScalingStepSize ?? 1,
    maximumScalingStepSize: given?.maximumScalingStepSize ?? base?.maximumScalingStepSize ?? 10000,
    instanceWarmupPeriod: given?.instanceWarmupPeriod ?? base?.instanceWarmupPeriod ?? 300,
  };
}

function checkAsg(asg: AutoScalingGroupProvider): void {
  const ms = asg.managedScaling!;
  if ((ms.minimumScalingStepSize ?? 1) > (ms.maximumScalingStepSize ?? 10000)) {
    throw new ClientException("The managed scaling minimumScalingStepSize cannot be greater than maximumScalingStepSize.");
  }
  if (asg.managedTerminationProtection === "ENABLED" && ms.status !== "ENABLED") {
    throw new ClientException(
      "The managed termination protection setting for the capacity provider is invalid. To enable managed termination protection for a capacity provider, managed scaling must also be turned on.",
    );
  }
}

export function capacityProviderCatalog(store: CapacityProviderStore, arns: OperationDeps["arns"]): CapacityProviderCatalog {
  return {
    find(region, name) {
      if ((BUILT_IN_PROVIDERS as readonly string[]).includes(name)) return builtIn(arns.inRegion(region).capacityProvider(name), name);
      const p = store.get(region, name);
      return p?.status === "ACTIVE" ? p : undefined;
    },
  };
}

function builtIn(arn: string, name: string): CapacityProvider {
  return { capacityProviderArn: arn, name, status: "ACTIVE", type: name as "FARGATE" | "FARGATE_SPOT" };
}

/** CreateCapacityProvider, UpdateCapacityProvider, DeleteCapacityProvider, DescribeCapacityProviders. */
export function capacityProviderOperations(deps: OperationDeps, options: CapacityProviderOperationsOptions): Partial<EcsOperations<OperationContext>> {
  const { providers, clusters, tags } = options;

  const withTags = (p: CapacityProvider, include: boolean): CapacityProvider => ({ ...p, tags: include ? tags.get(p.capacityProviderArn!) : [] });

  /** A provider named by name or ARN in the caller's region (built-ins included), any status. */
  const lookup = (region: string, ref: string): CapacityProvider | undefined => {
    const arn = parseEcsArn(ref);
    const name = arn?.resourceType === "capacity-provider" ? arn.resource : ref;
    if ((BUILT_IN_PROVIDERS as readonly string[]).includes(name)) return builtIn(deps.arns.inRegion(region).capacityProvider(name), name);
    return providers.get(region, name);
  };

  /** Clusters (ACTIVE) of the region that list the provider. */
  const clustersUsing = (region: string, name: string): string[] =>
    clusters
      .inRegion(region)
      .list({ limit: 10_000 })
      .filter((c) => (c.capacityProviders ?? []).includes(name))
      .map((c) => c.clusterName!);

  return {
    async createCapacityProvider(input: CreateCapacityProviderRequest, ctx) {
      if (!NAME.test(input.name) || RESERVED_PREFIX.test(input.name)) throw new ClientException(INVALID_NAME);
      const hasAsg = input.autoScalingGroupProvider !== undefined;
      const hasMi = input.managedInstancesProvider !== undefined;
      if (hasAsg === hasMi) {
        throw new InvalidParameterException("Specify either an autoScalingGroupProvider or a managedInstancesProvider for the capacity provider.");
      }
      const newTags = input.tags ?? [];
      assertValidTags(newTags);
      const region = ctx.region;
      const existing = providers.get(region, input.name);
      if (existing !== undefined && existing.status !== "INACTIVE") {
        throw new ClientException(
          "The specified capacity provider already exists. To change the configuration of an existing capacity provider, update the capacity provider.",
        );
      }
      const arn = deps.arns.inRegion(region).capacityProvider(input.name);
      const provider: CapacityProvider = { capacityProviderArn: arn, name: input.name, status: "ACTIVE" };
      if (input.autoScalingGroupProvider !== undefined) {
        const given = input.autoScalingGroupProvider;
        const taken = providers
          .list(region)
          .some((p) => p.status === "ACTIVE" && p.autoScalingGroupProvider?.autoScalingGroupArn === given.autoScalingGroupArn);
        if (taken) {
          throw new ClientException(
            "The specified Auto Scaling group ARN is already being used by another capacity provider. Specify a unique Auto Scaling group ARN and try again.",
          );
        }
        const asg: AutoScalingGroupProvider = {
          autoScalingGroupArn: given.autoScalingGroupArn,
          managedScaling: managedScalingOf(given.managedScaling),
          managedTerminationProtection: given.managedTerminationProtection ?? "DISABLED",
          managedDraining: given.managedDraining ?? "ENABLED",
        };
        checkAsg(asg);
        provider.autoScalingGroupProvider = asg;
        provider.type = "EC2_AUTOSCALING";
      } else {
        // Managed Instances providers belong to one cluster.
        if (input.cluster === undefined) {
          throw new InvalidParameterException("A cluster must be specified when creating an Amazon ECS Managed Instances capacity provider.");
        }
        const cluster = clusters.inRegion(ctx.region).get(input.cluster);
        if (cluster === undefined || cluster.status !== "ACTIVE") throw new ClusterNotFoundException("Cluster not found.");
        const mi = input.managedInstancesProvider!;
        provider.managedInstancesProvider = { ...mi, propagateTags: mi.propagateTags ?? "NONE" };
        provider.cluster = cluster.clusterName;
        provider.type = "MANAGED_INSTANCES";
      }
      const saved = providers.save(region, provider);
      tags.deleteAll(arn);
      if (newTags.length > 0) tags.put(arn, newTags);
      return { capacityProvider: withTags(saved, true) };
    },

    async updateCapacityProvider(input: UpdateCapacityProviderRequest, ctx) {
      const region = ctx.region;
      if ((BUILT_IN_PROVIDERS as readonly string[]).includes(input.name)) {
        throw new ClientException(`The ${input.name} capacity provider is reserved and cannot be updated.`);
      }
      const current = lookup(region, input.name);
      if (current === undefined || current.status !== "ACTIVE") {
        throw new ClientException("The specified capacity provider does not exist. Specify a valid capacity provider and try again.");
      }
      const next: CapacityProvider = { ...current, updateStatus: "UPDATE_COMPLETE" };
      if (input.autoScalingGroupProvider !== undefined) {
        if (current.autoScalingGroupProvider === undefined) {
          throw new InvalidParameterException("The capacity provider is not an Auto Scaling group capacity provider: autoScalingGroupProvider cannot be updated.");
        }
        const u = input.autoScalingGroupProvider;
        const asg: AutoScalingGroupProvider = {
          ...current.autoScalingGroupProvider,
          managedScaling: managedScalingOf(u.managedScaling, current.autoScalingGroupProvider.managedScaling),
        };
        if (u.managedTerminationProtection !== undefined) asg.managedTerminationProtection = u.managedTerminationProtection;
        if (u.managedDraining !== undefined) asg.managedDraining = u.managedDraining;
        checkAsg(asg);
        next.autoScalingGroupProvider = asg;
      }
      if (input.managedInstancesProvider !== undefined) {
        if (current.managedInstancesProvider === undefined) {
          throw new InvalidParameterException("The capacity provider is not a Managed Instances capacity provider: managedInstancesProvider cannot be updated.");
        }
        const u = input.managedInstancesProvider;
        next.managedInstancesProvider = {
          ...current.managedInstancesProvider,
          ...u,
          instanceLaunchTemplate: { ...current.managedInstancesProvider.instanceLaunchTemplate, ...u.instanceLaunchTemplate } as NonNullable<
            CapacityProvider["managedInstancesProvider"]
          >["instanceLaunchTemplate"],
        };
      }
      return { capacityProvider: withTags(providers.save(region, next), false) };
    },

    async deleteCapacityProvider(input: DeleteCapacityProviderRequest, ctx) {
      const region = ctx.region;
      const current = lookup(region, input.capacityProvider);
      if (current !== undefined && (BUILT_IN_PROVIDERS as readonly string[]).includes(current.name!)) {
        throw new ClientException(`The ${current.name} capacity provider is reserved and cannot be deleted.`);
      }
      if (current === undefined || current.status !== "ACTIVE") {
        throw new ClientException("The specified capacity provider does not exist. Specify a valid capacity provider and try again.");
      }
      const using = clustersUsing(region, current.name!);
      if (using.length > 0) {
        throw new ClientException(
          `The specified capacity provider is in use by cluster ${using[0]} and cannot be deleted. Remove it from the cluster with PutClusterCapacityProviders and try again.`,
        );
      }
      // Real ECS answers while the deletion runs; the provider is INACTIVE afterwards.
      providers.save(region, { ...current, status: "INACTIVE", updateStatus: "DELETE_COMPLETE" });
      const answer = withTags({ ...current, updateStatus: "DELETE_IN_PROGRESS" }, false);
      tags.deleteAll(current.capacityProviderArn!);
      return { capacityProvider: answer };
    },

    async describeCapacityProviders(input: DescribeCapacityProvidersRequest, ctx) {
      const region = ctx.region;
      const includeTags = input.include?.includes("TAGS") ?? false;
      if (input.capacityProviders !== undefined && input.capacityProviders.length > 0) {
        if (input.capacityProviders.length > 100) {
          throw new InvalidParameterException("You can specify up to 100 capacity providers in a single request.");
        }
        const found: CapacityProvider[] = [];
        const failures: Failure[] = [];
        for (const ref of input.capacityProviders) {
          const p = lookup(region, ref);
          if (p === undefined) {
            failures.push({ arn: parseEcsArn(ref) === undefined ? deps.arns.inRegion(region).capacityProvider(ref) : ref, reason: "MISSING" });
          } else found.push(withTags(p, includeTags));
        }
        return { capacityProviders: found, failures };
      }
      const limit = input.maxResults ?? 10;
      if (!Number.isInteger(limit) || limit < 1 || limit > 10) {
        throw new InvalidParameterException("maxResults must be between 1 and 10.");
      }
      let all = [
        ...providers.list(region).filter((p) => p.status === "ACTIVE"),
        ...BUILT_IN_PROVIDERS.map((n) => builtIn(deps.arns.inRegion(region).capacityProvider(n), n)),
      ];
      if (input.cluster !== undefined) {
        const cluster = clusters.inRegion(ctx.region).get(input.cluster);
        if (cluster === undefined || cluster.status !== "ACTIVE") throw new ClusterNotFoundException("Cluster not found.");
        const listed = new Set(cluster.capacityProviders ?? []);
        all = all.filter((p) => listed.has(p.name!) || p.cluster === cluster.clusterName);
      }
      const after = input.nextToken === undefined ? undefined : decodeToken(input.nextToken, "capacity-provider", isString);
      const start = after === undefined ? 0 : all.findIndex((p) => p.name === after) + 1;
      const page = all.slice(start, start + limit);
      const out: { capacityProviders: CapacityProvider[]; failures: Failure[]; nextToken?: string } = {
        capacityProviders: page.map((p) => withTags(p, includeTags)),
        failures: [],
      };
      if (start + limit < all.length) out.nextToken = encodeToken("capacity-provider", page.at(-1)!.name!);
      return out;
    },
  };
}
