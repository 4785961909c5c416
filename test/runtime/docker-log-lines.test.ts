import { describe, expect, it } from "vitest";
import { dockerLogLines, splitTimestamp } from "../../src/runtime/docker-log-lines.ts";

/** One frame of Docker's multiplexed output: stream type, 3 zero bytes, big-endian size, payload. */
function frame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

async function collect(chunks: Buffer[], tty = false): Promise<Array<[string, string, boolean]>> {
  const out: Array<[string, string, boolean]> = [];
  for await (const l of dockerLogLines(chunks, tty)) out.push([l.stream, l.line, l.complete]);
  return out;
}

describe("dockerLogLines", () => {
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
