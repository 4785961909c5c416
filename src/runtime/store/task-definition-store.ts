import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { Tag, TaskDefinition, TaskDefinitionFamilyStatus, TaskDefinitionStatus } from "../../../generated/shapes.ts";
import { deserializeTaskDefinition, serializeTaskDefinition } from "../../../generated/serde.ts";
import { parseEcsArn } from "../arns.ts";
import { transaction } from "../database.ts";
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

export class TaskDefinitionStore {
  readonly #db: DatabaseSync;
  readonly #tags: TagStore;
  readonly #byArn: StatementSync;
  readonly #byRevision: StatementSync;
  readonly #latestActive: StatementSync;
  readonly #cachedByArn: StatementSync;
  readonly #lastRevision: StatementSync;
  readonly #bumpRevision: StatementSync;
  readonly #insert: StatementSync;
  readonly #update: StatementSync;
  readonly #cache: StatementSync;

  constructor(db: DatabaseSync, tags: TagStore) {
    this.#db = db;
    this.#tags = tags;
    db.exec(`
      CREATE TABLE IF NOT EXISTS task_definition_families (
        family TEXT PRIMARY KEY,
        last_revision INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS task_definitions (
        arn TEXT PRIMARY KEY,
        family TEXT NOT NULL,
        revision INTEGER NOT NULL,
        status TEXT NOT NULL,
        doc TEXT NOT NULL,
        UNIQUE (family, revision)
      );
      CREATE INDEX IF NOT EXISTS task_definitions_status ON task_definitions (status, family, revision);
      CREATE TABLE IF NOT EXISTS upstream_task_definitions (
        arn TEXT PRIMARY KEY,
        doc TEXT NOT NULL,
        fetched_at REAL NOT NULL
      );
    `);
    this.#byArn = db.prepare("SELECT doc FROM task_definitions WHERE arn = ?");
    this.#byRevision = db.prepare("SELECT doc FROM task_definitions WHERE family = ? AND revision = ?");
    this.#latestActive = db.prepare(
      "SELECT doc FROM task_definitions WHERE family = ? AND status = 'ACTIVE' ORDER BY revision DESC LIMIT 1",
    );
    this.#cachedByArn = db.prepare("SELECT doc FROM upstream_task_definitions WHERE arn = ?");
    this.#lastRevision = db.prepare("SELECT last_revision FROM task_definition_families WHERE family = ?");
    this.#bumpRevision = db.prepare(`INSERT INTO task_definition_families (family, last_revision) VALUES (?, 1)
      ON CONFLICT (family) DO UPDATE SET last_revision = last_revision + 1 RETURNING last_revision`);
    this.#insert = db.prepare("INSERT INTO task_definitions (arn, family, revision, status, doc) VALUES (?, ?, ?, ?, ?)");
    this.#update = db.prepare("UPDATE task_definitions SET status = ?, doc = ? WHERE arn = ?");
    this.#cache = db.prepare(`INSERT INTO upstream_task_definitions (arn, doc, fetched_at) VALUES (?, ?, ?)
      ON CONFLICT (arn) DO UPDATE SET doc = excluded.doc, fetched_at = excluded.fetched_at`);
  }

  /**
   * Allocates the family's next revision and stores what `build` makes of it, in one transaction, so a
   * failed build (validation) leaves neither a revision gap nor a row.
   */
  register(family: string, build: (revision: number) => TaskDefinition, tags: readonly Tag[] = []): TaskDefinition {
    return transaction(this.#db, () => {
      const row = this.#bumpRevision.get(family);
      const revision = Number(row?.["last_revision"]);
      const td = build(revision);
      const arn = td.taskDefinitionArn;
      if (arn === undefined || td.family !== family || td.revision !== revision) {
        throw new Error("task definition does not match the allocated family/revision");
      }
      this.#insert.run(arn, family, revision, td.status ?? "ACTIVE", encode(td));
      if (tags.length > 0) this.#tags.put(arn, tags);
      return td;
    });
  }

  /** The last revision number ever allocated to the family (0 if none). */
  lastRevision(family: string): number {
    return Number(this.#lastRevision.get(family)?.["last_revision"] ?? 0);
  }

  /**
   * `family` → latest ACTIVE revision; `family:revision` or a full ARN → that revision whatever its
   * status (callers decide whether INACTIVE is acceptable). A full ARN also finds upstream definitions
   * cached by `cacheUpstream`.
   */
  resolve(ref: string): TaskDefinition | undefined {
    const parsed = parseTaskDefinitionRef(ref);
    if (parsed === undefined) return undefined;
    if (parsed.arn !== undefined) {
      const local = this.#byArn.get(parsed.arn);
      if (local !== undefined) return decode(local["doc"]);
      const cached = this.#cachedByArn.get(parsed.arn);
      return cached === undefined ? undefined : decode(cached["doc"]);
    }
    if (parsed.revision !== undefined) {
      const row = this.#byRevision.get(parsed.family, parsed.revision);
      return row === undefined ? undefined : decode(row["doc"]);
    }
    const row = this.#latestActive.get(parsed.family);
    return row === undefined ? undefined : decode(row["doc"]);
  }

  /** Only definitions registered here (not the upstream cache). */
  isLocal(arn: string): boolean {
    return this.#byArn.get(arn) !== undefined;
  }

  list(query: TaskDefinitionListQuery): TaskDefinitionListEntry[] {
    const where: string[] = ["status = ?"];
    const params: Array<string | number> = [query.status];
    if (query.family !== undefined) {
      where.push("family = ?");
      params.push(query.family);
    }
    if (query.after !== undefined) {
      where.push(query.sort === "ASC" ? "(family, revision) > (?, ?)" : "(family, revision) < (?, ?)");
      params.push(query.after.family, query.after.revision);
    }
    const dir = query.sort === "ASC" ? "ASC" : "DESC";
    const rows = this.#db
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
    const where: string[] = [];
    const params: Array<string | number> = [];
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
    const rows = this.#db
      .prepare(
        `SELECT family FROM task_definitions ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
         GROUP BY family ${having} ORDER BY family LIMIT ?`,
      )
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
    this.#cache.run(td.taskDefinitionArn, encode(td), fetchedAt.getTime() / 1000);
  }

  #transition(arn: string, change: (td: TaskDefinition) => TaskDefinition | undefined): TaskDefinition | undefined {
    return transaction(this.#db, () => {
      const row = this.#byArn.get(arn);
      if (row === undefined) return undefined;
      const current = decode(row["doc"]);
      const next = change(current);
      if (next === undefined) return current;
      this.#update.run(next.status ?? "ACTIVE", encode(next), arn);
      return next;
    });
  }
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
