import type { IncomingMessage } from "node:http";
import { createRequire } from "node:module";
import type { Duplex } from "node:stream";
import type * as Ws from "ws";
import type { Logger } from "../logger.ts";
import { DATA_CHANNEL_PATH, type ExecSessions } from "./exec-sessions.ts";

/** Frames from the plugin are ≤ 1 KiB of payload plus a 120-byte header; anything far bigger is not one. */
const MAX_FRAME_BYTES = 64 * 1024;

/** ws (and the zlib it requires) loads with the first data channel, not at every start (~15 ms of it). */
const loadWs = (): typeof Ws => createRequire(import.meta.url)("ws") as typeof Ws;

export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/**
 * The data channel's WebSocket endpoint (`ws://<host>/v1/data-channel/<sessionId>`) on the same HTTP
 * server and port as the ECS API: the `upgrade` event of that server is handed here. Only sessions that
 * ExecuteCommand issued and that nobody has used yet are upgraded; anything else gets a plain HTTP error.
 */
export function dataChannelEndpoint(sessions: ExecSessions, logger: Logger): { handleUpgrade: UpgradeHandler; close(): void } {
  let wss: Ws.WebSocketServer | undefined;
  const server = (): Ws.WebSocketServer => (wss ??= new (loadWs().WebSocketServer)({ noServer: true, maxPayload: MAX_FRAME_BYTES, clientTracking: true }));
  return {
    handleUpgrade(req, socket, head) {
      socket.on("error", (err) => logger.debug("exec.upgrade-socket-error", { error: err }));
      const sessionId = sessionIdOf(req.url);
      if (sessionId === undefined) {
        refuse(socket, 404, "Not Found");
        return;
      }
      if (!sessions.admits(sessionId)) {
        logger.warn("exec.upgrade-refused", { sessionId });
        refuse(socket, 403, "Forbidden");
        return;
      }
      server().handleUpgrade(req, socket, head, (ws) => {
        ws.on("error", (err) => logger.debug("exec.socket-error", { sessionId, error: err }));
        sessions.attach(sessionId, ws);
      });
    },
    close() {
      if (wss === undefined) return;
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    },
  };
}

function sessionIdOf(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  const path = url.split("?", 1)[0]!;
  if (!path.startsWith(DATA_CHANNEL_PATH)) return undefined;
  const id = path.slice(DATA_CHANNEL_PATH.length);
  return /^[A-Za-z0-9-]{1,128}$/.test(id) ? id : undefined;
}

function refuse(socket: Duplex, status: number, text: string): void {
  if (socket.writable) socket.end(`HTTP/1.1 ${status} ${text}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
  else socket.destroy();
}
