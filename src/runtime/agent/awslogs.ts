// Ships a container's output to CloudWatch Logs, standing in for Docker's awslogs driver (which would need
// AWS credentials inside the Docker daemon). The engine runs such containers with a local log driver
// (json-file) and calls `start` once the container has started; we follow `docker logs` with timestamps and
// send batches in order. Shipping never blocks or fails the task: errors back off, and an unreachable
// CloudWatch Logs is logged once per container, not per line.
//
// Nothing is lost or sent twice across a server restart: after each accepted batch the caller is told the
// newest event sent (`onSent`, a `LogCursor` it persists), and shipping started again with `after` asks
// Docker for the logs `since` that instant and drops every line at or before it. Docker's timestamps have
// nanosecond precision, so the cursor is exact.
import type { CloudWatchLogs, InputLogEvent } from "@aws-sdk/client-cloudwatch-logs";
import { ContainerMissingError, type LogChunk, type LogOptions } from "../backend/task-backend.ts";
import { logLines, logsSince, splitTimestamp } from "../log-lines.ts";
import type { Logger } from "../logger.ts";
import type { AgentAwsClients } from "./aws-clients.ts";
import { awslogsTarget, type AwsLogsTarget } from "./awslogs-options.ts";
import type { RoleCredentialsProvider } from "./role-credentials.ts";

export interface ShipContainerLogsInput {
  dockerId: string;
  /** Task-definition container name (part of the stream name). */
  containerName: string;
  taskArn: string;
  executionRoleArn?: string | undefined;
  /** logConfiguration.options (with secretOptions already resolved and merged). */
  logOptions: Readonly<Record<string, string>>;
  /** Resume: ship only what the container printed after this event (from an earlier `onSent`). */
  after?: LogCursor | undefined;
  /** Called after every batch CloudWatch Logs accepted, with the newest event sent so far. */
  onSent?: ((cursor: LogCursor) => void) | undefined;
}

/** A position in a container's Docker log: one event of one line. Ordered by (timestamp, nanos, part). */
export interface LogCursor {
  /** The line's Docker timestamp, epoch ms. */
  timestamp: number;
  /** The sub-millisecond rest of that timestamp in nanoseconds (0..999,999). */
  nanos: number;
  /** Which event of the line (an over-long line is split into several). */
  part: number;
}

/**
 * How shipping ended. `ended`: the container's output ended and all of it was sent (nothing to resume).
 * `stopped`: `stop` was called or following failed, so a later start with `after` should carry on.
 * `gone`: the container does not exist (any more).
 */
export type ShippingOutcome = "ended" | "stopped" | "gone";

/** A task container whose output is shipped. */
export interface LogSourceContainer {
  taskArn: string;
  containerName: string;
  runtimeId: string;
}

/** Where container output comes from (the task engine, through the runtime the task runs on). */
export interface ContainerLogSource {
  logs(container: LogSourceContainer, options: LogOptions): AsyncIterable<LogChunk>;
}

export interface AwsLogsShipperOptions {
  source: ContainerLogSource;
  clients: AgentAwsClients;
  credentials: RoleCredentialsProvider;
  logger: Logger;
  /** How often buffered lines are sent (default 1000 ms, like the Docker driver's 5 s but livelier). */
  flushIntervalMs?: number;
  /** Cap on buffered events per container while CloudWatch Logs is failing (default 100,000; oldest dropped). */
  maxBufferedEvents?: number;
  /** Longest wait between retries (default 30 s). */
  maxBackoffMs?: number;
}

export interface ShippingHandle {
  readonly target: AwsLogsTarget;
  /** Resolves when the container's output has ended and everything buffered was sent (or abandoned). */
  readonly done: Promise<ShippingOutcome>;
}

const MAX_BATCH_EVENTS = 10_000;
const MAX_BATCH_BYTES = 1_048_576;
const EVENT_OVERHEAD = 26;
const MAX_EVENT_BYTES = 262_144 - EVENT_OVERHEAD;

/** An event plus the sub-millisecond part of Docker's timestamp, so stdout/stderr sort within a millisecond. */
interface PendingEvent extends InputLogEvent {
  timestamp: number;
  nanos: number;
  part: number;
}

interface Shipment {
  input: ShipContainerLogsInput;
  target: AwsLogsTarget;
  region: string;
  pending: PendingEvent[];
  pendingBytes: number;
  ended: boolean;
  abandoned: boolean;
  /** `stop` was called, or following failed: the output did not end on its own. */
  interrupted: boolean;
  gone: boolean;
  /** The newest event sent (starts at `input.after`). */
  cursor: LogCursor | undefined;
  /** Ends the following of the container's output. */
  following: AbortController;
  wake: () => void;
  wakeup: Promise<void>;
  failing: boolean;
  dropped: number;
  done: Promise<ShippingOutcome>;
}

export class AwsLogsShipper {
  readonly #source: ContainerLogSource;
  readonly #clients: AgentAwsClients;
  readonly #credentials: RoleCredentialsProvider;
  readonly #logger: Logger;
  readonly #flushIntervalMs: number;
  readonly #maxBuffered: number;
  readonly #maxBackoffMs: number;
  readonly #active = new Map<string, Shipment>();

  constructor(options: AwsLogsShipperOptions) {
    this.#source = options.source;
    this.#clients = options.clients;
    this.#credentials = options.credentials;
    this.#logger = options.logger;
    this.#flushIntervalMs = options.flushIntervalMs ?? 1000;
    this.#maxBuffered = options.maxBufferedEvents ?? 100_000;
    this.#maxBackoffMs = options.maxBackoffMs ?? 30_000;
  }

  /** Starts following and shipping; a second call for the same container returns the running handle. */
  start(input: ShipContainerLogsInput): ShippingHandle {
    const running = this.#active.get(input.dockerId);
    if (running !== undefined) return { target: running.target, done: running.done };
    const target = awslogsTarget(input.logOptions, input.containerName, input.taskArn, input.dockerId);
    const s: Shipment = {
      input,
      target,
      region: target.region ?? this.#clients.region,
      pending: [],
      pendingBytes: 0,
      ended: false,
      abandoned: false,
      interrupted: false,
      gone: false,
      cursor: input.after,
      following: new AbortController(),
      wake: () => {},
      wakeup: Promise.resolve(),
      failing: false,
      dropped: 0,
      done: Promise.resolve("stopped"),
    };
    this.#rearm(s);
    const log = this.#logger.child({ dockerId: input.dockerId, logGroup: target.group, logStream: target.stream });
    s.done = Promise.all([this.#follow(s, log), this.#pump(s, log)])
      .then((): ShippingOutcome => (s.gone ? "gone" : s.interrupted || s.abandoned || s.pending.length > 0 ? "stopped" : "ended"))
      .catch((err: unknown): ShippingOutcome => {
        log.error("agent.awslogs.failed", { error: err });
        return "stopped";
      })
      .finally(() => this.#active.delete(input.dockerId));
    this.#active.set(input.dockerId, s);
    return { target, done: s.done };
  }

  /**
   * Stops following (e.g. the container is being removed) and gives buffered lines `graceMs` to be sent.
   * A container that simply exits needs no call: its log stream ends and the rest is flushed.
   */
  async stop(dockerId: string, graceMs = 5000): Promise<void> {
    const s = this.#active.get(dockerId);
    if (s === undefined) return;
    s.interrupted = true;
    s.following.abort();
    s.ended = true;
    s.wake();
    const timer = setTimeout(() => {
      s.abandoned = true;
      s.wake();
    }, graceMs);
    await s.done;
    clearTimeout(timer);
  }

  async stopAll(graceMs = 5000): Promise<void> {
    await Promise.all([...this.#active.keys()].map((id) => this.stop(id, graceMs)));
  }

  #advance(s: Shipment, batch: readonly PendingEvent[], log: Logger): void {
    const cursor = advanceCursor(s, batch);
    if (cursor === undefined || s.input.onSent === undefined) return;
    try {
      s.input.onSent(cursor);
    } catch (err) {
      // Persisting the cursor is best effort: the worst case is a resend after a restart, never a loss.
      log.warn("agent.awslogs.cursor_not_saved", { error: err });
    }
  }

  #rearm(s: Shipment): void {
    s.wakeup = new Promise<void>((resolve) => {
      s.wake = resolve;
    });
  }

  async #follow(s: Shipment, log: Logger): Promise<void> {
    try {
      const since = s.input.after === undefined ? undefined : logsSince(s.input.after);
      const container = { taskArn: s.input.taskArn, containerName: s.input.containerName, runtimeId: s.input.dockerId };
      const chunks = this.#source.logs(container, { follow: true, timestamps: true, since, signal: s.following.signal });
      for await (const { line, complete } of logLines(chunks)) {
        if (s.abandoned) break;
        // An unterminated last line is complete only when the output really ended; after `stop` it is re-read
        // on resume rather than sent in two pieces.
        if (!complete && s.interrupted) continue;
        this.#enqueue(s, line, log);
      }
    } catch (err) {
      if (err instanceof ContainerMissingError) {
        s.gone = true;
      } else if (!s.ended) {
        s.interrupted = true;
        log.warn("agent.awslogs.follow_failed", { error: err });
      }
    } finally {
      s.ended = true;
      s.wake();
    }
  }

  /** A Docker line is "<RFC3339Nano> <text>"; the Docker awslogs driver drops empty messages. */
  #enqueue(s: Shipment, line: string, log: Logger): void {
    const { timestamp: stamp, nanos, text } = splitTimestamp(line);
    if (text === "") return;
    const timestamp = stamp ?? Date.now();
    const after = stamp === undefined ? undefined : s.input.after;
    const wasEmpty = s.pending.length === 0;
    for (const [part, message] of splitMessage(text).entries()) {
      // Resuming: Docker's `since` is inclusive, and this line may have been sent before the restart.
      if (after !== undefined && compareCursor({ timestamp, nanos, part }, after) <= 0) continue;
      s.pending.push({ timestamp, message, nanos, part });
      s.pendingBytes += Buffer.byteLength(message) + EVENT_OVERHEAD;
    }
    if (s.pending.length > this.#maxBuffered) {
      const drop = s.pending.length - this.#maxBuffered;
      for (const e of s.pending.splice(0, drop)) s.pendingBytes -= Buffer.byteLength(e.message ?? "") + EVENT_OVERHEAD;
      if (s.dropped === 0) log.warn("agent.awslogs.dropping", { message: "CloudWatch Logs is not keeping up; dropping the oldest lines" });
      s.dropped += drop;
    }
    // Wake the pump when it idles on an empty buffer (it then waits one interval) or when a batch is full.
    if (wasEmpty || s.pending.length >= MAX_BATCH_EVENTS || s.pendingBytes >= MAX_BATCH_BYTES) s.wake();
  }

  async #pump(s: Shipment, log: Logger): Promise<void> {
    let backoff = 0;
    let prepared = false;
    for (;;) {
      if (s.abandoned) break;
      if (s.pending.length === 0) {
        if (s.ended) break;
        await s.wakeup;
        this.#rearm(s);
        continue;
      }
      if (backoff > 0) {
        await sleepOrWake(backoff, s);
        this.#rearm(s);
        if (s.abandoned) break;
      } else if (!s.ended && s.pending.length < MAX_BATCH_EVENTS && s.pendingBytes < MAX_BATCH_BYTES) {
        await sleepOrWake(this.#flushIntervalMs, s);
        this.#rearm(s);
      }
      try {
        const creds = await this.#credentials.executionCredentials(s.input.taskArn, s.input.executionRoleArn);
        const client = await this.#clients.logs(s.region, creds);
        if (!prepared) {
          await prepare(client, s.target);
          prepared = true;
        }
        const batch = takeBatch(s);
        try {
          const logEvents = batch.map((e) => ({ timestamp: e.timestamp, message: e.message }));
          await client.putLogEvents({ logGroupName: s.target.group, logStreamName: s.target.stream, logEvents });
        } catch (err) {
          s.pending.unshift(...batch);
          s.pendingBytes += batch.reduce((n, e) => n + Buffer.byteLength(e.message ?? "") + EVENT_OVERHEAD, 0);
          throw err;
        }
        this.#advance(s, batch, log);
        if (s.failing) log.info("agent.awslogs.recovered", {});
        s.failing = false;
        backoff = 0;
      } catch (err) {
        if (!s.failing) log.warn("agent.awslogs.put_failed", { error: err, retrying: true });
        s.failing = true;
        backoff = Math.min(backoff === 0 ? 500 : backoff * 2, this.#maxBackoffMs);
      }
    }
    if (s.pending.length > 0 || s.dropped > 0) {
      log.warn("agent.awslogs.abandoned", { unsent: s.pending.length, dropped: s.dropped });
    }
  }
}

/** Moves the cursor to the newest event of an accepted batch and reports it. */
function advanceCursor(s: Shipment, batch: readonly PendingEvent[]): LogCursor | undefined {
  let newest = s.cursor;
  for (const e of batch) {
    const c = { timestamp: e.timestamp, nanos: e.nanos, part: e.part };
    if (newest === undefined || compareCursor(c, newest) > 0) newest = c;
  }
  if (newest === s.cursor) return undefined;
  s.cursor = newest;
  return newest;
}

export function compareCursor(a: LogCursor, b: LogCursor): number {
  return a.timestamp - b.timestamp || a.nanos - b.nanos || a.part - b.part;
}


async function prepare(client: CloudWatchLogs, target: AwsLogsTarget): Promise<void> {
  if (target.createGroup) {
    await client.createLogGroup({ logGroupName: target.group }).catch(ignoreAlreadyExists);
  }
  await client.createLogStream({ logGroupName: target.group, logStreamName: target.stream }).catch(ignoreAlreadyExists);
}

function ignoreAlreadyExists(err: unknown): void {
  if ((err as { name?: string }).name !== "ResourceAlreadyExistsException") throw err;
}

/** Oldest events first, within CloudWatch's per-call limits, sorted (stable) by timestamp. */
function takeBatch(s: Shipment): PendingEvent[] {
  let bytes = 0;
  let n = 0;
  while (n < s.pending.length && n < MAX_BATCH_EVENTS) {
    const size = Buffer.byteLength(s.pending[n]!.message ?? "") + EVENT_OVERHEAD;
    if (bytes + size > MAX_BATCH_BYTES) break;
    bytes += size;
    n++;
  }
  const batch = s.pending.splice(0, Math.max(n, 1));
  s.pendingBytes = Math.max(0, s.pendingBytes - bytes);
  // Events of one batch must be in chronological order and span at most 24 h; stdout/stderr interleave.
  batch.sort(compareCursor);
  const first = batch[0]?.timestamp ?? 0;
  const cut = batch.findIndex((e) => e.timestamp - first > 24 * 3_600_000);
  if (cut > 0) s.pending.unshift(...batch.splice(cut));
  return batch;
}

function splitMessage(text: string): string[] {
  if (Buffer.byteLength(text) <= MAX_EVENT_BYTES) return [text];
  const out: string[] = [];
  // A quarter of the byte limit in characters always fits, whatever the UTF-8 widths.
  const step = Math.floor(MAX_EVENT_BYTES / 4);
  for (let i = 0; i < text.length; i += step) out.push(text.slice(i, i + step));
  return out;
}

function sleepOrWake(ms: number, s: Shipment): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    void s.wakeup.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
