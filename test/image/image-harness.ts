// Drives the local-ecs-api image from the outside, the way a user does: the docker CLI, the AWS CLI v2
// and plain HTTP. Nothing here imports the server's code: the image is the unit under test.
import { freePort } from "../support/free-port.ts";
import { execFile, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const BASE_IMAGE = "node:24-bookworm-slim";
export const TEST_IMAGE = "local-ecs-api:test";
export const TASK_IMAGE = "local-ecs-api-test/busybox:latest";
export const AWS_CLI_V2 = "/usr/bin/aws";
export const DOCKER_SOCKET = "/var/run/docker.sock";

/** A short unique prefix for everything one test file creates. */
export function uniquePrefix(): string {
  return `lea-img-${randomBytes(4).toString("hex")}`;
}

/** Runs a program without a shell; never throws for a non-zero exit (callers assert on `code`). */
export function run(
  file: string,
  args: readonly string[],
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(
      file,
      args,
      {
        timeout: options.timeoutMs ?? 60_000,
        env: options.env ?? process.env,
        cwd: options.cwd ?? REPO_ROOT,
        maxBuffer: 64 * 1024 * 1024,
        encoding: "utf8",
      },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === "number" ? err.code : -1;
        const killed = err !== null && err.killed === true ? `\n[killed after ${options.timeoutMs ?? 60_000} ms]` : "";
        resolve({ code, stdout, stderr: stderr + killed });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Like run, but a non-zero exit is an error that carries the command and its output. */
export async function mustRun(file: string, args: readonly string[], options: Parameters<typeof run>[2] = {}): Promise<string> {
  const r = await run(file, args, options);
  if (r.code !== 0) {
    throw new Error(`${file} ${args.join(" ")} exited with ${r.code}\n--- stdout\n${tail(r.stdout)}\n--- stderr\n${tail(r.stderr)}`);
  }
  return r.stdout;
}

export function tail(text: string, lines = 60): string {
  return text.split("\n").slice(-lines).join("\n");
}


/** Polls until `probe` returns a value or the deadline passes; the last error explains a timeout. */
export async function pollUntil<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last === undefined ? "" : `: ${String(last)}`}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The environment for the AWS CLI: dummy keys, no profile or config from this machine, no pager. */
export function awsCliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("AWS_")) env[k] = v;
  return {
    ...env,
    AWS_ACCESS_KEY_ID: "AKIDLOCALECSTEST",
    AWS_SECRET_ACCESS_KEY: "local-ecs-api-test-secret",
    AWS_DEFAULT_REGION: "us-east-1",
    AWS_CONFIG_FILE: "/dev/null",
    AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_PAGER: "",
    ...extra,
  };
}

/** `aws ecs <args>` with the CLI v2 against `endpoint`; parses JSON output. */
export async function ecsCli(endpoint: string, args: readonly string[], timeoutMs = 60_000): Promise<any> {
  const out = await mustRun(AWS_CLI_V2, ["ecs", ...args, "--endpoint-url", endpoint, "--region", "us-east-1", "--output", "json"], {
    env: awsCliEnv(),
    timeoutMs,
  });
  return out.trim() === "" ? undefined : JSON.parse(out);
}

/** Ids of containers (running or not) with every given label. */
export async function containersByLabel(labels: Record<string, string>): Promise<string[]> {
  const filters = Object.entries(labels).flatMap(([k, v]) => ["--filter", `label=${k}=${v}`]);
  const out = await mustRun("docker", ["ps", "-aq", "--no-trunc", ...filters]);
  return out.split("\n").filter((s) => s !== "");
}

/** Synchronous so it can run in a failure hook: the server's own account of what went wrong. */
export function containerLogsSync(name: string): string {
  const r = spawnSync("docker", ["logs", "--tail", "200", name], { encoding: "utf8" });
  return `${r.stdout ?? ""}${r.stderr ?? ""}${r.error === undefined ? "" : String(r.error)}`;
}

export { freePort };
