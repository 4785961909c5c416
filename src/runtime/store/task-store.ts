import { randomBytes } from "node:crypto";
import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { Task } from "../../../generated/shapes.ts";
import { deserializeTask, serializeTask } from "../../../generated/serde.ts";
import { familyOf } from "../arns.ts";
import { transaction } from "../database.ts";

/**
 * Tasks: an in-memory map is the read path (DescribeTasks/ListTasks never touch Docker or SQLite);
 * every change is written through to SQLite as wire JSON plus indexed columns, so a restarted
 * server sees the same tasks. The engine's private bookkeeping (container ids, networks …) rides
 * along in `runtime` as opaque JSON.
 */
export interface TaskListFilter {
  clusterArn: string;
  family?: string | undefined;
  startedBy?: string | undefined;
  /** Matches `group` "service:<name>" (how services tag their tasks). */
  serviceName?: string | undefined;
  /** Matches `group` "daemon:<name>" (how daemons tag their tasks). */
  daemonName?: string | undefined;
  /** RUNNING (the default in ListTasks) matches every task whose desiredStatus is RUNNING. */
  desiredStatus?: string | undefined;
  launchType?: string | undefined;
  containerInstanceArn?: string | undefined;
}

export interface TaskCounts {
  running: number;
  pending: number;
  /** The same counts per launch type (tasks without one count as EC2). */
  byLaunchType: Record<string, { running: number; pending: number }>;
}

export interface ClientTokenRecord {
  clusterArn: string;
  clientToken: string;
  /** Fingerprint of the request parameters. */
  fingerprint: string;
  taskArns: string[];
  createdAt: Date;
}

/** One page of a filtered list, in list order. */
export interface TaskPage {
  tasks: Task[];
  /** More matching tasks follow the page. */
  more: boolean;
}

/** One page of task ARNs (what ListTasks answers); cached and shared, so frozen. */
export interface ArnPage {
  readonly taskArns: readonly string[];
  /** More matching tasks follow the page. */
  readonly more: boolean;
}

/** The tasks of one cluster with one desiredStatus, in store order, plus the pages served from them. */
interface Bucket {
  readonly entries: Entry[];
  /**
   * ArnPages by filter/offset/limit; cleared whenever an entry joins, leaves or is put again (its
   * filtered fields may have changed), so a cached page is always what a fresh scan would give.
   */
  readonly pages: Map<string, ArnPage>;
}

/** Pages kept per bucket before the cache starts over (a client paging through many offsets). */
const MAX_CACHED_PAGES = 64;

/**
 * A stored task. The record object lives as long as the task (a put updates it in place), so the
 * list indexes can hold it; `seq` is its position in the store's order (first put, or load order).
 *
 * Memory per task is what a server with thousands of stopped tasks is made of, so each entry keeps one
 * copy of each thing: the frozen snapshot and its wire JSON once (text until first sent, then only its
 * UTF-8 bytes). The engine's bookkeeping is read back from SQLite when asked for (at engine start, and
 * for tasks the engine no longer works on). After a restart an entry is only its indexed fields, from
 * SQLite's columns, until the task is first read: loading 10,000 tasks reads no document.
 */
interface Entry {
  readonly seq: number;
  readonly arn: string;
  /** The frozen snapshot; undefined after a load until first read (then made from the stored doc). */
  task: Task | undefined;
  /**
   * Wire JSON of `task` (serializeTask, stringified): the text written to SQLite at put, replaced by its
   * UTF-8 bytes the first time it is sent (never both); undefined until first needed after a load.
   */
  wire: string | Buffer | undefined;
  /** What lists, counts and purges look at, so they never need the snapshot. */
  fields: IndexedFields;
  /** The index bucket holding the entry (its cluster and desiredStatus at the last put). */
  bucket: Bucket;
}

interface IndexedFields {
  clusterArn: string | undefined;
  desiredStatus: string | undefined;
  lastStatus: string | undefined;
  launchType: string | undefined;
  startedBy: string | undefined;
  group: string | undefined;
  /** Epoch milliseconds. */
  stoppedAt: number | undefined;
  /** familyOf(taskDefinitionArn). */
  family: string;
}

function fieldsOf(task: Task): IndexedFields {
  return {
    clusterArn: task.clusterArn,
    desiredStatus: task.desiredStatus,
    lastStatus: task.lastStatus,
    launchType: task.launchType,
    startedBy: task.startedBy,
    group: task.group,
    stoppedAt: task.stoppedAt?.getTime(),
    family: familyOf(task.taskDefinitionArn),
  };
}

/** A row of `tasks` as #load reads it: the indexed columns put() writes from the same snapshot. */
interface LoadedRow {
  task_arn: string;
  cluster_arn: string;
  family: string;
  started_by: string | null;
  grp: string | null;
  desired_status: string;
  last_status: string;
  launch_type: string | null;
  stopped_at: number | null;
}

export class TaskStore {
  #db: DatabaseSync;
  #tasks = new Map<string, Entry>();
  /**
   * ListTasks index: clusterArn → desiredStatus → entries in store order, kept on every put/delete,
   * so a page costs the bucket, not a scan of every task.
   */
  #byCluster = new Map<string | undefined, Map<string | undefined, Bucket>>();
  #nextSeq = 0;
  #upsert: StatementSync;
  #delete: StatementSync;
  #selectDoc: StatementSync;
  #selectRuntime: StatementSync;

  constructor(db: DatabaseSync) {
    this.#db = db;
    db.exec(`
      CREATE TABLE IF NOT EXISTS tasks (
        task_arn TEXT PRIMARY KEY,
        cluster_arn TEXT NOT NULL,
        family TEXT NOT NULL,
        started_by TEXT,
        grp TEXT,
        desired_status TEXT NOT NULL,
        last_status TEXT NOT NULL,
        launch_type TEXT,
        created_at REAL NOT NULL,
        stopped_at REAL,
        client_token TEXT,
        doc TEXT NOT NULL,
        runtime TEXT
      );
      CREATE INDEX IF NOT EXISTS tasks_cluster ON tasks (cluster_arn, desired_status);
      CREATE INDEX IF NOT EXISTS tasks_stopped_at ON tasks (stopped_at);
      -- Covers #load (the indexed columns in store order): without it a restart reads every row's document
      -- pages (~4 KB a task) to get ~200 bytes of columns, ~100 ms of the path to listening at 10,000 tasks.
      CREATE INDEX IF NOT EXISTS tasks_load ON tasks (created_at, task_arn, cluster_arn, family, started_by, grp, desired_status, last_status, launch_type, stopped_at);
      CREATE TABLE IF NOT EXISTS task_client_tokens (
        cluster_arn TEXT NOT NULL,
        client_token TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        task_arns TEXT NOT NULL,
        created_at REAL NOT NULL,
        PRIMARY KEY (cluster_arn, client_token)
      );
      CREATE TABLE IF NOT EXISTS engine_instance (id TEXT NOT NULL);
    `);
    this.#upsert = db.prepare(`
      INSERT INTO tasks (task_arn, cluster_arn, family, started_by, grp, desired_status, last_status, launch_type,
                         created_at, stopped_at, client_token, doc, runtime)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (task_arn) DO UPDATE SET
        desired_status = excluded.desired_status, last_status = excluded.last_status,
        stopped_at = excluded.stopped_at, doc = excluded.doc, runtime = excluded.runtime`);
    this.#delete = db.prepare("DELETE FROM tasks WHERE task_arn = ?");
    this.#selectDoc = db.prepare("SELECT doc FROM tasks WHERE task_arn = ?");
    this.#selectRuntime = db.prepare("SELECT runtime FROM tasks WHERE task_arn = ?");
    this.#load();
  }

  /**
   * A random id that lives as long as this database, so a restarted emulator (even in a new container
   * with the same DATA_DIR volume) recognises what it left on a shared Docker daemon.
   */
  instanceId(): string {
    const row = this.#db.prepare("SELECT id FROM engine_instance LIMIT 1").get() as { id: string } | undefined;
    if (row !== undefined) return row.id;
    const id = randomBytes(8).toString("hex");
    this.#db.prepare("INSERT INTO engine_instance (id) VALUES (?)").run(id);
    return id;
  }

  #load(): void {
    const rows = this.#db
      .prepare(
        `SELECT task_arn, cluster_arn, family, started_by, grp, desired_status, last_status, launch_type, stopped_at
         FROM tasks ORDER BY created_at`,
      )
      .iterate() as Iterable<LoadedRow>;
    for (const row of rows) {
      // The indexed columns were written by put() from the same snapshot as the doc. The doc is read and
      // parsed when the task is first read; it is not reused as the wire JSON (an older version may have
      // written it).
      const fields: IndexedFields = {
        clusterArn: row.cluster_arn,
        desiredStatus: row.desired_status,
        lastStatus: row.last_status,
        launchType: row.launch_type ?? undefined,
        startedBy: row.started_by ?? undefined,
        group: row.grp ?? undefined,
        stoppedAt: row.stopped_at === null ? undefined : Math.round(row.stopped_at * 1000),
        family: row.family,
      };
      this.#set(row.task_arn, undefined, fields, undefined);
    }
  }

  /** The entry's snapshot, made from its stored document on first use. */
  #taskOf(entry: Entry): Task {
    if (entry.task === undefined) {
      const row = this.#selectDoc.get(entry.arn) as { doc: string } | undefined;
      if (row === undefined) throw new Error(`task ${entry.arn} is indexed but not stored`);
      entry.task = freeze(deserializeTask(JSON.parse(row.doc), "task"));
    }
    return entry.task;
  }

  /** Inserts or updates the entry in place (keeping its position) and moves it between index buckets. */
  #set(arn: string, task: Task | undefined, fields: IndexedFields, wire: string | undefined): void {
    // Keyed by the raw values (undefined included), so the index matches exactly what a scan would.
    const bucket = this.#bucketOf(fields.clusterArn, fields.desiredStatus);
    const existing = this.#tasks.get(arn);
    if (existing === undefined) {
      const entry: Entry = { seq: this.#nextSeq++, arn, task, wire, fields, bucket };
      this.#tasks.set(arn, entry);
      insertBySeq(bucket, entry);
      return;
    }
    existing.bucket.pages.clear();
    existing.task = task;
    existing.wire = wire;
    existing.fields = fields;
    if (existing.bucket !== bucket) {
      removeBySeq(existing.bucket, existing);
      insertBySeq(bucket, existing);
      existing.bucket = bucket;
    }
  }

  #bucketOf(clusterArn: string | undefined, desiredStatus: string | undefined): Bucket {
    let statuses = this.#byCluster.get(clusterArn);
    if (statuses === undefined) this.#byCluster.set(clusterArn, (statuses = new Map()));
    let bucket = statuses.get(desiredStatus);
    if (bucket === undefined) statuses.set(desiredStatus, (bucket = { entries: [], pages: new Map() }));
    return bucket;
  }

  #remove(arn: string): void {
    const entry = this.#tasks.get(arn);
    if (entry === undefined) return;
    removeBySeq(entry.bucket, entry);
    this.#tasks.delete(arn);
  }

  /** Saves a snapshot (copied: later changes by the caller are not visible until the next put). */
  put(task: Task, runtime?: unknown, clientToken?: string): void {
    const arn = task.taskArn;
    if (arn === undefined) throw new Error("task without taskArn");
    const snapshot = freeze(structuredClone(task));
    const runtimeJson = runtime === undefined ? null : JSON.stringify(runtime);
    // The stored doc doubles as the snapshot's cached wire JSON (DescribeTasks answers with it).
    const doc = JSON.stringify(serializeTask(snapshot));
    this.#upsert.run(
      arn,
      task.clusterArn ?? "",
      familyOf(task.taskDefinitionArn),
      task.startedBy ?? null,
      task.group ?? null,
      task.desiredStatus ?? "RUNNING",
      task.lastStatus ?? "PENDING",
      task.launchType ?? null,
      seconds(task.createdAt) ?? 0,
      seconds(task.stoppedAt),
      clientToken ?? null,
      doc,
      runtimeJson,
    );
    this.#set(arn, snapshot, fieldsOf(snapshot), doc);
  }

  get(taskArn: string): Task | undefined {
    const entry = this.#tasks.get(taskArn);
    return entry === undefined ? undefined : this.#taskOf(entry);
  }

  /**
   * `JSON.stringify(serializeTask(task))`, cached per stored snapshot: `task` as returned by `get`
   * hits the cache until the next put replaces the snapshot (every new `version` is a new put); any
   * other object is serialized afresh.
   */
  wireJson(task: Task): string {
    const entry = this.#tasks.get(task.taskArn ?? "");
    if (entry === undefined || entry.task !== task) return JSON.stringify(serializeTask(task));
    const wire = (entry.wire ??= JSON.stringify(serializeTask(task)));
    return typeof wire === "string" ? wire : wire.toString("utf8");
  }

  /** `wireJson(task)` as UTF-8 bytes, cached the same way (do not modify the returned buffer). */
  wireJsonBytes(task: Task): Buffer {
    const entry = this.#tasks.get(task.taskArn ?? "");
    if (entry === undefined || entry.task !== task) return Buffer.from(this.wireJson(task), "utf8");
    const wire = entry.wire ?? JSON.stringify(serializeTask(task));
    if (typeof wire !== "string") return wire;
    // Its own allocation, not a slice of Node's shared 8 KiB pool: a kept slice would pin the whole slab.
    const bytes = Buffer.allocUnsafeSlow(Buffer.byteLength(wire, "utf8"));
    bytes.write(wire, "utf8");
    entry.wire = bytes;
    return bytes;
  }

  /** The engine's bookkeeping saved with the task (a fresh copy, read from SQLite). */
  runtime(taskArn: string): unknown {
    if (!this.#tasks.has(taskArn)) return undefined;
    const row = this.#selectRuntime.get(taskArn) as { runtime: string | null } | undefined;
    return row?.runtime == null ? undefined : JSON.parse(row.runtime);
  }

  has(taskArn: string): boolean {
    return this.#tasks.has(taskArn);
  }

  all(): Task[] {
    return [...this.#tasks.values()].map((e) => this.#taskOf(e));
  }

  /**
   * The tasks a (re)starting engine takes over: those with bookkeeping that are not both STOPPED and
   * cleaned up (`cleanedUp` in the bookkeeping). After a restart with thousands of stopped tasks this
   * reads their bookkeeping, not their documents.
   */
  adoptable(): Task[] {
    const rows = this.#db
      .prepare(
        `SELECT task_arn FROM tasks WHERE runtime IS NOT NULL
         AND NOT (last_status = 'STOPPED' AND json_extract(runtime, '$.cleanedUp') IS 1)`,
      )
      .all() as Array<{ task_arn: string }>;
    const entries = rows.map((r) => this.#tasks.get(r.task_arn)).filter((e): e is Entry => e !== undefined);
    return entries.sort((a, b) => a.seq - b.seq).map((e) => this.#taskOf(e));
  }

  /** Newest first is not what ECS does; ListTasks order is unspecified, we keep creation order. */
  list(filter: TaskListFilter): Task[] {
    return this.page(filter, 0, Number.POSITIVE_INFINITY).tasks;
  }

  /**
   * `list(filter).slice(offset, offset + limit)`, and whether more matches follow, without building
   * the whole list: candidates come from the (cluster, desiredStatus) index, in store order.
   */
  page(filter: TaskListFilter, offset: number, limit: number): TaskPage {
    const { entries, more } = this.#pageEntries(filter, offset, limit);
    return { tasks: entries.map((e) => this.#taskOf(e)), more };
  }

  #pageEntries(filter: TaskListFilter, offset: number, limit: number): { entries: Entry[]; more: boolean } {
    const statuses = this.#byCluster.get(filter.clusterArn);
    if (statuses === undefined) return { entries: [], more: false };
    let candidates: readonly Entry[];
    if (filter.desiredStatus !== undefined) {
      candidates = statuses.get(filter.desiredStatus)?.entries ?? [];
    } else {
      candidates = [...statuses.values()].flatMap((b) => b.entries).sort((a, b) => a.seq - b.seq);
    }
    const end = offset + limit;
    if (!hasEntryFilter(filter)) return { entries: candidates.slice(offset, end), more: candidates.length > end };
    const entries: Entry[] = [];
    let matched = 0;
    for (const entry of candidates) {
      if (!this.#matches(entry, filter)) continue;
      if (matched >= end) return { entries, more: true };
      if (matched >= offset) entries.push(entry);
      matched++;
    }
    return { entries, more: false };
  }

  #matches(entry: Entry, filter: TaskListFilter): boolean {
    const f = entry.fields;
    if (filter.family !== undefined && f.family !== filter.family) return false;
    if (filter.startedBy !== undefined && f.startedBy !== filter.startedBy) return false;
    if (filter.serviceName !== undefined && f.group !== `service:${filter.serviceName}`) return false;
    if (filter.daemonName !== undefined && f.group !== `daemon:${filter.daemonName}`) return false;
    if (filter.launchType !== undefined && f.launchType !== filter.launchType) return false;
    // Not an indexed column: the (rare) filter reads the snapshot.
    if (filter.containerInstanceArn !== undefined && this.#taskOf(entry).containerInstanceArn !== filter.containerInstanceArn) return false;
    return true;
  }

  /**
   * `page(filter, offset, limit)` as ARNs, cached while the tasks it was computed from are unchanged
   * (the same object is returned, so callers can memoize what they derive from it).
   */
  arnPage(filter: TaskListFilter, offset: number, limit: number): ArnPage {
    const bucket = filter.desiredStatus === undefined ? undefined : this.#byCluster.get(filter.clusterArn)?.get(filter.desiredStatus);
    if (bucket === undefined) return arnPageOf(this.#pageEntries(filter, offset, limit));
    const key = JSON.stringify([
      filter.family,
      filter.startedBy,
      filter.serviceName,
      filter.daemonName,
      filter.launchType,
      filter.containerInstanceArn,
      offset,
      limit,
    ]);
    let cached = bucket.pages.get(key);
    if (cached === undefined) {
      if (bucket.pages.size >= MAX_CACHED_PAGES) bucket.pages.clear();
      cached = arnPageOf(this.#pageEntries(filter, offset, limit));
      bucket.pages.set(key, cached);
    }
    return cached;
  }

  /** runningTasksCount / pendingTasksCount as DescribeClusters reports them. */
  counts(clusterArn: string): TaskCounts {
    const counts: TaskCounts = { running: 0, pending: 0, byLaunchType: {} };
    for (const { fields: task } of this.#tasks.values()) {
      if (task.clusterArn !== clusterArn) continue;
      const per = (counts.byLaunchType[task.launchType ?? "EC2"] ??= { running: 0, pending: 0 });
      if (task.lastStatus === "RUNNING") {
        counts.running++;
        per.running++;
      } else if (task.lastStatus !== "STOPPED" && task.desiredStatus === "RUNNING") {
        counts.pending++;
        per.pending++;
      }
    }
    return counts;
  }

  delete(taskArn: string): void {
    this.#delete.run(taskArn);
    this.#remove(taskArn);
  }

  /** Removes tasks that stopped before `before`; returns their ARNs. */
  purgeStoppedBefore(before: Date): string[] {
    const cutoff = before.getTime();
    const purged: string[] = [];
    for (const [arn, { fields }] of this.#tasks) {
      if (fields.lastStatus === "STOPPED" && fields.stoppedAt !== undefined && fields.stoppedAt < cutoff) purged.push(arn);
    }
    if (purged.length === 0) return purged;
    transaction(this.#db, () => {
      for (const arn of purged) this.#delete.run(arn);
      this.#db.prepare("DELETE FROM task_client_tokens WHERE created_at < ?").run(cutoff / 1000);
    });
    for (const arn of purged) this.#remove(arn);
    return purged;
  }

  findClientToken(clusterArn: string, clientToken: string): ClientTokenRecord | undefined {
    const row = this.#db
      .prepare("SELECT fingerprint, task_arns, created_at FROM task_client_tokens WHERE cluster_arn = ? AND client_token = ?")
      .get(clusterArn, clientToken) as { fingerprint: string; task_arns: string; created_at: number } | undefined;
    if (row === undefined) return undefined;
    return {
      clusterArn,
      clientToken,
      fingerprint: row.fingerprint,
      taskArns: JSON.parse(row.task_arns) as string[],
      createdAt: new Date(row.created_at * 1000),
    };
  }

  putClientToken(record: ClientTokenRecord): void {
    this.#db
      .prepare(
        `INSERT INTO task_client_tokens (cluster_arn, client_token, fingerprint, task_arns, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (cluster_arn, client_token) DO UPDATE SET fingerprint = excluded.fingerprint, task_arns = excluded.task_arns`,
      )
      .run(record.clusterArn, record.clientToken, record.fingerprint, JSON.stringify(record.taskArns), record.createdAt.getTime() / 1000);
  }
}

/** "arn:…:task-definition/<family>:<rev>" → family (the ARN parser's; kept here for the store's callers). */
export { familyOf };

/** Filters beyond the (cluster, desiredStatus) index. */
function hasEntryFilter(filter: TaskListFilter): boolean {
  return (
    filter.family !== undefined ||
    filter.startedBy !== undefined ||
    filter.serviceName !== undefined ||
    filter.daemonName !== undefined ||
    filter.launchType !== undefined ||
    filter.containerInstanceArn !== undefined
  );
}

/** Index of the first entry in `bucket` (sorted by seq) whose seq is ≥ `seq`. */
function lowerBound(bucket: readonly Entry[], seq: number): number {
  let lo = 0;
  let hi = bucket.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (bucket[mid]!.seq < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function insertBySeq(bucket: Bucket, entry: Entry): void {
  const entries = bucket.entries;
  bucket.pages.clear();
  // New tasks have the highest seq: the common case is an append.
  const last = entries[entries.length - 1];
  if (last === undefined || last.seq < entry.seq) entries.push(entry);
  else entries.splice(lowerBound(entries, entry.seq), 0, entry);
}

function removeBySeq(bucket: Bucket, entry: Entry): void {
  const entries = bucket.entries;
  bucket.pages.clear();
  const i = lowerBound(entries, entry.seq);
  if (entries[i] === entry) entries.splice(i, 1);
}

function arnPageOf(page: { entries: readonly Entry[]; more: boolean }): ArnPage {
  const taskArns = Object.freeze(page.entries.map((e) => e.arn));
  return Object.freeze({ taskArns, more: page.more });
}

function seconds(d: Date | undefined): number | null {
  return d === undefined ? null : d.getTime() / 1000;
}

function freeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !(value instanceof Date) && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) freeze(v);
  }
  return value;
}
