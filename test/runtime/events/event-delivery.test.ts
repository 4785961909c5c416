import { DatabaseSync } from "node:sqlite";
import { afterEach, describe, expect, it } from "vitest";
import { ecsEvent, type EcsEvent } from "../../../src/runtime/events/ecs-event.ts";
import { EventDelivery, type EntryOutcome, type PutEventsPort } from "../../../src/runtime/events/event-delivery.ts";
import { EventOutboxStore } from "../../../src/runtime/events/event-outbox-store.ts";
import { createLogger } from "../../../src/runtime/logger.ts";
import { eventually } from "../../support/eventually.ts";

const taskArn = (n: string, region = "us-east-1"): string => `arn:aws:ecs:${region}:000000000000:task/default/${n}`;
const event = (task: string, status: string, region = "us-east-1"): EcsEvent =>
  ecsEvent("ECS Task State Change", taskArn(task, region), { lastStatus: status }, new Date());

/** A bus that records what it accepted; `answer` decides each entry's outcome (or throws for the whole call). */
class RecordingBus implements PutEventsPort {
  readonly calls: Array<{ region: string; events: EcsEvent[] }> = [];
  readonly accepted: EcsEvent[] = [];
  answer: (e: EcsEvent, call: number) => EntryOutcome = () => ({ ok: true });
  async put(region: string, events: readonly EcsEvent[]): Promise<EntryOutcome[]> {
    this.calls.push({ region, events: [...events] });
    const outcomes = events.map((e) => this.answer(e, this.calls.length));
    events.forEach((e, i) => outcomes[i]!.ok && this.accepted.push(e));
    return outcomes;
  }
}

const lines: string[] = [];
const logger = createLogger("info", (l) => lines.push(l));
const logged = (event: string): number => lines.filter((l) => JSON.parse(l).event === event).length;
const deliveries: EventDelivery[] = [];
function delivery(db: DatabaseSync, bus: PutEventsPort, maxQueued?: number): EventDelivery {
  const d = new EventDelivery({ outbox: new EventOutboxStore(db), bus, logger, minBackoffMs: 5, maxBackoffMs: 20, ...(maxQueued === undefined ? {} : { maxQueued }) });
  deliveries.push(d);
  return d;
}
const statusesOf = (events: EcsEvent[], task: string): string[] => events.filter((e) => e.resources[0] === taskArn(task)).map((e) => (e.detail as any).lastStatus);

afterEach(async () => {
  await Promise.all(deliveries.splice(0).map((d) => d.close()));
  lines.length = 0;
});

describe("EventDelivery", () => {
  it("sends queued events in calls of at most 10, oldest first, and empties the queue", async () => {
    const bus = new RecordingBus();
    const d = delivery(new DatabaseSync(":memory:"), bus);
    for (let i = 0; i < 25; i++) d.enqueue(event(`t${i}`, "PENDING"));
    d.start();
    await eventually("all delivered", () => (d.stats().delivered === 25 ? true : undefined), 5000, 5);
    expect(bus.calls.map((c) => c.events.length)).toEqual([10, 10, 5]);
    expect(bus.accepted.map((e) => e.resources[0])).toEqual(Array.from({ length: 25 }, (_, i) => taskArn(`t${i}`)));
    expect(d.stats()).toEqual({ queued: 0, delivered: 25, dropped: 0, rejected: 0 });
  });

  it("retries throttled entries and keeps each task's order when others of the call succeed", async () => {
    const bus = new RecordingBus();
    let throttled = 0;
    bus.answer = (e) => ((e.detail as any).lastStatus === "PENDING" && e.resources[0] === taskArn("a") && throttled++ < 3 ? { ok: false, code: "ThrottlingException", message: "Rate exceeded" } : { ok: true });
    const d = delivery(new DatabaseSync(":memory:"), bus);
    d.start();
    for (const s of ["PENDING", "RUNNING", "STOPPED"]) {
      d.enqueue(event("a", s));
      d.enqueue(event("b", s));
    }
    await eventually("all delivered", () => (d.stats().delivered === 6 ? true : undefined), 5000, 5);
    expect(statusesOf(bus.accepted, "a")).toEqual(["PENDING", "RUNNING", "STOPPED"]);
    expect(statusesOf(bus.accepted, "b")).toEqual(["PENDING", "RUNNING", "STOPPED"]);
    // Never two events of one task in one call.
    for (const c of bus.calls) expect(new Set(c.events.map((e) => e.resources[0])).size).toBe(c.events.length);
  });

  it("drops entries the bus refuses for good, logs that once per error code, and goes on", async () => {
    const bus = new RecordingBus();
    bus.answer = (e) => (e.resources[0] === taskArn("x") ? { ok: false, code: "NotAuthorizedForSourceException", message: "Not authorized for the source." } : { ok: true });
    const d = delivery(new DatabaseSync(":memory:"), bus);
    d.start();
    d.enqueue(event("x", "PENDING"));
    d.enqueue(event("x", "RUNNING"));
    d.enqueue(event("y", "PENDING"));
    await eventually("settled", () => (d.stats().queued === 0 ? true : undefined), 5000, 5);
    expect(d.stats()).toMatchObject({ delivered: 1, rejected: 2 });
    expect(logged("events.rejected")).toBe(1);
  });

  it("backs off while the bus is down and delivers everything, in order, once it is back", async () => {
    const bus = new RecordingBus();
    let down = true;
    const failing: PutEventsPort = {
      put: async (region, events, signal) => {
        if (down) throw Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:4566"), { code: "ECONNREFUSED" });
        return bus.put(region, events);
      },
    };
    let attempts = 0;
    const counting: PutEventsPort = { put: (r, e, s) => (attempts++, failing.put(r, e, s)) };
    const d = delivery(new DatabaseSync(":memory:"), counting);
    d.start();
    for (const s of ["PENDING", "RUNNING", "STOPPED"]) d.enqueue(event("a", s));
    await eventually("a few failed attempts", () => (attempts >= 4 ? true : undefined), 5000, 5);
    expect(d.stats()).toMatchObject({ queued: 3, delivered: 0 });
    down = false;
    await eventually("delivered", () => (d.stats().delivered === 3 ? true : undefined), 5000, 5);
    expect(statusesOf(bus.accepted, "a")).toEqual(["PENDING", "RUNNING", "STOPPED"]);
    expect(logged("events.put_failed")).toBe(1);
    expect(logged("events.recovered")).toBe(1);
  });

  it("keeps the queue bounded: the oldest go, counted and logged once", async () => {
    const never: PutEventsPort = { put: () => new Promise(() => {}) };
    const d = delivery(new DatabaseSync(":memory:"), never, 5);
    for (let i = 0; i < 12; i++) d.enqueue(event(`t${i}`, "PENDING"));
    expect(d.stats()).toMatchObject({ queued: 5, dropped: 7 });
    expect(logged("events.queue_full")).toBe(1);
  });

  it("refuses an event larger than a PutEvents call can carry", () => {
    const d = delivery(new DatabaseSync(":memory:"), new RecordingBus());
    d.enqueue(ecsEvent("ECS Task State Change", taskArn("big"), { blob: "x".repeat(300 * 1024) }, new Date()));
    expect(d.stats()).toMatchObject({ queued: 0, rejected: 1 });
  });

  it("delivers after a restart what was queued before it (the outbox is in the database)", async () => {
    const db = new DatabaseSync(":memory:");
    const first = delivery(db, { put: () => Promise.reject(new Error("down")) });
    first.start();
    first.enqueue(event("a", "PENDING"));
    first.enqueue(event("a", "RUNNING"));
    await first.close();
    const bus = new RecordingBus();
    const second = delivery(db, bus);
    expect(second.stats().queued).toBe(2);
    second.start();
    await eventually("delivered", () => (second.stats().delivered === 2 ? true : undefined), 5000, 5);
    expect(statusesOf(bus.accepted, "a")).toEqual(["PENDING", "RUNNING"]);
  });

  it("puts each region's events on that region's bus", async () => {
    const bus = new RecordingBus();
    const d = delivery(new DatabaseSync(":memory:"), bus);
    d.enqueue(event("a", "PENDING", "us-east-1"));
    d.enqueue(ecsEvent("ECS Task State Change", taskArn("b", "eu-west-1"), { lastStatus: "PENDING" }, new Date()));
    d.start();
    await eventually("delivered", () => (d.stats().delivered === 2 ? true : undefined), 5000, 5);
    expect(bus.calls.map((c) => [c.region, c.events.map((e) => e.region)])).toEqual([
      ["us-east-1", ["us-east-1"]],
      ["eu-west-1", ["eu-west-1"]],
    ]);
  });
});
