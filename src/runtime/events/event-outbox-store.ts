// Events waiting for PutEvents, in the server's database: a restart (even SIGKILL) delivers what was
// queued before it, in the same order. Rows are appended in the order the changes happened and deleted
// once the bus accepted them (or rejected them for good).
import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { EcsEvent } from "./ecs-event.ts";

export interface QueuedEvent {
  seq: number;
  /** The region whose bus the event goes to. */
  region: string;
  /** Events with the same key are delivered in order (the resource ARN). */
  orderingKey: string;
  event: EcsEvent;
  /** Size as PutEvents counts it (see `entrySize`). */
  size: number;
}

export class EventOutboxStore {
  readonly #insert: StatementSync;
  readonly #oldest: StatementSync;
  readonly #delete: StatementSync;
  readonly #deleteOldest: StatementSync;
  #count: number;

  constructor(db: DatabaseSync) {
    db.exec(`CREATE TABLE IF NOT EXISTS ecs_event_outbox (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      region TEXT NOT NULL,
      ordering_key TEXT NOT NULL,
      size INTEGER NOT NULL,
      doc TEXT NOT NULL
    )`);
    this.#insert = db.prepare("INSERT INTO ecs_event_outbox (region, ordering_key, size, doc) VALUES (?, ?, ?, ?)");
    this.#oldest = db.prepare("SELECT seq, region, ordering_key, size, doc FROM ecs_event_outbox ORDER BY seq LIMIT ?");
    this.#delete = db.prepare("DELETE FROM ecs_event_outbox WHERE seq = ?");
    this.#deleteOldest = db.prepare("DELETE FROM ecs_event_outbox WHERE seq IN (SELECT seq FROM ecs_event_outbox ORDER BY seq LIMIT ?)");
    this.#count = Number((db.prepare("SELECT count(*) AS n FROM ecs_event_outbox").get() as { n: number }).n);
  }

  get count(): number {
    return this.#count;
  }

  append(event: EcsEvent, size: number): void {
    this.#insert.run(event.region, event.resources[0] ?? "", size, JSON.stringify(event));
    this.#count++;
  }

  oldest(limit: number): QueuedEvent[] {
    return (this.#oldest.all(limit) as Array<{ seq: number; region: string; ordering_key: string; size: number; doc: string }>).map((r) => ({
      seq: Number(r.seq),
      region: r.region,
      orderingKey: r.ordering_key,
      size: Number(r.size),
      event: JSON.parse(r.doc) as EcsEvent,
    }));
  }

  delete(seq: number): void {
    if (Number(this.#delete.run(seq).changes) > 0) this.#count--;
  }

  /** Drops the `n` oldest events; returns how many went. */
  dropOldest(n: number): number {
    const dropped = Number(this.#deleteOldest.run(n).changes);
    this.#count -= dropped;
    return dropped;
  }
}
