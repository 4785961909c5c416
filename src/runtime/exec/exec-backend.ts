import type { Readable } from "node:stream";

/**
 * What ECS Exec needs from the container runtime: start a command in a running task container with a
 * terminal, and get rid of it again. The Docker implementation is `docker-exec-backend.ts`.
 */
export interface ExecBackend {
  start(containerRuntimeId: string, options: ExecStartOptions): Promise<ExecProcess>;
  /**
   * Kills every process in the container started under `tag` (as `user`, as it was started) by an exec
   * this server no longer holds (its session was lost in a crash). Never rejects; a stopped or removed
   * container has nothing left. Resolves false when the container's runtime could not be asked (an engine
   * that is down): the processes may still be there, so the caller tries again later.
   */
  reap(containerRuntimeId: string, options: { tag: string; user?: string | undefined }): Promise<boolean>;
}

export interface ExecStartOptions {
  argv: string[];
  tty: boolean;
  /** `uid[:gid]` or a name; undefined = the container's configured user. */
  user?: string | undefined;
  /** Set for the command (override the container's values). */
  env?: Record<string, string> | undefined;
  /** Set only where the container does not define the variable. */
  envDefaults?: Record<string, string> | undefined;
  /** Names the process and everything it starts, so `kill` can find them all (e.g. the session id). */
  tag: string;
}

export interface ExecProcess {
  /** Keystrokes in. */
  readonly stdin: NodeJS.WritableStream;
  /** Everything the command writes (one stream with a TTY); ends when the command's terminal closes. */
  readonly output: Readable;
  resize(cols: number, rows: number): Promise<void>;
  /** The exit code once the command has ended (undefined if the runtime cannot tell). */
  wait(): Promise<number | undefined>;
  /**
   * Ends the command and everything it started (a shell keeps running when its stdin closes, so a
   * dropped session must kill it). Resolves once nothing of it is left; never rejects.
   */
  kill(): Promise<void>;
}
