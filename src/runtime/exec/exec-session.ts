import type { WebSocket } from "ws";
import type { Logger } from "../logger.ts";
import { splitCommandLine } from "./command-line.ts";
import { DataChannel } from "./data-channel.ts";
import type { ExecBackend, ExecProcess } from "./exec-backend.ts";
import type { TerminalSize } from "./session-payloads.ts";

/** What a session was issued for (by ExecuteCommand). */
export interface ExecTarget {
  sessionId: string;
  clusterArn: string;
  taskArn: string;
  containerName: string;
  containerArn: string;
  runtimeId: string;
  command: string;
  /** Who asked: the caller's access key id (SigV4) and region. */
  accessKeyId: string | undefined;
  region: string;
}

export type EndReason = "exited" | "socket-closed" | "terminated" | "idle" | "task-stopped" | "protocol-error" | "start-failed" | "shutdown" | "expired" | "server-restart";

export interface SessionEnd {
  reason: EndReason;
  /** Shown by the plugin instead of "Exiting session with sessionId: …" (empty: the normal line). */
  output?: string | undefined;
  exitCode?: number | undefined;
}

export interface ExecSessionOptions {
  target: ExecTarget;
  socket: WebSocket;
  backend: ExecBackend;
  logger: Logger;
  now(): number;
  /** Whether the client speaks the handshake (it sent a ClientVersion). */
  handshake: boolean;
  agentVersion: string;
  /** The command runs as this user (ECS Exec: root, whatever the container's user is). */
  user: string;
  onEnd(end: SessionEnd): void;
}

/** A socket whose send buffer holds this much is not read by its client: stop adding to it. */
const SOCKET_BUFFER_LIMIT = 1 << 20;
/** Keystrokes held until the command has started, and at most buffered towards its stdin. */
const STDIN_BUFFER_LIMIT = 1 << 20;
/** A client sending this many undecodable frames is not a Session Manager client. */
const GARBAGE_LIMIT = 100;

/**
 * One connected ECS Exec session: the data channel on one WebSocket, bridged to one exec process.
 * Ends exactly once (command exit, socket loss, TerminateSession, idle, task stop, shutdown), and
 * always leaves no process of its own behind in the container.
 */
export class ExecSession {
  readonly target: ExecTarget;
  readonly #opts: ExecSessionOptions;
  readonly #channel: DataChannel;
  #process: ExecProcess | undefined;
  /**
   * Keystrokes go straight to the process only when nothing typed earlier is still held and no resize is
   * on its way to Docker: a command typed after a resize must see the new size, as on a real terminal.
   */
  #stdinReady = false;
  #sized = false;
  #resizesInFlight = 0;
  #pendingStdin: Buffer[] = [];
  #pendingBytes = 0;
  #size: TerminalSize | undefined;
  #garbage = 0;
  #ended: Promise<void> | undefined;
  #exitCode: number | undefined;

  constructor(options: ExecSessionOptions) {
    this.target = options.target;
    this.#opts = options;
    const socket = options.socket;
    this.#channel = new DataChannel(
      {
        sessionId: options.target.sessionId,
        destinationId: `ecs:${clusterName(options.target.clusterArn)}_${taskId(options.target.taskArn)}_${options.target.runtimeId}`,
        handshake: options.handshake,
        agentVersion: options.agentVersion,
        now: options.now,
      },
      {
        send: (frame) => {
          if (socket.readyState === socket.OPEN && socket.bufferedAmount < SOCKET_BUFFER_LIMIT) socket.send(frame);
        },
        input: (data) => this.#input(data),
        resize: (size) => this.#resize(size),
        ready: (size) => this.#startProcess(size),
        drain: () => this.#process?.output.resume(),
        fail: (message) => void this.end({ reason: "protocol-error", output: message }),
      },
    );
    socket.on("message", (data, isBinary) => {
      if (!isBinary) return;
      const outcome = this.#channel.receive(toBuffer(data));
      if (!outcome.accepted) {
        this.#garbage++;
        options.logger.debug("exec.frame-ignored", { sessionId: this.target.sessionId, reason: outcome.reason });
        if (this.#garbage >= GARBAGE_LIMIT) void this.end({ reason: "protocol-error", output: "Too many malformed messages." });
      }
    });
    socket.on("close", () => void this.end({ reason: "socket-closed" }));
  }

  get lastInputAt(): number {
    return this.#channel.lastInputAt;
  }

  get ended(): boolean {
    return this.#ended !== undefined;
  }

  start(): void {
    this.#channel.start();
  }

  /** Timer work: resends, handshake deadline. */
  tick(): void {
    if (this.#ended === undefined) this.#channel.tick();
  }

  /** Ends the session (once): channel_closed to the client, the process and its children killed. */
  end(end: SessionEnd): Promise<void> {
    this.#ended ??= this.#end(end);
    return this.#ended;
  }

  async #end(end: SessionEnd): Promise<void> {
    const socket = this.#opts.socket;
    if (end.reason !== "socket-closed") {
      this.#channel.close(end.output ?? "");
      if (socket.readyState === socket.OPEN) socket.close(1000);
    } else {
      this.#channel.close();
    }
    const proc = this.#process;
    this.#pendingStdin = [];
    if (proc !== undefined) {
      proc.output.removeAllListeners("data");
      proc.output.resume();
      await proc.kill();
    }
    this.#opts.onEnd({ ...end, exitCode: end.exitCode ?? this.#exitCode });
  }

  #input(data: Buffer): void {
    const proc = this.#process;
    if (proc !== undefined && this.#stdinReady) {
      const stdin = proc.stdin as NodeJS.WritableStream & { writableLength?: number };
      if ((stdin.writableLength ?? 0) < STDIN_BUFFER_LIMIT) stdin.write(data);
      return;
    }
    if (this.#pendingBytes + data.length > STDIN_BUFFER_LIMIT) return;
    this.#pendingStdin.push(data);
    this.#pendingBytes += data.length;
  }

  #resize(size: TerminalSize): void {
    this.#size = size;
    const proc = this.#process;
    if (proc === undefined || !this.#sized) return; // #attach applies the latest size
    this.#resizesInFlight++;
    this.#stdinReady = false;
    proc
      .resize(size.cols, size.rows)
      .catch((err: unknown) => this.#opts.logger.debug("exec.resize-failed", { sessionId: this.target.sessionId, error: err }))
      .finally(() => {
        if (--this.#resizesInFlight === 0) this.#flushStdin(proc);
      });
  }

  /** Hands over what was typed while the command started or the terminal was being resized. */
  #flushStdin(proc: ExecProcess): void {
    if (this.#ended !== undefined) return;
    for (const chunk of this.#pendingStdin) proc.stdin.write(chunk);
    this.#pendingStdin = [];
    this.#pendingBytes = 0;
    this.#stdinReady = true;
  }

  #startProcess(size: TerminalSize): void {
    this.#size = size;
    const parsed = splitCommandLine(this.target.command);
    if (!parsed.ok) {
      this.#channel.write(Buffer.from(`Failed to parse commands input: ${parsed.error}\r\n`));
      void this.end({ reason: "start-failed" });
      return;
    }
    this.#opts.backend
      .start(this.target.runtimeId, {
        argv: parsed.argv,
        tty: true,
        user: this.#opts.user,
        // As the SSM agent sets them for a container shell.
        env: { TERM: "xterm-256color" },
        envDefaults: { LANG: "C.UTF-8" },
        tag: this.target.sessionId,
      })
      .then(
        (proc) => void this.#attach(proc),
        (err: unknown) => {
          this.#opts.logger.warn("exec.start-failed", { sessionId: this.target.sessionId, error: err });
          this.#channel.write(Buffer.from(`\r\nUnable to start command: ${(err as Error).message ?? String(err)}\r\n`));
          void this.end({ reason: "start-failed" });
        },
      );
  }

  async #attach(proc: ExecProcess): Promise<void> {
    this.#process = proc;
    if (this.#ended !== undefined) {
      // Ended while Docker was starting it: nothing may stay behind.
      void proc.kill();
      return;
    }
    // The terminal gets its size before the first keystroke runs anything that asks for it.
    const initial = this.#size;
    if (initial !== undefined) {
      await proc.resize(initial.cols, initial.rows).catch((err: unknown) => {
        this.#opts.logger.debug("exec.resize-failed", { sessionId: this.target.sessionId, error: err });
      });
    }
    if (this.#ended !== undefined) return;
    this.#sized = true;
    if (this.#size !== initial && this.#size !== undefined) this.#resize(this.#size);
    else this.#flushStdin(proc);
    proc.output.on("data", (chunk: Buffer) => {
      // A client that stops acknowledging stops the command's output, not our memory.
      if (!this.#channel.write(chunk)) proc.output.pause();
    });
    proc
      .wait()
      .then((code) => {
        this.#exitCode = code;
        void this.end({ reason: "exited", exitCode: code });
      })
      .catch((err: unknown) => {
        this.#opts.logger.debug("exec.wait-failed", { sessionId: this.target.sessionId, error: err });
        void this.end({ reason: "exited" });
      });
  }
}

function toBuffer(data: unknown): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data as Buffer[]);
  return Buffer.from(data as ArrayBuffer);
}

function clusterName(clusterArn: string): string {
  return clusterArn.slice(clusterArn.lastIndexOf("/") + 1);
}

function taskId(taskArn: string): string {
  return taskArn.slice(taskArn.lastIndexOf("/") + 1);
}
