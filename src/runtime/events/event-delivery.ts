// Delivers queued ECS events with PutEvents, in the background: `enqueue` only appends to the outbox and
// wakes the loop, so the engine never waits for the bus. While the endpoint is down or throttling, the loop
// backs off (doubling, capped) and retries; nothing is lost unless the bounded queue overflows, and then the
// oldest events go, counted and logged. Entries the bus refuses for good (AccessDenied, MalformedDetail, …)
// are dropped with a log line rather than blocking everything behind them.
import type { Logger } from "../logger.ts";
import type { EcsEvent } from "./ecs-event.ts";
import type { EventOutboxStore } from "./event-outbox-store.ts";
import { entrySize, MAX_CALL_BYTES, nextBatch } from "./put-events-batch.ts";

/** What happened to one entry of a PutEvents call. */
export type EntryOutcome = { ok: true } | { ok: false; code: string; message: string };

/** The bus (EventBridge's PutEvents, or a fake in tests). Throws when the whole call failed. */
export interface PutEventsPort {
  put(region: string, events: readonly EcsEvent[], signal: AbortSignal): Promise<EntryOutcome[]>;
}

/** PutEventsResultEntry error codes worth retrying (the rest are final). */
const RETRYABLE = new Set(["InternalFailure", "ThrottlingException", "InternalException", "ServiceUnavailable"]);

export interface EventDeliveryOptions {
  outbox: EventOutboxStore;
  bus: PutEventsPort;
  logger: Logger;
  /** Most events kept waiting (default 10,000); beyond that the oldest are dropped. */
  maxQueued?: number;
  /** First retry delay (default 250 ms), doubled per failure up to `maxBackoffMs` (default 10 s). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export interface EventDeliveryStats {
  queued: number;
  delivered: number;
  /** Dropped because the queue was full. */
  dropped: number;
  /** Refused by the bus for good, or too large to send. */
  rejected: number;
}

export class EventDelivery {
  readonly #outbox: EventOutboxStore;
  readonly #bus: PutEventsPort;
  readonly #logger: Logger;
  readonly #maxQueued: number;
  readonly #minBackoffMs: number;
  readonly #maxBackoffMs: number;
  readonly #abort = new AbortController();
  #wake: () => void = () => {};
  #loop: Promise<void> | undefined;
  #closed = false;
  #failing = false;
  #overflowing = false;
  #refusedCodes = new Set<string>();
  readonly #stats = { delivered: 0, dropped: 0, rejected: 0 };

  constructor(options: EventDeliveryOptions) {
    this.#outbox = options.outbox;
    this.#bus = options.bus;
    this.#logger = options.logger;
    this.#maxQueued = options.maxQueued ?? 10_000;
    this.#minBackoffMs = options.minBackoffMs ?? 250;
    this.#maxBackoffMs = options.maxBackoffMs ?? 10_000;
  }

  /** Starts delivering (what is queued from before a restart goes first). */
  start(): void {
    this.#loop ??= this.#run().catch((err: unknown) => this.#logger.error("events.delivery_failed", { error: err }));
  }

  /** Queues one event; never blocks and never throws for a full queue. */
  enqueue(event: EcsEvent): void {
    if (this.#closed) return;
    const size = entrySize(event);
    if (size > MAX_CALL_BYTES) {
      this.#stats.rejected++;
      this.#logger.warn("events.too_large", { detailType: event["detail-type"], resource: event.resources[0], bytes: size, limit: MAX_CALL_BYTES });
      return;
    }
    this.#outbox.append(event, size);
    const over = this.#outbox.count - this.#maxQueued;
    if (over > 0) {
      const dropped = this.#outbox.dropOldest(over);
      this.#stats.dropped += dropped;
      if (!this.#overflowing) {
        this.#overflowing = true;
        this.#logger.warn("events.queue_full", { maxQueued: this.#maxQueued, message: "the event bus is not keeping up; dropping the oldest events", droppedSoFar: this.#stats.dropped });
      }
    } else if (this.#overflowing && this.#outbox.count < this.#maxQueued / 2) {
      this.#overflowing = false;
      this.#logger.info("events.queue_recovered", { droppedSoFar: this.#stats.dropped });
    }
    this.#wake();
  }

  stats(): EventDeliveryStats {
    return { queued: this.#outbox.count, ...this.#stats };
  }

  /** Stops the loop (a call in flight is aborted); what is still queued stays in the outbox for the next start. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#abort.abort();
    this.#wake();
    await this.#loop;
    const { queued, dropped, rejected } = this.stats();
    if (queued > 0 || dropped > 0 || rejected > 0) this.#logger.info("events.closed", { queued, dropped, rejected, delivered: this.#stats.delivered });
  }

  async #run(): Promise<void> {
    let backoff = 0;
    while (!this.#closed) {
      const wakeup = new Promise<void>((resolve) => (this.#wake = resolve));
      if (backoff > 0) {
        // Not cut short by new events: a dead endpoint is not hammered once per change.
        await this.#sleep(backoff);
        if (this.#closed) break;
      }
      const batch = nextBatch(this.#outbox.oldest(100));
      if (batch.length === 0) {
        await wakeup;
        continue;
      }
      let outcomes: EntryOutcome[];
      try {
        outcomes = await this.#bus.put(batch[0]!.region, batch.map((q) => q.event), this.#abort.signal);
      } catch (err) {
        if (this.#closed) break;
        if (!this.#failing) this.#logger.warn("events.put_failed", { error: err, queued: this.#outbox.count, retrying: true });
        this.#failing = true;
        backoff = this.#nextBackoff(backoff);
        continue;
      }
      if (this.#failing) this.#logger.info("events.recovered", { queued: this.#outbox.count });
      this.#failing = false;
      let retry = false;
      for (const [i, q] of batch.entries()) {
        const outcome = outcomes[i] ?? { ok: false, code: "InternalFailure", message: "no result entry for this event" };
        if (outcome.ok) {
          this.#outbox.delete(q.seq);
          this.#stats.delivered++;
        } else if (RETRYABLE.has(outcome.code)) {
          retry = true;
        } else {
          this.#outbox.delete(q.seq);
          this.#stats.rejected++;
          this.#refused(q.event, outcome);
        }
      }
      backoff = retry ? this.#nextBackoff(backoff) : 0;
    }
  }

  #nextBackoff(current: number): number {
    return Math.min(current === 0 ? this.#minBackoffMs : current * 2, this.#maxBackoffMs);
  }

  #refused(event: EcsEvent, outcome: { code: string; message: string }): void {
    // Once per error code: a misconfigured bus would otherwise log every event.
    if (this.#refusedCodes.has(outcome.code)) return;
    this.#refusedCodes.add(outcome.code);
    this.#logger.warn("events.rejected", { code: outcome.code, message: outcome.message, detailType: event["detail-type"], resource: event.resources[0] });
  }

  #sleep(ms: number): Promise<void> {
    const signal = this.#abort.signal;
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
    });
  }
}
