import { ServiceNotActiveException, ServiceNotFoundException } from "../../generated/errors.ts";
import type { Cluster, Task } from "../../generated/shapes.ts";
import type { Arns } from "../runtime/arns.ts";
import type { ClusterStore } from "../runtime/store/cluster-store.ts";
import type { ServiceDeploymentStore } from "../runtime/store/service-deployment-store.ts";
import type { ServiceRevisionStore } from "../runtime/store/service-revision-store.ts";
import type { ServiceRecord, ServiceStore } from "../runtime/store/service-store.ts";
import type { TagStore } from "../runtime/store/tag-store.ts";
import type { TaskDefinitionStore } from "../runtime/store/task-definition-store.ts";
import type { TaskListFilter } from "../runtime/store/task-store.ts";
import type { TargetGroups } from "../runtime/services/aws/target-groups.ts";

/** What the service, service deployment and task set operations share. */
export interface ServiceOperationsOptions {
  services: ServiceStore;
  serviceDeployments: ServiceDeploymentStore;
  serviceRevisions: ServiceRevisionStore;
  clusters: ClusterStore;
  taskDefinitions: TaskDefinitionStore;
  tags: TagStore;
  /** The engine's tasks, for the counts the answers show. */
  tasks: { list(filter: TaskListFilter): Task[] };
  /** Asks the scheduler to look at a service now (after it was created or changed). */
  scheduler: { poke(serviceArn: string): void };
  /** ELBv2 at ELBV2_ENDPOINT_URL: target groups are validated as ECS does (undefined: not checked). */
  targetGroups?: TargetGroups | undefined;
}

/**
 * The service name a name or (long or short) service ARN gives, in the caller's region (`arns`);
 * undefined for a service ARN of another region or account, which never exists here. A malformed ARN
 * gets ECS's own error (from the one ARN parser).
 */
export function serviceNameOf(arns: Arns, ref: string): string | undefined {
  const r = arns.resolve(ref, "service");
  return r.kind === "here" ? r.id : undefined;
}

/** The service of that name or ARN in the cluster (any status); ServiceNotFoundException otherwise. */
export function findService(options: ServiceOperationsOptions, arns: Arns, cluster: Cluster, ref: string): ServiceRecord {
  const name = serviceNameOf(arns, ref);
  const record = name === undefined ? undefined : options.services.find(arns.region, cluster.clusterArn ?? "", name);
  if (record === undefined) throw new ServiceNotFoundException("Service not found.");
  return record;
}

/** …and it must be ACTIVE: "Service was not ACTIVE." otherwise. */
export function findActiveService(options: ServiceOperationsOptions, arns: Arns, cluster: Cluster, ref: string): ServiceRecord {
  const record = findService(options, arns, cluster, ref);
  // Deleted services (DRAINING, INACTIVE) stay visible to DescribeServices but cannot be changed.
  if (record.service.status !== "ACTIVE") throw new ServiceNotActiveException("Service was not ACTIVE.");
  return record;
}
