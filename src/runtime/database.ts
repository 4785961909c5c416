import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";

/**
 * Opens the embedded store. Each repository creates its own tables on this handle, so the
 * domains stay independent. WAL + synchronous=NORMAL survives SIGKILL of the process (only an
 * OS crash can lose the last transactions), which is the failure mode an emulator sees.
 */
export function openDatabase(dataDir: string): DatabaseSync {
  if (dataDir === ":memory:") return new DatabaseSync(":memory:");
  mkdirSync(dataDir, { recursive: true });
  const db = new DatabaseSync(join(dataDir, "local-ecs-api.sqlite"));
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;");
  return db;
}

/** Runs fn in one transaction; nested calls join the outer one. */
export function transaction<T>(db: DatabaseSync, fn: () => T): T {
  if (db.isTransaction) return fn();
  db.exec("BEGIN IMMEDIATE");
  try {
    const result = fn();
    db.exec("COMMIT");
    return result;
  } catch (err) {
    db.exec("ROLLBACK");
    throw err;
  }
}
