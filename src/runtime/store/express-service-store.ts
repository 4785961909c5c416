import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { ExpressGatewayServiceConfiguration } from "../../../generated/shapes.ts";
import { deserializeExpressGatewayServiceConfiguration, serializeExpressGatewayServiceConfiguration } from "../../../generated/serde.ts";

/**
 * An Express service's own record next to the ECS service it runs on (same ARN): its configuration
 * revisions (newest first, each with the service deployment that rolls it out) and the host port of its
 * local ingress, kept so a restart serves the same URL. Regional through the service ARN.
 */
export interface ExpressServiceRecord {
  region: string;
  serviceArn: string;
  clusterArn: string;
  serviceName: string;
  infrastructureRoleArn: string;
  createdAt: Date;
  updatedAt: Date;
  configurations: Array<{ deploymentId: string; config: ExpressGatewayServiceConfiguration }>;
  ingressPort: number;
}

interface Row {
  doc: string;
}

export class ExpressServiceStore {
  readonly #put: StatementSync;
  readonly #get: StatementSync;
  readonly #all: StatementSync;

  constructor(db: DatabaseSync) {
    db.exec(`CREATE TABLE IF NOT EXISTS express_services (service_arn TEXT PRIMARY KEY, region TEXT NOT NULL, doc TEXT NOT NULL)`);
    this.#put = db.prepare(
      `INSERT INTO express_services (service_arn, region, doc) VALUES (?, ?, ?) ON CONFLICT(service_arn) DO UPDATE SET doc = excluded.doc`,
    );
    this.#get = db.prepare(`SELECT doc FROM express_services WHERE service_arn = ?`);
    this.#all = db.prepare(`SELECT doc FROM express_services`);
  }

  save(r: ExpressServiceRecord): void {
    const doc = {
      ...r,
      createdAt: r.createdAt.getTime(),
      updatedAt: r.updatedAt.getTime(),
      configurations: r.configurations.map((c) => ({ deploymentId: c.deploymentId, config: serializeExpressGatewayServiceConfiguration(c.config) })),
    };
    this.#put.run(r.serviceArn, r.region, JSON.stringify(doc));
  }

  get(serviceArn: string): ExpressServiceRecord | undefined {
    const row = this.#get.get(serviceArn) as Row | undefined;
    return row === undefined ? undefined : parse(row.doc);
  }

  all(): ExpressServiceRecord[] {
    return (this.#all.all() as unknown as Row[]).map((r) => parse(r.doc));
  }
}

function parse(json: string): ExpressServiceRecord {
  const doc = JSON.parse(json) as Omit<ExpressServiceRecord, "createdAt" | "updatedAt" | "configurations"> & {
    createdAt: number;
    updatedAt: number;
    configurations: Array<{ deploymentId: string; config: unknown }>;
  };
  return {
    ...doc,
    createdAt: new Date(doc.createdAt),
    updatedAt: new Date(doc.updatedAt),
    configurations: doc.configurations.map((c) => ({ deploymentId: c.deploymentId, config: deserializeExpressGatewayServiceConfiguration(c.config, "config") })),
  };
}
