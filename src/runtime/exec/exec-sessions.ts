import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { WebSocket } from "ws";
import type { Task } from "../../../generated/shapes.ts";
import type { TimeSource } from "../clock.ts";
import type { Logger } from "../logger.ts";
import type { ExecSessionStore } from "../store/exec-session-store.ts";
import type { ExecBackend } from "./exec-backend.ts";
import { ExecSession, type ExecTarget, type SessionEnd } from "./exec-session.ts";
import { parseOpenDataChannel } from "./session-payloads.ts";

/** The task engine as ECS Exec sees it. */
export interface ExecTaskSource {
  get(taskArn: string): Task | undefined;
  subscribe(listener: (task: Task) => void): () => void;
}

export interface ExecSessionsOptions {
  backend: ExecBackend;
  tasks: ExecTaskSource;
  clock: TimeSource;
  logger: Logger;
  /** A token not presented within this long is void (the CLI hands it to the plugin at once). */
  tokenTtlMs?: number;
  /** ECS Exec's idle timeout: 20 minutes without input from the client, not configurable on AWS. */
  idleTimeoutMs?: number;
  /** Concurrent sessions per container (the ECS agent's default SessionWorkersLimit). */
  sessionLimit?: number;
  /** How often the timer runs resends and deadlines; 0 = no timer (tests call `tick()`). */
  tickMs?: number;
  /** The version the handshake reports as the agent's. */
  agentVersion?: string;
  /** The user commands run as: ECS Exec runs them as root, whatever the container's `user` is. */
  user?: string;
  /** Connected sessions, persisted so the next start can kill what a crashed server left running. */
  journal?: ExecSessionStore | undefined;
}

export interface IssueRequest extends Omit<ExecTarget, "sessionId"> {
  /** Host (and port) the client reached us at, from its Host header: the stream URL goes back there. */
  host: string;
}

export interface IssuedSession {
  sessionId: string;
  streamUrl: string;
  tokenValue: string;
}

/** Too many sessions on one container (ECS answers ClientException). */
export class ExecSessionLimitError extends Error {
  readonly limit: number;
  constructor(limit: number) {
    super(`Unable to start new execute sessions because the maximum session limit of ${limit} has been reached.`);
    this.limit = limit;
  }
}

export const DATA_CHANNEL_PATH = "/v1/data-channel/";
export const IDLE_TIMEOUT_MESSAGE = "Your session timed out due to inactivity and has been terminated.";
const TASK_STOPPED_MESSAGE = "The task was stopped.";
const SHUTDOWN_MESSAGE = "local-ecs-api is shutting down.";
/** Task statuses past RUNNING: the task is going away, and its sessions with it. */
const STOPPING_STATUSES = new Set(["DEACTIVATING", "STOPPING", "DEPROVISIONING", "STOPPED"]);
/** A socket that has not presented its token by then is closed. */
const OPEN_TIMEOUT_MS = 10_000;
/** How long orphans whose runtime did not answer wait before the next attempt to reap them. */
const REAP_RETRY_MS = 30_000;

type SessionRecord = {
  target: ExecTarget;
  tokenHash: Buffer;
  issuedAt: number;
  expiresAt: number;
  /** Sockets upgraded for this session that have not presented a token yet. */
  waiting: Set<{ socket: WebSocket; since: number }>;
  session?: ExecSession;
};

/**
 * The ECS Exec sessions of this server: issues one-time tokens (ExecuteCommand), admits sockets that
 * present them, enforces the per-container limit, and ends sessions on idle, task stop, TerminateSession
 * and shutdown. One audit line per session when it ends (who, what, where, how it ended).
 */
export class ExecSessions {
  readonly #opts: Required<Omit<ExecSessionsOptions, "backend" | "tasks" | "clock" | "logger" | "journal">>;
  readonly #journal: ExecSessionStore | undefined;
  readonly #backend: ExecBackend;
  readonly #clock: TimeSource;
  readonly #logger: Logger;
  readonly #records = new Map<string, SessionRecord>();
  readonly #unsubscribe: () => void;
  readonly #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #recovering: Promise<number> | undefined;
  /** When orphans are left whose runtime did not answer: the time of the next attempt. */
  #reapAgainAt: number | undefined;

  constructor(options: ExecSessionsOptions) {
    this.#backend = options.backend;
    this.#clock = options.clock;
    this.#logger = options.logger;
    this.#journal = options.journal;
    this.#opts = {
      tokenTtlMs: options.tokenTtlMs ?? 60_000,
      idleTimeoutMs: options.idleTimeoutMs ?? 20 * 60_000,
      sessionLimit: options.sessionLimit ?? 2,
      tickMs: options.tickMs ?? 200,
      agentVersion: options.agentVersion ?? "3.3.0.0",
      user: options.user ?? "0",
    };
    this.#unsubscribe = options.tasks.subscribe((task) => this.#onTask(task));
    if (this.#opts.tickMs > 0) {
      this.#timer = setInterval(() => this.tick(), this.#opts.tickMs);
      this.#timer.unref();
    }
  }

  get sessionLimit(): number {
    return this.#opts.sessionLimit;
  }

  /** Sessions issued or connected and not ended. */
  get size(): number {
    return this.#records.size;
  }

  /** The session as issued for ExecuteCommand's answer; throws ExecSessionLimitError. */
  issue(request: IssueRequest): IssuedSession {
    // A session that is ending (its process being killed) no longer takes a place.
    const active = [...this.#records.values()].filter(
      (r) => r.target.taskArn === request.taskArn && r.target.containerName === request.containerName && r.session?.ended !== true,
    ).length;
    if (active >= this.#opts.sessionLimit) throw new ExecSessionLimitError(this.#opts.sessionLimit);
    const sessionId = `ecs-execute-command-0${randomBytes(8).toString("hex")}`;
    const tokenValue = randomBytes(48).toString("base64");
    const now = this.#now();
    const { host, ...rest } = request;
    this.#records.set(sessionId, {
      target: { ...rest, sessionId },
      tokenHash: hash(tokenValue),
      issuedAt: now,
      expiresAt: now + this.#opts.tokenTtlMs,
      waiting: new Set(),
    });
    this.#logger.info("exec.session-issued", { sessionId, taskArn: request.taskArn, container: request.containerName, accessKeyId: request.accessKeyId ?? null });
    return { sessionId, tokenValue, streamUrl: `ws://${host}${DATA_CHANNEL_PATH}${sessionId}?role=publish_subscribe` };
  }

  /** Whether a socket may be opened for this session (issued, token not yet used or expired). */
  admits(sessionId: string): boolean {
    const r = this.#records.get(sessionId);
    return r !== undefined && r.session === undefined && this.#now() < r.expiresAt;
  }

  /** A socket upgraded for `sessionId`: its first text frame must carry the session's token. */
  attach(sessionId: string, socket: WebSocket): void {
    const r = this.#records.get(sessionId);
    if (r === undefined || r.session !== undefined) {
      socket.close(1008, "unknown or used session");
      return;
    }
    const waiter = { socket, since: this.#now() };
    r.waiting.add(waiter);
    const onMessage = (data: unknown, isBinary: boolean): void => {
      socket.off("message", onMessage);
      r.waiting.delete(waiter);
      const open = isBinary ? undefined : parseOpenDataChannel(String(data));
      if (open === undefined || !this.#redeem(r, open.tokenValue)) {
        this.#logger.warn("exec.token-rejected", { sessionId });
        socket.close(1008, "invalid token");
        return;
      }
      const session = new ExecSession({
        target: r.target,
        socket,
        backend: this.#backend,
        logger: this.#logger,
        now: () => this.#now(),
        handshake: open.clientVersion !== "",
        agentVersion: this.#opts.agentVersion,
        user: this.#opts.user,
        onEnd: (end) => this.#onEnd(r, end),
      });
      r.session = session;
      this.#journal?.put(r.target, this.#now());
      this.#logger.info("exec.session-connected", { sessionId, clientId: open.clientId, clientVersion: open.clientVersion });
      session.start();
    };
    socket.on("message", onMessage);
    socket.once("close", () => r.waiting.delete(waiter));
  }

  /**
   * Kills what sessions of a previous run of this server left in their containers (it was killed before
   * it could end them; their clients are gone). Returns how many sessions were reaped. Those on a runtime
   * that does not answer (another engine, down) stay journaled and are tried again every 30 s by tick().
   */
  recover(): Promise<number> {
    this.#recovering ??= this.#reapOrphans().finally(() => (this.#recovering = undefined));
    return this.#recovering;
  }

  async #reapOrphans(): Promise<number> {
    let reaped = 0;
    let left = 0;
    for (const { target, startedAt } of this.#journal?.all() ?? []) {
      if (this.#closed) break;
      if (this.#records.has(target.sessionId)) continue;
      const done = await this.#backend.reap(target.runtimeId, { tag: target.sessionId, user: this.#opts.user });
      // Closed meanwhile: the journal (and its database) may be gone; the next start tries again.
      if (this.#closed) break;
      if (!done) {
        left++;
        continue;
      }
      this.#journal?.delete(target.sessionId);
      this.#audit(target, { connected: true, issuedAt: startedAt, end: { reason: "server-restart" } });
      reaped++;
    }
    this.#reapAgainAt = left === 0 ? undefined : this.#now() + REAP_RETRY_MS;
    if (left > 0) this.#logger.warn("exec.reap-deferred", { sessions: left, message: "their containers' runtime did not answer: trying again in 30 s" });
    return reaped;
  }

  /** Ends a session as TerminateSession asks; false when there is none. */
  terminate(sessionId: string): boolean {
    const r = this.#records.get(sessionId);
    if (r === undefined) return false;
    this.#endRecord(r, { reason: "terminated" });
    return true;
  }

  has(sessionId: string): boolean {
    return this.#records.has(sessionId);
  }

  /** Timer work (also callable by tests with an injected clock): resends, expiries, idle sessions. */
  tick(): void {
    const now = this.#now();
    if (this.#reapAgainAt !== undefined && now >= this.#reapAgainAt && this.#recovering === undefined) {
      this.#reapAgainAt = undefined;
      void this.recover().catch((err: unknown) => this.#logger.warn("exec.recover-failed", { error: err }));
    }
    for (const r of [...this.#records.values()]) {
      for (const w of r.waiting) {
        if (now - w.since >= OPEN_TIMEOUT_MS) {
          r.waiting.delete(w);
          w.socket.close(1008, "no token presented");
        }
      }
      const s = r.session;
      if (s === undefined) {
        if (now >= r.expiresAt && r.waiting.size === 0) this.#endRecord(r, { reason: "expired" });
        continue;
      }
      if (now - s.lastInputAt >= this.#opts.idleTimeoutMs) {
        this.#endRecord(r, { reason: "idle", output: IDLE_TIMEOUT_MESSAGE });
        continue;
      }
      s.tick();
    }
  }

  /** Ends every session (server shutdown) and waits for their processes to be gone. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#unsubscribe();
    await Promise.all([...this.#records.values()].map((r) => this.#endRecord(r, { reason: "shutdown", output: SHUTDOWN_MESSAGE })));
  }

  #onTask(task: Task): void {
    if (this.#records.size === 0 || task.taskArn === undefined) return;
    const stoppedContainers = new Set((task.containers ?? []).filter((c) => c.lastStatus === "STOPPED").map((c) => c.name));
    const taskStopped = STOPPING_STATUSES.has(task.lastStatus ?? "");
    if (!taskStopped && stoppedContainers.size === 0) return;
    for (const r of [...this.#records.values()]) {
      if (r.target.taskArn !== task.taskArn) continue;
      if (taskStopped || stoppedContainers.has(r.target.containerName)) this.#endRecord(r, { reason: "task-stopped", output: TASK_STOPPED_MESSAGE });
    }
  }

  #endRecord(r: SessionRecord, end: SessionEnd): Promise<void> {
    for (const w of r.waiting) w.socket.close(1008, "session ended");
    r.waiting.clear();
    if (r.session !== undefined) return r.session.end(end);
    this.#onEnd(r, end);
    return Promise.resolve();
  }

  #onEnd(r: SessionRecord, end: SessionEnd): void {
    if (this.#records.get(r.target.sessionId) !== r) return;
    this.#records.delete(r.target.sessionId);
    if (r.session !== undefined) this.#journal?.delete(r.target.sessionId);
    this.#audit(r.target, { connected: r.session !== undefined, issuedAt: r.issuedAt, end });
  }

  /** The audit line: who ran what where, and how it ended. */
  #audit(t: ExecTarget, about: { connected: boolean; issuedAt: number; end: SessionEnd }): void {
    this.#logger.info("exec.session", {
      sessionId: t.sessionId,
      accessKeyId: t.accessKeyId ?? null,
      region: t.region,
      clusterArn: t.clusterArn,
      taskArn: t.taskArn,
      container: t.containerName,
      runtimeId: t.runtimeId,
      command: t.command,
      connected: about.connected,
      issuedAt: new Date(about.issuedAt).toISOString(),
      endedAt: new Date(this.#now()).toISOString(),
      reason: about.end.reason,
      exitCode: about.end.exitCode ?? null,
    });
  }

  #redeem(r: SessionRecord, token: string): boolean {
    if (this.#records.get(r.target.sessionId) !== r || r.session !== undefined || this.#now() >= r.expiresAt) return false;
    return timingSafeEqual(hash(token), r.tokenHash);
  }

  #now(): number {
    return this.#clock.now().getTime();
  }
}

function hash(token: string): Buffer {
  return createHash("sha256").update(token, "utf8").digest();
}
