import { createHash, randomUUID } from "node:crypto";

/**
 * The binary frame of the Session Manager data channel ("AgentMessage"), as the session-manager-plugin
 * and the SSM agent exchange it over the WebSocket. Big-endian throughout:
 *
 *   0:4 HeaderLength (116) | 4:32 MessageType, space-padded | 36:4 SchemaVersion | 40:8 CreatedDate (epoch ms)
 *   48:8 SequenceNumber | 56:8 Flags | 64:16 MessageId (UUID, halves swapped) | 80:32 SHA-256 of the payload
 *   112:4 PayloadType | HeaderLength:4 PayloadLength | HeaderLength+4: payload
 *
 * Pure: no I/O, no clock (callers pass CreatedDate).
 */

export const HEADER_LENGTH = 116;
const TYPE_FIELD = 32;
const MIN_FRAME = HEADER_LENGTH + 4;

export const MessageType = {
  inputStreamData: "input_stream_data",
  outputStreamData: "output_stream_data",
  acknowledge: "acknowledge",
  channelClosed: "channel_closed",
  startPublication: "start_publication",
  pausePublication: "pause_publication",
} as const;

export const PayloadType = {
  undefined: 0,
  output: 1,
  error: 2,
  size: 3,
  parameter: 4,
  handshakeRequest: 5,
  handshakeResponse: 6,
  handshakeComplete: 7,
  encChallengeRequest: 8,
  encChallengeResponse: 9,
  flag: 10,
  stdErr: 11,
  exitCode: 12,
} as const;

export interface AgentMessage {
  messageType: string;
  schemaVersion: number;
  /** Epoch milliseconds; must not be 0. */
  createdDate: number;
  sequenceNumber: number;
  flags: number;
  /** Lower-case hyphenated UUID. */
  messageId: string;
  payloadType: number;
  payload: Buffer;
  /** As received (decode only); encode always writes the payload's SHA-256. */
  payloadDigest?: Buffer;
}

export type DecodeResult = { ok: true; message: AgentMessage } | { ok: false; error: string };

export function payloadDigest(payload: Uint8Array): Buffer {
  return createHash("sha256").update(payload).digest();
}

/** A message with the defaults every sender uses (schema 1, a fresh id). */
export function agentMessage(
  fields: Pick<AgentMessage, "messageType" | "createdDate" | "sequenceNumber" | "flags" | "payloadType"> & { payload?: Buffer; messageId?: string },
): AgentMessage {
  return {
    schemaVersion: 1,
    messageId: fields.messageId ?? randomUUID(),
    payload: fields.payload ?? Buffer.alloc(0),
    messageType: fields.messageType,
    createdDate: fields.createdDate,
    sequenceNumber: fields.sequenceNumber,
    flags: fields.flags,
    payloadType: fields.payloadType,
  };
}

export function encodeAgentMessage(message: AgentMessage): Buffer {
  if (Buffer.byteLength(message.messageType, "utf8") > TYPE_FIELD) throw new RangeError(`message type too long: ${message.messageType}`);
  const out = Buffer.alloc(MIN_FRAME + message.payload.length);
  out.writeUInt32BE(HEADER_LENGTH, 0);
  out.fill(0x20, 4, 4 + TYPE_FIELD);
  out.write(message.messageType, 4, "utf8");
  out.writeUInt32BE(message.schemaVersion, 36);
  out.writeBigUInt64BE(BigInt(message.createdDate), 40);
  out.writeBigInt64BE(BigInt(message.sequenceNumber), 48);
  out.writeBigUInt64BE(BigInt(message.flags), 56);
  uuidToWire(message.messageId).copy(out, 64);
  payloadDigest(message.payload).copy(out, 80);
  out.writeUInt32BE(message.payloadType, 112);
  out.writeUInt32BE(message.payload.length, HEADER_LENGTH);
  message.payload.copy(out, MIN_FRAME);
  return out;
}

/**
 * Parses and validates a frame (what the plugin's Validate() checks: header length, a message type, a
 * creation date). The digest is kept, not checked: see `digestMatches`.
 */
export function decodeAgentMessage(frame: Uint8Array): DecodeResult {
  const buf = Buffer.isBuffer(frame) ? frame : Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  if (buf.length < MIN_FRAME) return { ok: false, error: `frame of ${buf.length} bytes is shorter than the ${MIN_FRAME}-byte header` };
  const headerLength = buf.readUInt32BE(0);
  if (headerLength < HEADER_LENGTH) return { ok: false, error: `HeaderLength ${headerLength} is below ${HEADER_LENGTH}` };
  if (buf.length < headerLength + 4) return { ok: false, error: `HeaderLength ${headerLength} runs past the ${buf.length}-byte frame` };
  const messageType = trimPadding(buf.subarray(4, 4 + TYPE_FIELD).toString("utf8"));
  if (messageType === "") return { ok: false, error: "MessageType is missing" };
  const createdDate = buf.readBigUInt64BE(40);
  if (createdDate === 0n) return { ok: false, error: "CreatedDate is missing" };
  const sequenceNumber = buf.readBigInt64BE(48);
  if (sequenceNumber < 0n || sequenceNumber > BigInt(Number.MAX_SAFE_INTEGER)) {
    return { ok: false, error: `SequenceNumber ${sequenceNumber} is out of range` };
  }
  const payloadLength = buf.readUInt32BE(headerLength);
  const start = headerLength + 4;
  if (buf.length !== start + payloadLength) {
    return { ok: false, error: `PayloadLength ${payloadLength} does not match the ${buf.length - start} bytes after the header` };
  }
  return {
    ok: true,
    message: {
      messageType,
      schemaVersion: buf.readUInt32BE(36),
      createdDate: Number(createdDate),
      sequenceNumber: Number(sequenceNumber),
      flags: Number(buf.readBigUInt64BE(56)),
      messageId: uuidFromWire(buf.subarray(64, 80)),
      payloadDigest: Buffer.from(buf.subarray(80, 112)),
      payloadType: buf.readUInt32BE(112),
      payload: Buffer.from(buf.subarray(start, start + payloadLength)),
    },
  };
}

/**
 * Whether the received digest is the payload's SHA-256. The plugin rejects output whose digest is
 * wrong; the SSM agent (the server side we stand in for) does not check input digests, and some
 * clients (the `ssm-session` package) write a hex prefix instead, so input is accepted either way.
 */
export function digestMatches(message: AgentMessage): boolean {
  return message.payloadDigest !== undefined && payloadDigest(message.payload).equals(message.payloadDigest);
}

/** UUID → the 16 wire bytes: its last 8 bytes first, then its first 8 (the plugin's byte order). */
export function uuidToWire(uuid: string): Buffer {
  const hex = uuid.replace(/-/g, "");
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new RangeError(`not a UUID: ${uuid}`);
  const bytes = Buffer.from(hex, "hex");
  return Buffer.concat([bytes.subarray(8, 16), bytes.subarray(0, 8)]);
}

export function uuidFromWire(wire: Uint8Array): string {
  const b = Buffer.from(wire);
  const hex = Buffer.concat([b.subarray(8, 16), b.subarray(0, 8)]).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Senders pad the type with spaces (the plugin) or NULs on either side (other clients). */
function trimPadding(s: string): string {
  return s.replace(/^[\s\0]+|[\s\0]+$/g, "");
}
