import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { DaemonContainerImage, DaemonDeploymentConfiguration, DaemonDeploymentStatus, DaemonPropagateTags, DaemonStatus } from "../../../generated/shapes.ts";

/**
 * Daemons and their history — revisions (immutable snapshots taken at each Create/Update) and deployments
 * (the rollout of one revision) — keyed by region (ECS resources are regional). One aggregate: a revision
 * or deployment never exists without its daemon. In memory, written through to SQLite; dates are epoch ms.
 */
export interface DaemonRecord {
  region: string;
  arn: string;
  name: string;
  clusterArn: string;
  clusterName: string;
  status: DaemonStatus;
  createdAt: number;
  updatedAt: number;
  /** The revision the daemon converges to. */
  revisionArn: string;
  /** The most recent deployment. */
  deploymentArn: string;
}

export interface DaemonRevisionRecord {
  region: string;
  arn: string;
  daemonArn: string;
  clusterArn: string;
  daemonTaskDefinitionArn: string;
  capacityProviderArns: string[];
  createdAt: number;
  containerImages: DaemonContainerImage[];
  propagateTags: DaemonPropagateTags;
  enableECSManagedTags: boolean;
  enableExecuteCommand: boolean;
}

export interface DaemonDeploymentRecord {
  region: string;
  arn: string;
  daemonArn: string;
  clusterArn: string;
  status: DaemonDeploymentStatus;
  statusReason?: string | undefined;
  /** Undefined for the deployment a DeleteDaemon starts (it only drains). */
  targetRevisionArn?: string | undefined;
  sourceRevisionArns: string[];
  deploymentConfiguration: DaemonDeploymentConfiguration;
  createdAt: number;
  startedAt?: number | undefined;
  finishedAt?: number | undefined;
}

type Kind = "daemon" | "revision" | "deployment";

export class DaemonStore {
  readonly #daemons = new Map<string, DaemonRecord>();
  readonly #revisions = new Map<string, DaemonRevisionRecord>();
  readonly #deployments = new Map<string, DaemonDeploymentRecord>();
  readonly #upsert: StatementSync;

  constructor(db: DatabaseSync) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS daemon_records (
        arn TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        region TEXT NOT NULL,
        doc TEXT NOT NULL
      );
    `);
    this.#upsert = db.prepare(`INSERT INTO daemon_records (arn, kind, region, doc) VALUES (?, ?, ?, ?)
      ON CONFLICT (arn) DO UPDATE SET doc = excluded.doc`);
    for (const row of db.prepare("SELECT kind, doc FROM daemon_records").all()) {
      const doc = JSON.parse(String(row["doc"])) as { arn: string };
      this.#mapOf(String(row["kind"]) as Kind).set(doc.arn, Object.freeze(doc) as never);
    }
  }

  daemon(arn: string): DaemonRecord | undefined {
    return this.#daemons.get(arn);
  }

  revision(arn: string): DaemonRevisionRecord | undefined {
    return this.#revisions.get(arn);
  }

  deployment(arn: string): DaemonDeploymentRecord | undefined {
    return this.#deployments.get(arn);
  }

  /** Daemons in creation order. */
  daemons(): DaemonRecord[] {
    return [...this.#daemons.values()].sort((a, b) => a.createdAt - b.createdAt || (a.arn < b.arn ? -1 : 1));
  }

  /** A daemon's deployments, newest first. */
  deploymentsOf(daemonArn: string): DaemonDeploymentRecord[] {
    return [...this.#deployments.values()].filter((d) => d.daemonArn === daemonArn).sort((a, b) => b.createdAt - a.createdAt);
  }

  saveDaemon(record: DaemonRecord): DaemonRecord {
    return this.#save("daemon", record);
  }

  saveRevision(record: DaemonRevisionRecord): DaemonRevisionRecord {
    return this.#save("revision", record);
  }

  saveDeployment(record: DaemonDeploymentRecord): DaemonDeploymentRecord {
    return this.#save("deployment", record);
  }

  #save<T extends { arn: string; region: string }>(kind: Kind, record: T): T {
    const json = JSON.stringify(record);
    this.#upsert.run(record.arn, kind, record.region, json);
    const stored = Object.freeze(JSON.parse(json) as T);
    this.#mapOf(kind).set(record.arn, stored as never);
    return stored;
  }

  #mapOf(kind: Kind): Map<string, DaemonRecord | DaemonRevisionRecord | DaemonDeploymentRecord> {
    return kind === "daemon" ? this.#daemons : kind === "revision" ? this.#revisions : this.#deployments;
  }
}
