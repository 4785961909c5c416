import { createHash } from "node:crypto";
import { ssm } from "ssm-session";
import { describe, expect, it } from "vitest";
import {
  agentMessage,
  decodeAgentMessage,
  digestMatches,
  encodeAgentMessage,
  MessageType,
  PayloadType,
  uuidFromWire,
  uuidToWire,
  type AgentMessage,
} from "../../../src/runtime/exec/agent-message.ts";

const ID = "0a1b2c3d-4e5f-4061-8273-8495a6b7c8d9";

function sample(payload = Buffer.from("hello")): AgentMessage {
  return agentMessage({
    messageType: MessageType.outputStreamData,
    createdDate: 1_700_000_000_123,
    sequenceNumber: 42,
    flags: 1,
    payloadType: PayloadType.output,
    payload,
    messageId: ID,
  });
}

function decoded(frame: Uint8Array): AgentMessage {
  const r = decodeAgentMessage(frame);
  if (!r.ok) throw new Error(r.error);
  return r.message;
}

describe("AgentMessage framing", () => {
  it("lays the header out as the plugin reads it (big-endian, fixed offsets)", () => {
    const frame = encodeAgentMessage(sample());
    expect(frame.length).toBe(120 + 5);
    expect(frame.readUInt32BE(0)).toBe(116);
    expect(frame.subarray(4, 36).toString("utf8")).toBe("output_stream_data".padEnd(32, " "));
    expect(frame.readUInt32BE(36)).toBe(1);
    expect(frame.readBigUInt64BE(40)).toBe(1_700_000_000_123n);
    expect(frame.readBigInt64BE(48)).toBe(42n);
    expect(frame.readBigUInt64BE(56)).toBe(1n);
    expect(frame.readUInt32BE(112)).toBe(PayloadType.output);
    expect(frame.readUInt32BE(116)).toBe(5);
    expect(frame.subarray(120).toString()).toBe("hello");
  });

  it("writes the payload's SHA-256 as the digest", () => {
    const frame = encodeAgentMessage(sample(Buffer.from("digest me")));
    expect(frame.subarray(80, 112)).toEqual(createHash("sha256").update("digest me").digest());
    expect(digestMatches(decoded(frame))).toBe(true);
    const tampered = Buffer.from(frame);
    tampered.writeUInt8(tampered.readUInt8(frame.length - 1) ^ 0xff, frame.length - 1);
    expect(digestMatches(decoded(tampered))).toBe(false);
  });

  it("puts the message id's second half first on the wire", () => {
    const wire = uuidToWire(ID);
    expect(wire.toString("hex")).toBe("827384" + "95a6b7c8d9" + "0a1b2c3d4e5f4061");
    expect(uuidFromWire(wire)).toBe(ID);
    const frame = encodeAgentMessage(sample());
    expect(frame.subarray(64, 80)).toEqual(wire);
    expect(decoded(frame).messageId).toBe(ID);
  });

  it("round-trips every field, including an empty payload and a large sequence number", () => {
    const m = { ...sample(Buffer.alloc(0)), sequenceNumber: 2 ** 40, flags: 3, payloadType: 0, messageType: MessageType.acknowledge };
    const back = decoded(encodeAgentMessage(m));
    expect(back).toMatchObject({ messageType: "acknowledge", sequenceNumber: 2 ** 40, flags: 3, payloadType: 0, createdDate: m.createdDate, messageId: ID });
    expect(back.payload.length).toBe(0);
  });

  it("trims NUL and space padding on either side of the message type", () => {
    const frame = encodeAgentMessage(sample());
    frame.fill(0, 4, 36);
    frame.write("input_stream_data", 4 + 32 - "input_stream_data".length, "utf8");
    expect(decoded(frame).messageType).toBe("input_stream_data");
  });

  it.each([
    ["a frame shorter than the header", (f: Buffer) => f.subarray(0, 100), /shorter than/],
    ["HeaderLength 0", (f: Buffer) => (f.writeUInt32BE(0, 0), f), /HeaderLength 0/],
    ["a HeaderLength past the frame", (f: Buffer) => (f.writeUInt32BE(5000, 0), f), /runs past/],
    ["an empty message type", (f: Buffer) => (f.fill(0x20, 4, 36), f), /MessageType is missing/],
    ["CreatedDate 0", (f: Buffer) => (f.writeBigUInt64BE(0n, 40), f), /CreatedDate is missing/],
    ["a negative sequence number", (f: Buffer) => (f.writeBigInt64BE(-1n, 48), f), /out of range/],
    ["a payload length longer than the frame", (f: Buffer) => (f.writeUInt32BE(6, 116), f), /does not match/],
    ["trailing bytes", (f: Buffer) => Buffer.concat([f, Buffer.from("x")]), /does not match/],
  ])("refuses %s without throwing", (_what, mutate, error) => {
    const r = decodeAgentMessage(mutate(encodeAgentMessage(sample())));
    expect(r.ok).toBe(false);
    expect(r.ok ? "" : r.error).toMatch(error);
  });

  it("never throws on random bytes", () => {
    let seed = 7;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) & 0xff;
    for (let i = 0; i < 2000; i++) {
      const len = rand() * 2;
      const buf = Buffer.from(Array.from({ length: len }, rand));
      if (len >= 4) buf.writeUInt32BE(116, 0);
      expect(() => decodeAgentMessage(buf)).not.toThrow();
    }
  });
});

describe("interoperability with the ssm-session package (an independent client implementation)", () => {
  it("ssm-session decodes what we encode: type, sequence, id, payload", () => {
    const m = sample(Buffer.from("output from the container"));
    const theirs = ssm.decode(encodeAgentMessage(m));
    expect(theirs.headerLength).toBe(116);
    expect(theirs.messageType).toBe("output_stream_data");
    expect(theirs.sequenceNumber).toBe(42);
    expect(theirs.createdDate).toBe(m.createdDate);
    expect(theirs.messageId).toBe(ID);
    expect(theirs.payloadType).toBe(PayloadType.output);
    expect(Buffer.from(theirs.payload).toString()).toBe("output from the container");
  });

  it("we decode ssm-session's input, size and acknowledge messages", () => {
    const input = decoded(ssm.buildInputMessage("ls -l\r", 7));
    expect(input).toMatchObject({ messageType: "input_stream_data", sequenceNumber: 7, payloadType: PayloadType.output });
    expect(input.payload.toString()).toBe("ls -l\r");
    // ssm-session writes a 32-character hex prefix where the digest belongs: decoded all the same.
    expect(digestMatches(input)).toBe(false);

    const size = decoded(ssm.buildInitMessage({ cols: 120, rows: 40 }));
    expect(size).toMatchObject({ messageType: "input_stream_data", sequenceNumber: 0, payloadType: PayloadType.size });
    expect(JSON.parse(size.payload.toString())).toEqual({ cols: 120, rows: 40 });

    const ack = decoded(ssm.buildAcknowledge("output_stream_data", 3, ID));
    expect(ack.messageType).toBe("acknowledge");
    expect(JSON.parse(ack.payload.toString())).toEqual({
      AcknowledgedMessageType: "output_stream_data",
      AcknowledgedMessageId: ID,
      AcknowledgedMessageSequenceNumber: 3,
      IsSequentialMessage: true,
    });
  });

  it("agrees with ssm-session on the message id byte order", () => {
    const theirs = ssm.buildInputMessage("x", 1);
    const ours = decoded(theirs);
    // Their encoder and decoder are consistent with each other; ours must read the same id.
    expect(ssm.decode(theirs).messageId).toBe(ours.messageId);
    expect(uuidToWire(ours.messageId)).toEqual(Buffer.from(theirs.subarray(64, 80)));
  });
});
