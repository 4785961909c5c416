import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { ExecTarget } from "../exec/exec-session.ts";

/**
 * The ECS Exec sessions that have (or may have) a process running in a container, kept in SQLite so a
 * server that was killed can, on its next start, kill what its sessions left behind: nobody can reach
 * those processes any more. A row is written when a client connects and deleted once the session's
 * process is gone. Keyed by session id; the caller's region is kept with it (sessions are regional).
 */
export class ExecSessionStore {
  readonly #put: StatementSync;
  readonly #delete: StatementSync;
  readonly #all: StatementSync;

  constructor(db: DatabaseSync) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS exec_sessions (
        session_id TEXT PRIMARY KEY,
        region TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        doc TEXT NOT NULL
      );
    `);
    this.#put = db.prepare("INSERT OR REPLACE INTO exec_sessions (session_id, region, started_at, doc) VALUES (?, ?, ?, ?)");
    this.#delete = db.prepare("DELETE FROM exec_sessions WHERE session_id = ?");
    this.#all = db.prepare("SELECT doc, started_at FROM exec_sessions ORDER BY started_at");
  }

  put(target: ExecTarget, startedAt: number): void {
    this.#put.run(target.sessionId, target.region, startedAt, JSON.stringify(target));
  }

  delete(sessionId: string): void {
    this.#delete.run(sessionId);
  }

  all(): Array<{ target: ExecTarget; startedAt: number }> {
    return this.#all.all().map((row) => ({ target: JSON.parse(String(row["doc"])) as ExecTarget, startedAt: Number(row["started_at"]) }));
  }
}
