// A second Docker engine beside the first, for tests of several container instances on one machine
// (../shared/reference/toolchain-notes.md, "A second Docker engine"): its own socket, data root, exec
// root and pid file, no bridge and no iptables rules (so it never touches the first engine's networks),
// with the offline test image loaded. Needs root, like the first engine. Set SECOND_DOCKER_HOST to use
// one started once for the whole run instead (.ci/second-dockerd.sh).
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { docker, TEST_IMAGE } from "./docker.ts";
import { eventually } from "./eventually.ts";

export interface SecondDockerd {
  /** unix:///tmp/d2-…/docker.sock */
  readonly host: string;
  /** Stops the engine (SIGTERM, then SIGKILL after `graceMs`) and resolves once its process is gone. */
  stop(graceMs?: number): Promise<void>;
  /** Starts it again on the same socket and data (after stop). */
  restart(): Promise<void>;
  /** Stops it if running and removes its folders. */
  dispose(): Promise<void>;
}

/** `own`: always start a private engine (a test that stops it must not stop the shared one). */
export async function startSecondDockerd(options: { images?: string[]; own?: boolean } = {}): Promise<SecondDockerd> {
  const shared = process.env["SECOND_DOCKER_HOST"];
  if (options.own !== true && shared !== undefined && shared !== "") {
    return { host: shared, stop: async () => {}, restart: async () => {}, dispose: async () => {} };
  }
  // Short paths: unix socket paths are limited to ~108 bytes, containerd's live under the exec root.
  const dir = mkdtempSync("/tmp/d2-");
  const host = `unix://${dir}/docker.sock`;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const start = async (): Promise<void> => {
    mkdirSync(`${dir}/data`, { recursive: true });
    const log = openSync(`${dir}/dockerd.log`, "a");
    child = spawn(
      "dockerd",
      [
        "--host",
        host,
        "--data-root",
        `${dir}/data`,
        "--exec-root",
        `${dir}/exec`,
        "--pidfile",
        `${dir}/docker.pid`,
        "--bridge",
        "none",
        "--iptables=false",
        "--ip-masq=false",
      ],
      { stdio: ["ignore", log, log] },
    );
    const proc = child;
    exited = new Promise((resolve) => proc.once("exit", () => resolve()));
    try {
      await eventually("the second dockerd to answer", async () => ((await docker("-H", host, "version", "--format", "{{.Server.Version}}")) !== "" ? true : undefined), 60_000, 250);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${readFileSync(`${dir}/dockerd.log`, "utf8").split("\n").slice(-20).join("\n")}`);
    }
  };

  const stop = async (graceMs = 20_000): Promise<void> => {
    const proc = child;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill("SIGTERM");
    const killer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
    await exited;
    clearTimeout(killer);
    child = undefined;
  };

  await start();
  for (const image of options.images ?? [TEST_IMAGE]) {
    await new Promise<void>((resolve, reject) => {
      const sh = spawn("sh", ["-c", `docker save "$0" | docker -H "$1" load`, image, host], { stdio: ["ignore", "ignore", "pipe"] });
      let stderr = "";
      sh.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      sh.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`loading ${image} into ${host} failed: ${stderr}`))));
    });
  }

  return {
    host,
    stop,
    restart: start,
    async dispose() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
