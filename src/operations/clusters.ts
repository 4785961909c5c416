import type { EcsOperations } from "../../generated/operations.ts";
import type {
  CapacityProviderStrategyItem,
  Cluster,
  ClusterField,
  ClusterSetting,
  CreateClusterRequest,
  CreateClusterResponse,
  DeleteClusterRequest,
  DeleteClusterResponse,
  DescribeClustersRequest,
  DescribeClustersResponse,
  Failure,
  KeyValuePair,
  LaunchType,
  ListClustersRequest,
  ListClustersResponse,
  PutClusterCapacityProvidersRequest,
  PutClusterCapacityProvidersResponse,
  UpdateClusterRequest,
  UpdateClusterResponse,
  UpdateClusterSettingsRequest,
  UpdateClusterSettingsResponse,
} from "../../generated/shapes.ts";
import {
  ClusterContainsServicesException,
  ClusterContainsTasksException,
  ClusterNotFoundException,
  InvalidParameterException,
  ResourceInUseException,
} from "../../generated/errors.ts";
import { DEFAULT_CLUSTER_NAME, type ClusterStore } from "../runtime/store/cluster-store.ts";
import type { TagStore } from "../runtime/store/tag-store.ts";
import { NAME_PATTERN } from "../runtime/task-definition-rules.ts";
import type { OperationContext, OperationDeps } from "./context.ts";
import { decodeToken, encodeToken, isString } from "./pagination.ts";
import { assertValidTags } from "./tags.ts";
import type { CapacityProviderCatalog } from "./capacity-providers.ts";

export interface TaskCountsByStatus {
  running: number;
  pending: number;
}

export interface ClusterTaskCounts extends TaskCountsByStatus {
  /** Per launch type, for the STATISTICS view; without it every task counts as EC2. */
  byLaunchType?: Partial<Record<LaunchType, TaskCountsByStatus>> | undefined;
}

export interface ClusterOperationsOptions {
  clusters: ClusterStore;
  tags: TagStore;
  /** Task counts of a cluster (supplied by the task engine); zero when absent. */
  taskCounts?: ((clusterArn: string) => ClusterTaskCounts) | undefined;
  /** Capacity providers a cluster may list; without it any name is accepted. */
  capacityProviders?: CapacityProviderCatalog | undefined;
  /** Whether tasks of the cluster still run on a provider (PutClusterCapacityProviders cannot drop it then). */
  providerInUse?: ((clusterArn: string, provider: string) => boolean) | undefined;
  /** registeredContainerInstancesCount (supplied by the container instances); zero when absent. */
  instanceCount?: ((cluster: Cluster, region: string) => number) | undefined;
  /** Service counts of a cluster (supplied by the services); zero when absent. */
  serviceCounts?: ((clusterArn: string) => ClusterServiceCounts) | undefined;
}

export interface ClusterServiceCounts {
  active: number;
  draining: number;
  byLaunchType: Partial<Record<LaunchType, { active: number; draining: number }>>;
}

const NO_SERVICES: ClusterServiceCounts = { active: 0, draining: 0, byLaunchType: {} };

const CONTAINER_INSIGHTS_VALUES = ["enabled", "disabled", "enhanced"];

/** How much of a cluster a response shows. */
type View = { kind: "full" } | { kind: "describe"; include: ReadonlySet<ClusterField> };

export function clusterOperations(deps: OperationDeps, options: ClusterOperationsOptions): Partial<EcsOperations<OperationContext>> {
  const { tags } = options;
  /** Clusters are regional: every operation works on the caller's region. */
  const regional = (ctx: OperationContext): ClusterStore => options.clusters.inRegion(ctx.region);

  const countsOf = (cluster: Cluster): ClusterTaskCounts =>
    options.taskCounts?.(cluster.clusterArn!) ?? { running: 0, pending: 0 };
  const servicesOf = (cluster: Cluster): ClusterServiceCounts => options.serviceCounts?.(cluster.clusterArn!) ?? NO_SERVICES;

  /**
   * Real responses always carry the counts and empty statistics/tags lists; DescribeClusters adds tags,
   * settings, statistics, attachments and configuration only when `include` asks for them, while the
   * mutating operations answer with the whole cluster.
   */
  /** Every named provider must exist in the caller's region (FARGATE and FARGATE_SPOT always do). */
  const checkProvidersExist = (names: readonly string[], region: string): void => {
    if (options.capacityProviders === undefined) return;
    for (const name of names) {
      if (options.capacityProviders.find(region, name) === undefined) {
        throw new InvalidParameterException(
          `The specified capacity provider '${name}' does not exist. Specify a valid capacity provider and try again.`,
        );
      }
    }
  };

  const render = (cluster: Cluster, view: View, region = deps.config.region): Cluster => {
    const counts = cluster.status === "ACTIVE" ? countsOf(cluster) : { running: 0, pending: 0 };
    const serviceCounts = cluster.status === "ACTIVE" ? servicesOf(cluster) : NO_SERVICES;
    const include = (field: ClusterField): boolean => view.kind === "full" || view.include.has(field);
    const out: Cluster = {
      clusterArn: cluster.clusterArn,
      clusterName: cluster.clusterName,
      status: cluster.status,
      registeredContainerInstancesCount: cluster.status === "ACTIVE" ? (options.instanceCount?.(cluster, region) ?? 0) : 0,
      runningTasksCount: counts.running,
      pendingTasksCount: counts.pending,
      activeServicesCount: serviceCounts.active,
      statistics: view.kind === "describe" && view.include.has("STATISTICS") ? statistics(counts, serviceCounts) : [],
      tags: include("TAGS") ? tags.get(cluster.clusterArn!) : [],
      settings: include("SETTINGS") ? (cluster.settings ?? []) : [],
      capacityProviders: cluster.capacityProviders ?? [],
      defaultCapacityProviderStrategy: cluster.defaultCapacityProviderStrategy ?? [],
    };
    if (include("CONFIGURATIONS") && cluster.configuration !== undefined) out.configuration = cluster.configuration;
    // The mutating operations show attachments only when there are some; DescribeClusters when asked.
    const askedForAttachments = view.kind === "describe" && view.include.has("ATTACHMENTS");
    if (askedForAttachments || (view.kind === "full" && (cluster.attachments ?? []).length > 0)) {
      out.attachments = cluster.attachments ?? [];
      if (cluster.attachmentsStatus !== undefined) out.attachmentsStatus = cluster.attachmentsStatus;
    }
    if (cluster.serviceConnectDefaults !== undefined) out.serviceConnectDefaults = cluster.serviceConnectDefaults;
    return out;
  };
  const full = (cluster: Cluster, region: string): Cluster => render(cluster, { kind: "full" }, region);

  /** The named cluster in any status; `default` comes into existence on first use but stays deleted once deleted. */
  const existingOrFirstDefault = (clusters: ClusterStore, name: string): Cluster | undefined =>
    clusters.get(name) ?? (name === DEFAULT_CLUSTER_NAME ? clusters.ensureDefault() : undefined);

  return {
    async createCluster(input: CreateClusterRequest, ctx): Promise<CreateClusterResponse> {
      const clusters = regional(ctx);
      const name = input.clusterName === undefined || input.clusterName === "" ? DEFAULT_CLUSTER_NAME : input.clusterName;
      if (!NAME_PATTERN.test(name)) {
        throw new InvalidParameterException(
          `Invalid cluster name '${name}'. Up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens are allowed.`,
        );
      }
      const newTags = input.tags ?? [];
      assertValidTags(newTags);
      const settings = mergeSettings(clusters.newCluster(name).settings ?? [], input.settings ?? []);
      const capacityProviders = input.capacityProviders ?? [];
      checkProvidersExist(capacityProviders, ctx.region);
      const strategy = checkStrategy(input.defaultCapacityProviderStrategy ?? [], capacityProviders);

      // Idempotent for an existing ACTIVE cluster, like real ECS: the existing cluster is returned unchanged.
      const existing = clusters.get(name);
      if (existing?.status === "ACTIVE") return { cluster: full(existing, ctx.region) };

      const cluster: Cluster = {
        ...clusters.newCluster(name),
        settings,
        capacityProviders,
        defaultCapacityProviderStrategy: strategy,
      };
      if (input.configuration !== undefined) cluster.configuration = input.configuration;
      if (input.serviceConnectDefaults !== undefined) {
        cluster.serviceConnectDefaults = { namespace: input.serviceConnectDefaults.namespace };
      }
      clusters.save(cluster);
      // A re-created cluster starts without the tags of its deleted namesake.
      tags.deleteAll(cluster.clusterArn!);
      if (newTags.length > 0) tags.put(cluster.clusterArn!, newTags);
      deps.logger.debug("cluster.created", { clusterArn: cluster.clusterArn });
      return { cluster: full(cluster, ctx.region) };
    },

    async describeClusters(input: DescribeClustersRequest, ctx): Promise<DescribeClustersResponse> {
      const refs = input.clusters === undefined || input.clusters.length === 0 ? [DEFAULT_CLUSTER_NAME] : input.clusters;
      if (refs.length > 100) throw new InvalidParameterException("You can specify up to 100 clusters in a single request.");
      const clusters = regional(ctx);
      const arns = deps.arns.inRegion(ctx.region);
      const include = new Set(input.include ?? []);
      const found: Cluster[] = [];
      const failures: Failure[] = [];
      for (const ref of refs) {
        // An identifier that is no cluster at all fails the whole call; a cluster of another region,
        // account or partition is simply not here. Failures echo what the caller gave (a name as an ARN).
        const resolved = arns.resolve(ref, "cluster");
        const cluster = resolved.kind === "here" ? existingOrFirstDefault(clusters, resolved.id) : undefined;
        if (cluster === undefined) {
          failures.push({ arn: resolved.kind === "here" && resolved.arn === undefined ? arns.cluster(ref) : ref, reason: "MISSING" });
        } else {
          found.push(render(cluster, { kind: "describe", include }, ctx.region));
        }
      }
      return { clusters: found, failures };
    },

    async listClusters(input: ListClustersRequest, ctx): Promise<ListClustersResponse> {
      const clusters = regional(ctx);
      const limit = maxResults(input.maxResults, 100);
      const after = input.nextToken === undefined ? undefined : decodeToken(input.nextToken, "cluster", isString);
      const page = clusters.list({ after, limit: limit + 1 });
      const items = page.slice(0, limit);
      const response: ListClustersResponse = { clusterArns: items.map((c) => c.clusterArn!) };
      const last = items.at(-1);
      if (page.length > limit && last !== undefined) response.nextToken = encodeToken("cluster", last.clusterName!);
      return response;
    },

    async deleteCluster(input: DeleteClusterRequest, ctx): Promise<DeleteClusterResponse> {
      const clusters = regional(ctx);
      const resolved = deps.arns.inRegion(ctx.region).resolve(input.cluster, "cluster");
      const cluster = resolved.kind === "here" ? existingOrFirstDefault(clusters, resolved.id) : undefined;
      if (cluster === undefined || cluster.status !== "ACTIVE") throw new ClusterNotFoundException("Cluster not found.");
      const counts = countsOf(cluster);
      if (servicesOf(cluster).active + servicesOf(cluster).draining > 0) {
        throw new ClusterContainsServicesException("The Cluster cannot be deleted while Services are active.");
      }
      if (counts.running + counts.pending > 0) {
        throw new ClusterContainsTasksException("The Cluster cannot be deleted while Tasks are active.");
      }
      const deleted = clusters.save({ ...cluster, status: "INACTIVE" });
      // "When a resource is deleted, the tags that are associated with that resource are deleted as well."
      tags.deleteAll(cluster.clusterArn!);
      deps.logger.debug("cluster.deleted", { clusterArn: cluster.clusterArn });
      return { cluster: full(deleted, ctx.region) };
    },

    async updateCluster(input: UpdateClusterRequest, ctx): Promise<UpdateClusterResponse> {
      const clusters = regional(ctx);
      const cluster = clusters.require(input.cluster);
      const next: Cluster = { ...cluster };
      if (input.settings !== undefined) next.settings = mergeSettings(cluster.settings ?? [], input.settings);
      if (input.configuration !== undefined) next.configuration = { ...cluster.configuration, ...input.configuration };
      if (input.serviceConnectDefaults !== undefined) {
        next.serviceConnectDefaults = { namespace: input.serviceConnectDefaults.namespace };
      }
      return { cluster: full(clusters.save(next), ctx.region) };
    },

    async updateClusterSettings(input: UpdateClusterSettingsRequest, ctx): Promise<UpdateClusterSettingsResponse> {
      const clusters = regional(ctx);
      const cluster = clusters.require(input.cluster);
      const next: Cluster = { ...cluster, settings: mergeSettings(cluster.settings ?? [], input.settings) };
      return { cluster: full(clusters.save(next), ctx.region) };
    },

    async putClusterCapacityProviders(input: PutClusterCapacityProvidersRequest, ctx): Promise<PutClusterCapacityProvidersResponse> {
      const clusters = regional(ctx);
      const cluster = clusters.require(input.cluster);
      const providers = [...new Set(input.capacityProviders)];
      if (providers.some((p) => p === "")) throw new InvalidParameterException("Capacity provider names must not be empty.");
      checkProvidersExist(providers, ctx.region);
      for (const removed of (cluster.capacityProviders ?? []).filter((p) => !providers.includes(p))) {
        if (options.providerInUse?.(cluster.clusterArn!, removed) === true) {
          throw new ResourceInUseException("The specified capacity provider is in use and cannot be removed.");
        }
      }
      const strategy = checkStrategy(input.defaultCapacityProviderStrategy, providers);
      const next: Cluster = { ...cluster, capacityProviders: providers, defaultCapacityProviderStrategy: strategy };
      return { cluster: full(clusters.save(next), ctx.region) };
    },
  };
}

/** Applies requested settings over the current ones (by name), validating their values. */
function mergeSettings(current: readonly ClusterSetting[], requested: readonly ClusterSetting[]): ClusterSetting[] {
  const merged = new Map(current.map((s) => [s.name, s]));
  for (const s of requested) {
    if (s.name === undefined) throw new InvalidParameterException("Cluster setting name must be specified.");
    if (s.name === "containerInsights" && (s.value === undefined || !CONTAINER_INSIGHTS_VALUES.includes(s.value))) {
      throw new InvalidParameterException(
        `Invalid value '${s.value ?? ""}' for cluster setting containerInsights. Valid values: ${CONTAINER_INSIGHTS_VALUES.join(", ")}.`,
      );
    }
    merged.set(s.name, { name: s.name, value: s.value! });
  }
  return [...merged.values()];
}

/** The strategy as real ECS stores it (weight/base default 0), after checking it against the cluster's providers. */
function checkStrategy(strategy: readonly CapacityProviderStrategyItem[], providers: readonly string[]): CapacityProviderStrategyItem[] {
  const seen = new Set<string>();
  let withBase = 0;
  for (const item of strategy) {
    if (!providers.includes(item.capacityProvider)) {
      throw new InvalidParameterException(
        `The specified capacity provider strategy cannot contain a capacity provider that is not associated with the cluster. ` +
          `Associate the capacity provider '${item.capacityProvider}' with the cluster or specify a valid capacity provider and try again.`,
      );
    }
    if (seen.has(item.capacityProvider)) {
      throw new InvalidParameterException(`Duplicate capacity provider '${item.capacityProvider}' in the capacity provider strategy.`);
    }
    seen.add(item.capacityProvider);
    if ((item.base ?? 0) > 0) withBase += 1;
  }
  if (withBase > 1) {
    throw new InvalidParameterException("Only one capacity provider in a capacity provider strategy can have a base defined.");
  }
  return strategy.map((item) => ({ capacityProvider: item.capacityProvider, weight: item.weight ?? 0, base: item.base ?? 0 }));
}

function statistics(counts: ClusterTaskCounts, services: ClusterServiceCounts): KeyValuePair[] {
  const by = counts.byLaunchType ?? { EC2: { running: counts.running, pending: counts.pending } };
  const of = (lt: LaunchType): TaskCountsByStatus => by[lt] ?? { running: 0, pending: 0 };
  return [
    { name: "runningEC2TasksCount", value: String(of("EC2").running) },
    { name: "runningFargateTasksCount", value: String(of("FARGATE").running) },
    { name: "pendingEC2TasksCount", value: String(of("EC2").pending) },
    { name: "pendingFargateTasksCount", value: String(of("FARGATE").pending) },
    { name: "runningExternalTasksCount", value: String(of("EXTERNAL").running) },
    { name: "pendingExternalTasksCount", value: String(of("EXTERNAL").pending) },
    { name: "activeEC2ServiceCount", value: String(services.byLaunchType.EC2?.active ?? 0) },
    { name: "activeFargateServiceCount", value: String(services.byLaunchType.FARGATE?.active ?? 0) },
    { name: "drainingEC2ServiceCount", value: String(services.byLaunchType.EC2?.draining ?? 0) },
    { name: "drainingFargateServiceCount", value: String(services.byLaunchType.FARGATE?.draining ?? 0) },
  ];
}

function maxResults(value: number | undefined, max: number): number {
  if (value === undefined) return max;
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new InvalidParameterException(`maxResults must be between 1 and ${max}; got ${value}.`);
  }
  return value;
}
