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

/** The column names of a table; empty when it does not exist. */
export function columnsOf(db: DatabaseSync, table: string): string[] {
  return db.prepare(`PRAGMA table_info(${JSON.stringify(table)})`).all().map((row) => String(row["name"]));
}

/**
 * Gives a table written before resources were regional its `region` column (part of the new key, made by
 * `create`): every row is copied with the region `regionOf` gives it. Does nothing when the table does
 * not exist or already has the column. Returns whether it migrated.
 */
export function addRegionColumn(
  db: DatabaseSync,
  table: string,
  create: () => void,
  regionOf: (row: Record<string, unknown>) => string,
): boolean {
  const columns = columnsOf(db, table);
  if (columns.length === 0 || columns.includes("region")) return false;
  rebuildTable(db, table, create, (rows) => {
    const insert = db.prepare(`INSERT INTO ${table} (region, ${columns.join(", ")}) VALUES (?, ${columns.map(() => "?").join(", ")})`);
    for (const row of rows) insert.run(regionOf(row), ...columns.map((c) => row[c] as string | number | null));
  });
  return true;
}

/**
 * Brings a table written by an older version to a new shape (e.g. a new key column): renames it, lets
 * `create` make the new table, copies every row through `copy`, and drops the old one, in one
 * transaction. Indexes are created by the caller afterwards (an index of the renamed table keeps its
 * name until the old table is dropped).
 */
export function rebuildTable(
  db: DatabaseSync,
  table: string,
  create: () => void,
  copy: (rows: Array<Record<string, unknown>>) => void,
): void {
  transaction(db, () => {
    const old = `${table}_before_migration`;
    db.exec(`ALTER TABLE ${table} RENAME TO ${old}`);
    create();
    copy(db.prepare(`SELECT * FROM ${old}`).all() as Array<Record<string, unknown>>);
    db.exec(`DROP TABLE ${old}`);
  });
}
