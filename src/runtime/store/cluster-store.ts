import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { Cluster, ClusterSetting } from "../../../generated/shapes.ts";
import { ClusterNotFoundException } from "../../../generated/errors.ts";
import { clusterNameOf, type Arns } from "../arns.ts";
import { transaction } from "../database.ts";

/**
 * Clusters by name. Stored documents hold what the cluster *is* (ARN, name, status, settings,
 * configuration, capacity providers); counts, statistics and tags are computed by the operations when
 * they answer, so they are never stale.
 *
 * The `default` cluster exists on first use: `require(undefined | "default")` and `ensureDefault()`
 * create it (or bring a deleted one back) like real ECS does for a first RunTask/CreateService.
 *
 * Every task request looks its cluster up, so lookups read an in-memory copy of the table (loaded
 * once, written through on every save); only `list` still queries SQLite. The copies handed out are
 * frozen and shared: build a new document (`{ ...cluster, … }`) and `save` it to change one.
 */
export interface ClusterListQuery {
  /** Keyset cursor: the last cluster name of the previous page. */
  after?: string | undefined;
  limit: number;
}

export const DEFAULT_CLUSTER_NAME = "default";

export class ClusterStore {
  readonly #db: DatabaseSync;
  readonly #arns: Arns;
  readonly #defaultSettings: () => ClusterSetting[];
  /** name → the stored document, exactly as a read from SQLite would return it (JSON round trip). */
  readonly #byName = new Map<string, Cluster>();
  readonly #upsert: StatementSync;
  readonly #list: StatementSync;
  readonly #listAfter: StatementSync;

  /**
   * @param defaultSettings settings a new cluster gets when its creator gives none (real ECS takes
   *   containerInsights from the account setting); defaults to containerInsights=disabled.
   */
  constructor(db: DatabaseSync, arns: Arns, defaultSettings?: () => ClusterSetting[]) {
    this.#db = db;
    this.#arns = arns;
    this.#defaultSettings = defaultSettings ?? (() => [{ name: "containerInsights", value: "disabled" }]);
    db.exec(`
      CREATE TABLE IF NOT EXISTS clusters (
        name TEXT PRIMARY KEY,
        arn TEXT NOT NULL UNIQUE,
        status TEXT NOT NULL,
        doc TEXT NOT NULL
      );
    `);
    this.#upsert = db.prepare(`INSERT INTO clusters (name, arn, status, doc) VALUES (?, ?, ?, ?)
      ON CONFLICT (name) DO UPDATE SET arn = excluded.arn, status = excluded.status, doc = excluded.doc`);
    this.#list = db.prepare("SELECT doc FROM clusters WHERE status = 'ACTIVE' ORDER BY name LIMIT ?");
    this.#listAfter = db.prepare("SELECT doc FROM clusters WHERE status = 'ACTIVE' AND name > ? ORDER BY name LIMIT ?");
    for (const row of db.prepare("SELECT name, doc FROM clusters").all()) {
      this.#byName.set(String(row["name"]), deepFreeze(JSON.parse(String(row["doc"])) as Cluster));
    }
  }

  /** Any status (INACTIVE clusters stay discoverable, as in real ECS). Does not create `default`. */
  get(nameOrArn: string): Cluster | undefined {
    return this.#byName.get(clusterNameOf(nameOrArn));
  }

  /** The ACTIVE default cluster, created (or re-activated) when needed. */
  ensureDefault(): Cluster {
    const current = this.get(DEFAULT_CLUSTER_NAME);
    if (current?.status === "ACTIVE") return current;
    return transaction(this.#db, () => {
      const existing = this.get(DEFAULT_CLUSTER_NAME);
      if (existing?.status === "ACTIVE") return existing;
      return this.save(this.newCluster(DEFAULT_CLUSTER_NAME));
    });
  }

  /**
   * The ACTIVE cluster a request names; none or "default" means the default cluster (created on first
   * use). Throws ClusterNotFoundException for unknown and deleted clusters.
   */
  require(nameOrArn: string | undefined): Cluster {
    const name = clusterNameOf(nameOrArn);
    if (name === DEFAULT_CLUSTER_NAME) return this.ensureDefault();
    const cluster = this.get(name);
    if (cluster === undefined) throw new ClusterNotFoundException("Cluster not found.");
    if (cluster.status !== "ACTIVE") throw new ClusterNotFoundException("The referenced cluster was inactive.");
    return cluster;
  }

  /** A fresh ACTIVE cluster document (not stored). */
  newCluster(name: string): Cluster {
    return {
      clusterArn: this.#arns.cluster(name),
      clusterName: name,
      status: "ACTIVE",
      settings: this.#defaultSettings(),
      capacityProviders: [],
      defaultCapacityProviderStrategy: [],
    };
  }

  /** Inserts or replaces the cluster document (keyed by its name). */
  save(cluster: Cluster): Cluster {
    const name = cluster.clusterName;
    if (name === undefined || cluster.clusterArn === undefined) throw new Error("cluster without name or ARN");
    const doc: Cluster = { ...cluster };
    // Derived at read time; never persisted.
    for (const key of [
      "registeredContainerInstancesCount",
      "runningTasksCount",
      "pendingTasksCount",
      "activeServicesCount",
      "statistics",
      "tags",
    ] as const) {
      delete doc[key];
    }
    const json = JSON.stringify(doc);
    this.#upsert.run(name, cluster.clusterArn, cluster.status ?? "ACTIVE", json);
    // What a read from SQLite would give (undefined members dropped, nothing shared with the caller).
    const stored = deepFreeze(JSON.parse(json) as Cluster);
    this.#byName.set(name, stored);
    return stored;
  }

  /** ACTIVE clusters in name order. */
  list(query: ClusterListQuery): Cluster[] {
    const rows = query.after === undefined ? this.#list.all(query.limit) : this.#listAfter.all(query.after, query.limit);
    return rows.map((row) => JSON.parse(String(row["doc"])) as Cluster);
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}
