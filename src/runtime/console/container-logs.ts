// What the console's live logs need from the container backend: a task container's output as lines,
// optionally followed until the container stops. Served through the engine (engine-container-logs.ts).
import type { LogStreamName } from "../log-lines.ts";

export interface LogLine {
  /** When the container wrote it, as the runtime recorded it: ISO with nine fractional digits ("…T10:00:00.123456789Z"). */
  time: string;
  stream: LogStreamName;
  text: string;
}

export interface FollowOptions {
  /** Only the last `tail` lines of what was written before (default all). */
  tail?: number | undefined;
  /** Only lines written after this instant. */
  since?: Date | undefined;
  /** Keep reading until the container stops (default true). */
  follow?: boolean | undefined;
}

export interface ContainerLogs {
  /**
   * The lines of one container of a task; ends when the container's output ends (or at once without
   * `follow`) or when `signal` aborts. Throws `LogsUnavailableError` when there is nothing to read.
   */
  follow(taskArn: string, containerName: string, options: FollowOptions, signal: AbortSignal): AsyncIterable<LogLine>;
}

/** The task, container or its output does not exist (yet, or any more); the message says which. */
export class LogsUnavailableError extends Error {
  override name = "LogsUnavailableError";
}
