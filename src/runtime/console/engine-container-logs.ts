// ContainerLogs through the task engine: the backend's output of the task container, as timestamped lines
// (awslogs containers run with a local log driver, so their output is there too).
import type { Task } from "../../../generated/shapes.ts";
import { ContainerMissingError, type LogChunk, type LogOptions } from "../backend/task-backend.ts";
import { logLines, logsSince, splitTimestamp } from "../log-lines.ts";
import { LogsUnavailableError, type ContainerLogs, type FollowOptions, type LogLine } from "./container-logs.ts";

/** What the console reads from the engine (its public API). */
export interface TaskLogSource {
  get(taskArn: string): Task | undefined;
  logs(taskArn: string, containerName: string, options: LogOptions): AsyncIterable<LogChunk>;
}

export class EngineContainerLogs implements ContainerLogs {
  readonly #engine: TaskLogSource;

  constructor(engine: TaskLogSource) {
    this.#engine = engine;
  }

  async *follow(taskArn: string, containerName: string, options: FollowOptions, signal: AbortSignal): AsyncIterable<LogLine> {
    const task = this.#engine.get(taskArn);
    if (task === undefined) throw new LogsUnavailableError(`The task ${taskArn} does not exist (or stopped more than the retention ago).`);
    const c = task.containers?.find((x) => x.name === containerName);
    if (c === undefined) throw new LogsUnavailableError(`The task has no container named ${containerName}.`);
    if (c.runtimeId === undefined) throw new LogsUnavailableError(`The container ${containerName} has not been created yet.`);
    const chunks = this.#engine.logs(taskArn, containerName, {
      follow: options.follow ?? true,
      timestamps: true,
      tail: options.tail,
      since: options.since === undefined ? undefined : logsSince({ timestamp: options.since.getTime(), nanos: 0 }),
      signal,
    });
    try {
      for await (const { stream, line } of logLines(chunks)) {
        const { timestamp, nanos, text } = splitTimestamp(line);
        yield { time: isoWithNanos(timestamp, nanos), stream, text };
      }
    } catch (err) {
      if (err instanceof ContainerMissingError) throw new LogsUnavailableError(`The container ${containerName} was removed; its logs are gone.`);
      // Aborted by the reader: not an error.
      if (!signal.aborted) throw err;
    }
  }
}

/** Always nine fractional digits, so times compare as strings (the page resumes after the last one it has). */
function isoWithNanos(timestamp: number | undefined, nanos: number): string {
  return new Date(timestamp ?? Date.now()).toISOString().replace(/Z$/, `${String(nanos).padStart(6, "0")}Z`);
}
