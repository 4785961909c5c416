import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { LaunchType, Service } from "../../../generated/shapes.ts";
import { deserializeService, serializeService } from "../../../generated/serde.ts";
import { newBook, type ServiceBook } from "../services/scheduler-types.ts";

/** One stored service: the Service as ECS shows it (without counts and tags) and the scheduler's bookkeeping. */
export interface ServiceRecord {
  /** The region the service was created in (ECS resources are regional). */
  region: string;
  service: Service;
  book: ServiceBook;
  /** CreateService's clientToken, for idempotent retries. */
  clientToken?: string | undefined;
  /** Hash of the CreateService request: the same request again answers the existing service. */
  fingerprint?: string | undefined;
}

export interface ServiceListQuery {
  region: string;
  clusterArn: string;
  launchType?: LaunchType | undefined;
  schedulingStrategy?: string | undefined;
  resourceManagementType?: string | undefined;
  /** Keyset cursor: the last service name of the previous page. */
  after?: string | undefined;
  limit: number;
}

export interface ServiceCounts {
  active: number;
  draining: number;
  /** ACTIVE/DRAINING per launch type (services on a capacity provider strategy count as EC2). */
  byLaunchType: Partial<Record<LaunchType, { active: number; draining: number }>>;
}

/**
 * Services, keyed by (region, cluster ARN, name). Every document is wire JSON (serializeService) in `doc`
 * plus the scheduler's bookkeeping as JSON in `book`; DescribeServices adds counts from the engine's
 * tasks and tags from the TagStore when it answers, so neither can go stale. Services are few and read
 * on every scheduler step, so all of them are kept in memory as well (written through on every save).
 * Records handed out are copies: change one and `save` it.
 */
export class ServiceStore {
  readonly #byArn = new Map<string, ServiceRecord>();
  readonly #upsert: StatementSync;

  constructor(db: DatabaseSync) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS services (
        region TEXT NOT NULL,
        cluster_arn TEXT NOT NULL,
        name TEXT NOT NULL,
        arn TEXT NOT NULL UNIQUE,
        status TEXT NOT NULL,
        created_at REAL NOT NULL,
        client_token TEXT,
        fingerprint TEXT,
        doc TEXT NOT NULL,
        book TEXT NOT NULL,
        PRIMARY KEY (region, cluster_arn, name)
      );
    `);
    this.#upsert = db.prepare(`INSERT INTO services (region, cluster_arn, name, arn, status, created_at, client_token, fingerprint, doc, book)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (region, cluster_arn, name) DO UPDATE SET arn = excluded.arn, status = excluded.status,
        created_at = excluded.created_at, client_token = excluded.client_token, fingerprint = excluded.fingerprint,
        doc = excluded.doc, book = excluded.book`);
    for (const row of db.prepare("SELECT region, client_token, fingerprint, doc, book FROM services").all()) {
      const record: ServiceRecord = {
        region: String(row["region"]),
        service: deserializeService(JSON.parse(String(row["doc"])), "service"),
        book: { ...newBook(), ...(JSON.parse(String(row["book"])) as ServiceBook) },
      };
      if (row["client_token"] !== null) record.clientToken = String(row["client_token"]);
      if (row["fingerprint"] !== null) record.fingerprint = String(row["fingerprint"]);
      this.#byArn.set(record.service.serviceArn ?? "", record);
    }
  }

  get(serviceArn: string): ServiceRecord | undefined {
    const r = this.#byArn.get(serviceArn);
    return r === undefined ? undefined : copy(r);
  }

  /** The service of that name in the cluster, whatever its status. */
  find(region: string, clusterArn: string, name: string): ServiceRecord | undefined {
    for (const r of this.#byArn.values()) {
      if (r.region === region && r.service.clusterArn === clusterArn && r.service.serviceName === name) return copy(r);
    }
    return undefined;
  }

  /** The ARN of the service of that name in the cluster that is not INACTIVE (no copy made: hot path). */
  liveArn(clusterArn: string, name: string): string | undefined {
    for (const [arn, r] of this.#byArn) {
      if (r.service.clusterArn === clusterArn && r.service.serviceName === name && r.service.status !== "INACTIVE") return arn;
    }
    return undefined;
  }

  /** Every service not INACTIVE (what the scheduler keeps running). */
  live(): ServiceRecord[] {
    return [...this.#byArn.values()].filter((r) => r.service.status !== "INACTIVE").map(copy);
  }

  save(record: ServiceRecord): ServiceRecord {
    const s = record.service;
    if (s.serviceArn === undefined || s.serviceName === undefined || s.clusterArn === undefined) throw new Error("service without ARN, name or cluster");
    const doc: Service = { ...s };
    // Derived when shown; never persisted.
    delete doc.runningCount;
    delete doc.pendingCount;
    delete doc.tags;
    const json = JSON.stringify(serializeService(doc));
    const book = JSON.stringify(record.book);
    this.#upsert.run(
      record.region,
      s.clusterArn,
      s.serviceName,
      s.serviceArn,
      s.status ?? "ACTIVE",
      (s.createdAt?.getTime() ?? 0) / 1000,
      record.clientToken ?? null,
      record.fingerprint ?? null,
      json,
      book,
    );
    // What a read from SQLite would give, so nothing is shared with the caller.
    const stored: ServiceRecord = {
      region: record.region,
      service: deserializeService(JSON.parse(json), "service"),
      book: JSON.parse(book) as ServiceBook,
    };
    if (record.clientToken !== undefined) stored.clientToken = record.clientToken;
    if (record.fingerprint !== undefined) stored.fingerprint = record.fingerprint;
    // A re-created service (same name after INACTIVE) replaces the old row, and with it the old ARN key.
    for (const [arn, r] of this.#byArn) {
      if (r.region === record.region && r.service.clusterArn === s.clusterArn && r.service.serviceName === s.serviceName) this.#byArn.delete(arn);
    }
    this.#byArn.set(s.serviceArn, stored);
    return copy(stored);
  }

  /** ACTIVE services of a cluster in name order (ListServices leaves out DRAINING and INACTIVE ones). */
  list(query: ServiceListQuery): ServiceRecord[] {
    return [...this.#byArn.values()]
      .filter((r) => {
        const s = r.service;
        if (r.region !== query.region || s.clusterArn !== query.clusterArn || s.status !== "ACTIVE") return false;
        if (query.after !== undefined && (s.serviceName ?? "") <= query.after) return false;
        if (query.launchType !== undefined && s.launchType !== query.launchType) return false;
        if (query.schedulingStrategy !== undefined && (s.schedulingStrategy ?? "REPLICA") !== query.schedulingStrategy) return false;
        if (query.resourceManagementType !== undefined && (s.resourceManagementType ?? "CUSTOMER") !== query.resourceManagementType) return false;
        return true;
      })
      .sort((a, b) => ((a.service.serviceName ?? "") < (b.service.serviceName ?? "") ? -1 : 1))
      .slice(0, query.limit)
      .map(copy);
  }

  /** ACTIVE services of every cluster of the region whose Service Connect namespace is `matches`. */
  byNamespace(region: string, matches: (namespace: string) => boolean): ServiceRecord[] {
    return [...this.#byArn.values()]
      .filter((r) => r.region === region && r.service.status === "ACTIVE")
      // Service Connect settings live on the deployments (the Service shape has none of its own).
      .filter((r) => (r.service.deployments ?? []).some((d) => d.serviceConnectConfiguration?.namespace !== undefined && matches(d.serviceConnectConfiguration.namespace)))
      .sort((a, b) => ((a.service.serviceArn ?? "") < (b.service.serviceArn ?? "") ? -1 : 1))
      .map(copy);
  }

  /** For DescribeClusters (activeServicesCount and the service statistics) and DeleteCluster. */
  counts(clusterArn: string): ServiceCounts {
    const counts: ServiceCounts = { active: 0, draining: 0, byLaunchType: {} };
    for (const { service: s } of this.#byArn.values()) {
      if (s.clusterArn !== clusterArn || (s.status !== "ACTIVE" && s.status !== "DRAINING")) continue;
      const per = (counts.byLaunchType[launchTypeOf(s)] ??= { active: 0, draining: 0 });
      if (s.status === "ACTIVE") {
        counts.active++;
        per.active++;
      } else {
        counts.draining++;
        per.draining++;
      }
    }
    return counts;
  }
}

function launchTypeOf(s: Service): LaunchType {
  return s.launchType ?? "EC2";
}

function copy(r: ServiceRecord): ServiceRecord {
  return structuredClone(r);
}
