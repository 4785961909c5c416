import type { DatabaseSync } from "node:sqlite";
import type { TimeSource } from "../clock.ts";
import type { Logger } from "../logger.ts";
import { ExecSessionStore } from "../store/exec-session-store.ts";
import type { ExecBackend } from "./exec-backend.ts";
import { ExecSessions, type ExecSessionsOptions, type ExecTaskSource } from "./exec-sessions.ts";
import { ssmApi } from "./ssm-api.ts";
import { dataChannelEndpoint, type UpgradeHandler } from "./websocket-endpoint.ts";

export interface ExecService {
  readonly sessions: ExecSessions;
  /** For the HTTP server's `upgrade` event (the data channel WebSocket). */
  readonly handleUpgrade: UpgradeHandler;
  /** For the protocol adapter: the SSM calls the plugin sends to our endpoint. */
  readonly ssm: ReturnType<typeof ssmApi>;
  /** Settles once the sessions a previous (killed) run left behind have been reaped. */
  readonly recovered: Promise<number>;
  close(): Promise<void>;
}

/** ECS Exec's server side, wired once per server: sessions, their WebSocket endpoint and the SSM calls. */
export function createExecService(options: {
  backend: ExecBackend;
  tasks: ExecTaskSource;
  clock: TimeSource;
  logger: Logger;
  /** Where connected sessions are journaled (crash recovery); none: nothing survives the process. */
  db?: DatabaseSync | undefined;
  sessions?: Partial<Omit<ExecSessionsOptions, "backend" | "tasks" | "clock" | "logger">>;
  /**
   * Resolves once the sessions' containers can be found (the server: when the engine has re-adopted its
   * tasks after a restart); recovery waits for it. Default: at once.
   */
  recoverAfter?: Promise<void> | undefined;
}): ExecService {
  const logger = options.logger.child({ component: "exec" });
  const journal = options.db === undefined ? undefined : new ExecSessionStore(options.db);
  const sessions = new ExecSessions({ ...options.sessions, backend: options.backend, tasks: options.tasks, clock: options.clock, logger, journal });
  // In the background: a server must not wait on Docker to start; the orphans have waited already.
  let recovering = false;
  let closed = false;
  const recovered = (options.recoverAfter ?? Promise.resolve())
    .then(() => {
      if (closed) return 0;
      recovering = true;
      return sessions.recover();
    })
    .catch((err: unknown) => {
      logger.warn("exec.recover-failed", { error: err });
      return 0;
    });
  const endpoint = dataChannelEndpoint(sessions, logger);
  return {
    sessions,
    handleUpgrade: endpoint.handleUpgrade,
    ssm: ssmApi(sessions),
    recovered,
    async close() {
      closed = true;
      // A recovery that never began (the engine never started) is not waited for.
      if (recovering) await recovered;
      await sessions.close();
      endpoint.close();
    },
  };
}
