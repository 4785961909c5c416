import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { DaemonTaskDefinition } from "../../../generated/shapes.ts";

/**
 * Daemon task definitions, keyed by region, family and revision (revisions count from 1 per family and are
 * never reused). Documents are the DaemonTaskDefinition as described, dates as ISO strings in JSON.
 */
export interface StoredDaemonTaskDefinition {
  region: string;
  definition: DaemonTaskDefinition;
}

export class DaemonTaskDefinitionStore {
  readonly #rows: StoredDaemonTaskDefinition[] = [];
  readonly #lastRevision = new Map<string, number>();
  readonly #upsert: StatementSync;
  readonly #bump: StatementSync;

  constructor(db: DatabaseSync) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS daemon_task_definitions (
        region TEXT NOT NULL,
        family TEXT NOT NULL,
        revision INTEGER NOT NULL,
        status TEXT NOT NULL,
        doc TEXT NOT NULL,
        PRIMARY KEY (region, family, revision)
      );
      CREATE TABLE IF NOT EXISTS daemon_task_definition_families (
        region TEXT NOT NULL,
        family TEXT NOT NULL,
        last_revision INTEGER NOT NULL,
        PRIMARY KEY (region, family)
      );
    `);
    this.#upsert = db.prepare(`INSERT INTO daemon_task_definitions (region, family, revision, status, doc) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (region, family, revision) DO UPDATE SET status = excluded.status, doc = excluded.doc`);
    this.#bump = db.prepare(`INSERT INTO daemon_task_definition_families (region, family, last_revision) VALUES (?, ?, ?)
      ON CONFLICT (region, family) DO UPDATE SET last_revision = excluded.last_revision`);
    for (const row of db.prepare("SELECT region, doc FROM daemon_task_definitions ORDER BY family, revision").all()) {
      this.#rows.push({ region: String(row["region"]), definition: revive(JSON.parse(String(row["doc"]))) });
    }
    for (const row of db.prepare("SELECT region, family, last_revision FROM daemon_task_definition_families").all()) {
      this.#lastRevision.set(key(String(row["region"]), String(row["family"])), Number(row["last_revision"]));
    }
  }

  /** The next revision number of a family (reserved: a failed registration leaves a gap, as ECS does). */
  nextRevision(region: string, family: string): number {
    const next = (this.#lastRevision.get(key(region, family)) ?? 0) + 1;
    this.#lastRevision.set(key(region, family), next);
    this.#bump.run(region, family, next);
    return next;
  }

  get(region: string, family: string, revision: number): DaemonTaskDefinition | undefined {
    return this.#rows.find((r) => r.region === region && r.definition.family === family && r.definition.revision === revision)?.definition;
  }

  /** The latest ACTIVE revision of a family. */
  latestActive(region: string, family: string): DaemonTaskDefinition | undefined {
    let best: DaemonTaskDefinition | undefined;
    for (const r of this.#rows) {
      if (r.region !== region || r.definition.family !== family || r.definition.status !== "ACTIVE") continue;
      if (best === undefined || (r.definition.revision ?? 0) > (best.revision ?? 0)) best = r.definition;
    }
    return best;
  }

  /** Every revision of the region, by family then revision. */
  list(region: string): DaemonTaskDefinition[] {
    return this.#rows
      .filter((r) => r.region === region)
      .map((r) => r.definition)
      .sort((a, b) => (a.family! < b.family! ? -1 : a.family! > b.family! ? 1 : (a.revision ?? 0) - (b.revision ?? 0)));
  }

  save(region: string, definition: DaemonTaskDefinition): DaemonTaskDefinition {
    this.#upsert.run(region, definition.family!, definition.revision ?? 0, definition.status ?? "ACTIVE", JSON.stringify(definition));
    const i = this.#rows.findIndex((r) => r.region === region && r.definition.family === definition.family && r.definition.revision === definition.revision);
    const stored = { region, definition: revive(JSON.parse(JSON.stringify(definition))) };
    if (i >= 0) this.#rows[i] = stored;
    else this.#rows.push(stored);
    return stored.definition;
  }
}

function key(region: string, family: string): string {
  return `${region}\u0000${family}`;
}

function revive(doc: DaemonTaskDefinition): DaemonTaskDefinition {
  const out = { ...doc };
  if (out.registeredAt !== undefined) out.registeredAt = new Date(out.registeredAt);
  if (out.deleteRequestedAt !== undefined) out.deleteRequestedAt = new Date(out.deleteRequestedAt);
  return out;
}
