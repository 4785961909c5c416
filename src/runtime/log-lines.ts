// A container's output as lines: each stream (stdout, stderr) of the backend's log chunks split into
// lines, and the runtime's RFC 3339 timestamps read back. Shared by the awslogs shipper and the console's
// live logs.
import type { LogChunk } from "./backend/task-backend.ts";

export type LogStreamName = LogChunk["stream"];

export interface LogLine {
  stream: LogStreamName;
  /** The line without its newline (with its "<RFC3339Nano> " prefix when the logs were asked with timestamps). */
  line: string;
  /** False for a last line that had no newline when the output ended. */
  complete: boolean;
}

/** The lines of a container's output, in order, each stream on its own. */
export async function* logLines(chunks: AsyncIterable<LogChunk>): AsyncGenerator<LogLine> {
  const partial: Record<LogStreamName, string> = { stdout: "", stderr: "" };
  for await (const chunk of chunks) {
    const parts = (partial[chunk.stream] + chunk.text).split("\n");
    partial[chunk.stream] = parts.pop() ?? "";
    for (const line of parts) yield { stream: chunk.stream, line, complete: true };
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

/** Splits a line of timestamped output ("2024-01-01T00:00:00.123456789Z text"). */
export function splitTimestamp(line: string): TimestampedText {
  const space = line.indexOf(" ");
  const stampText = space > 0 ? line.slice(0, space) : "";
  const stamp = stampText === "" ? NaN : Date.parse(stampText);
  if (Number.isNaN(stamp)) return { timestamp: undefined, nanos: 0, text: line.replace(/\r$/, "") };
  const nanos = Number((/\.\d{3}(\d{1,6})/.exec(stampText)?.[1] ?? "").padEnd(6, "0")) || 0;
  return { timestamp: stamp, nanos, text: line.slice(space + 1).replace(/\r$/, "") };
}

/** A `LogOptions.since` for the instant of a line: `<seconds>.<nanoseconds>`. */
export function logsSince(at: { timestamp: number; nanos: number }): string {
  const seconds = Math.floor(at.timestamp / 1000);
  const nanos = (at.timestamp - seconds * 1000) * 1_000_000 + at.nanos;
  return `${seconds}.${String(nanos).padStart(9, "0")}`;
}
