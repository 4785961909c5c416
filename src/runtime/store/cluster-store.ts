import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { Cluster, ClusterSetting } from "../../../generated/shapes.ts";
import { ClusterNotFoundException } from "../../../generated/errors.ts";
import { regionOf, type Arns } from "../arns.ts";
import { addRegionColumn, transaction } from "../database.ts";

/**
 * Clusters by region and name. Stored documents hold what the cluster *is* (ARN, name, status, settings,
 * configuration, capacity providers); counts, statistics and tags are computed by the operations when
 * they answer, so they are never stale.
 *
 * A store is a view of one region (`inRegion` gives the others); every region has its own clusters.
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

/** What every region's view shares: the table, its statements and the in-memory copy. */
interface ClusterTable {
  db: DatabaseSync;
  /** region → name → the stored document, exactly as a read from SQLite would return it (JSON round trip). */
  byRegion: Map<string, Map<string, Cluster>>;
  upsert: StatementSync;
  list: StatementSync;
  listAfter: StatementSync;
  views: Map<string, ClusterStore>;
}

export class ClusterStore {
  /** The region this view reads and writes (clusters are regional: each region has its own `default`). */
  readonly region: string;
  readonly #table: ClusterTable;
  readonly #arns: Arns;
  readonly #defaultSettings: (region: string) => ClusterSetting[];

  /**
   * A store for `arns.region` (the configured region); `inRegion` gives the others.
   * @param defaultSettings settings a new cluster gets when its creator gives none (real ECS takes
   *   containerInsights from the region's account setting); defaults to containerInsights=disabled.
   */
  constructor(db: DatabaseSync, arns: Arns, defaultSettings?: (region: string) => ClusterSetting[]);
  constructor(db: DatabaseSync, arns: Arns, defaultSettings: ((region: string) => ClusterSetting[]) | undefined, table: ClusterTable);
  constructor(db: DatabaseSync, arns: Arns, defaultSettings?: (region: string) => ClusterSetting[], table?: ClusterTable) {
    this.region = arns.region;
    this.#arns = arns;
    this.#defaultSettings = defaultSettings ?? (() => [{ name: "containerInsights", value: "disabled" }]);
    this.#table = table ?? openClusterTable(db, arns.region);
    this.#table.views.set(this.region, this);
  }

  /** The same store for another region (shares the table and its in-memory copy). */
  inRegion(region: string): ClusterStore {
    return this.#table.views.get(region) ?? new ClusterStore(this.#table.db, this.#arns.inRegion(region), this.#defaultSettings, this.#table);
  }

  /**
   * Any status (INACTIVE clusters stay discoverable, as in real ECS). Does not create `default`. A cluster
   * ARN of another region, account or partition finds nothing; an identifier that is no cluster at all
   * throws what real ECS answers (see Arns.resolve).
   */
  get(nameOrArn: string): Cluster | undefined {
    const ref = this.#arns.resolve(nameOrArn, "cluster");
    return ref.kind === "here" ? this.#byName().get(ref.id) : undefined;
  }

  /** The ACTIVE default cluster, created (or re-activated) when needed. */
  ensureDefault(): Cluster {
    const current = this.get(DEFAULT_CLUSTER_NAME);
    if (current?.status === "ACTIVE") return current;
    return transaction(this.#table.db, () => {
      const existing = this.get(DEFAULT_CLUSTER_NAME);
      if (existing?.status === "ACTIVE") return existing;
      return this.save(this.newCluster(DEFAULT_CLUSTER_NAME));
    });
  }

  /**
   * The ACTIVE cluster a request names; none or "default" means the default cluster (created on first
   * use). Throws ClusterNotFoundException for unknown and deleted clusters, and for clusters of other
   * regions or accounts.
   */
  require(nameOrArn: string | undefined): Cluster {
    if (nameOrArn === undefined || nameOrArn === "") return this.ensureDefault();
    const ref = this.#arns.resolve(nameOrArn, "cluster");
    if (ref.kind === "elsewhere") throw new ClusterNotFoundException("Cluster not found.");
    if (ref.id === DEFAULT_CLUSTER_NAME) return this.ensureDefault();
    const cluster = this.#byName().get(ref.id);
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
      settings: this.#defaultSettings(this.region),
      capacityProviders: [],
      defaultCapacityProviderStrategy: [],
    };
  }

  /** Inserts or replaces the cluster document (keyed by this region and its name). */
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
    this.#table.upsert.run(this.region, name, cluster.clusterArn, cluster.status ?? "ACTIVE", json);
    // What a read from SQLite would give (undefined members dropped, nothing shared with the caller).
    const stored = deepFreeze(JSON.parse(json) as Cluster);
    this.#byName().set(name, stored);
    return stored;
  }

  /** ACTIVE clusters of this region in name order. */
  list(query: ClusterListQuery): Cluster[] {
    const rows =
      query.after === undefined
        ? this.#table.list.all(this.region, query.limit)
        : this.#table.listAfter.all(this.region, query.after, query.limit);
    return rows.map((row) => JSON.parse(String(row["doc"])) as Cluster);
  }

  #byName(): Map<string, Cluster> {
    let names = this.#table.byRegion.get(this.region);
    if (names === undefined) this.#table.byRegion.set(this.region, (names = new Map()));
    return names;
  }
}

function createClustersTable(db: DatabaseSync): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS clusters (
      region TEXT NOT NULL,
      name TEXT NOT NULL,
      arn TEXT NOT NULL UNIQUE,
      status TEXT NOT NULL,
      doc TEXT NOT NULL,
      PRIMARY KEY (region, name)
    );
  `);
}

/**
 * Opens the clusters table. A database written before clusters were regional keyed them by name alone:
 * each row moves to the region its ARN names (the configured region when it names none).
 */
function openClusterTable(db: DatabaseSync, configuredRegion: string): ClusterTable {
  addRegionColumn(db, "clusters", () => createClustersTable(db), (row) => regionOf(String(row["arn"])) ?? configuredRegion);
  createClustersTable(db);
  const table: ClusterTable = {
    db,
    byRegion: new Map(),
    upsert: db.prepare(`INSERT INTO clusters (region, name, arn, status, doc) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (region, name) DO UPDATE SET arn = excluded.arn, status = excluded.status, doc = excluded.doc`),
    list: db.prepare("SELECT doc FROM clusters WHERE region = ? AND status = 'ACTIVE' ORDER BY name LIMIT ?"),
    listAfter: db.prepare("SELECT doc FROM clusters WHERE region = ? AND status = 'ACTIVE' AND name > ? ORDER BY name LIMIT ?"),
    views: new Map(),
  };
  for (const row of db.prepare("SELECT region, name, doc FROM clusters").all()) {
    const region = String(row["region"]);
    let names = table.byRegion.get(region);
    if (names === undefined) table.byRegion.set(region, (names = new Map()));
    names.set(String(row["name"]), deepFreeze(JSON.parse(String(row["doc"])) as Cluster));
  }
  return table;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}
