import { createHash, randomUUID } from "node:crypto";

/**
 * A hand-written client side of the Session Manager data channel, written from the plugin's wire
 * format independently of src/runtime/exec (its own encoder and decoder), so tests do not check our
 * codec against itself.
 */
export interface Frame {
  messageType: string;
  sequenceNumber: number;
  flags: number;
  messageId: string;
  payloadType: number;
  payload: Buffer;
  digestOk: boolean;
}

export function encodeFrame(f: { messageType: string; sequenceNumber: number; flags?: number; payloadType: number; payload: Buffer | string; messageId?: string; createdDate?: number }): Buffer {
  const payload = Buffer.isBuffer(f.payload) ? f.payload : Buffer.from(f.payload);
  const out = Buffer.alloc(120 + payload.length);
  out.writeUInt32BE(116, 0);
  Buffer.from(f.messageType.padEnd(32, " ")).copy(out, 4);
  out.writeUInt32BE(1, 36);
  out.writeBigUInt64BE(BigInt(f.createdDate ?? Date.now()), 40);
  out.writeBigInt64BE(BigInt(f.sequenceNumber), 48);
  out.writeBigUInt64BE(BigInt(f.flags ?? 0), 56);
  const id = Buffer.from((f.messageId ?? randomUUID()).replace(/-/g, ""), "hex");
  id.copy(out, 72, 0, 8);
  id.copy(out, 64, 8, 16);
  createHash("sha256").update(payload).digest().copy(out, 80);
  out.writeUInt32BE(f.payloadType, 112);
  out.writeUInt32BE(payload.length, 116);
  payload.copy(out, 120);
  return out;
}

export function decodeFrame(buf: Buffer): Frame {
  const payloadLength = buf.readUInt32BE(116);
  const payload = buf.subarray(120, 120 + payloadLength);
  const idHex = Buffer.concat([buf.subarray(72, 80), buf.subarray(64, 72)]).toString("hex");
  return {
    messageType: buf.subarray(4, 36).toString().replace(/[\s\0]+$/, ""),
    sequenceNumber: Number(buf.readBigInt64BE(48)),
    flags: Number(buf.readBigUInt64BE(56)),
    messageId: `${idHex.slice(0, 8)}-${idHex.slice(8, 12)}-${idHex.slice(12, 16)}-${idHex.slice(16, 20)}-${idHex.slice(20)}`,
    payloadType: buf.readUInt32BE(112),
    payload: Buffer.from(payload),
    digestOk: createHash("sha256").update(payload).digest().equals(buf.subarray(80, 112)),
  };
}

export const input = (seq: number, payloadType: number, payload: Buffer | string): Buffer =>
  encodeFrame({ messageType: "input_stream_data", sequenceNumber: seq, payloadType, payload });

export const keys = (seq: number, text: string): Buffer => input(seq, 1, text);
export const size = (seq: number, cols: number, rows: number): Buffer => input(seq, 3, JSON.stringify({ cols, rows }));
export const handshakeResponse = (seq: number, status = 1): Buffer =>
  input(
    seq,
    6,
    JSON.stringify({ ClientVersion: "1.2.677.0", ProcessedClientActions: [{ ActionType: "SessionType", ActionStatus: status, ActionResult: null, Error: status === 1 ? "" : "nope" }], Errors: [] }),
  );

export function ackFor(f: Frame): Buffer {
  return encodeFrame({
    messageType: "acknowledge",
    sequenceNumber: 0,
    flags: 3,
    payloadType: 0,
    payload: JSON.stringify({ AcknowledgedMessageType: f.messageType, AcknowledgedMessageId: f.messageId, AcknowledgedMessageSequenceNumber: f.sequenceNumber, IsSequentialMessage: true }),
  });
}

export function json(f: Frame): any {
  return JSON.parse(f.payload.toString());
}
