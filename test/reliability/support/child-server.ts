import { freePort } from "../../support/free-port.ts";
import { ECSClient } from "@aws-sdk/client-ecs";
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const TARGET = "AmazonEC2ContainerServiceV20141113";

/** The emulator as a real child process (`node src/cli.ts serve`), so tests can SIGKILL it. */
export interface ChildServer {
  url: string;
  port: number;
  pid: number;
  dataDir: string;
  ecs: ECSClient;
  /** Raw awsJson1_1 call; never throws on an HTTP error status. */
  call(operation: string, body: unknown): Promise<{ status: number; json: any }>;
  rssBytes(): number;
  /** Whether the process has exited (e.g. crashed). */
  exited(): boolean;
  kill(signal: NodeJS.Signals): Promise<void>;
  /** SIGTERM and wait; SIGKILL after 10 s. */
  stop(): Promise<void>;
  log(): string;
}

export function tempDataDir(): string {
  return mkdtempSync(join(tmpdir(), "lecs-rel-"));
}

export function removeDataDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}


/**
 * `script`: another entry point than `src/cli.ts serve`, relative to the repository (e.g. one that passes
 * test-only server options, see serve-with-options.ts).
 */
export async function startChildServer(options: { dataDir: string; port?: number; env?: Record<string, string>; script?: string }): Promise<ChildServer> {
  const port = options.port ?? (await freePort());
  const logFile = join(options.dataDir, "server.log");
  const fd = openSync(logFile, "a");
  const args = options.script === undefined ? [join(REPO_ROOT, "src/cli.ts"), "serve"] : [join(REPO_ROOT, options.script)];
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, HOST: "127.0.0.1", PORT: String(port), DATA_DIR: options.dataDir, LOG_LEVEL: "info", ...options.env },
    stdio: ["ignore", "ignore", fd],
  });
  closeSync(fd);
  let dead = false;
  const exit = new Promise<void>((resolve) =>
    child.once("exit", () => {
      dead = true;
      resolve();
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (dead) throw new Error(`server exited during start-up:\n${readFileSync(logFile, "utf8").slice(-3000)}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`server did not answer /health within 30 s:\n${readFileSync(logFile, "utf8").slice(-3000)}`);
    }
    const ok = await fetch(`${url}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const ecs = new ECSClient({
    endpoint: url,
    region: "us-east-1",
    credentials: { accessKeyId: "AKIDRELIABILITY", secretAccessKey: "secret" },
    maxAttempts: 1,
  });
  const kill = async (signal: NodeJS.Signals): Promise<void> => {
    if (dead) return;
    child.kill(signal);
    await exit;
  };
  return {
    url,
    port,
    pid: child.pid!,
    dataDir: options.dataDir,
    ecs,
    async call(operation, body) {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": `${TARGET}.${operation}` },
        body: typeof body === "string" ? body : JSON.stringify(body),
      });
      const text = await res.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = text;
      }
      return { status: res.status, json };
    },
    rssBytes() {
      const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
      return m === null ? Number.NaN : Number(m[1]) * 1024;
    },
    exited: () => dead,
    kill: async (signal) => {
      ecs.destroy();
      await kill(signal);
    },
    async stop() {
      ecs.destroy();
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await kill("SIGTERM");
      clearTimeout(timer);
    },
    log: () => readFileSync(logFile, "utf8"),
  };
}

export { freePort };
