import { randomUUID } from "node:crypto";
import { WebSocket } from "ws";
import { ackFor, decodeFrame, handshakeResponse, keys, size, type Frame } from "./plugin-client.ts";

/** A hand-written data channel client over a real WebSocket, acknowledging output like the plugin. */
export class TestClient {
  readonly socket: WebSocket;
  readonly frames: Frame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Acknowledge output_stream_data as it arrives (the plugin does); off = a client that never acks. */
  autoAck = true;
  #seq = 0;
  #listeners = new Set<() => void>();

  private constructor(socket: WebSocket) {
    this.socket = socket;
    this.closed = new Promise((resolve) => socket.once("close", (code, reason) => resolve({ code, reason: reason.toString() })));
    socket.on("message", (data, isBinary) => {
      if (!isBinary) return;
      const f = decodeFrame(data as Buffer);
      this.frames.push(f);
      if (this.autoAck && f.messageType === "output_stream_data") this.send(ackFor(f));
      for (const l of this.#listeners) l();
    });
  }

  /** Opens the socket; rejects with the HTTP status when the upgrade is refused. */
  static connect(url: string): Promise<TestClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url);
      socket.once("open", () => resolve(new TestClient(socket)));
      socket.once("unexpected-response", (_req, res) => {
        reject(new Error(`upgrade refused: ${res.statusCode}`));
        socket.terminate();
      });
      socket.once("error", reject);
    });
  }

  sendToken(token: string, clientVersion = "1.2.677.0"): void {
    const open: Record<string, string> = { MessageSchemaVersion: "1.0", RequestId: randomUUID(), TokenValue: token, ClientId: randomUUID() };
    if (clientVersion !== "") open["ClientVersion"] = clientVersion;
    this.socket.send(JSON.stringify(open));
  }

  send(frame: Buffer): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(frame);
  }

  /** The plugin's opening: token, handshake response, terminal size. */
  async open(token: string, cols = 80, rows = 24): Promise<void> {
    this.sendToken(token);
    await this.waitFor((f) => f.payloadType === 5, "the handshake request");
    this.send(handshakeResponse(this.#seq++));
    await this.waitFor((f) => f.payloadType === 7, "the handshake completion");
    this.send(size(this.#seq++, cols, rows));
  }

  type(text: string): void {
    this.send(keys(this.#seq++, text));
  }

  resize(cols: number, rows: number): void {
    this.send(size(this.#seq++, cols, rows));
  }

  /** Output payloads (type 1) so far, as text. */
  output(): string {
    return Buffer.concat(this.frames.filter((f) => f.messageType === "output_stream_data" && f.payloadType === 1).map((f) => f.payload)).toString();
  }

  channelClosed(): Frame | undefined {
    return this.frames.find((f) => f.messageType === "channel_closed");
  }

  waitFor(predicate: (f: Frame) => boolean, what: string, timeoutMs = 10_000): Promise<Frame> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const hit = this.frames.find(predicate);
        if (hit === undefined) return false;
        cleanup();
        resolve(hit);
        return true;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for ${what}; frames: ${JSON.stringify(this.frames.map((f) => [f.messageType, f.payloadType, f.sequenceNumber]))}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.#listeners.delete(listener);
      };
      const listener = (): void => void check();
      this.#listeners.add(listener);
      check();
    });
  }

  waitForOutput(text: string, timeoutMs = 10_000): Promise<void> {
    return this.waitFor(() => this.output().includes(text), `output ${JSON.stringify(text)}`, timeoutMs).then(() => undefined);
  }
}
