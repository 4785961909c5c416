// Task scale-in protection state, shared by the agent endpoint (ECS_AGENT_URI/task-protection/v1/state) and
// the GetTaskProtection/UpdateTaskProtection API operations, so both views always agree. The server keeps it
// in SQLite (`SqliteTaskProtectionStore`) so protection set before a restart still holds for the re-adopted
// task; only the expiration instant is stored, and expiry is always judged against the clock on read.
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { systemClock, type TimeSource } from "../clock.ts";

export interface TaskProtection {
  taskArn: string;
  protectionEnabled: boolean;
  /** Set only while protection is enabled. */
  expirationDate: Date | undefined;
}

export interface TaskProtectionStore {
  get(taskArn: string): TaskProtection;
  /** `expiresInMinutes` defaults to 120 (the ECS default) and must be 1..2880 when enabling. */
  update(taskArn: string, protectionEnabled: boolean, expiresInMinutes?: number): TaskProtection;
  delete(taskArn: string): void;
}

export const DEFAULT_PROTECTION_MINUTES = 120;
export const MAX_PROTECTION_MINUTES = 2880;

export class TaskProtectionRangeError extends Error {
  override name = "TaskProtectionRangeError";
}

/** The expiration instant for enabling protection now; throws TaskProtectionRangeError on a bad duration. */
function expirationFor(clock: TimeSource, expiresInMinutes: number | undefined): Date {
  const minutes = expiresInMinutes ?? DEFAULT_PROTECTION_MINUTES;
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > MAX_PROTECTION_MINUTES) {
    throw new TaskProtectionRangeError(`expiresInMinutes must be between 1 and ${MAX_PROTECTION_MINUTES}; got ${minutes}`);
  }
  return new Date(clock.now().getTime() + minutes * 60_000);
}

const off = (taskArn: string): TaskProtection => ({ taskArn, protectionEnabled: false, expirationDate: undefined });

export class MemoryTaskProtectionStore implements TaskProtectionStore {
  readonly #clock: TimeSource;
  readonly #byTask = new Map<string, Date>();

  constructor(clock: TimeSource = systemClock) {
    this.#clock = clock;
  }

  get(taskArn: string): TaskProtection {
    const expiration = this.#byTask.get(taskArn);
    if (expiration === undefined || expiration.getTime() <= this.#clock.now().getTime()) {
      // Expired protection is simply off, as ECS reports it.
      this.#byTask.delete(taskArn);
      return off(taskArn);
    }
    return { taskArn, protectionEnabled: true, expirationDate: expiration };
  }

  update(taskArn: string, protectionEnabled: boolean, expiresInMinutes?: number): TaskProtection {
    if (!protectionEnabled) {
      this.#byTask.delete(taskArn);
      return off(taskArn);
    }
    const expiration = expirationFor(this.#clock, expiresInMinutes);
    this.#byTask.set(taskArn, expiration);
    return { taskArn, protectionEnabled: true, expirationDate: expiration };
  }

  delete(taskArn: string): void {
    this.#byTask.delete(taskArn);
  }
}

/** Protection in the server's database: survives restarts, so re-adopted tasks stay protected. */
export class SqliteTaskProtectionStore implements TaskProtectionStore {
  readonly #clock: TimeSource;
  readonly #get: StatementSync;
  readonly #put: StatementSync;
  readonly #delete: StatementSync;

  constructor(db: DatabaseSync, clock: TimeSource = systemClock) {
    this.#clock = clock;
    db.exec("CREATE TABLE IF NOT EXISTS agent_task_protection (task_arn TEXT PRIMARY KEY, expires_at INTEGER NOT NULL)");
    this.#get = db.prepare("SELECT expires_at FROM agent_task_protection WHERE task_arn = ?");
    this.#put = db.prepare("INSERT OR REPLACE INTO agent_task_protection (task_arn, expires_at) VALUES (?, ?)");
    this.#delete = db.prepare("DELETE FROM agent_task_protection WHERE task_arn = ?");
    // Rows of tasks that expired (or stopped) while the server was down would otherwise linger until read.
    db.prepare("DELETE FROM agent_task_protection WHERE expires_at <= ?").run(clock.now().getTime());
  }

  get(taskArn: string): TaskProtection {
    const row = this.#get.get(taskArn);
    const expiresAt = row === undefined ? undefined : Number(row["expires_at"]);
    if (expiresAt === undefined || expiresAt <= this.#clock.now().getTime()) {
      if (row !== undefined) this.#delete.run(taskArn);
      return off(taskArn);
    }
    return { taskArn, protectionEnabled: true, expirationDate: new Date(expiresAt) };
  }

  update(taskArn: string, protectionEnabled: boolean, expiresInMinutes?: number): TaskProtection {
    if (!protectionEnabled) {
      this.#delete.run(taskArn);
      return off(taskArn);
    }
    const expiration = expirationFor(this.#clock, expiresInMinutes);
    this.#put.run(taskArn, expiration.getTime());
    return { taskArn, protectionEnabled: true, expirationDate: expiration };
  }

  delete(taskArn: string): void {
    this.#delete.run(taskArn);
  }
}

/**
 * A protection store that says when a task's protection was set or cleared (from the API or the agent
 * endpoint alike): the service scheduler looks at the task's service again, as a deployment or a scale-in
 * waiting on that task may now go on.
 */
export class ObservedTaskProtectionStore implements TaskProtectionStore {
  readonly #inner: TaskProtectionStore;
  readonly #listeners = new Set<(taskArn: string) => void>();

  constructor(inner: TaskProtectionStore) {
    this.#inner = inner;
  }

  /** Called after every update; returns the unsubscribe function. */
  subscribe(listener: (taskArn: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get(taskArn: string): TaskProtection {
    return this.#inner.get(taskArn);
  }

  update(taskArn: string, protectionEnabled: boolean, expiresInMinutes?: number): TaskProtection {
    const result = this.#inner.update(taskArn, protectionEnabled, expiresInMinutes);
    for (const l of this.#listeners) l(taskArn);
    return result;
  }

  delete(taskArn: string): void {
    this.#inner.delete(taskArn);
  }
}
