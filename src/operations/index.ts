import type { EcsOperations } from "../../generated/operations.ts";
import { AccountSettingStore } from "../runtime/store/account-setting-store.ts";
import { CapacityProviderStore } from "../runtime/store/capacity-provider-store.ts";
import { ClusterStore } from "../runtime/store/cluster-store.ts";
import { DaemonStore } from "../runtime/store/daemon-store.ts";
import { DaemonTaskDefinitionStore } from "../runtime/store/daemon-task-definition-store.ts";
import { TagStore } from "../runtime/store/tag-store.ts";
import { TaskDefinitionStore } from "../runtime/store/task-definition-store.ts";
import { accountSettingOperations } from "./account-settings.ts";
import { agentOnlyOperations } from "./agent-only.ts";
import { capacityProviderCatalog, capacityProviderOperations } from "./capacity-providers.ts";
import { clusterOperations, type ClusterOperationsOptions, type ClusterServiceCounts, type ClusterTaskCounts } from "./clusters.ts";
import { daemonTaskDefinitionOperations } from "./daemon-task-definitions.ts";
import { daemonOperations, type DaemonOperationsOptions } from "./daemons.ts";
import type { OperationContext, OperationDeps } from "./context.ts";
import { tagOperations } from "./tags.ts";
import { taskDefinitionOperations } from "./task-definitions.ts";

/** The control-plane stores, opened once per server on its database. */
export interface ControlPlaneStores {
  tags: TagStore;
  clusters: ClusterStore;
  taskDefinitions: TaskDefinitionStore;
  accountSettings: AccountSettingStore;
  capacityProviders: CapacityProviderStore;
  daemons: DaemonStore;
  daemonTaskDefinitions: DaemonTaskDefinitionStore;
}

export function openControlPlaneStores(deps: OperationDeps): ControlPlaneStores {
  const tags = new TagStore(deps.db);
  // Views of the configured region (rows of databases written before resources were regional are
  // filed there); operations take `inRegion(ctx.region)` of each.
  const accountSettings = new AccountSettingStore(deps.db, deps.arns.accountId, deps.arns.region);
  return {
    tags,
    // New clusters take their containerInsights default from their region's PutAccountSettingDefault.
    clusters: new ClusterStore(deps.db, deps.arns, (region) => accountSettings.inRegion(region).clusterDefaults()),
    taskDefinitions: new TaskDefinitionStore(deps.db, tags, deps.arns.region),
    accountSettings,
    capacityProviders: new CapacityProviderStore(deps.db),
    daemons: new DaemonStore(deps.db),
    daemonTaskDefinitions: new DaemonTaskDefinitionStore(deps.db),
  };
}

/** What the task engine contributes to the control plane's answers. */
export interface TaskView {
  taskCounts(clusterArn: string): ClusterTaskCounts;
  taskExists(taskArn: string): boolean;
}

/** What the services contribute to the cluster and tag operations. */
export interface ServiceView {
  serviceCounts(clusterArn: string): ClusterServiceCounts;
  /** A service or task set ARN that exists (for Tag/Untag/ListTagsForResource). */
  resourceExists(arn: string): boolean;
}

/** Every operation implemented locally; the rest fall through to the upstream proxy. */
export function createOperations(
  deps: OperationDeps,
  stores: ControlPlaneStores,
  extra: {
    tasks?: TaskView;
    services?: ServiceView;
    operations?: Partial<EcsOperations<OperationContext>>[];
    /** From the container instances and the engine (registeredContainerInstancesCount, provider in use). */
    clusters?: Pick<ClusterOperationsOptions, "instanceCount" | "providerInUse">;
    /** Daemon running counts (the engine's tasks) and the scheduler to wake after a change. */
    daemons?: Pick<DaemonOperationsOptions, "tasks" | "changed">;
  } = {},
): Partial<EcsOperations<OperationContext>> {
  const taskCounts = extra.tasks === undefined ? undefined : (arn: string) => extra.tasks!.taskCounts(arn);
  const serviceCounts = extra.services === undefined ? undefined : (arn: string) => extra.services!.serviceCounts(arn);
  const resourceExists =
    extra.tasks === undefined && extra.services === undefined
      ? undefined
      : (arn: string) => extra.tasks?.taskExists(arn) === true || extra.services?.resourceExists(arn) === true;
  return Object.assign(
    {},
    taskDefinitionOperations(deps, stores),
    clusterOperations(deps, {
      clusters: stores.clusters,
      tags: stores.tags,
      taskCounts,
      serviceCounts,
      capacityProviders: capacityProviderCatalog(stores.capacityProviders, deps.arns),
      ...extra.clusters,
    }),
    capacityProviderOperations(deps, { providers: stores.capacityProviders, clusters: stores.clusters, tags: stores.tags }),
    agentOnlyOperations(deps),
    daemonTaskDefinitionOperations(deps, { definitions: stores.daemonTaskDefinitions, daemons: stores.daemons, tags: stores.tags }),
    daemonOperations(deps, {
      daemons: stores.daemons,
      definitions: stores.daemonTaskDefinitions,
      providers: stores.capacityProviders,
      clusters: stores.clusters,
      tags: stores.tags,
      ...extra.daemons,
    }),
    tagOperations(deps, { tags: stores.tags, clusters: stores.clusters, taskDefinitions: stores.taskDefinitions, resourceExists }),
    accountSettingOperations(deps, { accountSettings: stores.accountSettings }),
    ...(extra.operations ?? []),
  );
}
