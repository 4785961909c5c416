// Wires the container-instance side of the control plane for the server: the configured engines as
// container instances (registry), the task placer RunTask/StartTask use, and the operations on
// instances and attributes. Kept out of server.ts so the server only calls `openClusterCapacity`.
import { readFileSync } from "node:fs";
import type { EcsOperations } from "../../generated/operations.ts";
import type { Task, TaskDefinition } from "../../generated/shapes.ts";
import { regionOf } from "../runtime/arns.ts";
import type { Config } from "../runtime/config.ts";
import type { EngineProbeFactory } from "../runtime/instances/engine-probe.ts";
import { defaultInstanceSpecs, InstanceConfigError, parseContainerInstancesYaml, type InstanceSpec } from "../runtime/instances/instance-config.ts";
import { InstanceRegistry } from "../runtime/instances/instance-registry.ts";
import { ContainerInstanceStore } from "../runtime/store/container-instance-store.ts";
import { attributeOperations } from "./attributes.ts";
import { capacityProviderCatalog } from "./capacity-providers.ts";
import type { ClusterOperationsOptions } from "./clusters.ts";
import { containerInstanceOperations } from "./container-instances.ts";
import type { OperationContext, OperationDeps } from "./context.ts";
import type { ControlPlaneStores } from "./index.ts";
import { createTaskPlacer, type ClusterTasks, type TaskPlacer } from "./task-placement.ts";

export interface ClusterCapacity {
  registry: InstanceRegistry;
  placer: TaskPlacer;
  operations: Partial<EcsOperations<OperationContext>>;
  /** registeredContainerInstancesCount and "provider in use" for the cluster operations. */
  clusterOptions: Pick<ClusterOperationsOptions, "instanceCount" | "providerInUse">;
  /** Resolves once every configured engine has answered or been found unreachable (bounded). */
  ready(): Promise<void>;
  close(): void;
}

/** The instance specs in force: CONTAINER_INSTANCES (list or YAML file), else the local engine for every cluster. */
export function resolveInstanceSpecs(config: Config, readFile: (path: string) => string = (p) => readFileSync(p, "utf8")): InstanceSpec[] {
  const setting = config.containerInstances;
  if (setting.kind === "default") return defaultInstanceSpecs(config.dockerHost);
  if (setting.kind === "list") return setting.instances;
  let text: string;
  try {
    text = readFile(setting.path);
  } catch (err) {
    throw new InstanceConfigError(`CONTAINER_INSTANCES: cannot read ${setting.path} (${(err as Error).message})`);
  }
  return parseContainerInstancesYaml(text, setting.path);
}

export function openClusterCapacity(
  deps: OperationDeps,
  stores: ControlPlaneStores,
  options: { specs: readonly InstanceSpec[]; probeFor: EngineProbeFactory; tasks: ClusterTasks; random?: () => number },
): ClusterCapacity {
  const registry = new InstanceRegistry({
    specs: options.specs,
    probeFor: options.probeFor,
    store: new ContainerInstanceStore(deps.db),
    arns: deps.arns,
    clock: deps.clock,
    logger: deps.logger.child({ component: "instances" }),
  });
  // Not waited for here: the server listens first, and what depends on the engines waits for ready().
  const ready = registry.ready();
  // Definitions are regional: a task's definition is in the region its ARN names.
  const definitionOf = (arn: string): TaskDefinition | undefined => stores.taskDefinitions.inRegion(regionOf(arn) ?? deps.config.region).resolve(arn);
  const placerOptions = {
    registry,
    tasks: options.tasks,
    definitionOf,
    capacityProviders: capacityProviderCatalog(stores.capacityProviders, deps.arns),
    ...(options.random === undefined ? {} : { random: options.random }),
  };
  const placer = createTaskPlacer(placerOptions);
  const live = (task: Task): boolean => task.lastStatus !== "STOPPED";
  return {
    registry,
    placer,
    operations: Object.assign(
      {},
      containerInstanceOperations(deps, { registry, clusters: stores.clusters, tags: stores.tags, usage: placer.usage }),
      attributeOperations(deps, { registry, clusters: stores.clusters }),
    ),
    clusterOptions: {
      instanceCount: (cluster, region) =>
        registry.instances(region, cluster.clusterName!, cluster.clusterArn!).filter((r) => r.status !== "INACTIVE").length,
      providerInUse: (clusterArn, provider) => options.tasks.list({ clusterArn }).some((t) => live(t) && t.capacityProviderName === provider),
    },
    ready: () => ready,
    close: () => registry.close(),
  };
}
