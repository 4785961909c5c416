// The HTTP server a task's containers reach at 169.254.170.2: task role credentials (/v1, /v2), task
// metadata v3/v4 (container, task, taskWithTags, stats) and the agent API for task scale-in protection.
// Answers and error bodies follow the ECS agent (ecs-agent/tmds/handlers); see docs spec sections 3 and 4.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { timingSafeEqual } from "node:crypto";
import { systemClock, type TimeSource } from "../clock.ts";
import type { Logger } from "../logger.ts";
import type { CredentialsRegistry } from "./credentials-registry.ts";
import { buildContainerResponse, buildStatsResponse, buildTaskResponse, rfc3339Nano, type MetadataContainer, type MetadataVersion, type TaskMetadataSnapshot } from "./metadata.ts";
import type { RoleCredentials } from "./role-credentials.ts";
import { TaskProtectionRangeError, type TaskProtectionStore } from "./task-protection-store.ts";

/** What one metadata endpoint id (one container of one task) resolves to. */
export interface EndpointContext {
  taskArn: string;
  /** The container (by task-definition name) this endpoint id was injected into. */
  containerName: string;
  /** The task as it is now; undefined if it has gone. */
  snapshot(): TaskMetadataSnapshot | undefined;
}

export interface RoleCredentialsSource {
  get(roleArn: string, taskArn: string): Promise<RoleCredentials>;
  peek(roleArn: string, taskArn: string): RoleCredentials | undefined;
}

export interface AgentServerOptions {
  resolveEndpoint(id: string): EndpointContext | undefined;
  registry: CredentialsRegistry;
  credentials: RoleCredentialsSource;
  /** Docker one-shot stats JSON of a task's container, or null when it has none (not running). */
  stats?: ((taskArn: string, containerName: string) => Promise<Record<string, unknown> | null>) | undefined;
  protection: TaskProtectionStore;
  logger: Logger;
  /** When set, credential requests must carry it verbatim in `Authorization` (FULL_URI mode). */
  authorizationToken?: string | undefined;
  /** How long a credentials request waits for a first AssumeRole before 503 (default 800 ms, under the SDKs' 1 s). */
  credentialsWaitMs?: number;
  clock?: TimeSource;
}

export interface AgentServer {
  /**
   * Resolves with the bound address; may be called more than once to listen on several addresses. A
   * listener with its own `authorizationToken` (one reachable from other hosts) always asks for it.
   */
  listen(port: number, host: string, authorizationToken?: string): Promise<AddressInfo>;
  readonly addresses: readonly AddressInfo[];
  /** FULL_URI modes: from now on credential requests must carry this token (undefined: no check). */
  setAuthorizationToken(token: string | undefined): void;
  /** The request handler, for embedding in another server or for tests. */
  readonly handle: (req: IncomingMessage, res: ServerResponse, listenerToken?: string) => void;
  close(): Promise<void>;
}

interface NetworkSample {
  at: number;
  rx: number;
  tx: number;
}

export function createAgentServer(options: AgentServerOptions): AgentServer {
  const logger = options.logger;
  const clock = options.clock ?? systemClock;
  const waitMs = options.credentialsWaitMs ?? 800;
  const servers: Server[] = [];
  const addresses: AddressInfo[] = [];
  const lastNetwork = new Map<string, NetworkSample>();
  let authorizationToken = options.authorizationToken;

  const handle = (req: IncomingMessage, res: ServerResponse, listenerToken?: string): void => {
    route(req, res, listenerToken).catch((err: unknown) => {
      logger.error("agent.server.unhandled", { error: err, path: safePath(req.url) });
      if (!res.headersSent) sendJson(res, 500, "Internal server error");
      else res.destroy();
    });
  };

  async function route(req: IncomingMessage, res: ServerResponse, listenerToken: string | undefined): Promise<void> {
    const url = new URL(req.url ?? "/", "http://169.254.170.2");
    const path = url.pathname;
    if (path.includes("//")) {
      // The agent redirects unclean paths such as //v3//id to their cleaned form.
      res.writeHead(301, { Location: path.replace(/\/{2,}/g, "/") + url.search });
      res.end();
      return;
    }
    const method = req.method ?? "GET";
    const parts = path.replace(/^\//, "").replace(/\/$/, "").split("/");

    if (parts[0] === "v2" && parts[1] === "credentials" && parts.length <= 3) {
      if (method !== "GET") return sendJson(res, 405, "Method not allowed");
      return credentials(req, res, "CredentialsV2Request", parts[2] ?? "", listenerToken);
    }
    if (parts[0] === "v1" && parts[1] === "credentials" && parts.length === 2) {
      if (method !== "GET") return sendJson(res, 405, "Method not allowed");
      return credentials(req, res, "CredentialsV1Request", url.searchParams.get("id") ?? "", listenerToken);
    }
    if ((parts[0] === "v3" || parts[0] === "v4") && parts.length >= 2) {
      if (method !== "GET") return sendJson(res, 405, "Method not allowed");
      return metadata(res, parts[0], parts[1] ?? "", parts.slice(2).join("/"));
    }
    if (parts[0] === "api" && parts.length === 5 && parts[2] === "task-protection" && parts[3] === "v1" && parts[4] === "state") {
      return taskProtection(req, res, parts[1] ?? "", method);
    }
    sendJson(res, 404, "404 page not found");
  }

  async function credentials(req: IncomingMessage, res: ServerResponse, prefix: string, id: string, listenerToken: string | undefined): Promise<void> {
    const fail = (status: number, code: string, message: string): void =>
      sendJson(res, status, { code, message: `${prefix}: ${message}`, HTTPErrorCode: status });
    const token = listenerToken ?? authorizationToken;
    if (token !== undefined && !tokenMatches(req.headers.authorization, token)) {
      logger.warn("agent.credentials.unauthorized", { path: safePath(req.url) });
      return fail(401, "AccessDeniedException", "Authorization token missing or invalid");
    }
    if (id === "") return fail(400, "NoIdInRequest", "No Credential ID in the request");
    const binding = options.registry.lookup(id);
    if (binding === undefined) return fail(400, "InvalidIdInRequest", "Credentials not found");
    let creds = options.credentials.peek(binding.roleArn, binding.taskArn);
    if (creds === undefined) {
      creds = await withDeadline(options.credentials.get(binding.roleArn, binding.taskArn), waitMs).catch(() => undefined);
    }
    // Audit line, as the agent keeps one; never the keys themselves.
    logger.info("agent.credentials.request", { taskArn: binding.taskArn, roleArn: binding.roleArn, kind: binding.kind, served: creds !== undefined });
    if (creds === undefined) return fail(503, "CredentialsUninitialized", "Credentials uninitialized for ID");
    sendJson(res, 200, {
      RoleArn: binding.roleArn,
      AccessKeyId: creds.accessKeyId,
      SecretAccessKey: creds.secretAccessKey,
      Token: creds.sessionToken,
      Expiration: creds.expiration.toISOString().replace(/\.\d{3}Z$/, "Z"),
    });
  }

  async function metadata(res: ServerResponse, version: MetadataVersion, id: string, rest: string): Promise<void> {
    const V = version.toUpperCase();
    const ctx = options.resolveEndpoint(id);
    const snapshot = ctx?.snapshot();
    // v4 answers an unknown id with 404, v3 with 400 (the older handlers used StatusBadRequest).
    const notFound = version === "v4" ? 404 : 400;
    const containerMissing = (what: string): void =>
      sendJson(res, notFound, `${V} ${what} handler: unable to get container ID from request: unable to get docker ID from v3 endpoint ID: ${id}`);
    const taskMissing = (what: string): void =>
      sendJson(res, notFound, `${V} ${what} handler: unable to get task arn from request: unable to get task Arn from v3 endpoint ID: ${id}`);

    switch (rest) {
      case "": {
        const container = snapshot?.containers.find((c) => c.name === ctx?.containerName);
        if (snapshot === undefined || container === undefined) return containerMissing("container metadata");
        return sendJson(res, 200, buildContainerResponse(snapshot, container, version));
      }
      case "task":
      case "taskWithTags": {
        if (snapshot === undefined) return taskMissing("task metadata");
        return sendJson(res, 200, buildTaskResponse(snapshot, version, rest === "taskWithTags"));
      }
      case "stats": {
        const container = snapshot?.containers.find((c) => c.name === ctx?.containerName);
        if (snapshot === undefined || container === undefined) return containerMissing("container stats");
        return sendJson(res, 200, await containerStats(snapshot.task.taskArn ?? "", container, version));
      }
      case "task/stats": {
        if (snapshot === undefined) return taskMissing("task stats");
        const entries = await Promise.all(
          snapshot.containers
            .filter((c) => c.dockerId !== "")
            .map(async (c) => [c.dockerId, await containerStats(snapshot.task.taskArn ?? "", c, version)] as const),
        );
        return sendJson(res, 200, Object.fromEntries(entries));
      }
      default:
        return sendJson(res, 404, "404 page not found");
    }
  }

  async function containerStats(taskArn: string, container: MetadataContainer, version: MetadataVersion): Promise<Record<string, unknown> | null> {
    const { dockerId, name } = container;
    const networkMode = container.networks[0]?.networkMode;
    if (options.stats === undefined || dockerId === "") return null;
    const stats = await options.stats(taskArn, name).catch((err: unknown) => {
      logger.debug("agent.stats.failed", { dockerId, error: err });
      return null;
    });
    if (stats === null) return null;
    const rate = networkMode === "host" || networkMode === "none" ? undefined : networkRate(dockerId, stats);
    return buildStatsResponse(stats, version, rate);
  }

  function networkRate(dockerId: string, stats: Record<string, unknown>): { rxBytesPerSec: number; txBytesPerSec: number } {
    let rx = 0;
    let tx = 0;
    const networks = stats["networks"];
    if (typeof networks === "object" && networks !== null) {
      for (const n of Object.values(networks as Record<string, { rx_bytes?: number; tx_bytes?: number }>)) {
        rx += n.rx_bytes ?? 0;
        tx += n.tx_bytes ?? 0;
      }
    }
    const read = typeof stats["read"] === "string" ? Date.parse(stats["read"]) : NaN;
    const at = Number.isNaN(read) ? clock.now().getTime() : read;
    const prev = lastNetwork.get(dockerId);
    lastNetwork.set(dockerId, { at, rx, tx });
    if (prev === undefined || at <= prev.at) return { rxBytesPerSec: 0, txBytesPerSec: 0 };
    const secs = (at - prev.at) / 1000;
    return { rxBytesPerSec: Math.max(0, (rx - prev.rx) / secs), txBytesPerSec: Math.max(0, (tx - prev.tx) / secs) };
  }

  async function taskProtection(req: IncomingMessage, res: ServerResponse, id: string, method: string): Promise<void> {
    const ctx = options.resolveEndpoint(id);
    if (ctx === undefined) {
      await drain(req);
      return sendJson(res, 404, { error: { Code: "ResourceNotFoundException", Message: "Invalid request: no task was found" } });
    }
    const taskArn = ctx.taskArn;
    const reply = (p: { protectionEnabled: boolean; expirationDate: Date | undefined }): void =>
      // Go marshals the SDK's ProtectedTask without tags: a nil ExpirationDate is null, not omitted.
      sendJson(res, 200, {
        protection: {
          ExpirationDate: p.expirationDate === undefined ? null : rfc3339Nano(p.expirationDate),
          ProtectionEnabled: p.protectionEnabled,
          TaskArn: taskArn,
        },
      });
    const invalid = (message: string): void => sendJson(res, 400, { error: { Arn: taskArn, Code: "InvalidParameterException", Message: message } });
    if (method === "GET") {
      await drain(req);
      return reply(options.protection.get(taskArn));
    }
    if (method !== "PUT") {
      await drain(req);
      return sendJson(res, 405, "Method not allowed");
    }
    let body: unknown;
    try {
      body = JSON.parse(await readBody(req, 64 * 1024));
    } catch {
      return invalid("UpdateTaskProtection: failed to decode request");
    }
    if (typeof body !== "object" || body === null) return invalid("UpdateTaskProtection: failed to decode request");
    const b = body as Record<string, unknown>;
    if (typeof b["ProtectionEnabled"] !== "boolean") return invalid("Invalid request: does not contain 'ProtectionEnabled' field");
    const minutes = b["ExpiresInMinutes"];
    if (minutes !== undefined && minutes !== null && typeof minutes !== "number") return invalid("UpdateTaskProtection: failed to decode request");
    try {
      const updated = options.protection.update(taskArn, b["ProtectionEnabled"], typeof minutes === "number" ? minutes : undefined);
      logger.info("agent.task_protection.updated", { taskArn, protectionEnabled: updated.protectionEnabled });
      return reply(updated);
    } catch (err) {
      if (err instanceof TaskProtectionRangeError) return invalid(err.message);
      throw err;
    }
  }

  return {
    handle,
    setAuthorizationToken(token) {
      authorizationToken = token;
    },
    get addresses() {
      return addresses;
    },
    listen(port, host, listenerToken) {
      const server = createServer((req, res) => handle(req, res, listenerToken));
      server.keepAliveTimeout = 5000;
      return new Promise<AddressInfo>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          const addr = server.address() as AddressInfo;
          servers.push(server);
          addresses.push(addr);
          logger.info("agent.server.listening", { address: addr.address, port: addr.port });
          resolve(addr);
        });
      });
    },
    async close() {
      await Promise.all(
        servers.splice(0).map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
            }),
        ),
      );
      addresses.splice(0);
    },
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

function tokenMatches(header: string | undefined, token: string): boolean {
  if (header === undefined) return false;
  const a = Buffer.from(header);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("deadline")), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new Error("body too large"));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

async function drain(req: IncomingMessage): Promise<void> {
  if (req.readableEnded) return;
  for await (const _ of req) {
    // discard
  }
}

/** Credentials ids are secrets: keep them out of logs. */
function safePath(url: string | undefined): string {
  return (url ?? "").replace(/\/v2\/credentials\/[^/?]+/, "/v2/credentials/<id>").replace(/([?&]id=)[^&]*/, "$1<id>");
}
