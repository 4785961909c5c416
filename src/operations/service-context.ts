import { ServiceNotActiveException, ServiceNotFoundException } from "../../generated/errors.ts";
import type { Cluster, Task } from "../../generated/shapes.ts";
import { parseEcsArn } from "../runtime/arns.ts";
import type { ClusterStore } from "../runtime/store/cluster-store.ts";
import type { ServiceDeploymentStore } from "../runtime/store/service-deployment-store.ts";
import type { ServiceRevisionStore } from "../runtime/store/service-revision-store.ts";
import type { ServiceRecord, ServiceStore } from "../runtime/store/service-store.ts";
import type { TagStore } from "../runtime/store/tag-store.ts";
import type { TaskDefinitionStore } from "../runtime/store/task-definition-store.ts";
import type { TaskListFilter } from "../runtime/store/task-store.ts";

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
}

/** The service name in a name or (long or short) service ARN. */
export function serviceNameOf(ref: string): string {
  const arn = parseEcsArn(ref);
  if (arn?.resourceType !== "service") return ref;
  return arn.resource.slice(arn.resource.lastIndexOf("/") + 1);
}

/** The service of that name or ARN in the cluster (any status); ServiceNotFoundException otherwise. */
export function findService(options: ServiceOperationsOptions, region: string, cluster: Cluster, ref: string): ServiceRecord {
  const record = options.services.find(region, cluster.clusterArn ?? "", serviceNameOf(ref));
  if (record === undefined) throw new ServiceNotFoundException("Service not found.");
  return record;
}

/** …and it must be ACTIVE: "Service was not ACTIVE." otherwise. */
export function findActiveService(options: ServiceOperationsOptions, region: string, cluster: Cluster, ref: string): ServiceRecord {
  const record = findService(options, region, cluster, ref);
  // Deleted services (DRAINING, INACTIVE) stay visible to DescribeServices but cannot be changed.
  if (record.service.status !== "ACTIVE") throw new ServiceNotActiveException("Service was not ACTIVE.");
  return record;
}
