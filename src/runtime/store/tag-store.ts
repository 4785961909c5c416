import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { Tag } from "../../../generated/shapes.ts";
import { transaction } from "../database.ts";

/**
 * Tags of any resource, keyed by its ARN (clusters, task definitions, tasks, …). Keys are unique per
 * resource; `put` overwrites the value of an existing key and keeps its position, so listings come back
 * in the order the tags were first added, as real ECS returns them.
 */
export class TagStore {
  readonly #db: DatabaseSync;
  readonly #select: StatementSync;
  readonly #upsert: StatementSync;
  readonly #deleteKey: StatementSync;
  readonly #deleteAll: StatementSync;
  readonly #count: StatementSync;

  constructor(db: DatabaseSync) {
    this.#db = db;
    db.exec(`CREATE TABLE IF NOT EXISTS resource_tags (
      resource_arn TEXT NOT NULL,
      key TEXT NOT NULL,
      value TEXT,
      position INTEGER NOT NULL,
      PRIMARY KEY (resource_arn, key)
    )`);
    this.#select = db.prepare("SELECT key, value FROM resource_tags WHERE resource_arn = ? ORDER BY position");
    this.#upsert = db.prepare(`INSERT INTO resource_tags (resource_arn, key, value, position)
      VALUES (?, ?, ?, (SELECT COALESCE(MAX(position), 0) + 1 FROM resource_tags WHERE resource_arn = ?))
      ON CONFLICT (resource_arn, key) DO UPDATE SET value = excluded.value`);
    this.#deleteKey = db.prepare("DELETE FROM resource_tags WHERE resource_arn = ? AND key = ?");
    this.#deleteAll = db.prepare("DELETE FROM resource_tags WHERE resource_arn = ?");
    this.#count = db.prepare("SELECT COUNT(*) AS n FROM resource_tags WHERE resource_arn = ?");
  }

  get(arn: string): Tag[] {
    return this.#select.all(arn).map((row) => {
      const tag: Tag = { key: row["key"] as string };
      if (row["value"] !== null) tag.value = row["value"] as string;
      return tag;
    });
  }

  /** Adds or overwrites tags; tags without a key are ignored (callers validate first). */
  put(arn: string, tags: readonly Tag[]): void {
    transaction(this.#db, () => {
      for (const tag of tags) {
        if (tag.key === undefined) continue;
        this.#upsert.run(arn, tag.key, tag.value ?? null, arn);
      }
    });
  }

  remove(arn: string, keys: readonly string[]): void {
    transaction(this.#db, () => {
      for (const key of keys) this.#deleteKey.run(arn, key);
    });
  }

  deleteAll(arn: string): void {
    this.#deleteAll.run(arn);
  }

  count(arn: string): number {
    return Number(this.#count.get(arn)?.["n"] ?? 0);
  }
}
