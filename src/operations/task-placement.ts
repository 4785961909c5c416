// Where the tasks of a RunTask/StartTask go: launch type or capacity provider strategy (the cluster's
// default when the request names neither), then placement on the cluster's container instances for EC2
// capacity. Reads instances from the registry and what they hold from the engine's tasks; the decisions
// themselves are the pure modules in runtime/instances/ (placement, capacity-provider-strategy).
import { InvalidParameterException } from "../../generated/errors.ts";
import type {
  CapacityProviderStrategyItem,
  Cluster,
  Failure,
  LaunchType,
  PlacementConstraint,
  PlacementStrategy,
  Task,
  TaskDefinition,
  TaskOverride,
} from "../../generated/shapes.ts";
import { distributeTasks, StrategyError } from "../runtime/instances/capacity-provider-strategy.ts";
import { parseClusterQuery, QueryError } from "../runtime/instances/cluster-query.ts";
import { attributeMap } from "../runtime/instances/container-instance-view.ts";
import type { InstanceRegistry } from "../runtime/instances/instance-registry.ts";
import { emptyUsage, usageByInstance, type InstanceUsage } from "../runtime/instances/instance-usage.ts";
import { placeTasks, type ParsedConstraint, type PlacementInstance } from "../runtime/instances/placement.ts";
import { integerOf, portSetOf, remainingResources, requirementOf } from "../runtime/instances/task-reservation.ts";
import type { ContainerInstanceRecord } from "../runtime/store/container-instance-store.ts";
import type { TaskListFilter } from "../runtime/store/task-store.ts";
import type { CapacityProviderCatalog } from "./capacity-providers.ts";

/** The engine's read side this module needs (a port: the real engine or a fake). */
export interface ClusterTasks {
  list(filter: TaskListFilter): Task[];
}

export interface Launch {
  launchType?: LaunchType | undefined;
  capacityProviderName?: string | undefined;
  containerInstanceArn?: string | undefined;
  availabilityZone?: string | undefined;
}

export interface LaunchPlan {
  launches: Launch[];
  failures: Failure[];
}

export interface PlanRequest {
  region: string;
  cluster: Cluster;
  taskDefinition: TaskDefinition;
  overrides?: TaskOverride | undefined;
  count: number;
  group: string;
  launchType?: LaunchType | undefined;
  capacityProviderStrategy?: CapacityProviderStrategyItem[] | undefined;
  placementConstraints?: PlacementConstraint[] | undefined;
  placementStrategy?: PlacementStrategy[] | undefined;
}

export interface StartRequest {
  region: string;
  cluster: Cluster;
  taskDefinition: TaskDefinition;
  overrides?: TaskOverride | undefined;
  containerInstances: string[];
}

export interface TaskPlacer {
  plan(request: PlanRequest): LaunchPlan;
  onInstances(request: StartRequest): LaunchPlan;
  /** Usage of every instance of a cluster, derived from its tasks (for DescribeContainerInstances). */
  usage(clusterArn: string): Map<string, InstanceUsage>;
}

export interface TaskPlacerOptions {
  registry: InstanceRegistry;
  tasks: ClusterTasks;
  definitionOf: (taskDefinitionArn: string) => TaskDefinition | undefined;
  capacityProviders: CapacityProviderCatalog;
  /** In [0, 1); Math.random unless a test injects one. */
  random?: () => number;
}

const MAX_CONSTRAINTS = 10;
const MAX_STRATEGIES = 5;
const FARGATE_PROVIDERS = new Set(["FARGATE", "FARGATE_SPOT"]);

export function createTaskPlacer(options: TaskPlacerOptions): TaskPlacer {
  const random = options.random ?? Math.random;
  // A revision never changes once registered: its definition is looked up once, not once per task per RunTask.
  const definitions = new Map<string, TaskDefinition | undefined>();
  const definitionOf = (arn: string): TaskDefinition | undefined => {
    if (definitions.has(arn)) return definitions.get(arn);
    const td = options.definitionOf(arn);
    if (definitions.size >= 10_000) definitions.clear();
    definitions.set(arn, td);
    return td;
  };
  /** Tasks holding resources: desired RUNNING, plus desired STOPPED ones not stopped yet (index lookups). */
  const liveTasks = function* (clusterArn: string): Iterable<Task> {
    yield* options.tasks.list({ clusterArn, desiredStatus: "RUNNING" });
    for (const t of options.tasks.list({ clusterArn, desiredStatus: "STOPPED" })) if (t.lastStatus !== "STOPPED") yield t;
  };
  const usage = (clusterArn: string): Map<string, InstanceUsage> => usageByInstance(liveTasks(clusterArn), definitionOf);
  // Records are frozen and replaced on every change: an attribute map lives as long as its record.
  const attributeMaps = new WeakMap<ContainerInstanceRecord, ReadonlyMap<string, string | undefined>>();
  const attributesOf = (r: ContainerInstanceRecord): ReadonlyMap<string, string | undefined> => {
    let map = attributeMaps.get(r);
    if (map === undefined) attributeMaps.set(r, (map = attributeMap(r)));
    return map;
  };

  const views = (records: readonly ContainerInstanceRecord[], clusterArn: string): PlacementInstance[] => {
    const byInstance = usage(clusterArn);
    return records.map((r) => {
      const u = byInstance.get(r.arn) ?? emptyUsage();
      const remaining = remainingResources(r.registeredResources, u.held);
      return {
        arn: r.arn,
        ec2InstanceId: r.ec2InstanceId,
        status: r.status,
        agentConnected: options.registry.connected(r),
        agentVersion: r.versionInfo.agentVersion ?? "",
        registeredAt: new Date(r.registeredAt),
        attributes: attributesOf(r),
        remaining: {
          cpu: integerOf(remaining, "CPU"),
          memory: integerOf(remaining, "MEMORY"),
          ports: portSetOf(remaining, "PORTS"),
          udpPorts: portSetOf(remaining, "PORTS_UDP"),
        },
        groups: u.groups,
        runningTasksCount: u.running,
      };
    });
  };

  const azOf = (records: readonly ContainerInstanceRecord[], arn: string): string | undefined =>
    attributesOf(records.find((r) => r.arn === arn)!).get("ecs.availability-zone");

  return {
    usage,

    plan(request) {
      const constraints = parseConstraints(request.placementConstraints ?? [], request.taskDefinition);
      const strategies = checkStrategies(request.placementStrategy ?? []);
      const { cluster } = request;
      // One target per task: a launch type, or a capacity provider from the strategy.
      let targets: Array<{ launchType: LaunchType; provider?: string }>;
      const strategy =
        request.launchType === undefined
          ? request.capacityProviderStrategy !== undefined && request.capacityProviderStrategy.length > 0
            ? request.capacityProviderStrategy
            : (cluster.defaultCapacityProviderStrategy ?? [])
          : [];
      if (request.launchType !== undefined) {
        targets = Array.from({ length: request.count }, () => ({ launchType: request.launchType! }));
      } else if (strategy.length > 0) {
        for (const item of strategy) {
          if (!(cluster.capacityProviders ?? []).includes(item.capacityProvider) || options.capacityProviders.find(request.region, item.capacityProvider) === undefined) {
            throw new InvalidParameterException(
              `The specified capacity provider strategy cannot contain a capacity provider that is not associated with the cluster. ` +
                `Associate the capacity provider '${item.capacityProvider}' with the cluster or specify a valid capacity provider and try again.`,
            );
          }
        }
        let names: string[];
        try {
          names = distributeTasks(strategy, request.count);
        } catch (err) {
          if (err instanceof StrategyError) throw new InvalidParameterException(err.message);
          throw err;
        }
        targets = names.map((provider) => ({ launchType: FARGATE_PROVIDERS.has(provider) ? "FARGATE" : "EC2", provider }));
      } else {
        targets = Array.from({ length: request.count }, () => ({ launchType: defaultLaunchType(request.taskDefinition) }));
      }

      const launches: Launch[] = [];
      const failures: Failure[] = [];
      // EC2 capacity is placed per capacity provider ("" = any instance of the cluster, launch type EC2).
      const ec2Groups = new Map<string, number>();
      for (const t of targets) {
        if (t.launchType === "EC2") ec2Groups.set(t.provider ?? "", (ec2Groups.get(t.provider ?? "") ?? 0) + 1);
        else launches.push({ launchType: t.launchType, capacityProviderName: t.provider });
      }
      if (ec2Groups.size === 0) return { launches, failures };

      const records = options.registry.instances(request.region, cluster.clusterName!, cluster.clusterArn!).filter((r) => r.status !== "INACTIVE");
      if (records.length === 0) throw new InvalidParameterException("No Container Instances were found in your cluster.");
      const requirement = requirementOf(request.taskDefinition, request.overrides);
      for (const [provider, count] of ec2Groups) {
        const pool = provider === "" ? records : records.filter((r) => r.capacityProviderName === provider);
        if (pool.length === 0) {
          failures.push({ arn: options.capacityProviders.find(request.region, provider)?.capacityProviderArn, reason: "EMPTY CAPACITY PROVIDER" });
          continue;
        }
        const result = placeTasks({
          instances: views(pool, cluster.clusterArn!),
          requirement,
          requiredAttributes: request.taskDefinition.requiresAttributes ?? [],
          group: request.group,
          count,
          constraints,
          strategies,
          random,
        });
        for (const arn of result.placements) {
          launches.push({
            launchType: "EC2",
            capacityProviderName: provider === "" ? undefined : provider,
            containerInstanceArn: arn,
            availabilityZone: azOf(pool, arn),
          });
        }
        failures.push(...result.failures);
      }
      return { launches, failures };
    },

    onInstances(request) {
      const { cluster } = request;
      const records = options.registry.instances(request.region, cluster.clusterName!, cluster.clusterArn!);
      const launches: Launch[] = [];
      const failures: Failure[] = [];
      const requirement = requirementOf(request.taskDefinition, request.overrides);
      for (const ref of request.containerInstances) {
        const record = records.find((r) => r.arn === ref || r.id === ref);
        const arn = record?.arn ?? (ref.startsWith("arn:") ? ref : `${cluster.clusterArn!.replace(":cluster/", ":container-instance/")}/${ref}`);
        if (record === undefined) {
          failures.push({ arn, reason: "MISSING" });
          continue;
        }
        if (record.status === "INACTIVE") {
          failures.push({ arn, reason: "INACTIVE" });
          continue;
        }
        // The named instance must still have room (and the required attributes): one task, no strategy.
        const [view] = views([record], cluster.clusterArn!);
        const result = placeTasks({
          instances: [{ ...view!, status: "ACTIVE" }],
          requirement,
          requiredAttributes: request.taskDefinition.requiresAttributes ?? [],
          group: "",
          count: 1,
          constraints: parseConstraints([], request.taskDefinition),
          strategies: [],
          random,
        });
        if (result.placements.length === 0) failures.push(...result.failures);
        else launches.push({ launchType: "EC2", containerInstanceArn: record.arn, availabilityZone: azOf(records, record.arn) });
      }
      return { launches, failures };
    },
  };
}

/** RunTask's constraints plus the task definition's memberOf ones, parsed (bad ones → InvalidParameterException). */
function parseConstraints(given: readonly PlacementConstraint[], td: TaskDefinition): ParsedConstraint[] {
  if (given.length > MAX_CONSTRAINTS) {
    throw new InvalidParameterException(`placementConstraints can have at most ${MAX_CONSTRAINTS} constraints.`);
  }
  const all = [...given, ...(td.placementConstraints ?? [])];
  return all.map((c) => {
    if (c.type === "distinctInstance") {
      if (c.expression !== undefined && c.expression !== "") {
        throw new InvalidParameterException("An expression cannot be specified for a distinctInstance placement constraint.");
      }
      return { type: "distinctInstance" };
    }
    if (c.type === "memberOf") {
      if (c.expression === undefined || c.expression === "") {
        throw new InvalidParameterException("An expression must be specified for a memberOf placement constraint.");
      }
      try {
        return { type: "memberOf", expression: parseClusterQuery(c.expression) };
      } catch (err) {
        if (err instanceof QueryError) throw new InvalidParameterException(`Invalid memberOf expression '${c.expression}': ${err.message}.`);
        throw err;
      }
    }
    throw new InvalidParameterException(`Invalid placement constraint type '${String(c.type)}'. Valid types: distinctInstance, memberOf.`);
  });
}

function checkStrategies(strategies: readonly PlacementStrategy[]): PlacementStrategy[] {
  if (strategies.length > MAX_STRATEGIES) {
    throw new InvalidParameterException(`placementStrategy can have at most ${MAX_STRATEGIES} strategies.`);
  }
  for (const s of strategies) {
    if (s.type === "binpack" && !["cpu", "memory"].includes(s.field?.toLowerCase() ?? "")) {
      throw new InvalidParameterException(`Invalid field '${s.field ?? ""}' for the binpack placement strategy. Valid fields: cpu, memory.`);
    }
    if (s.type === "spread" && (s.field === undefined || s.field === "")) {
      throw new InvalidParameterException("A field must be specified for the spread placement strategy (instanceId, host, or attribute:<name>).");
    }
    if (s.type === "spread" && !["instanceId", "host"].includes(s.field!) && !s.field!.startsWith("attribute:")) {
      throw new InvalidParameterException(`Invalid field '${s.field}' for the spread placement strategy. Valid fields: instanceId, host, attribute:<name>.`);
    }
    if (s.type === "random" && s.field !== undefined && s.field !== "") {
      throw new InvalidParameterException("A field cannot be specified for the random placement strategy.");
    }
  }
  return [...strategies];
}

/** The launch type RunTask uses without one, strategy or cluster default (the engine's rule before placement existed). */
export function defaultLaunchType(td: TaskDefinition): LaunchType {
  const requires = td.requiresCompatibilities;
  if (requires !== undefined && requires.length > 0 && !requires.includes("EC2")) return requires[0] as LaunchType;
  return "EC2";
}
