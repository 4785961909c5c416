import { describe, expect, it } from "vitest";
import { demultiplex } from "../../src/runtime/backend/docker/log-stream.ts";
import type { LogChunk } from "../../src/runtime/backend/task-backend.ts";
import { logLines, splitTimestamp } from "../../src/runtime/log-lines.ts";

/** One frame of Docker's multiplexed output: stream type, 3 zero bytes, big-endian size, payload. */
function frame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

/** Docker's log bytes as the Docker backend turns them into chunks (a TTY container's are raw stdout). */
async function* chunksOf(buffers: Buffer[], tty: boolean): AsyncIterable<LogChunk> {
  async function* raw(): AsyncIterable<Buffer> {
    yield* buffers;
  }
  if (!tty) return yield* demultiplex(raw());
  for (const b of buffers) yield { stream: "stdout", text: b.toString("utf8") };
}

async function collect(chunks: Buffer[], tty = false): Promise<Array<[string, string, boolean]>> {
  const out: Array<[string, string, boolean]> = [];
  for await (const l of logLines(chunksOf(chunks, tty))) out.push([l.stream, l.line, l.complete]);
  return out;
}

describe("logLines over the Docker backend's demultiplexed output", () => {
  it("demultiplexes stdout and stderr frames into lines, whatever the chunking", async () => {
    const all = Buffer.concat([frame(1, "one\ntw"), frame(2, "err 1\n"), frame(1, "o\nthree"), frame(2, "tail")]);
    const expected = [
      ["stdout", "one", true],
      ["stderr", "err 1", true],
      ["stdout", "two", true],
      ["stdout", "three", false],
      ["stderr", "tail", false],
    ];
    expect(await collect([all])).toEqual(expected);
    // Split inside headers and payloads.
    const bytes = [...all].map((b) => Buffer.from([b]));
    expect(await collect(bytes)).toEqual(expected);
  });

  it("reads a TTY container's raw output as stdout", async () => {
    expect(await collect([Buffer.from("a\r\nb\n")], true)).toEqual([
      ["stdout", "a\r", true],
      ["stdout", "b", true],
    ]);
  });
});

describe("splitTimestamp", () => {
  it("splits Docker's RFC3339Nano prefix, keeping the sub-millisecond rest", () => {
    expect(splitTimestamp("2024-01-02T03:04:05.123456789Z hello world\r")).toEqual({ timestamp: Date.parse("2024-01-02T03:04:05.123Z"), nanos: 456789, text: "hello world" });
    expect(splitTimestamp("2024-01-02T03:04:05Z x")).toEqual({ timestamp: Date.parse("2024-01-02T03:04:05Z"), nanos: 0, text: "x" });
    expect(splitTimestamp("no stamp here")).toEqual({ timestamp: undefined, nanos: 0, text: "no stamp here" });
  });
});
