import { describe, expect, it } from "vitest";
import { DataChannel, HANDSHAKE_TIMEOUT_MESSAGE, type DataChannelOptions } from "../../../src/runtime/exec/data-channel.ts";
import type { TerminalSize } from "../../../src/runtime/exec/session-payloads.ts";
import { ackFor, decodeFrame, encodeFrame, handshakeResponse, json, keys, size, type Frame } from "./plugin-client.ts";

/** A channel wired to recorders, on a clock the test moves. */
function harness(options: Partial<DataChannelOptions> = {}) {
  let now = 1_000_000;
  const sent: Frame[] = [];
  const inputs: string[] = [];
  const resizes: TerminalSize[] = [];
  const ready: TerminalSize[] = [];
  const failures: string[] = [];
  let drains = 0;
  const channel = new DataChannel(
    { sessionId: "ecs-execute-command-0abc", destinationId: "ecs:c_t_r", handshake: true, agentVersion: "3.3.0.0", now: () => now, ...options },
    {
      send: (frame) => sent.push(decodeFrame(frame)),
      input: (data) => inputs.push(data.toString()),
      resize: (s) => resizes.push(s),
      ready: (s) => ready.push(s),
      drain: () => drains++,
      fail: (m) => failures.push(m),
    },
  );
  return {
    channel,
    sent,
    inputs,
    resizes,
    ready,
    failures,
    drains: () => drains,
    advance: (ms: number) => (now += ms),
    take(): Frame[] {
      return sent.splice(0, sent.length);
    },
    acks(): number[] {
      return sent.filter((f) => f.messageType === "acknowledge").map((f) => json(f).AcknowledgedMessageSequenceNumber);
    },
    outputs(): Frame[] {
      return sent.filter((f) => f.messageType === "output_stream_data");
    },
  };
}

/** Through the handshake to an open channel with a 80x24 terminal. */
function opened(options: Partial<DataChannelOptions> = {}) {
  const h = harness(options);
  h.channel.start();
  const [request] = h.take();
  h.channel.receive(ackFor(request!));
  h.channel.receive(handshakeResponse(0));
  const complete = h.outputs()[0]!;
  h.channel.receive(ackFor(complete));
  h.channel.receive(size(1, 80, 24));
  h.take();
  return h;
}

describe("DataChannel handshake", () => {
  it("asks for a Standard_Stream session (never KMS), completes, then opens on the first terminal size", () => {
    const h = harness();
    h.channel.start();
    const [request] = h.take();
    expect(request).toMatchObject({ messageType: "output_stream_data", sequenceNumber: 0, flags: 1, payloadType: 5, digestOk: true });
    const body = json(request!);
    expect(body.AgentVersion).toBe("3.3.0.0");
    expect(body.RequestedClientActions).toEqual([{ ActionType: "SessionType", ActionParameters: { SessionType: "Standard_Stream", Properties: null } }]);
    expect(JSON.stringify(body)).not.toContain("KMS");

    h.channel.receive(ackFor(request!));
    expect(h.channel.unacknowledged).toBe(0);
    h.advance(40);
    h.channel.receive(handshakeResponse(0));
    const [ack, complete] = h.take();
    expect(ack).toMatchObject({ messageType: "acknowledge", sequenceNumber: 0, flags: 3, payloadType: 0 });
    expect(json(ack!)).toMatchObject({ AcknowledgedMessageType: "input_stream_data", AcknowledgedMessageSequenceNumber: 0, IsSequentialMessage: true });
    expect(complete).toMatchObject({ sequenceNumber: 1, flags: 0, payloadType: 7 });
    expect(json(complete!)).toEqual({ HandshakeTimeToComplete: 40_000_000, CustomerMessage: "" });
    expect(h.ready).toEqual([]);

    h.channel.receive(size(1, 132, 43));
    expect(h.ready).toEqual([{ cols: 132, rows: 43 }]);
    expect(h.resizes).toEqual([{ cols: 132, rows: 43 }]);
    expect(h.channel.state).toBe("open");
  });

  it("fails a session whose client rejects the session type", () => {
    const h = harness();
    h.channel.start();
    h.channel.receive(handshakeResponse(0, 2));
    expect(h.failures).toEqual(["The session manager plugin did not accept the Standard_Stream session: nope"]);
    expect(h.ready).toEqual([]);
  });

  it("fails a handshake left unanswered for 15 s (clock-driven)", () => {
    const h = harness();
    h.channel.start();
    h.advance(14_999);
    h.channel.tick();
    expect(h.failures).toEqual([]);
    h.advance(1);
    h.channel.tick();
    expect(h.failures).toEqual([HANDSHAKE_TIMEOUT_MESSAGE]);
  });

  it("skips the handshake for clients without one and opens on their size message", () => {
    const h = harness({ handshake: false });
    h.channel.start();
    expect(h.take()).toEqual([]);
    h.channel.receive(size(0, 100, 30));
    expect(h.ready).toEqual([{ cols: 100, rows: 30 }]);
  });
});

describe("DataChannel input", () => {
  it("acknowledges every input message and delivers keystrokes in order", () => {
    const h = opened();
    h.channel.receive(keys(2, "ls"));
    h.channel.receive(keys(3, "\r"));
    expect(h.inputs).toEqual(["ls", "\r"]);
    expect(h.acks()).toEqual([2, 3]);
  });

  it("buffers out-of-order input (acknowledged at once) and delivers it when the gap fills", () => {
    const h = opened();
    h.channel.receive(keys(4, "c"));
    h.channel.receive(keys(3, "b"));
    expect(h.inputs).toEqual([]);
    expect(h.channel.bufferedInput).toBe(2);
    expect(h.acks()).toEqual([4, 3]);
    h.channel.receive(keys(2, "a"));
    expect(h.inputs).toEqual(["a", "b", "c"]);
    expect(h.channel.bufferedInput).toBe(0);
  });

  it("re-acknowledges a resent message without delivering it twice", () => {
    const h = opened();
    h.channel.receive(keys(2, "x"));
    h.channel.receive(keys(2, "x"));
    h.channel.receive(keys(1, "old size resent"));
    expect(h.inputs).toEqual(["x"]);
    expect(h.acks()).toEqual([2, 2, 1]);
  });

  it("leaves input past a full reorder buffer unacknowledged, for the client to resend", () => {
    const h = opened({ inputBufferLimit: 2 });
    h.channel.receive(keys(5, "e"));
    h.channel.receive(keys(6, "f"));
    h.channel.receive(keys(7, "g"));
    expect(h.acks()).toEqual([5, 6]);
    expect(h.channel.bufferedInput).toBe(2);
  });

  it("turns later size messages into resizes", () => {
    const h = opened();
    h.channel.receive(size(2, 200, 50));
    expect(h.resizes.at(-1)).toEqual({ cols: 200, rows: 50 });
  });

  it("ignores garbage frames without acknowledging or throwing, and keeps working", () => {
    const h = opened();
    const good = keys(2, "ok");
    const cases: Buffer[] = [
      Buffer.alloc(0),
      Buffer.from("not a frame at all"),
      good.subarray(0, 119),
      Buffer.concat([good, Buffer.from("junk")]),
      (() => {
        const b = Buffer.from(good);
        b.writeBigUInt64BE(0n, 40);
        return b;
      })(),
      encodeFrame({ messageType: "mystery_type", sequenceNumber: 2, payloadType: 1, payload: "x" }),
      encodeFrame({ messageType: "acknowledge", sequenceNumber: 0, payloadType: 0, payload: "{not json" }),
    ];
    for (const frame of cases) expect(h.channel.receive(frame).accepted).toBe(false);
    expect(h.take()).toEqual([]);
    expect(h.channel.receive(good)).toEqual({ accepted: true });
    expect(h.inputs).toEqual(["ok"]);
  });
});

describe("DataChannel output", () => {
  it("sends output in chunks of at most 1 KiB with consecutive sequence numbers", () => {
    const h = opened();
    const data = Buffer.alloc(2500, "z");
    h.channel.write(data);
    const out = h.outputs();
    expect(out.map((f) => f.payload.length)).toEqual([1024, 1024, 452]);
    expect(out.map((f) => f.sequenceNumber)).toEqual([2, 3, 4]);
    expect(out.every((f) => f.payloadType === 1 && f.digestOk)).toBe(true);
    expect(Buffer.concat(out.map((f) => f.payload))).toEqual(data);
  });

  it("resends the oldest unacknowledged message once it is overdue, on the injected clock", () => {
    const h = opened({ resendAfterMs: 1000 });
    h.channel.write(Buffer.from("one"));
    h.channel.write(Buffer.from("two"));
    const [one, two] = h.take();
    h.advance(999);
    h.channel.tick();
    expect(h.take()).toEqual([]);
    h.advance(1);
    h.channel.tick();
    expect(h.take()).toEqual([one]);
    h.channel.receive(ackFor(one!));
    h.advance(1000);
    h.channel.tick();
    expect(h.take()).toEqual([two]);
    h.channel.receive(ackFor(two!));
    h.advance(5000);
    h.channel.tick();
    expect(h.take()).toEqual([]);
    expect(h.channel.unacknowledged).toBe(0);
  });

  it("asks the caller to pause at a full window and to resume when acknowledgements make room", () => {
    const h = opened({ outputWindow: 3 });
    expect(h.channel.write(Buffer.from("a"))).toBe(true);
    expect(h.channel.write(Buffer.from("b"))).toBe(true);
    expect(h.channel.write(Buffer.from("c"))).toBe(false);
    const [a] = h.take();
    expect(h.drains()).toBe(0);
    h.channel.receive(ackFor(a!));
    expect(h.drains()).toBe(1);
    expect(h.channel.unacknowledged).toBe(2);
  });

  it("holds at most one window for a client that never acknowledges (bounded memory)", () => {
    const h = opened({ outputWindow: 8 });
    let writes = 0;
    while (h.channel.write(Buffer.alloc(1024, 1))) writes++;
    expect(writes).toBe(7);
    expect(h.channel.unacknowledged).toBe(8);
    for (let i = 0; i < 100; i++) {
      h.advance(1000);
      h.channel.tick();
    }
    expect(h.channel.unacknowledged).toBe(8);
    // One resend per tick, never a flood.
    expect(h.take().length).toBe(8 + 100);
  });

  it("closes with channel_closed carrying the session, and accepts nothing after", () => {
    const h = opened();
    h.channel.close("");
    const [closed] = h.take();
    expect(closed!.messageType).toBe("channel_closed");
    expect(json(closed!)).toMatchObject({ SessionId: "ecs-execute-command-0abc", DestinationId: "ecs:c_t_r", MessageType: "channel_closed", SchemaVersion: 1, Output: "" });
    expect(typeof json(closed!).CreatedDate).toBe("string");
    expect(h.channel.write(Buffer.from("late"))).toBe(false);
    expect(h.channel.receive(keys(2, "late")).accepted).toBe(false);
    h.channel.close("again");
    expect(h.take()).toEqual([]);
  });
});
