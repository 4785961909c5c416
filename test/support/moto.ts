// Starts a real moto_server on a free loopback port for one test file, so integration tests talk to a
// real AWS emulator (STS, IAM, SSM, Secrets Manager, CloudWatch Logs, ECS) instead of hand-written fakes.
import { freePort } from "./free-port.ts";
import { spawn, type ChildProcess } from "node:child_process";

export interface MotoServer {
  /** e.g. http://127.0.0.1:54321 */
  readonly endpoint: string;
  readonly port: number;
  /** Dummy credentials moto accepts; region us-east-1 unless told otherwise. */
  readonly credentials: { accessKeyId: string; secretAccessKey: string };
  readonly region: string;
  /** Wipes moto's in-memory state (POST /moto-api/reset). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export async function startMoto(options: { region?: string; startTimeoutMs?: number } = {}): Promise<MotoServer> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing" },
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    // Keep only the tail: moto logs every request, and we only need it to explain a failed start.
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}: ${stderr}`);
    try {
      const res = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status < 500) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await kill(child, exited);
      throw new Error(`moto_server did not answer on ${endpoint} in time: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    endpoint,
    port,
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    region: options.region ?? "us-east-1",
    async reset() {
      const res = await fetch(`${endpoint}/moto-api/reset`, { method: "POST" });
      await res.arrayBuffer();
    },
    stop: () => kill(child, exited),
  };
}

async function kill(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

