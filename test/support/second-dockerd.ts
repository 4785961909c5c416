// A second Docker engine beside the first, for tests of several container instances on one machine
// (../shared/reference/toolchain-notes.md, "A second Docker engine"): its own socket, data root, exec
// root and pid file, no iptables rules, with the offline test image loaded. Needs root, like the first
// engine. Set SECOND_DOCKER_HOST to use one started once for the whole run instead (.ci/second-dockerd.sh).
//
// Not `--bridge none`, although the notes suggest it: with the bridge disabled dockerd *deletes the
// host's docker0 interface* at start-up (removeDefaultBridgeInterface), which breaks the first engine's
// default network for everyone on the machine. The second engine gets a bridge of its own instead,
// created here in an unused 10.254.x.0/24 and deleted with the engine.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { promisify } from "node:util";
import { docker, TEST_IMAGE } from "./docker.ts";
import { eventually } from "./eventually.ts";

const run = promisify(execFile);

/** A bridge interface for the second engine, in a 10.254.x.0/24 no route uses yet. */
async function createBridge(): Promise<{ name: string; gateway: string }> {
  const name = `lecsd2${randomBytes(3).toString("hex")}`;
  const routes = (await run("ip", ["-4", "route"])).stdout;
  const used = new Set([...routes.matchAll(/10\.254\.(\d+)\./g)].map((m) => Number(m[1])));
  const free = Array.from({ length: 256 }, (_, i) => i).filter((i) => !used.has(i));
  const third = free[Math.floor(Math.random() * free.length)];
  if (third === undefined) throw new Error("no free 10.254.x.0/24 for the second engine's bridge");
  await run("ip", ["link", "add", "name", name, "type", "bridge"]);
  await run("ip", ["addr", "add", `10.254.${third}.1/24`, "dev", name]);
  await run("ip", ["link", "set", name, "up"]);
  return { name, gateway: `10.254.${third}.1` };
}

export interface SecondDockerd {
  /** unix:///tmp/d2-…/docker.sock */
  readonly host: string;
  /** The host's address on the engine's bridge: what its containers reach the host at (undefined when shared). */
  readonly gateway: string | undefined;
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
    return { host: shared, gateway: undefined, stop: async () => {}, restart: async () => {}, dispose: async () => {} };
  }
  // Short paths: unix socket paths are limited to ~108 bytes, containerd's live under the exec root.
  const dir = mkdtempSync("/tmp/d2-");
  const host = `unix://${dir}/docker.sock`;
  const { name: bridge, gateway } = await createBridge();
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
        bridge,
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

  /** Bridge interfaces of the engine's user-defined networks: they outlive the engine on the host. */
  const networkBridges = new Set<string>();
  const stop = async (graceMs = 20_000): Promise<void> => {
    const proc = child;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    const ids = await docker("-H", host, "network", "ls", "--no-trunc", "--filter", "driver=bridge", "--format", "{{.ID}}").catch(() => "");
    for (const id of ids.split("\n").filter(Boolean)) networkBridges.add(`br-${id.slice(0, 12)}`);
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
    gateway,
    stop,
    restart: start,
    async dispose() {
      await stop();
      await run("ip", ["link", "del", bridge]).catch(() => undefined);
      // Left on the host they keep routes to the engine's subnets, which a later engine may reuse.
      for (const b of networkBridges) await run("ip", ["link", "del", b]).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
