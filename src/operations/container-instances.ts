import type { EcsOperations } from "../../generated/operations.ts";
import type {
  Cluster,
  ContainerInstance,
  ContainerInstanceField,
  Failure,
  RegisterContainerInstanceRequest,
  Resource,
} from "../../generated/shapes.ts";
import {
  ClusterNotFoundException,
  InvalidParameterException,
  MissingVersionException,
  NoUpdateAvailableException,
  UpdateInProgressException,
} from "../../generated/errors.ts";
import { clusterNameOf, lastSegmentOf, parseEcsArn } from "../runtime/arns.ts";
import { AGENT_VERSION, compareApi } from "../runtime/instances/agent-attributes.ts";
import { evaluateClusterQuery, parseClusterQuery, QueryError, type QueryNode, type QueryTarget } from "../runtime/instances/cluster-query.ts";
import { attributeMap, renderContainerInstance } from "../runtime/instances/container-instance-view.ts";
import type { InstanceRegistry } from "../runtime/instances/instance-registry.ts";
import { emptyUsage, type InstanceUsage } from "../runtime/instances/instance-usage.ts";
import type { ContainerInstanceRecord } from "../runtime/store/container-instance-store.ts";
import type { ClusterStore } from "../runtime/store/cluster-store.ts";
import type { TagStore } from "../runtime/store/tag-store.ts";
import type { OperationContext, OperationDeps } from "./context.ts";
import { decodeToken, encodeToken, isString } from "./pagination.ts";
import { assertValidTags } from "./tags.ts";

export interface ContainerInstanceOperationsOptions {
  registry: InstanceRegistry;
  clusters: ClusterStore;
  tags: TagStore;
  /** What the tasks of a cluster hold on each instance (derived from the engine's tasks). */
  usage: (clusterArn: string) => Map<string, InstanceUsage>;
}

const MAX_DESCRIBE = 100;
const MAX_UPDATE = 10;

/** Finds `ref` (an id or an ARN, long or short format) among a cluster's instances. */
export function findInstance(records: readonly ContainerInstanceRecord[], ref: string): ContainerInstanceRecord | undefined {
  const arn = parseEcsArn(ref);
  if (arn?.resourceType === "container-instance") {
    // Long ARNs (…/<cluster>/<id>) must match exactly; an old short one (…/<id>) by its id.
    const id = lastSegmentOf(ref);
    return records.find((r) => r.arn === ref || (r.id === id && !arn.resource.includes("/")));
  }
  return records.find((r) => r.id === ref);
}

/** The ARN a reference would have in the cluster (for failures about unknown instances). */
export function instanceArnOf(cluster: Cluster, ref: string, region: string, arns: OperationDeps["arns"]): string {
  return parseEcsArn(ref) !== undefined ? ref : arns.inRegion(region).containerInstance(cluster.clusterName!, ref);
}

/**
 * DescribeContainerInstances, ListContainerInstances, RegisterContainerInstance,
 * DeregisterContainerInstance, UpdateContainerInstancesState, UpdateContainerAgent.
 */
export function containerInstanceOperations(deps: OperationDeps, options: ContainerInstanceOperationsOptions): Partial<EcsOperations<OperationContext>> {
  const { registry, clusters, tags } = options;

  const instancesOf = (cluster: Cluster, region: string): ContainerInstanceRecord[] =>
    registry.instances(region, cluster.clusterName!, cluster.clusterArn!);

  const render = (record: ContainerInstanceRecord, usage: Map<string, InstanceUsage>, include: ReadonlySet<ContainerInstanceField> = new Set()): ContainerInstance =>
    renderContainerInstance(
      record,
      {
        usage: record.status === "INACTIVE" ? emptyUsage() : (usage.get(record.arn) ?? emptyUsage()),
        connected: registry.connected(record),
        tags: include.has("TAGS") ? tags.get(record.arn) : undefined,
        now: deps.clock.now(),
      },
      include,
    );

  /** An instance of the cluster that is not deregistered, or InvalidParameterException. */
  const requireInstance = (cluster: Cluster, region: string, ref: string): ContainerInstanceRecord => {
    const record = findInstance(instancesOf(cluster, region), ref);
    if (record === undefined || record.status === "INACTIVE") {
      throw new InvalidParameterException(`The referenced container instance ${ref} was not found in cluster ${cluster.clusterName}.`);
    }
    return record;
  };

  return {
    async describeContainerInstances(input, ctx) {
      if (input.containerInstances.length === 0) throw new InvalidParameterException("containerInstances cannot be empty.");
      if (input.containerInstances.length > MAX_DESCRIBE) {
        throw new InvalidParameterException(`You can specify up to ${MAX_DESCRIBE} container instances in a single request.`);
      }
      const cluster = clusters.inRegion(ctx.region).require(input.cluster);
      const records = instancesOf(cluster, ctx.region);
      const usage = options.usage(cluster.clusterArn!);
      const include = new Set(input.include ?? []);
      const found: ContainerInstance[] = [];
      const failures: Failure[] = [];
      const seen = new Set<string>();
      for (const ref of input.containerInstances) {
        const record = findInstance(records, ref);
        if (record === undefined) {
          failures.push({ arn: instanceArnOf(cluster, ref, ctx.region, deps.arns), reason: "MISSING" });
          continue;
        }
        if (seen.has(record.arn)) continue;
        seen.add(record.arn);
        found.push(render(record, usage, include));
      }
      return { containerInstances: found, failures };
    },

    async listContainerInstances(input, ctx) {
      const cluster = clusters.inRegion(ctx.region).require(input.cluster);
      const limit = input.maxResults ?? 100;
      if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new InvalidParameterException("maxResults must be between 1 and 100.");
      let filter: QueryNode | undefined;
      if (input.filter !== undefined && input.filter.trim() !== "") {
        try {
          filter = parseClusterQuery(input.filter);
        } catch (err) {
          if (err instanceof QueryError) throw new InvalidParameterException(`The filter expression '${input.filter}' is invalid: ${err.message}.`);
          throw err;
        }
      }
      const usage = options.usage(cluster.clusterArn!);
      const matching = instancesOf(cluster, ctx.region).filter((r) => {
        if (input.status === undefined ? r.status === "INACTIVE" : r.status !== input.status) return false;
        if (filter === undefined) return true;
        const u = usage.get(r.arn) ?? emptyUsage();
        const target: QueryTarget = {
          attributes: attributeMap(r),
          ec2InstanceId: r.ec2InstanceId,
          agentConnected: registry.connected(r),
          agentVersion: r.versionInfo.agentVersion ?? "",
          registeredAt: new Date(r.registeredAt),
          runningTasksCount: u.running,
          taskGroups: new Set(u.groups.keys()),
        };
        return evaluateClusterQuery(filter, target);
      });
      const after = input.nextToken === undefined ? undefined : decodeToken(input.nextToken, "container-instance", isString);
      const start = after === undefined ? 0 : matching.findIndex((r) => r.arn === after) + 1;
      const page = matching.slice(start, start + limit);
      const out: { containerInstanceArns: string[]; nextToken?: string } = { containerInstanceArns: page.map((r) => r.arn) };
      if (start + limit < matching.length) out.nextToken = encodeToken("container-instance", page.at(-1)!.arn);
      return out;
    },

    async updateContainerInstancesState(input, ctx) {
      if (input.status !== "ACTIVE" && input.status !== "DRAINING") {
        throw new InvalidParameterException(`Container instance status can only be updated to ACTIVE or DRAINING; got ${input.status}.`);
      }
      if (input.containerInstances.length === 0 || input.containerInstances.length > MAX_UPDATE) {
        throw new InvalidParameterException(`containerInstances must contain between 1 and ${MAX_UPDATE} container instances.`);
      }
      const cluster = clusters.inRegion(ctx.region).require(input.cluster);
      const records = instancesOf(cluster, ctx.region);
      const usage = options.usage(cluster.clusterArn!);
      const updated: ContainerInstance[] = [];
      const failures: Failure[] = [];
      for (const ref of input.containerInstances) {
        const record = findInstance(records, ref);
        if (record === undefined) {
          failures.push({ arn: instanceArnOf(cluster, ref, ctx.region, deps.arns), reason: "MISSING" });
          continue;
        }
        if (record.status === "INACTIVE") {
          failures.push({ arn: record.arn, reason: "INACTIVE" });
          continue;
        }
        const next = record.status === input.status ? record : registry.update(record, { status: input.status });
        updated.push(render(next, usage));
      }
      return { containerInstances: updated, failures };
    },

    async deregisterContainerInstance(input, ctx) {
      const cluster = clusters.inRegion(ctx.region).require(input.cluster);
      const record = requireInstance(cluster, ctx.region, input.containerInstance);
      const u = options.usage(cluster.clusterArn!).get(record.arn) ?? emptyUsage();
      if (input.force !== true && u.running + u.pending > 0) {
        throw new InvalidParameterException("Found running tasks on the instance.");
      }
      // Forced: the tasks keep running but are orphaned (no longer counted on any instance).
      const gone = registry.update(record, { status: "INACTIVE", deregisteredAt: deps.clock.now().getTime() });
      return { containerInstance: render(gone, new Map()) };
    },

    async registerContainerInstance(input: RegisterContainerInstanceRequest, ctx) {
      const name = clusterNameOf(input.cluster);
      const cluster = name === "default" ? clusters.inRegion(ctx.region).require(undefined) : clusters.inRegion(ctx.region).get(name);
      if (cluster === undefined || cluster.status !== "ACTIVE") throw new ClusterNotFoundException("Cluster not found.");
      const newTags = input.tags ?? [];
      assertValidTags(newTags);
      const identity = identityOf(input.instanceIdentityDocument);
      let existing: ContainerInstanceRecord | undefined;
      if (input.containerInstanceArn !== undefined) {
        existing = findInstance(instancesOf(cluster, ctx.region), input.containerInstanceArn);
        if (existing === undefined) {
          throw new InvalidParameterException(`The referenced container instance ${input.containerInstanceArn} was not found in cluster ${name}.`);
        }
      }
      if (input.totalResources !== undefined) checkResources(input.totalResources);
      const record = registry.registerFromApi({
        region: ctx.region,
        clusterName: cluster.clusterName!,
        clusterArn: cluster.clusterArn!,
        existing,
        ec2InstanceId: identity.instanceId,
        availabilityZone: identity.availabilityZone,
        instanceType: identity.instanceType,
        amiId: identity.imageId,
        totalResources: input.totalResources,
        versionInfo: input.versionInfo,
        attributes: input.attributes,
      });
      if (newTags.length > 0) tags.put(record.arn, newTags);
      return { containerInstance: render(record, options.usage(cluster.clusterArn!)) };
    },

    async updateContainerAgent(input, ctx) {
      const cluster = clusters.inRegion(ctx.region).require(input.cluster);
      const record = requireInstance(cluster, ctx.region, input.containerInstance);
      if (record.agentUpdateStatus !== undefined && !["UPDATED", "FAILED"].includes(record.agentUpdateStatus)) {
        throw new UpdateInProgressException(
          "There is already a current agent update in progress on the container instance. An agent can only be updated once at a time.",
        );
      }
      const version = record.versionInfo.agentVersion;
      if (version === undefined || version === "") {
        throw new MissingVersionException(
          "Amazon ECS can't determine the current version of the Amazon ECS container agent on the container instance and doesn't have enough information to proceed with an update.",
        );
      }
      if (compareApi(version, AGENT_VERSION) >= 0) {
        throw new NoUpdateAvailableException("There is no update available for your container agent.");
      }
      // ECS accepts and hands the update to the agent; an agent outside an ECS-optimized AMI (no
      // ecs-init, ECS_UPDATES_ENABLED unset) refuses it ("Updates are disabled") and the update fails.
      const pending = registry.update(record, { agentUpdateStatus: "PENDING" });
      const answer = render(pending, options.usage(cluster.clusterArn!));
      registry.update(pending, { agentUpdateStatus: "FAILED" });
      return { containerInstance: answer };
    },
  };
}

interface Identity {
  instanceId?: string | undefined;
  availabilityZone?: string | undefined;
  instanceType?: string | undefined;
  imageId?: string | undefined;
}

/** The EC2 instance identity document (JSON) a caller passes; its signature cannot be checked locally. */
function identityOf(document: string | undefined): Identity {
  if (document === undefined || document === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(document);
  } catch {
    throw new InvalidParameterException("The instance identity document is not valid JSON.");
  }
  const doc = (parsed ?? {}) as Record<string, unknown>;
  const str = (k: string): string | undefined => (typeof doc[k] === "string" && doc[k] !== "" ? (doc[k] as string) : undefined);
  return { instanceId: str("instanceId"), availabilityZone: str("availabilityZone"), instanceType: str("instanceType"), imageId: str("imageId") };
}

function checkResources(resources: readonly Resource[]): void {
  for (const name of ["CPU", "MEMORY"]) {
    const r = resources.find((x) => x.name === name);
    if (r !== undefined && (r.integerValue === undefined || r.integerValue < 0)) {
      throw new InvalidParameterException(`The ${name} resource must have a non-negative integerValue.`);
    }
  }
}
