import { describe, expect, it } from "vitest";
import type { QueuedEvent } from "../../../src/runtime/events/event-outbox-store.ts";
import { MAX_CALL_BYTES, nextBatch } from "../../../src/runtime/events/put-events-batch.ts";

let seq = 0;
function q(key: string, region = "us-east-1", size = 1000): QueuedEvent {
  return { seq: ++seq, region, orderingKey: key, size, event: {} as QueuedEvent["event"] };
}
const keys = (batch: QueuedEvent[]): string[] => batch.map((b) => b.orderingKey);

describe("nextBatch (which queued events go into one PutEvents call)", () => {
  it("takes nothing from an empty queue", () => {
    expect(nextBatch([])).toEqual([]);
  });

  it("takes at most 10 entries, oldest first", () => {
    const queue = Array.from({ length: 15 }, (_, i) => q(`t${i}`));
    expect(keys(nextBatch(queue))).toEqual(["t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8", "t9"]);
  });

  it("sends one event per resource per call, and nothing of a resource after one that waits", () => {
    // a1 a2 b1 a3 c1: a2 waits for a1's outcome, so a3 must wait too; b1 and c1 go.
    expect(keys(nextBatch([q("a"), q("a"), q("b"), q("a"), q("c")]))).toEqual(["a", "b", "c"]);
  });

  it("stays within one region's bus", () => {
    expect(keys(nextBatch([q("a", "us-east-1"), q("b", "eu-west-1"), q("c", "us-east-1")]))).toEqual(["a", "c"]);
  });

  it("stays within 256 KB, and never passes over an older event of the same resource that did not fit", () => {
    const big = MAX_CALL_BYTES - 2000;
    const batch = nextBatch([q("a", "us-east-1", big), q("b", "us-east-1", 3000), q("c", "us-east-1", 1500), q("b", "us-east-1", 10)]);
    expect(keys(batch)).toEqual(["a", "c"]);
  });

  it("always takes the oldest event, so the queue never stalls", () => {
    expect(keys(nextBatch([q("a", "us-east-1", MAX_CALL_BYTES + 1)]))).toEqual(["a"]);
  });
});
