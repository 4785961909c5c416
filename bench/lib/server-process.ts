import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** What `npm start`, the bin and the image run: the built JavaScript (`npm run build`; `npm run bench` builds first). */
export const SERVER_SCRIPT = join(REPO_ROOT, "dist/cli.cjs");

/**
 * The Node options `npm start` passes (package.json "start": `node <options> dist/cli.cjs serve`), so the
 * benchmarks run the server exactly as users start it.
 */
export function serverNodeArgs(): string[] {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
  const words = (pkg.scripts["start"] ?? "").split(/\s+/);
  return words.slice(words.indexOf("node") + 1, words.indexOf("dist/cli.cjs")).filter((w) => w.startsWith("--"));
}

function serverScript(): string {
  if (!existsSync(SERVER_SCRIPT)) throw new Error(`${SERVER_SCRIPT} is missing: run \`npm run build\` first (npm run bench does)`);
  return SERVER_SCRIPT;
}

export interface ServerProcess {
  url: string;
  port: number;
  pid: number;
  dataDir: string;
  /** Milliseconds from spawn to the first answer to the probe (GET /health, or ListClusters). */
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
  /** Node options before the script; default: those of `npm start` for the emulator, none otherwise. */
  nodeArgs?: string[];
  /** What "ready" means: GET /health answered (default), or a first ECS call (ListClusters) answered. */
  probe?: "health" | "ecs";
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
 * Starts `node dist/cli.cjs serve` (or another script) as its own process, so the benchmark client never
 * shares its event loop, and waits for /health.
 */
export async function spawnServer(options: SpawnOptions = {}): Promise<ServerProcess> {
  const dataDir = options.dataDir ?? tempDir("lecs-bench-data-");
  const port = options.port ?? (await freePort());
  const logFile = join(dataDir, "server.log");
  const logFd = openSync(logFile, "a");
  const started = performance.now();
  const nodeArgs = options.nodeArgs ?? (options.script === undefined ? serverNodeArgs() : []);
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, options.script ?? serverScript(), ...(options.args ?? ["serve"])], {
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
      const res =
        options.probe === "ecs"
          ? await fetch(url, {
              method: "POST",
              headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": "AmazonEC2ContainerServiceV20141113.ListClusters" },
              body: "{}",
            })
          : await fetch(`${url}/health`);
      await res.arrayBuffer();
      if (res.ok) {
        readyMs = performance.now() - started;
        break;
      }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 2));
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
