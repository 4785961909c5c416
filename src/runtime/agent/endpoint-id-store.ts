// The ids the agent bridge has put into task containers, persisted so that containers re-adopted after a
// server restart (whose env still carries them) keep reaching their metadata and credentials:
// per-container metadata endpoint ids, per-task credentials ids, and the authorization token of the
// FULL_URI endpoint modes. Also how far each awslogs container's output was shipped, so shipping resumes
// where it stopped. Secret values (resolved secrets, role keys, secret log options) are never stored here.
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { transaction } from "../database.ts";
import type { LogCursor } from "./awslogs.ts";
import type { CredentialsBinding, CredentialsKind } from "./credentials-registry.ts";

export interface EndpointIdRecord {
  /** The per-container endpoint id (UUID) in ECS_CONTAINER_METADATA_URI[_V4] and ECS_AGENT_URI. */
  id: string;
  taskArn: string;
  containerName: string;
  /** The endpoint base URL the container was given, e.g. http://169.254.170.2:41234. */
  baseUrl: string;
  /** When the container was about to be created (epoch ms). */
  createdAt: number | undefined;
  /** sha256:… id of the image the container runs, once it has started. */
  imageId: string | undefined;
}

/** An awslogs container being shipped; `cursor` is the newest event CloudWatch Logs accepted. */
export interface LogShipmentRecord {
  dockerId: string;
  taskArn: string;
  containerName: string;
  cursor: LogCursor | undefined;
}

export class EndpointIdStore {
  readonly #db: DatabaseSync;
  readonly #allEndpoints: StatementSync;
  readonly #putEndpoint: StatementSync;
  readonly #setImageId: StatementSync;
  readonly #deleteEndpoints: StatementSync;
  readonly #allCredentials: StatementSync;
  readonly #putCredentials: StatementSync;
  readonly #deleteCredentials: StatementSync;
  readonly #getMeta: StatementSync;
  readonly #putMeta: StatementSync;
  readonly #allShipments: StatementSync;
  readonly #getShipment: StatementSync;
  readonly #addShipment: StatementSync;
  readonly #setCursor: StatementSync;
  readonly #deleteShipment: StatementSync;
  readonly #deleteTaskShipments: StatementSync;

  constructor(db: DatabaseSync) {
    this.#db = db;
    db.exec(`CREATE TABLE IF NOT EXISTS agent_endpoint_ids (
      id TEXT PRIMARY KEY,
      task_arn TEXT NOT NULL,
      container_name TEXT NOT NULL,
      base_url TEXT NOT NULL,
      created_at INTEGER,
      image_id TEXT,
      UNIQUE (task_arn, container_name)
    )`);
    db.exec(`CREATE TABLE IF NOT EXISTS agent_task_credentials (
      id TEXT PRIMARY KEY,
      task_arn TEXT NOT NULL,
      role_arn TEXT NOT NULL,
      kind TEXT NOT NULL
    )`);
    db.exec("CREATE INDEX IF NOT EXISTS agent_task_credentials_task ON agent_task_credentials (task_arn)");
    db.exec("CREATE TABLE IF NOT EXISTS agent_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    db.exec(`CREATE TABLE IF NOT EXISTS agent_log_shipments (
      docker_id TEXT PRIMARY KEY,
      task_arn TEXT NOT NULL,
      container_name TEXT NOT NULL,
      sent_ms INTEGER,
      sent_nanos INTEGER,
      sent_part INTEGER
    )`);
    db.exec("CREATE INDEX IF NOT EXISTS agent_log_shipments_task ON agent_log_shipments (task_arn)");
    this.#allEndpoints = db.prepare("SELECT id, task_arn, container_name, base_url, created_at, image_id FROM agent_endpoint_ids");
    this.#putEndpoint = db.prepare(`INSERT INTO agent_endpoint_ids (id, task_arn, container_name, base_url, created_at, image_id)
      VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (task_arn, container_name) DO UPDATE SET id = excluded.id, base_url = excluded.base_url,
        created_at = excluded.created_at, image_id = excluded.image_id`);
    this.#setImageId = db.prepare("UPDATE agent_endpoint_ids SET image_id = ? WHERE id = ?");
    this.#deleteEndpoints = db.prepare("DELETE FROM agent_endpoint_ids WHERE task_arn = ?");
    this.#allCredentials = db.prepare("SELECT id, task_arn, role_arn, kind FROM agent_task_credentials");
    this.#putCredentials = db.prepare("INSERT OR REPLACE INTO agent_task_credentials (id, task_arn, role_arn, kind) VALUES (?, ?, ?, ?)");
    this.#deleteCredentials = db.prepare("DELETE FROM agent_task_credentials WHERE task_arn = ?");
    this.#getMeta = db.prepare("SELECT value FROM agent_meta WHERE key = ?");
    this.#putMeta = db.prepare("INSERT OR REPLACE INTO agent_meta (key, value) VALUES (?, ?)");
    const shipmentColumns = "docker_id, task_arn, container_name, sent_ms, sent_nanos, sent_part";
    this.#allShipments = db.prepare(`SELECT ${shipmentColumns} FROM agent_log_shipments`);
    this.#getShipment = db.prepare(`SELECT ${shipmentColumns} FROM agent_log_shipments WHERE docker_id = ?`);
    // Starting again for a container already recorded keeps its cursor.
    this.#addShipment = db.prepare("INSERT OR IGNORE INTO agent_log_shipments (docker_id, task_arn, container_name) VALUES (?, ?, ?)");
    this.#setCursor = db.prepare("UPDATE agent_log_shipments SET sent_ms = ?, sent_nanos = ?, sent_part = ? WHERE docker_id = ?");
    this.#deleteShipment = db.prepare("DELETE FROM agent_log_shipments WHERE docker_id = ?");
    this.#deleteTaskShipments = db.prepare("DELETE FROM agent_log_shipments WHERE task_arn = ?");
  }

  endpoints(): EndpointIdRecord[] {
    return this.#allEndpoints.all().map((r) => ({
      id: r["id"] as string,
      taskArn: r["task_arn"] as string,
      containerName: r["container_name"] as string,
      baseUrl: r["base_url"] as string,
      createdAt: r["created_at"] === null ? undefined : Number(r["created_at"]),
      imageId: r["image_id"] === null ? undefined : (r["image_id"] as string),
    }));
  }

  putEndpoint(r: EndpointIdRecord): void {
    this.#putEndpoint.run(r.id, r.taskArn, r.containerName, r.baseUrl, r.createdAt ?? null, r.imageId ?? null);
  }

  setImageId(id: string, imageId: string): void {
    this.#setImageId.run(imageId, id);
  }

  deleteEndpoints(taskArns: readonly string[]): void {
    if (taskArns.length === 0) return;
    transaction(this.#db, () => {
      for (const arn of taskArns) this.#deleteEndpoints.run(arn);
    });
  }

  credentials(): CredentialsBinding[] {
    return this.#allCredentials.all().map((r) => ({
      id: r["id"] as string,
      taskArn: r["task_arn"] as string,
      roleArn: r["role_arn"] as string,
      kind: r["kind"] as CredentialsKind,
    }));
  }

  putCredentials(bindings: readonly CredentialsBinding[]): void {
    if (bindings.length === 0) return;
    transaction(this.#db, () => {
      for (const b of bindings) this.#putCredentials.run(b.id, b.taskArn, b.roleArn, b.kind);
    });
  }

  deleteCredentials(taskArns: readonly string[]): void {
    if (taskArns.length === 0) return;
    transaction(this.#db, () => {
      for (const arn of taskArns) this.#deleteCredentials.run(arn);
    });
  }

  shipments(): LogShipmentRecord[] {
    return this.#allShipments.all().map(shipmentOf);
  }

  shipment(dockerId: string): LogShipmentRecord | undefined {
    const row = this.#getShipment.get(dockerId);
    return row === undefined ? undefined : shipmentOf(row);
  }

  addShipment(r: Omit<LogShipmentRecord, "cursor">): void {
    this.#addShipment.run(r.dockerId, r.taskArn, r.containerName);
  }

  setShipmentCursor(dockerId: string, c: LogCursor): void {
    this.#setCursor.run(c.timestamp, c.nanos, c.part, dockerId);
  }

  deleteShipment(dockerId: string): void {
    this.#deleteShipment.run(dockerId);
  }

  deleteTaskShipments(taskArns: readonly string[]): void {
    if (taskArns.length === 0) return;
    transaction(this.#db, () => {
      for (const arn of taskArns) this.#deleteTaskShipments.run(arn);
    });
  }

  meta(key: string): string | undefined {
    const row = this.#getMeta.get(key);
    return row === undefined ? undefined : (row["value"] as string);
  }

  setMeta(key: string, value: string): void {
    this.#putMeta.run(key, value);
  }
}

function shipmentOf(r: Record<string, unknown>): LogShipmentRecord {
  const ms = r["sent_ms"];
  return {
    dockerId: r["docker_id"] as string,
    taskArn: r["task_arn"] as string,
    containerName: r["container_name"] as string,
    cursor: ms === null || ms === undefined ? undefined : { timestamp: Number(ms), nanos: Number(r["sent_nanos"] ?? 0), part: Number(r["sent_part"] ?? 0) },
  };
}
