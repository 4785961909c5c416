// Everything EVENTS_ENDPOINT_URL turns on, loaded by the server only when it is set: the outbox, the
// delivery loop, the bus client (itself loaded on the first PutEvents) and the task state change feed.
import type { DatabaseSync } from "node:sqlite";
import type { Clock } from "../clock.ts";
import type { Logger } from "../logger.ts";
import { EventDelivery, type EventDeliveryStats } from "./event-delivery.ts";
import { EventOutboxStore } from "./event-outbox-store.ts";
import type { EventPublisher } from "./event-publisher.ts";
import { EventBridgeBus } from "./eventbridge-bus.ts";
import { publishTaskStateChanges, type TaskSnapshots } from "./task-state-events.ts";

export interface EcsEvents extends EventPublisher {
  /** Publishes "ECS Task State Change" for the engine's task snapshots from now on. */
  followTasks(tasks: TaskSnapshots): void;
  stats(): EventDeliveryStats;
  close(): Promise<void>;
}

export interface StartEventsOptions {
  endpoint: string;
  busName: string;
  db: DatabaseSync;
  clock: Clock;
  logger: Logger;
}

export function startEcsEvents(options: StartEventsOptions): EcsEvents {
  const logger = options.logger.child({ component: "events" });
  const bus = new EventBridgeBus({ endpoint: options.endpoint, busName: options.busName, logger });
  const delivery = new EventDelivery({ outbox: new EventOutboxStore(options.db), bus, logger });
  const publish = (event: Parameters<EventPublisher["publish"]>[0]): void => delivery.enqueue(event);
  const unsubscribes: Array<() => void> = [];
  delivery.start();
  logger.info("events.enabled", { endpoint: options.endpoint, bus: options.busName, queued: delivery.stats().queued });
  return {
    publish,
    followTasks(tasks) {
      unsubscribes.push(publishTaskStateChanges(tasks, publish, options.clock));
    },
    stats: () => delivery.stats(),
    async close() {
      for (const unsubscribe of unsubscribes.splice(0)) unsubscribe();
      await delivery.close();
      bus.destroy();
    },
  };
}
