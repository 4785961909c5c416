import type { Clock } from "../clock.ts";
import type { Logger } from "../logger.ts";
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
  close(): Promise<void>;
}

/** ECS Exec's server side, wired once per server: sessions, their WebSocket endpoint and the SSM calls. */
export function createExecService(options: {
  backend: ExecBackend;
  tasks: ExecTaskSource;
  clock: Clock;
  logger: Logger;
  sessions?: Partial<Omit<ExecSessionsOptions, "backend" | "tasks" | "clock" | "logger">>;
}): ExecService {
  const logger = options.logger.child({ component: "exec" });
  const sessions = new ExecSessions({ ...options.sessions, backend: options.backend, tasks: options.tasks, clock: options.clock, logger });
  const endpoint = dataChannelEndpoint(sessions, logger);
  return {
    sessions,
    handleUpgrade: endpoint.handleUpgrade,
    ssm: ssmApi(sessions),
    async close() {
      await sessions.close();
      endpoint.close();
    },
  };
}
