import { randomUUID } from "node:crypto";
import { agentMessage, decodeAgentMessage, encodeAgentMessage, MessageType, PayloadType, type AgentMessage } from "./agent-message.ts";
import {
  acknowledgePayload,
  ActionStatus,
  channelClosedPayload,
  handshakeCompletePayload,
  handshakeRequestPayload,
  parseAcknowledge,
  parseHandshakeResponse,
  parseSize,
  SESSION_TYPE,
  type TerminalSize,
} from "./session-payloads.ts";

/** What the data channel asks of the session around it. */
export interface DataChannelHandlers {
  /** A binary frame for the socket. */
  send(frame: Buffer): void;
  /** Keystrokes for the command's stdin, in order. */
  input(data: Buffer): void;
  /** The terminal changed size (also sent once right after `ready`). */
  resize(size: TerminalSize): void;
  /** Handshake done and the terminal size known: the command may start and its output flow. */
  ready(size: TerminalSize): void;
  /** The output window has room again after `write` returned false. */
  drain(): void;
  /** The client broke off the protocol (rejected the session type, never answered the handshake …). */
  fail(message: string): void;
}

export interface DataChannelOptions {
  sessionId: string;
  /** The session's target as the plugin names it (`ecs:<cluster>_<task>_<runtimeId>`). */
  destinationId: string;
  /** false for clients that predate the handshake (no ClientVersion in OpenDataChannel). */
  handshake: boolean;
  agentVersion: string;
  /** Epoch ms; the injectable clock. */
  now(): number;
  /** Unacknowledged output is sent again after this long (the plugin's own bound is 1 s). */
  resendAfterMs?: number;
  /** At most this many output messages await acknowledgement; then `write` asks the caller to pause. */
  outputWindow?: number;
  /** Out-of-order input messages held at most; beyond, they are left unacknowledged (the client resends). */
  inputBufferLimit?: number;
  /** A client that does not answer the handshake within this long is failed (the agent waits 15 s). */
  handshakeTimeoutMs?: number;
}

export const OUTPUT_CHUNK_BYTES = 1024;
export const HANDSHAKE_TIMEOUT_MESSAGE =
  "Handshake timed out. Please ensure that you have the latest version of the session manager plugin.";

type State = "new" | "handshaking" | "awaiting-size" | "open" | "closed";

export type ReceiveOutcome = { accepted: true } | { accepted: false; reason: string };

/**
 * The server side of one Session Manager data channel, as the SSM agent plays it: sequence numbers
 * both ways, an acknowledgement for every input message, out-of-order input buffered and delivered in
 * order, unacknowledged output sent again, the handshake, and channel_closed. No sockets and no timers:
 * the session feeds it frames and calls `tick()` on its own timer; time comes from `now()`.
 */
export class DataChannel {
  readonly #opts: Required<Omit<DataChannelOptions, "now">> & { now(): number };
  readonly #handlers: DataChannelHandlers;
  #state: State = "new";
  #handshakeStartedAt = 0;
  #size: TerminalSize | undefined;
  #outSeq = 0;
  /** seq → encoded frame and when it was last sent; insertion order is seq order. */
  readonly #unacked = new Map<number, { frame: Buffer; sentAt: number }>();
  #expectedIn = 0;
  readonly #pendingIn = new Map<number, AgentMessage>();
  #lastInputAt: number;

  constructor(options: DataChannelOptions, handlers: DataChannelHandlers) {
    this.#opts = {
      resendAfterMs: 1_000,
      outputWindow: 256,
      inputBufferLimit: 1_024,
      handshakeTimeoutMs: 15_000,
      ...options,
    };
    this.#handlers = handlers;
    this.#lastInputAt = options.now();
  }

  get state(): State {
    return this.#state;
  }

  /** Output messages sent and not yet acknowledged. */
  get unacknowledged(): number {
    return this.#unacked.size;
  }

  /** Out-of-order input waiting for a gap to fill. */
  get bufferedInput(): number {
    return this.#pendingIn.size;
  }

  /** When the client last sent input (keystrokes, sizes, the handshake), for the idle timeout. */
  get lastInputAt(): number {
    return this.#lastInputAt;
  }

  /** Opens the channel: the handshake request, or straight to waiting for the terminal size. */
  start(): void {
    if (this.#state !== "new") return;
    if (this.#opts.handshake) {
      this.#state = "handshaking";
      this.#handshakeStartedAt = this.#opts.now();
      this.#sendStream(PayloadType.handshakeRequest, handshakeRequestPayload(this.#opts.agentVersion));
    } else {
      this.#state = "awaiting-size";
      if (this.#size !== undefined) this.#open();
    }
  }

  /**
   * Command output: sent as output_stream_data of at most 1 KiB each. Returns false when the output
   * window is full; the caller should pause its source until `drain`.
   */
  write(data: Buffer): boolean {
    if (this.#state === "closed") return false;
    for (let at = 0; at < data.length; at += OUTPUT_CHUNK_BYTES) {
      this.#sendStream(PayloadType.output, data.subarray(at, Math.min(data.length, at + OUTPUT_CHUNK_BYTES)));
    }
    return this.#unacked.size < this.#opts.outputWindow;
  }

  /** One binary frame from the client. Garbage is reported, never thrown. */
  receive(frame: Uint8Array): ReceiveOutcome {
    if (this.#state === "closed") return { accepted: false, reason: "channel closed" };
    const decoded = decodeAgentMessage(frame);
    if (!decoded.ok) return { accepted: false, reason: decoded.error };
    const msg = decoded.message;
    switch (msg.messageType) {
      case MessageType.inputStreamData:
        this.#onInput(msg);
        return { accepted: true };
      case MessageType.acknowledge: {
        const ack = parseAcknowledge(msg.payload);
        if (ack === undefined) return { accepted: false, reason: "malformed acknowledge payload" };
        this.#onAck(ack.sequenceNumber);
        return { accepted: true };
      }
      case MessageType.startPublication:
      case MessageType.pausePublication:
        return { accepted: true };
      default:
        return { accepted: false, reason: `unexpected message type ${msg.messageType}` };
    }
  }

  /** Sends the oldest overdue unacknowledged message again; fails a handshake that took too long. */
  tick(): void {
    if (this.#state === "closed") return;
    const now = this.#opts.now();
    if (this.#state === "handshaking" && now - this.#handshakeStartedAt >= this.#opts.handshakeTimeoutMs) {
      this.#handlers.fail(HANDSHAKE_TIMEOUT_MESSAGE);
      return;
    }
    const oldest = this.#unacked.values().next();
    if (!oldest.done && now - oldest.value.sentAt >= this.#opts.resendAfterMs) {
      oldest.value.sentAt = now;
      this.#handlers.send(oldest.value.frame);
    }
  }

  /**
   * channel_closed: the plugin prints "Exiting session with sessionId: …" (or `output` when given) and
   * exits. Nothing is sent or accepted afterwards.
   */
  close(output = ""): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    const messageId = randomUUID();
    const createdDate = this.#opts.now();
    const payload = channelClosedPayload({
      messageId,
      createdDate,
      sessionId: this.#opts.sessionId,
      destinationId: this.#opts.destinationId,
      output,
    });
    this.#handlers.send(
      encodeAgentMessage(agentMessage({ messageType: MessageType.channelClosed, createdDate, sequenceNumber: 0, flags: 0, payloadType: 0, payload, messageId })),
    );
    this.#unacked.clear();
    this.#pendingIn.clear();
  }

  // ------------------------------------------------------------------ input

  #onInput(msg: AgentMessage): void {
    this.#lastInputAt = this.#opts.now();
    const seq = msg.sequenceNumber;
    if (seq === this.#expectedIn) {
      this.#ack(msg);
      this.#expectedIn++;
      this.#process(msg);
      for (let next = this.#pendingIn.get(this.#expectedIn); next !== undefined; next = this.#pendingIn.get(this.#expectedIn)) {
        this.#pendingIn.delete(this.#expectedIn);
        this.#expectedIn++;
        this.#process(next);
      }
    } else if (seq > this.#expectedIn) {
      // Acknowledged now, delivered once the gap fills; a full buffer leaves it to the client's resend.
      if (this.#pendingIn.has(seq) || this.#pendingIn.size < this.#opts.inputBufferLimit) {
        this.#pendingIn.set(seq, msg);
        this.#ack(msg);
      }
    } else {
      // A resend of something already delivered: its acknowledgement was lost or late.
      this.#ack(msg);
    }
  }

  #process(msg: AgentMessage): void {
    if (this.#state === "closed") return;
    switch (msg.payloadType) {
      case PayloadType.handshakeResponse:
        this.#onHandshakeResponse(msg.payload);
        return;
      case PayloadType.size: {
        const size = parseSize(msg.payload);
        if (size === undefined) return;
        this.#size = size;
        if (this.#state === "open") this.#handlers.resize(size);
        else if (this.#state === "awaiting-size") this.#open();
        return;
      }
      case PayloadType.output:
        if (msg.payload.length > 0) this.#handlers.input(msg.payload);
        return;
      default:
        // Flags (port sessions), encryption challenges (never requested): nothing to do.
        return;
    }
  }

  #onHandshakeResponse(payload: Buffer): void {
    if (this.#state !== "handshaking") return;
    const response = parseHandshakeResponse(payload);
    if (response === undefined) {
      this.#handlers.fail("The session manager plugin sent a malformed handshake response.");
      return;
    }
    if (response.sessionTypeStatus !== ActionStatus.success) {
      const why = response.errors.length > 0 ? `: ${response.errors.join("; ")}` : "";
      this.#handlers.fail(`The session manager plugin did not accept the ${SESSION_TYPE} session${why}`);
      return;
    }
    this.#sendStream(PayloadType.handshakeComplete, handshakeCompletePayload(this.#opts.now() - this.#handshakeStartedAt));
    this.#state = "awaiting-size";
    if (this.#size !== undefined) this.#open();
  }

  #open(): void {
    this.#state = "open";
    const size = this.#size!;
    this.#handlers.ready(size);
    if (this.#state === "open") this.#handlers.resize(size);
  }

  #ack(msg: AgentMessage): void {
    const payload = acknowledgePayload({ messageType: msg.messageType, messageId: msg.messageId, sequenceNumber: msg.sequenceNumber });
    this.#handlers.send(
      encodeAgentMessage(
        agentMessage({ messageType: MessageType.acknowledge, createdDate: this.#opts.now(), sequenceNumber: 0, flags: 3, payloadType: 0, payload }),
      ),
    );
  }

  // ------------------------------------------------------------------ output

  #onAck(seq: number): void {
    const wasFull = this.#unacked.size >= this.#opts.outputWindow;
    if (!this.#unacked.delete(seq)) return;
    if (wasFull && this.#unacked.size < this.#opts.outputWindow && this.#state !== "closed") this.#handlers.drain();
  }

  #sendStream(payloadType: number, payload: Buffer): void {
    const now = this.#opts.now();
    const seq = this.#outSeq++;
    const frame = encodeAgentMessage(
      agentMessage({ messageType: MessageType.outputStreamData, createdDate: now, sequenceNumber: seq, flags: seq === 0 ? 1 : 0, payloadType, payload }),
    );
    this.#unacked.set(seq, { frame, sentAt: now });
    this.#handlers.send(frame);
  }
}
