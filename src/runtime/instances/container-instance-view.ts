// A container instance as DescribeContainerInstances answers it (pure): the stored record plus what is
// derived at read time — remaining resources and task counts from the tasks, agentConnected from the
// engine's watch — and the attribute list with custom attributes applied over the agent's.
import type { Attribute, ContainerInstance, ContainerInstanceField, Tag } from "../../../generated/shapes.ts";
import type { ContainerInstanceRecord } from "../store/container-instance-store.ts";
import type { InstanceUsage } from "./instance-usage.ts";
import { remainingResources } from "./task-reservation.ts";

export interface InstanceLiveState {
  usage: InstanceUsage;
  connected: boolean;
  /** Needed when `include` asks for TAGS. */
  tags?: Tag[] | undefined;
  /** For the health check timestamps. */
  now?: Date | undefined;
}

export function attributesOf(record: ContainerInstanceRecord): Attribute[] {
  const custom = new Map(record.customAttributes.map((a) => [a.name, a]));
  return [...record.agentAttributes.filter((a) => !custom.has(a.name)), ...custom.values()];
}

/** name → value (undefined for name-only attributes), for the query language and placement. */
export function attributeMap(record: ContainerInstanceRecord): Map<string, string | undefined> {
  return new Map(attributesOf(record).map((a) => [a.name, a.value]));
}

export function renderContainerInstance(
  record: ContainerInstanceRecord,
  live: InstanceLiveState,
  include: ReadonlySet<ContainerInstanceField> = new Set(),
): ContainerInstance {
  const out: ContainerInstance = {
    containerInstanceArn: record.arn,
    ec2InstanceId: record.ec2InstanceId,
    version: record.version,
    versionInfo: record.versionInfo,
    remainingResources: remainingResources(record.registeredResources, live.usage.held),
    registeredResources: record.registeredResources,
    status: record.status,
    agentConnected: live.connected,
    runningTasksCount: live.usage.running,
    pendingTasksCount: live.usage.pending,
    attributes: attributesOf(record),
    registeredAt: new Date(record.registeredAt),
    attachments: [],
    tags: include.has("TAGS") ? (live.tags ?? []) : [],
  };
  if (record.capacityProviderName !== undefined) out.capacityProviderName = record.capacityProviderName;
  if (record.statusReason !== undefined) out.statusReason = record.statusReason;
  if (record.agentUpdateStatus !== undefined) out.agentUpdateStatus = record.agentUpdateStatus;
  if (include.has("CONTAINER_INSTANCE_HEALTH")) {
    const at = live.now ?? new Date(record.registeredAt);
    const status = live.connected ? "OK" : "IMPAIRED";
    out.healthStatus = {
      overallStatus: status,
      details: [{ type: "CONTAINER_RUNTIME", status, lastUpdated: at, lastStatusChange: new Date(record.registeredAt) }],
    };
  }
  return out;
}
