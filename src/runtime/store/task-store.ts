import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { Task } from "../../../generated/shapes.ts";
import { deserializeTask, serializeTask } from "../../../generated/serde.ts";
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

interface Entry {
  task: Task;
  runtime: unknown;
}

export class TaskStore {
  #db: DatabaseSync;
  #tasks = new Map<string, Entry>();
  #upsert: StatementSync;
  #delete: StatementSync;

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
      CREATE TABLE IF NOT EXISTS task_client_tokens (
        cluster_arn TEXT NOT NULL,
        client_token TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        task_arns TEXT NOT NULL,
        created_at REAL NOT NULL,
        PRIMARY KEY (cluster_arn, client_token)
      );
    `);
    this.#upsert = db.prepare(`
      INSERT INTO tasks (task_arn, cluster_arn, family, started_by, grp, desired_status, last_status, launch_type,
                         created_at, stopped_at, client_token, doc, runtime)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (task_arn) DO UPDATE SET
        desired_status = excluded.desired_status, last_status = excluded.last_status,
        stopped_at = excluded.stopped_at, doc = excluded.doc, runtime = excluded.runtime`);
    this.#delete = db.prepare("DELETE FROM tasks WHERE task_arn = ?");
    this.#load();
  }

  #load(): void {
    const rows = this.#db.prepare("SELECT doc, runtime FROM tasks ORDER BY created_at").all() as Array<{
      doc: string;
      runtime: string | null;
    }>;
    for (const row of rows) {
      const task = deserializeTask(JSON.parse(row.doc), "task");
      if (task.taskArn === undefined) continue;
      this.#tasks.set(task.taskArn, {
        task: freeze(task),
        runtime: row.runtime === null ? undefined : JSON.parse(row.runtime),
      });
    }
  }

  /** Saves a snapshot (copied: later changes by the caller are not visible until the next put). */
  put(task: Task, runtime?: unknown, clientToken?: string): void {
    const arn = task.taskArn;
    if (arn === undefined) throw new Error("task without taskArn");
    const snapshot = freeze(structuredClone(task));
    const runtimeJson = runtime === undefined ? null : JSON.stringify(runtime);
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
      JSON.stringify(serializeTask(task)),
      runtimeJson,
    );
    this.#tasks.set(arn, { task: snapshot, runtime: runtimeJson === null ? undefined : JSON.parse(runtimeJson) });
  }

  get(taskArn: string): Task | undefined {
    return this.#tasks.get(taskArn)?.task;
  }

  /** The engine's bookkeeping saved with the task (a fresh copy). */
  runtime(taskArn: string): unknown {
    const r = this.#tasks.get(taskArn)?.runtime;
    return r === undefined ? undefined : structuredClone(r);
  }

  has(taskArn: string): boolean {
    return this.#tasks.has(taskArn);
  }

  all(): Task[] {
    return [...this.#tasks.values()].map((e) => e.task);
  }

  /** Newest first is not what ECS does; ListTasks order is unspecified, we keep creation order. */
  list(filter: TaskListFilter): Task[] {
    const out: Task[] = [];
    for (const { task } of this.#tasks.values()) {
      if (task.clusterArn !== filter.clusterArn) continue;
      if (filter.family !== undefined && familyOf(task.taskDefinitionArn) !== filter.family) continue;
      if (filter.startedBy !== undefined && task.startedBy !== filter.startedBy) continue;
      if (filter.serviceName !== undefined && task.group !== `service:${filter.serviceName}`) continue;
      if (filter.launchType !== undefined && task.launchType !== filter.launchType) continue;
      if (filter.containerInstanceArn !== undefined && task.containerInstanceArn !== filter.containerInstanceArn) continue;
      if (filter.desiredStatus !== undefined && task.desiredStatus !== filter.desiredStatus) continue;
      out.push(task);
    }
    return out;
  }

  /** runningTasksCount / pendingTasksCount as DescribeClusters reports them. */
  counts(clusterArn: string): TaskCounts {
    const counts: TaskCounts = { running: 0, pending: 0, byLaunchType: {} };
    for (const { task } of this.#tasks.values()) {
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
    this.#tasks.delete(taskArn);
  }

  /** Removes tasks that stopped before `before`; returns their ARNs. */
  purgeStoppedBefore(before: Date): string[] {
    const cutoff = before.getTime();
    const purged: string[] = [];
    for (const [arn, { task }] of this.#tasks) {
      if (task.lastStatus === "STOPPED" && task.stoppedAt !== undefined && task.stoppedAt.getTime() < cutoff) purged.push(arn);
    }
    if (purged.length === 0) return purged;
    transaction(this.#db, () => {
      for (const arn of purged) this.#delete.run(arn);
      this.#db.prepare("DELETE FROM task_client_tokens WHERE created_at < ?").run(cutoff / 1000);
    });
    for (const arn of purged) this.#tasks.delete(arn);
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

/** "arn:…:task-definition/<family>:<rev>" → family. */
export function familyOf(taskDefinitionArn: string | undefined): string {
  if (taskDefinitionArn === undefined) return "";
  const m = /task-definition\/(.+):\d+$/.exec(taskDefinitionArn);
  return m?.[1] ?? taskDefinitionArn;
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
