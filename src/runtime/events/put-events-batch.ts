// Which queued events go into the next PutEvents call: EventBridge takes at most 10 entries and 256 KB per
// call, one region's bus at a time. Order per resource is kept even when some entries of a call fail and
// others succeed: a call carries at most one event per resource, and an event is never sent ahead of an
// older one of its resource that waits.
import type { EcsEvent } from "./ecs-event.ts";
import type { QueuedEvent } from "./event-outbox-store.ts";

export const MAX_ENTRIES_PER_CALL = 10;
export const MAX_CALL_BYTES = 256 * 1024;

/** An entry's size as EventBridge counts it: Time (14 bytes), Source, DetailType, Detail and each resource, in UTF-8. */
export function entrySize(event: EcsEvent): number {
  let size = 14 + Buffer.byteLength(event.source) + Buffer.byteLength(event["detail-type"]) + Buffer.byteLength(JSON.stringify(event.detail));
  for (const r of event.resources) size += Buffer.byteLength(r);
  return size;
}

/** The next call's events, oldest first (empty only when `queued` is). */
export function nextBatch(queued: readonly QueuedEvent[]): QueuedEvent[] {
  const first = queued[0];
  if (first === undefined) return [];
  const batch: QueuedEvent[] = [];
  const taken = new Set<string>();
  const waiting = new Set<string>();
  let bytes = 0;
  for (const q of queued) {
    if (batch.length === MAX_ENTRIES_PER_CALL) break;
    // The oldest always goes (an oversized one is refused at enqueue), so the queue never stalls.
    const fits =
      q === first || (q.region === first.region && !taken.has(q.orderingKey) && !waiting.has(q.orderingKey) && bytes + q.size <= MAX_CALL_BYTES);
    if (!fits) {
      waiting.add(q.orderingKey);
      continue;
    }
    batch.push(q);
    taken.add(q.orderingKey);
    bytes += q.size;
  }
  return batch;
}
