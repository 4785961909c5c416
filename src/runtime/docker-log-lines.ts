// Reading `docker logs` output as lines: demultiplexes Docker's framed stdout/stderr (non-TTY containers)
// and splits each stream into lines. Shared by the awslogs shipper and the console's live logs; belongs
// with the Docker backend.

export type LogStreamName = "stdout" | "stderr";

export interface DockerLogLine {
  stream: LogStreamName;
  /** The line without its newline (with its "<RFC3339Nano> " prefix when the logs were asked with timestamps). */
  line: string;
  /** False for a last line that had no newline when the output ended. */
  complete: boolean;
}

/**
 * The lines of a `container.logs(...)` stream, in order. `tty`: the container runs with a TTY, whose output
 * is one raw stream; otherwise Docker frames it (8-byte header: stream type, 3 zero bytes, big-endian size).
 * Stopping the iteration early (break/return) destroys nothing by itself: the caller owns the stream.
 */
export async function* dockerLogLines(chunks: AsyncIterable<Buffer | string> | Iterable<Buffer | string>, tty: boolean): AsyncGenerator<DockerLogLine> {
  const partial: Record<LogStreamName, string> = { stdout: "", stderr: "" };
  const pending: DockerLogLine[] = [];
  const onText = (stream: LogStreamName, text: string): void => {
    const parts = (partial[stream] + text).split("\n");
    partial[stream] = parts.pop() ?? "";
    for (const line of parts) pending.push({ stream, line, complete: true });
  };
  let carry: Buffer = Buffer.alloc(0);
  for await (const chunk of chunks) {
    const buf = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    if (tty) {
      onText("stdout", buf.toString("utf8"));
    } else {
      carry = carry.length === 0 ? buf : Buffer.concat([carry, buf]);
      while (carry.length >= 8) {
        const size = carry.readUInt32BE(4);
        if (carry.length < 8 + size) break;
        onText(carry[0] === 2 ? "stderr" : "stdout", carry.subarray(8, 8 + size).toString("utf8"));
        carry = carry.subarray(8 + size);
      }
    }
    yield* pending.splice(0);
  }
  for (const stream of ["stdout", "stderr"] as const) if (partial[stream] !== "") yield { stream, line: partial[stream], complete: false };
}

export interface TimestampedText {
  /** Epoch ms of Docker's timestamp, undefined when the line has none. */
  timestamp: number | undefined;
  /** The sub-millisecond rest of that timestamp in nanoseconds (0..999,999). */
  nanos: number;
  /** The line after the timestamp, without a trailing CR. */
  text: string;
}

/** Splits a line of `docker logs --timestamps` ("2024-01-01T00:00:00.123456789Z text"). */
export function splitTimestamp(line: string): TimestampedText {
  const space = line.indexOf(" ");
  const stampText = space > 0 ? line.slice(0, space) : "";
  const stamp = stampText === "" ? NaN : Date.parse(stampText);
  if (Number.isNaN(stamp)) return { timestamp: undefined, nanos: 0, text: line.replace(/\r$/, "") };
  const nanos = Number((/\.\d{3}(\d{1,6})/.exec(stampText)?.[1] ?? "").padEnd(6, "0")) || 0;
  return { timestamp: stamp, nanos, text: line.slice(space + 1).replace(/\r$/, "") };
}

/** Docker's `since` as `<seconds>.<nanoseconds>` (the Engine API parses fractional UNIX timestamps). */
export function dockerSince(at: { timestamp: number; nanos: number }): string {
  const seconds = Math.floor(at.timestamp / 1000);
  const nanos = (at.timestamp - seconds * 1000) * 1_000_000 + at.nanos;
  return `${seconds}.${String(nanos).padStart(9, "0")}`;
}
