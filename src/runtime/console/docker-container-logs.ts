// ContainerLogs on Docker: `docker logs --follow --timestamps` of the task container (found through the
// task's `runtimeId`, the Docker container id). awslogs containers run with json-file locally, so their
// output is here too.
import type Docker from "dockerode";
import type { Readable } from "node:stream";
import type { Task } from "../../../generated/shapes.ts";
import { dockerLogLines, dockerSince, splitTimestamp } from "../docker-log-lines.ts";
import { LogsUnavailableError, type ContainerLogs, type FollowOptions, type LogLine } from "./container-logs.ts";

/** How the logs find a task's containers (the engine's public `get`). */
export interface TaskLookup {
  get(taskArn: string): Task | undefined;
}

export class DockerContainerLogs implements ContainerLogs {
  readonly #docker: Docker;
  readonly #tasks: TaskLookup;

  constructor(docker: Docker, tasks: TaskLookup) {
    this.#docker = docker;
    this.#tasks = tasks;
  }

  async *follow(taskArn: string, containerName: string, options: FollowOptions, signal: AbortSignal): AsyncIterable<LogLine> {
    const task = this.#tasks.get(taskArn);
    if (task === undefined) throw new LogsUnavailableError(`The task ${taskArn} does not exist (or stopped more than the retention ago).`);
    const c = task.containers?.find((x) => x.name === containerName);
    if (c === undefined) throw new LogsUnavailableError(`The task has no container named ${containerName}.`);
    if (c.runtimeId === undefined) throw new LogsUnavailableError(`The container ${containerName} has not been created yet.`);
    const container = this.#docker.getContainer(c.runtimeId);
    let stream: Readable | undefined;
    let chunks: AsyncIterable<Buffer> | Buffer[];
    let tty: boolean;
    try {
      const inspected = await container.inspect({ abortSignal: signal });
      if (inspected.State.Status === "created") throw new LogsUnavailableError(`The container ${containerName} has not started yet.`);
      tty = inspected.Config.Tty;
      // Followed, Docker answers with a stream; otherwise with the whole output at once.
      const raw = (await container.logs({
        follow: options.follow ?? true,
        stdout: true,
        stderr: true,
        timestamps: true,
        ...(options.tail === undefined ? {} : { tail: options.tail }),
        ...(options.since === undefined ? {} : { since: dockerSince({ timestamp: options.since.getTime(), nanos: 0 }) }),
        abortSignal: signal,
      } as Docker.ContainerLogsOptions & { follow: true })) as unknown as Readable | Buffer;
      if (Buffer.isBuffer(raw)) chunks = [raw];
      else chunks = stream = raw;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) {
        throw new LogsUnavailableError(`The container ${containerName} was removed; its logs are gone.`);
      }
      throw err;
    }
    const onAbort = (): void => void stream?.destroy();
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      for await (const { stream: which, line } of dockerLogLines(chunks, tty)) {
        const { timestamp, nanos, text } = splitTimestamp(line);
        yield { time: isoWithNanos(timestamp, nanos), stream: which, text };
      }
    } catch (err) {
      // Aborted by the reader: not an error.
      if (!signal.aborted) throw err;
    } finally {
      signal.removeEventListener("abort", onAbort);
      stream?.destroy();
    }
  }
}

/** Always nine fractional digits, so times compare as strings (the page resumes after the last one it has). */
function isoWithNanos(timestamp: number | undefined, nanos: number): string {
  return new Date(timestamp ?? Date.now()).toISOString().replace(/Z$/, `${String(nanos).padStart(6, "0")}Z`);
}
