import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { ServiceDeployment, ServiceDeploymentStatus } from "../../../generated/shapes.ts";
import { deserializeServiceDeployment, serializeServiceDeployment } from "../../../generated/serde.ts";
import { transaction } from "../database.ts";

export interface ServiceDeploymentQuery {
  serviceArn: string;
  status?: readonly ServiceDeploymentStatus[] | undefined;
  createdAfter?: Date | undefined;
  createdBefore?: Date | undefined;
  /** Keyset cursor: the sequence number of the last item of the previous page. */
  afterSeq?: number | undefined;
  limit: number;
}

/**
 * Service deployments (the newer API's view of a deployment: source and target revisions, status,
 * circuit breaker, rollback), wire JSON per row, keyed by ARN and listed per service, newest first.
 */
export class ServiceDeploymentStore {
  readonly #db: DatabaseSync;
  readonly #upsert: StatementSync;
  readonly #get: StatementSync;
  readonly #forService: StatementSync;
  readonly #deleteForService: StatementSync;
  readonly #nextSeq: StatementSync;

  constructor(db: DatabaseSync) {
    this.#db = db;
    db.exec(`
      CREATE TABLE IF NOT EXISTS service_deployments (
        arn TEXT PRIMARY KEY,
        region TEXT NOT NULL,
        service_arn TEXT NOT NULL,
        status TEXT NOT NULL,
        created_at REAL NOT NULL,
        seq INTEGER NOT NULL,
        doc TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS service_deployments_service ON service_deployments (service_arn, seq);
    `);
    this.#upsert = db.prepare(`INSERT INTO service_deployments (arn, region, service_arn, status, created_at, seq, doc)
      VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (arn) DO UPDATE SET status = excluded.status, doc = excluded.doc`);
    this.#get = db.prepare("SELECT seq, doc FROM service_deployments WHERE arn = ?");
    this.#forService = db.prepare("SELECT seq, doc FROM service_deployments WHERE service_arn = ? ORDER BY seq DESC");
    this.#deleteForService = db.prepare("DELETE FROM service_deployments WHERE service_arn = ?");
    this.#nextSeq = db.prepare("SELECT COALESCE(MAX(seq), 0) + 1 AS n FROM service_deployments");
  }

  put(region: string, sd: ServiceDeployment): void {
    transaction(this.#db, () => {
      const existing = this.#get.get(sd.serviceDeploymentArn ?? "");
      const seq = existing === undefined ? Number(this.#nextSeq.get()?.["n"] ?? 1) : Number(existing["seq"]);
      this.#upsert.run(
        sd.serviceDeploymentArn ?? "",
        region,
        sd.serviceArn ?? "",
        sd.status ?? "PENDING",
        (sd.createdAt?.getTime() ?? 0) / 1000,
        seq,
        JSON.stringify(serializeServiceDeployment(sd)),
      );
    });
  }

  get(arn: string): ServiceDeployment | undefined {
    const row = this.#get.get(arn);
    return row === undefined ? undefined : decode(row["doc"]);
  }

  /** Applies `change` to the stored deployment (no-op when it is gone). */
  update(arn: string, change: (sd: ServiceDeployment) => void): ServiceDeployment | undefined {
    return transaction(this.#db, () => {
      const row = this.#get.get(arn);
      if (row === undefined) return undefined;
      const sd = decode(row["doc"]);
      change(sd);
      this.#upsert.run(arn, "", sd.serviceArn ?? "", sd.status ?? "PENDING", (sd.createdAt?.getTime() ?? 0) / 1000, Number(row["seq"]), JSON.stringify(serializeServiceDeployment(sd)));
      return sd;
    });
  }

  /** A page of the service's deployments, newest first, with the sequence number of each. */
  list(query: ServiceDeploymentQuery): Array<{ seq: number; deployment: ServiceDeployment }> {
    const out: Array<{ seq: number; deployment: ServiceDeployment }> = [];
    for (const row of this.#forService.all(query.serviceArn)) {
      const seq = Number(row["seq"]);
      if (query.afterSeq !== undefined && seq >= query.afterSeq) continue;
      const sd = decode(row["doc"]);
      if (query.status !== undefined && query.status.length > 0 && !query.status.includes(sd.status ?? "PENDING")) continue;
      const created = sd.createdAt?.getTime() ?? 0;
      if (query.createdAfter !== undefined && created < query.createdAfter.getTime()) continue;
      if (query.createdBefore !== undefined && created > query.createdBefore.getTime()) continue;
      out.push({ seq, deployment: sd });
      if (out.length >= query.limit) break;
    }
    return out;
  }

  /** "When you delete a service, Amazon ECS deletes the corresponding service deployments." */
  deleteForService(serviceArn: string): void {
    this.#deleteForService.run(serviceArn);
  }
}

function decode(doc: unknown): ServiceDeployment {
  return deserializeServiceDeployment(JSON.parse(String(doc)), "serviceDeployment");
}
