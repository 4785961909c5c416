import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { AgentUpdateStatus, Attribute, Resource, VersionInfo } from "../../../generated/shapes.ts";

/**
 * Container instances, keyed by region and cluster (ECS resources are regional). A record holds what the
 * instance *is* — identity, status, what its agent registered, custom attributes; its task counts,
 * remaining resources and agent connection are derived when it is described, so they never go stale.
 * Reads come from an in-memory copy (placement reads every instance of a cluster on each RunTask); every
 * save is written through to SQLite.
 */
export interface ContainerInstanceRecord {
  region: string;
  clusterName: string;
  clusterArn: string;
  /** The 32-hex id at the end of the ARN. */
  id: string;
  arn: string;
  ec2InstanceId: string;
  /** ACTIVE, DRAINING or INACTIVE (deregistered). */
  status: string;
  statusReason?: string | undefined;
  /** Epoch milliseconds. */
  registeredAt: number;
  deregisteredAt?: number | undefined;
  /** The engine that answers for this instance (its normalised URL). */
  engineUrl: string;
  /** The CONTAINER_INSTANCES entry it comes from; absent for RegisterContainerInstance ones. */
  specKey?: string | undefined;
  registeredResources: Resource[];
  versionInfo: VersionInfo;
  /** What the agent set at registration (platform and capability attributes). */
  agentAttributes: Attribute[];
  /** PutAttributes ones (name → value), applied over the agent's. */
  customAttributes: Attribute[];
  capacityProviderName?: string | undefined;
  agentUpdateStatus?: AgentUpdateStatus | undefined;
  /** Bumped on every change, like ContainerInstance.version. */
  version: number;
}

export class ContainerInstanceStore {
  readonly #byArn = new Map<string, ContainerInstanceRecord>();
  readonly #upsert: StatementSync;

  constructor(db: DatabaseSync) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS container_instances (
        arn TEXT PRIMARY KEY,
        region TEXT NOT NULL,
        cluster_name TEXT NOT NULL,
        status TEXT NOT NULL,
        doc TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS container_instances_by_cluster ON container_instances (region, cluster_name);
    `);
    this.#upsert = db.prepare(`INSERT INTO container_instances (arn, region, cluster_name, status, doc) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (arn) DO UPDATE SET status = excluded.status, doc = excluded.doc`);
    // Registration order: rowids grow with each new instance and an update keeps its row.
    for (const row of db.prepare("SELECT doc FROM container_instances ORDER BY rowid").all()) {
      const record = JSON.parse(String(row["doc"])) as ContainerInstanceRecord;
      this.#byArn.set(record.arn, Object.freeze(record));
    }
  }

  get(arn: string): ContainerInstanceRecord | undefined {
    return this.#byArn.get(arn);
  }

  /** Instances of one cluster in registration order (every status). */
  list(region: string, clusterName: string): ContainerInstanceRecord[] {
    const out: ContainerInstanceRecord[] = [];
    for (const r of this.#byArn.values()) if (r.region === region && r.clusterName === clusterName) out.push(r);
    return out;
  }

  /** Every record (for re-registering instances after an engine comes back). */
  all(): ContainerInstanceRecord[] {
    return [...this.#byArn.values()];
  }

  /** Inserts or replaces; the stored copy is frozen and returned. */
  save(record: ContainerInstanceRecord): ContainerInstanceRecord {
    const json = JSON.stringify(record);
    this.#upsert.run(record.arn, record.region, record.clusterName, record.status, json);
    const stored = Object.freeze(JSON.parse(json) as ContainerInstanceRecord);
    this.#byArn.set(record.arn, stored);
    return stored;
  }
}
