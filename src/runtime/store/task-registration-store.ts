import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { CloudMapInstance, LbTarget } from "../services/task-registrations.ts";

/**
 * What was registered for a service task outside ECS (load balancer targets, Cloud Map instances), kept
 * until it is deregistered, so a restarted server (even after SIGKILL) deregisters what a task that
 * stopped meanwhile left behind. Keyed by task ARN, which carries the region.
 */
export interface TaskRegistration {
  taskArn: string;
  serviceArn: string;
  targets: LbTarget[];
  instances: CloudMapInstance[];
}

export class TaskRegistrationStore {
  readonly #put: StatementSync;
  readonly #get: StatementSync;
  readonly #delete: StatementSync;
  readonly #all: StatementSync;

  constructor(db: DatabaseSync) {
    db.exec(`CREATE TABLE IF NOT EXISTS task_registrations (task_arn TEXT PRIMARY KEY, doc TEXT NOT NULL)`);
    this.#put = db.prepare(`INSERT INTO task_registrations (task_arn, doc) VALUES (?, ?) ON CONFLICT(task_arn) DO UPDATE SET doc = excluded.doc`);
    this.#get = db.prepare(`SELECT doc FROM task_registrations WHERE task_arn = ?`);
    this.#delete = db.prepare(`DELETE FROM task_registrations WHERE task_arn = ?`);
    this.#all = db.prepare(`SELECT doc FROM task_registrations`);
  }

  put(r: TaskRegistration): void {
    this.#put.run(r.taskArn, JSON.stringify(r));
  }

  get(taskArn: string): TaskRegistration | undefined {
    const row = this.#get.get(taskArn) as { doc: string } | undefined;
    return row === undefined ? undefined : (JSON.parse(row.doc) as TaskRegistration);
  }

  delete(taskArn: string): void {
    this.#delete.run(taskArn);
  }

  all(): TaskRegistration[] {
    return (this.#all.all() as Array<{ doc: string }>).map((r) => JSON.parse(r.doc) as TaskRegistration);
  }
}
