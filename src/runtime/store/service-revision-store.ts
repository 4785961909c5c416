import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { ServiceRevision } from "../../../generated/shapes.ts";
import { deserializeServiceRevision, serializeServiceRevision } from "../../../generated/serde.ts";

/**
 * Service revisions: the immutable configuration a deployment runs (task definition, launch type,
 * network configuration, images, …), wire JSON per row, keyed by ARN.
 */
export class ServiceRevisionStore {
  readonly #insert: StatementSync;
  readonly #get: StatementSync;
  readonly #deleteForService: StatementSync;

  constructor(db: DatabaseSync) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS service_revisions (
        arn TEXT PRIMARY KEY,
        region TEXT NOT NULL,
        service_arn TEXT NOT NULL,
        created_at REAL NOT NULL,
        doc TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS service_revisions_service ON service_revisions (service_arn);
    `);
    this.#insert = db.prepare("INSERT OR REPLACE INTO service_revisions (arn, region, service_arn, created_at, doc) VALUES (?, ?, ?, ?, ?)");
    this.#get = db.prepare("SELECT doc FROM service_revisions WHERE arn = ?");
    this.#deleteForService = db.prepare("DELETE FROM service_revisions WHERE service_arn = ?");
  }

  put(region: string, revision: ServiceRevision): void {
    this.#insert.run(
      revision.serviceRevisionArn ?? "",
      region,
      revision.serviceArn ?? "",
      (revision.createdAt?.getTime() ?? 0) / 1000,
      JSON.stringify(serializeServiceRevision(revision)),
    );
  }

  get(arn: string): ServiceRevision | undefined {
    const row = this.#get.get(arn);
    return row === undefined ? undefined : deserializeServiceRevision(JSON.parse(String(row["doc"])), "serviceRevision");
  }

  deleteForService(serviceArn: string): void {
    this.#deleteForService.run(serviceArn);
  }
}
