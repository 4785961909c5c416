// "ECS Container Instance State Change": the container instance as DescribeContainerInstances shows it, plus
// its cluster's ARN and an `updatedAt`, timestamps as ISO strings. ECS sends one when an instance registers or
// deregisters, when its agent connects or disconnects, when a task placed on it or stopped changes its
// remaining resources, and when its agent version changes; `version` goes up with each. The container
// instance code (built elsewhere) decides when.
import type { ContainerInstance } from "../../../generated/shapes.ts";
import { DETAIL_TYPES, ecsEvent, toDetailJson, type EcsEvent } from "./ecs-event.ts";

export function containerInstanceStateChangeEvent(instance: ContainerInstance, clusterArn: string, at: Date): EcsEvent {
  const { tags: _tags, healthStatus: _health, ...rest } = instance;
  const detail = toDetailJson({ ...rest, clusterArn, updatedAt: at }) as Record<string, unknown>;
  return ecsEvent(DETAIL_TYPES.containerInstanceStateChange, instance.containerInstanceArn ?? "", detail, at);
}
