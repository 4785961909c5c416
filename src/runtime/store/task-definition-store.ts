import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { Tag, TaskDefinition, TaskDefinitionFamilyStatus, TaskDefinitionStatus } from "../../../generated/shapes.ts";
import { deserializeTaskDefinition, serializeTaskDefinition } from "../../../generated/serde.ts";
import { parseEcsArn, regionOf } from "../arns.ts";
import { DEFAULT_REGION } from "../config.ts";
import { addRegionColumn, columnsOf, rebuildTable, transaction } from "../database.ts";
import type { TagStore } from "./tag-store.ts";

/**
 * Task definition revisions registered here, plus a cache of definitions fetched from the upstream ECS.
 *
 * Revisions count per family from 1 and are never reused, even after DeleteTaskDefinitions: the family's
 * last revision lives in its own table. Upstream definitions are kept exactly as fetched, keyed by their
 * ARN only, so they never take a local revision number nor show up in local listings; `resolve(arn)`
 * still finds them (the task engine looks definitions up again by a task's taskDefinitionArn).
 */
export interface TaskDefinitionListQuery {
  /** Exact family (ListTaskDefinitions' "familyPrefix" is the full family name). */
  family?: string | undefined;
  status: TaskDefinitionStatus;
  sort: "ASC" | "DESC";
  /** Keyset cursor: the last entry of the previous page. */
  after?: TaskDefinitionKey | undefined;
  limit: number;
}

export interface TaskDefinitionKey {
  family: string;
  revision: number;
}

export interface TaskDefinitionListEntry extends TaskDefinitionKey {
  arn: string;
}

export interface FamilyListQuery {
  familyPrefix?: string | undefined;
  status: TaskDefinitionFamilyStatus;
  after?: string | undefined;
  limit: number;
}

interface TaskDefinitionTables {
  db: DatabaseSync;
  byArn: StatementSync;
  byRevision: StatementSync;
  latestActive: StatementSync;
  cachedByArn: StatementSync;
  lastRevision: StatementSync;
  bumpRevision: StatementSync;
  insert: StatementSync;
  update: StatementSync;
  cache: StatementSync;
  views: Map<string, TaskDefinitionStore>;
}

/**
 * Task definitions are regional: a store is one region's view (families, revisions and listings of that
 * region only; `inRegion` gives the others). Upstream definitions are cached by ARN for every region.
 */
export class TaskDefinitionStore {
  readonly region: string;
  readonly #tags: TagStore;
  readonly #t: TaskDefinitionTables;

  /** A store for `region` (default: the configured region, us-east-1 unless configured). */
  constructor(db: DatabaseSync, tags: TagStore, region?: string);
  constructor(db: DatabaseSync, tags: TagStore, region: string, tables: TaskDefinitionTables);
  constructor(db: DatabaseSync, tags: TagStore, region = DEFAULT_REGION, tables?: TaskDefinitionTables) {
    this.region = region;
    this.#tags = tags;
    this.#t = tables ?? openTaskDefinitionTables(db, region);
    this.#t.views.set(region, this);
  }

  /** The same store for another region. */
  inRegion(region: string): TaskDefinitionStore {
    return this.#t.views.get(region) ?? new TaskDefinitionStore(this.#t.db, this.#tags, region, this.#t);
  }

  /**
   * Allocates the family's next revision and stores what `build` makes of it, in one transaction, so a
   * failed build (validation) leaves neither a revision gap nor a row.
   */
  register(family: string, build: (revision: number) => TaskDefinition, tags: readonly Tag[] = []): TaskDefinition {
    return transaction(this.#t.db, () => {
      const row = this.#t.bumpRevision.get(this.region, family);
      const revision = Number(row?.["last_revision"]);
      const td = build(revision);
      const arn = td.taskDefinitionArn;
      if (arn === undefined || td.family !== family || td.revision !== revision) {
        throw new Error("task definition does not match the allocated family/revision");
      }
      this.#t.insert.run(arn, this.region, family, revision, td.status ?? "ACTIVE", encode(td));
      if (tags.length > 0) this.#tags.put(arn, tags);
      return td;
    });
  }

  /** The last revision number ever allocated to the family (0 if none). */
  lastRevision(family: string): number {
    return Number(this.#t.lastRevision.get(this.region, family)?.["last_revision"] ?? 0);
  }

  /**
   * `family` → latest ACTIVE revision; `family:revision` or a full ARN → that revision whatever its
   * status (callers decide whether INACTIVE is acceptable). A full ARN also finds upstream definitions
   * cached by `cacheUpstream`; a local ARN of another region finds nothing.
   */
  resolve(ref: string): TaskDefinition | undefined {
    const parsed = parseTaskDefinitionRef(ref);
    if (parsed === undefined) return undefined;
    if (parsed.arn !== undefined) {
      const local = this.#t.byArn.get(parsed.arn, this.region);
      if (local !== undefined) return decode(local["doc"]);
      const cached = this.#t.cachedByArn.get(parsed.arn);
      return cached === undefined ? undefined : decode(cached["doc"]);
    }
    if (parsed.revision !== undefined) {
      const row = this.#t.byRevision.get(this.region, parsed.family, parsed.revision);
      return row === undefined ? undefined : decode(row["doc"]);
    }
    const row = this.#t.latestActive.get(this.region, parsed.family);
    return row === undefined ? undefined : decode(row["doc"]);
  }

  /** Only definitions registered here, in this region (not the upstream cache). */
  isLocal(arn: string): boolean {
    return this.#t.byArn.get(arn, this.region) !== undefined;
  }

  list(query: TaskDefinitionListQuery): TaskDefinitionListEntry[] {
    const where: string[] = ["region = ?", "status = ?"];
    const params: Array<string | number> = [this.region, query.status];
    if (query.family !== undefined) {
      where.push("family = ?");
      params.push(query.family);
    }
    if (query.after !== undefined) {
      where.push(query.sort === "ASC" ? "(family, revision) > (?, ?)" : "(family, revision) < (?, ?)");
      params.push(query.after.family, query.after.revision);
    }
    const dir = query.sort === "ASC" ? "ASC" : "DESC";
    const rows = this.#t.db
      .prepare(
        `SELECT arn, family, revision FROM task_definitions WHERE ${where.join(" AND ")}
         ORDER BY family ${dir}, revision ${dir} LIMIT ?`,
      )
      .all(...params, query.limit);
    return rows.map((r) => ({ arn: r["arn"] as string, family: r["family"] as string, revision: Number(r["revision"]) }));
  }

  /**
   * Families in name order. ACTIVE: with at least one ACTIVE revision; INACTIVE: with revisions but none
   * ACTIVE; ALL: every family that still has a stored revision (fully deleted families disappear).
   */
  families(query: FamilyListQuery): string[] {
    const where: string[] = ["region = ?"];
    const params: Array<string | number> = [this.region];
    if (query.familyPrefix !== undefined && query.familyPrefix !== "") {
      where.push("substr(family, 1, ?) = ?");
      params.push(query.familyPrefix.length, query.familyPrefix);
    }
    if (query.after !== undefined) {
      where.push("family > ?");
      params.push(query.after);
    }
    const having =
      query.status === "ACTIVE"
        ? "HAVING SUM(status = 'ACTIVE') > 0"
        : query.status === "INACTIVE"
          ? "HAVING SUM(status = 'ACTIVE') = 0"
          : "";
    const rows = this.#t.db
      .prepare(`SELECT family FROM task_definitions WHERE ${where.join(" AND ")} GROUP BY family ${having} ORDER BY family LIMIT ?`)
      .all(...params, query.limit);
    return rows.map((r) => r["family"] as string);
  }

  /** ACTIVE → INACTIVE with deregisteredAt; other statuses are returned unchanged. */
  deregister(arn: string, at: Date): TaskDefinition | undefined {
    return this.#transition(arn, (td) => {
      if (td.status !== "ACTIVE") return undefined;
      return { ...td, status: "INACTIVE", deregisteredAt: at };
    });
  }

  /** INACTIVE → DELETE_IN_PROGRESS with deleteRequestedAt; other statuses are returned unchanged. */
  markDeleteInProgress(arn: string, at: Date): TaskDefinition | undefined {
    return this.#transition(arn, (td) => {
      if (td.status !== "INACTIVE") return undefined;
      return { ...td, status: "DELETE_IN_PROGRESS", deleteRequestedAt: at };
    });
  }

  tagsOf(arn: string): Tag[] {
    return this.#tags.get(arn);
  }

  /** Keeps an upstream definition as fetched, keyed by its own ARN. */
  cacheUpstream(td: TaskDefinition, fetchedAt: Date): void {
    if (td.taskDefinitionArn === undefined) return;
    this.#t.cache.run(td.taskDefinitionArn, encode(td), fetchedAt.getTime() / 1000);
  }

  #transition(arn: string, change: (td: TaskDefinition) => TaskDefinition | undefined): TaskDefinition | undefined {
    return transaction(this.#t.db, () => {
      const row = this.#t.byArn.get(arn, this.region);
      if (row === undefined) return undefined;
      const current = decode(row["doc"]);
      const next = change(current);
      if (next === undefined) return current;
      this.#t.update.run(next.status ?? "ACTIVE", encode(next), arn);
      return next;
    });
  }
}

function createTaskDefinitionTables(db: DatabaseSync): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS task_definition_families (
      region TEXT NOT NULL,
      family TEXT NOT NULL,
      last_revision INTEGER NOT NULL,
      PRIMARY KEY (region, family)
    );
    CREATE TABLE IF NOT EXISTS task_definitions (
      arn TEXT PRIMARY KEY,
      region TEXT NOT NULL,
      family TEXT NOT NULL,
      revision INTEGER NOT NULL,
      status TEXT NOT NULL,
      doc TEXT NOT NULL,
      UNIQUE (region, family, revision)
    );
    CREATE TABLE IF NOT EXISTS upstream_task_definitions (
      arn TEXT PRIMARY KEY,
      doc TEXT NOT NULL,
      fetched_at REAL NOT NULL
    );
  `);
}

/**
 * Opens the tables. A database written before task definitions were regional keyed families by name
 * alone: each revision moves to the region its ARN names, and each family's revision counter to every
 * region holding one of its revisions (the configured region when none does), so no number is reused.
 */
function openTaskDefinitionTables(db: DatabaseSync, configuredRegion: string): TaskDefinitionTables {
  transaction(db, () => {
    const regionsOfFamily = new Map<string, Set<string>>();
    const migrated = addRegionColumn(db, "task_definitions", () => createTaskDefinitionTables(db), (row) => {
      const region = regionOf(String(row["arn"])) ?? configuredRegion;
      const family = String(row["family"]);
      let regions = regionsOfFamily.get(family);
      if (regions === undefined) regionsOfFamily.set(family, (regions = new Set()));
      regions.add(region);
      return region;
    });
    if (!migrated || columnsOf(db, "task_definition_families").includes("region")) return;
    rebuildTable(
      db,
      "task_definition_families",
      () => createTaskDefinitionTables(db),
      (rows) => {
        const insert = db.prepare("INSERT INTO task_definition_families (region, family, last_revision) VALUES (?, ?, ?)");
        for (const r of rows) {
          const family = String(r["family"]);
          for (const region of regionsOfFamily.get(family) ?? [configuredRegion]) insert.run(region, family, Number(r["last_revision"]));
        }
      },
    );
  });
  createTaskDefinitionTables(db);
  db.exec("CREATE INDEX IF NOT EXISTS task_definitions_by_status ON task_definitions (region, status, family, revision)");
  return {
    db,
    byArn: db.prepare("SELECT doc FROM task_definitions WHERE arn = ? AND region = ?"),
    byRevision: db.prepare("SELECT doc FROM task_definitions WHERE region = ? AND family = ? AND revision = ?"),
    latestActive: db.prepare(
      "SELECT doc FROM task_definitions WHERE region = ? AND family = ? AND status = 'ACTIVE' ORDER BY revision DESC LIMIT 1",
    ),
    cachedByArn: db.prepare("SELECT doc FROM upstream_task_definitions WHERE arn = ?"),
    lastRevision: db.prepare("SELECT last_revision FROM task_definition_families WHERE region = ? AND family = ?"),
    bumpRevision: db.prepare(`INSERT INTO task_definition_families (region, family, last_revision) VALUES (?, ?, 1)
      ON CONFLICT (region, family) DO UPDATE SET last_revision = last_revision + 1 RETURNING last_revision`),
    insert: db.prepare("INSERT INTO task_definitions (arn, region, family, revision, status, doc) VALUES (?, ?, ?, ?, ?, ?)"),
    update: db.prepare("UPDATE task_definitions SET status = ?, doc = ? WHERE arn = ?"),
    cache: db.prepare(`INSERT INTO upstream_task_definitions (arn, doc, fetched_at) VALUES (?, ?, ?)
      ON CONFLICT (arn) DO UPDATE SET doc = excluded.doc, fetched_at = excluded.fetched_at`),
    views: new Map(),
  };
}

export interface TaskDefinitionRef {
  family: string;
  revision?: number | undefined;
  /** Set when the reference was a full ARN. */
  arn?: string | undefined;
}

/**
 * Parses `family`, `family:revision` or `arn:…:task-definition/family:revision`. Undefined for anything
 * else (a non-numeric revision, an ARN of another resource type, an ARN without a revision).
 */
export function parseTaskDefinitionRef(ref: string): TaskDefinitionRef | undefined {
  if (ref.startsWith("arn:")) {
    const arn = parseEcsArn(ref);
    if (arn === undefined || arn.resourceType !== "task-definition") return undefined;
    const inner = parseFamilyRevision(arn.resource);
    if (inner?.revision === undefined) return undefined;
    return { ...inner, arn: ref };
  }
  return parseFamilyRevision(ref);
}

function parseFamilyRevision(value: string): TaskDefinitionRef | undefined {
  const m = /^([A-Za-z0-9_-]{1,255})(?::(\d+))?$/.exec(value);
  if (m === null) return undefined;
  return m[2] === undefined ? { family: m[1]! } : { family: m[1]!, revision: Number(m[2]) };
}

function encode(td: TaskDefinition): string {
  return JSON.stringify(serializeTaskDefinition(td));
}

function decode(doc: unknown): TaskDefinition {
  return deserializeTaskDefinition(JSON.parse(String(doc)), "taskDefinition");
}
