import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, rmSync, closeSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface ServerProcess {
  url: string;
  port: number;
  pid: number;
  dataDir: string;
  /** Milliseconds from spawn to the first 200 from GET /health. */
  readyMs: number;
  /** Resident set size of the server process, in bytes (from /proc). */
  rssBytes(): number;
  /** Where the server's stderr (JSON log lines) goes. */
  logFile: string;
  /** SIGTERM (graceful close) and wait for exit; SIGKILL after 10 s. */
  stop(): Promise<void>;
  kill(signal: NodeJS.Signals): Promise<void>;
}

export interface SpawnOptions {
  /** Reuse a data dir (restart); a fresh temp dir otherwise. */
  dataDir?: string;
  port?: number;
  env?: Record<string, string>;
  /** Program to run instead of the emulator (the echo baseline). */
  script?: string;
  args?: string[];
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(status);
  return m === null ? Number.NaN : Number(m[1]) * 1024;
}

/**
 * Starts `node src/cli.ts serve` (or another script) as its own process, so the benchmark client never
 * shares its event loop, and waits for /health.
 */
export async function spawnServer(options: SpawnOptions = {}): Promise<ServerProcess> {
  const dataDir = options.dataDir ?? tempDir("lecs-bench-data-");
  const port = options.port ?? (await freePort());
  const logFile = join(dataDir, "server.log");
  const logFd = openSync(logFile, "a");
  const started = performance.now();
  const child: ChildProcess = spawn(process.execPath, [options.script ?? join(REPO_ROOT, "src/cli.ts"), ...(options.args ?? ["serve"])], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      HOST: "127.0.0.1",
      PORT: String(port),
      DATA_DIR: dataDir,
      LOG_LEVEL: "warn",
      ...options.env,
    },
    stdio: ["ignore", "ignore", logFd],
  });
  closeSync(logFd);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let dead = false;
  void exited.then(() => {
    dead = true;
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  let readyMs = Number.NaN;
  while (Date.now() < deadline && !dead) {
    try {
      const res = await fetch(`${url}/health`);
      await res.arrayBuffer();
      if (res.ok) {
        readyMs = performance.now() - started;
        break;
      }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  if (Number.isNaN(readyMs)) {
    child.kill("SIGKILL");
    throw new Error(`server did not answer /health within 30 s (exited: ${dead}); log:\n${readFileSync(logFile, "utf8").slice(-2000)}`);
  }
  const pid = child.pid!;
  const kill = async (signal: NodeJS.Signals): Promise<void> => {
    if (dead) return;
    child.kill(signal);
    await exited;
  };
  return {
    url,
    port,
    pid,
    dataDir,
    readyMs,
    logFile,
    rssBytes: () => rssOf(pid),
    kill,
    async stop() {
      if (dead) return;
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await kill("SIGTERM");
      clearTimeout(timer);
    },
  };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
