import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";

/** A task or container id in a stored document: a UUID, or 32 hex digits. */
const ID = /[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}/g;

/**
 * Grows a stopped server's store to `total` tasks by copying the stored rows of tasks that ran through
 * the API (document, bookkeeping and index columns), each copy with fresh task/container ids, so the
 * store holds `total` distinct, consistent tasks without running each through Docker. Returns the new
 * task ARNs. Only STOPPED tasks whose containers were cleaned up are copied (nothing for an engine to
 * re-adopt).
 */
export function cloneStoredTasks(dataDir: string, fromArns: readonly string[], total: number): string[] {
  const db = new DatabaseSync(join(dataDir, "local-ecs-api.sqlite"));
  try {
    const count = (db.prepare("SELECT COUNT(*) AS n FROM tasks").get() as { n: number }).n;
    const get = db.prepare("SELECT * FROM tasks WHERE task_arn = ?");
    const sources = fromArns
      .map((arn) => get.get(arn) as Record<string, string | number | null> | undefined)
      .filter((row): row is Record<string, string | number | null> => row !== undefined && row["last_status"] === "STOPPED");
    if (sources.length === 0) throw new Error("no stopped task to copy");
    const insert = db.prepare(`INSERT INTO tasks (task_arn, cluster_arn, family, started_by, grp, desired_status, last_status, launch_type,
      created_at, stopped_at, client_token, doc, runtime) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    const added: string[] = [];
    db.exec("BEGIN");
    for (let i = 0; count + added.length < total; i++) {
      const row = sources[i % sources.length]!;
      const ids = new Map<string, string>();
      const fresh = (text: string): string =>
        text.replace(ID, (id) => {
          let next = ids.get(id);
          if (next === undefined) ids.set(id, (next = id.includes("-") ? randomUUID() : randomUUID().replaceAll("-", "")));
          return next;
        });
      const arn = fresh(String(row["task_arn"]));
      insert.run(
        arn,
        row["cluster_arn"]!,
        row["family"]!,
        row["started_by"] ?? null,
        row["grp"] ?? null,
        row["desired_status"]!,
        row["last_status"]!,
        row["launch_type"] ?? null,
        Number(row["created_at"]) + (i + 1) / 1e6,
        row["stopped_at"] ?? null,
        null,
        fresh(String(row["doc"])),
        row["runtime"] === null ? null : fresh(String(row["runtime"])),
      );
      added.push(arn);
    }
    db.exec("COMMIT");
    return added;
  } finally {
    db.close();
  }
}
