import { promises as fsp } from "node:fs";
import { PassThrough, type Duplex, type Readable } from "node:stream";
import type Docker from "dockerode";
import type { Logger } from "../../logger.ts";
import type { ExecBackend, ExecProcess, ExecStartOptions } from "../../exec/exec-backend.ts";

/** The environment variable that tags an exec process and everything it starts (inherited by children). */
export const EXEC_TAG_VARIABLE = "LOCAL_ECS_API_EXEC_SESSION";

/** The shell the trampoline and the sweep use; most images have it (distroless ones do not). */
const SHELL = "/bin/sh";
/**
 * Runs the command through `exec` from a shell. Processes that `docker exec` starts directly may be
 * non-dumpable (e.g. root in a container whose user is not root), so even root in the container cannot
 * read their environment to find the tag; one more execve under the same credentials makes it readable.
 */
const TRAMPOLINE = [SHELL, "-c", 'exec "$@"', "sh"];
/** How long a hung-up command may take to end by itself before SIGKILL. */
const HANGUP_GRACE_SECONDS = 1;
/** Bound on waiting for Docker to report an exec as finished. */
const SETTLE_MS = 5_000;

type KillVia = "container" | "host";

export interface DockerExecBackendOptions {
  /**
   * How tagged processes are found and signalled: "container" runs a tiny `sh` sweep inside the
   * container (works wherever local-ecs-api runs; needs `sh`, `tr` and `grep` in the image); "host"
   * goes through this machine's /proc (reaches them only when local-ecs-api shares the host's PID
   * namespace). Default: container first, host when that fails.
   */
  killVia?: KillVia[];
}

/**
 * ECS Exec on Docker: `docker exec` with a TTY, attached over the engine's hijacked connection.
 *
 * Docker does not end an exec when its client goes away (a busybox shell waits on its terminal
 * forever), so every exec carries a tag in its environment, and killing it signals every process in
 * the container that has the tag: the command and whatever it started.
 */
export class DockerExecBackend implements ExecBackend {
  readonly #docker: Docker;
  readonly #logger: Logger;
  readonly #killVia: KillVia[];

  constructor(docker: Docker, logger: Logger, options: DockerExecBackendOptions = {}) {
    this.#docker = docker;
    this.#logger = logger;
    this.#killVia = options.killVia ?? ["container", "host"];
  }

  async start(containerRuntimeId: string, options: ExecStartOptions): Promise<ExecProcess> {
    const container = this.#docker.getContainer(containerRuntimeId);
    const shell = await hasShell(container);
    const env = { ...options.env };
    if (options.envDefaults !== undefined && Object.keys(options.envDefaults).length > 0) {
      const info = await container.inspect();
      const defined = new Set((info.Config.Env ?? []).map((e) => e.slice(0, Math.max(0, e.indexOf("=")))));
      for (const [k, v] of Object.entries(options.envDefaults)) if (!defined.has(k) && env[k] === undefined) env[k] = v;
    }
    env[EXEC_TAG_VARIABLE] = options.tag;
    const exec = await container.exec({
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      Tty: options.tty,
      Cmd: shell ? [...TRAMPOLINE, ...options.argv] : options.argv,
      Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
      ...(options.user === undefined ? {} : { User: options.user }),
    });
    const socket = await exec.start({ hijack: true, stdin: true, Tty: options.tty });
    // Writes after the command ended fail with EPIPE; the session learns of the end from `output`.
    socket.on("error", (err) => this.#logger.debug("exec.socket-error", { execId: exec.id, error: err }));
    return new DockerExecProcess({ docker: this.#docker, container, exec, socket, options, logger: this.#logger, killVia: shell ? this.#killVia : this.#killVia.filter((v) => v !== "container") });
  }

  async reap(containerRuntimeId: string, { tag, user }: { tag: string; user?: string | undefined }): Promise<boolean> {
    const container = this.#docker.getContainer(containerRuntimeId);
    // Docker answers 404 for a container that is gone (with it, everything it ran); any other failure
    // means the engine did not answer, and the container may still run the orphans.
    const running = await container.inspect().then(
      (info) => info.State.Running,
      (err: { statusCode?: number }) => (err.statusCode === 404 ? false : undefined),
    );
    if (running === undefined) return false;
    if (!running) return true;
    const shell = await hasShell(container);
    for (const via of this.#killVia) {
      if (via === "container" && !shell) continue;
      if (via === "container" ? await sweepInContainer(container, tag, user, this.#logger) : await sweepOnHost(tag)) return true;
    }
    this.#logger.warn("exec.reap-failed", { containerId: containerRuntimeId, tag });
    // Asked and answered, but nothing could signal the processes: trying again would not help.
    return true;
  }
}

class DockerExecProcess implements ExecProcess {
  readonly stdin: NodeJS.WritableStream;
  readonly output: Readable;
  readonly #container: Docker.Container;
  readonly #exec: Docker.Exec;
  readonly #socket: Duplex;
  readonly #tag: string;
  readonly #user: string | undefined;
  readonly #logger: Logger;
  readonly #killVia: KillVia[];
  readonly #ended: Promise<void>;
  #killing: Promise<void> | undefined;

  constructor(p: {
    docker: Docker;
    container: Docker.Container;
    exec: Docker.Exec;
    socket: Duplex;
    options: ExecStartOptions;
    logger: Logger;
    killVia: KillVia[];
  }) {
    this.#container = p.container;
    this.#exec = p.exec;
    this.#socket = p.socket;
    this.#tag = p.options.tag;
    this.#user = p.options.user;
    this.#logger = p.logger;
    this.#killVia = p.killVia;
    this.stdin = p.socket;
    if (p.options.tty) {
      this.output = p.socket;
    } else {
      // Without a TTY the engine multiplexes stdout and stderr; the session wants one stream.
      const merged = new PassThrough();
      p.docker.modem.demuxStream(p.socket, merged, merged);
      p.socket.on("end", () => merged.end());
      p.socket.on("close", () => merged.end());
      this.output = merged;
    }
    this.#ended = new Promise((resolve) => {
      p.socket.once("end", resolve);
      p.socket.once("close", resolve);
    });
  }

  async resize(cols: number, rows: number): Promise<void> {
    await this.#exec.resize({ h: rows, w: cols });
  }

  async wait(): Promise<number | undefined> {
    await this.#ended;
    const info = await settle(this.#exec);
    return info?.ExitCode ?? undefined;
  }

  kill(): Promise<void> {
    this.#killing ??= this.#kill();
    return this.#killing;
  }

  async #kill(): Promise<void> {
    // Even after the command itself ended, what it started in the background may still be running.
    const before = await this.#exec.inspect().catch(() => undefined);
    const running = before?.Running === true;
    let done = false;
    for (const via of this.#killVia) {
      if (via === "host" && !running) continue;
      done = via === "container" ? await sweepInContainer(this.#container, this.#tag, this.#user, this.#logger) : await this.#killOnHost(before!.Pid);
      if (done) break;
    }
    this.#socket.destroy();
    if (!running) return;
    const after = await settle(this.#exec);
    if (!done || after?.Running === true) {
      this.#logger.warn("exec.kill-failed", { execId: this.#exec.id, pid: before!.Pid, tag: this.#tag });
    }
  }

  /** Only when this process sees the exec's host PID carrying the tag (same PID namespace as the host). */
  async #killOnHost(pid: number): Promise<boolean> {
    const own = await fsp.readFile(`/proc/${pid}/environ`).catch(() => undefined);
    if (own === undefined || !own.toString("utf8").split("\0").includes(tagEntry(this.#tag))) return false;
    return sweepOnHost(this.#tag);
  }
}

/** Whether the container has /bin/sh (a stat through the engine's archive API; nothing runs). */
async function hasShell(container: Docker.Container): Promise<boolean> {
  return container.infoArchive({ path: SHELL }).then(
    () => true,
    () => false,
  );
}

function tagEntry(tag: string): string {
  return `${EXEC_TAG_VARIABLE}=${tag}`;
}

/**
 * A `sh` in the container signals every process whose environment carries the tag: SIGHUP, then
 * SIGKILL for what is left after the grace period. It runs as the command's user (undefined: the
 * container's), who may read those environments and signal those processes without CAP_SYS_PTRACE,
 * which containers lack. False when it cannot run (no `sh`, container gone).
 */
async function sweepInContainer(container: Docker.Container, tag: string, user: string | undefined, logger: Logger): Promise<boolean> {
  const steps = HANGUP_GRACE_SECONDS * 10;
  const script = [
    'tagged() { for d in /proc/[0-9]*; do tr "\\0" "\\n" < "$d/environ" 2>/dev/null | grep -qxF "$1" && echo "${d#/proc/}"; done; }',
    'p=$(tagged "$1"); [ -z "$p" ] && exit 0',
    "kill -HUP $p 2>/dev/null",
    // Up to the grace period for them to go (in tenths where the image's sleep takes fractions).
    `i=0; while [ $i -lt ${steps} ]; do sleep 0.1 2>/dev/null || { sleep 1; i=${steps}; }; p=$(tagged "$1"); [ -z "$p" ] && exit 0; i=$((i+1)); done`,
    "kill -KILL $p 2>/dev/null",
    "exit 0",
  ].join("\n");
  try {
    const sweep = await container.exec({
      Cmd: [SHELL, "-c", script, "sh", tagEntry(tag)],
      ...(user === undefined ? {} : { User: user }),
      AttachStdout: true,
      AttachStderr: true,
    });
    const stream = await sweep.start({ hijack: true, stdin: false });
    stream.resume();
    await new Promise<void>((resolve) => {
      stream.once("end", resolve);
      stream.once("close", resolve);
      stream.once("error", () => resolve());
    });
    const info = await settle(sweep);
    return info?.ExitCode === 0;
  } catch (err) {
    logger.debug("exec.sweep-failed", { tag, error: err });
    return false;
  }
}

/** The same sweep through this machine's /proc. False when no tagged process is visible from here. */
async function sweepOnHost(tag: string): Promise<boolean> {
  const match = tagEntry(tag);
  const tagged = async (): Promise<number[]> => {
    const out: number[] = [];
    for (const name of await fsp.readdir("/proc").catch(() => [] as string[])) {
      if (!/^\d+$/.test(name)) continue;
      const environ = await fsp.readFile(`/proc/${name}/environ`).catch(() => undefined);
      if (environ !== undefined && environ.toString("utf8").split("\0").includes(match)) out.push(Number(name));
    }
    return out;
  };
  const signal = (pids: number[], sig: NodeJS.Signals): void => {
    for (const p of pids) {
      try {
        process.kill(p, sig);
      } catch {
        // already gone
      }
    }
  };
  const first = await tagged();
  if (first.length === 0) return false;
  signal(first, "SIGHUP");
  await new Promise((r) => setTimeout(r, HANGUP_GRACE_SECONDS * 1000));
  signal(await tagged(), "SIGKILL");
  return true;
}

/** Docker reports an exec as running for a moment after its stream ends: ask until it is not. */
async function settle(exec: Docker.Exec): Promise<Docker.ExecInspectInfo | undefined> {
  const deadline = Date.now() + SETTLE_MS;
  for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
    const info = await exec.inspect().catch(() => undefined);
    if (info === undefined || !info.Running || Date.now() > deadline) return info;
    await new Promise((r) => setTimeout(r, delay));
  }
}
