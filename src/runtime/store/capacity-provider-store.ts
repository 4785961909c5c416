import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { CapacityProvider } from "../../../generated/shapes.ts";

/**
 * Capacity providers created with CreateCapacityProvider, keyed by region and name (ECS resources are
 * regional). The built-in FARGATE and FARGATE_SPOT are not stored: every account has them. Documents are
 * the CapacityProvider as described, without tags (those live in the TagStore under the ARN).
 */
export const BUILT_IN_PROVIDERS = ["FARGATE", "FARGATE_SPOT"] as const;

export interface StoredCapacityProvider {
  region: string;
  provider: CapacityProvider;
}

export class CapacityProviderStore {
  readonly #byKey = new Map<string, StoredCapacityProvider>();
  readonly #upsert: StatementSync;

  constructor(db: DatabaseSync) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS capacity_providers (
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        status TEXT NOT NULL,
        doc TEXT NOT NULL,
        PRIMARY KEY (region, name)
      );
    `);
    this.#upsert = db.prepare(`INSERT INTO capacity_providers (region, name, status, doc) VALUES (?, ?, ?, ?)
      ON CONFLICT (region, name) DO UPDATE SET status = excluded.status, doc = excluded.doc`);
    for (const row of db.prepare("SELECT region, doc FROM capacity_providers").all()) {
      const provider = JSON.parse(String(row["doc"])) as CapacityProvider;
      this.#byKey.set(key(String(row["region"]), provider.name!), Object.freeze({ region: String(row["region"]), provider }));
    }
  }

  /** Any status; undefined for unknown names (and for the built-ins, which are never stored). */
  get(region: string, name: string): CapacityProvider | undefined {
    return this.#byKey.get(key(region, name))?.provider;
  }

  /** Providers of a region in name order. */
  list(region: string): CapacityProvider[] {
    return [...this.#byKey.values()]
      .filter((s) => s.region === region)
      .map((s) => s.provider)
      .sort((a, b) => (a.name! < b.name! ? -1 : a.name! > b.name! ? 1 : 0));
  }

  save(region: string, provider: CapacityProvider): CapacityProvider {
    const { tags: _tags, ...doc } = provider;
    const json = JSON.stringify(doc);
    this.#upsert.run(region, doc.name!, doc.status ?? "ACTIVE", json);
    const stored = JSON.parse(json) as CapacityProvider;
    this.#byKey.set(key(region, doc.name!), Object.freeze({ region, provider: stored }));
    return stored;
  }
}

function key(region: string, name: string): string {
  return `${region}\u0000${name}`;
}
