// The one way code hands an ECS event over for delivery. Services and container instances call `publish`
// with an event from the builders (service-events.ts, container-instance-state-change.ts); with
// EVENTS_ENDPOINT_URL unset the server passes `eventsOff`, and nothing of the delivery side is loaded.
import type { EcsEvent } from "./ecs-event.ts";

export interface EventPublisher {
  /** Queues the event; never blocks, never throws. */
  publish(event: EcsEvent): void;
}

export const eventsOff: EventPublisher = { publish() {} };
