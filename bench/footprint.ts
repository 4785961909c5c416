// Benchmark 5: start-up time, `--version`, RSS idle and after one RunTask, memory per stored task, and
// the image size. Baselines in the same run: a bare node:http server (bench/lib/echo-server.cjs, plain
// JavaScript) for start-up and RSS, `node -e 0` for `--version`.
// Run alone: node bench/footprint.ts   (after `npm run build`; `npm run bench` builds first)
import { execFile, spawn } from "node:child_process";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { startEchoServer } from "./lib/echo-baseline.ts";
import { heapSnapshotBytes } from "./lib/heap-snapshot.ts";
import { ecsCall } from "./lib/ecs-call.ts";
import { emitResult, printTable, progress } from "./lib/report.ts";
import { removeDir, SERVER_SCRIPT, serverNodeArgs, spawnServer, tempDir, type ServerProcess } from "./lib/server-process.ts";
import { seedTasks } from "./lib/seed-tasks.ts";
import { ratio, round, summarize } from "./lib/stats.ts";
import {
  createCluster,
  describeTasks,
  registerTaskDefinition,
  removeClusterResources,
  runTask,
  stopTasks,
  TRAPPING_SLEEP,
  uniqueClusterName,
  waitForStatus,
} from "./lib/tasks.ts";

const exec = promisify(execFile);
const SAMPLES = Number(process.env["BENCH_FOOTPRINT_SAMPLES"] ?? 5);
const STORED_TASKS = 1000;
const MiB = 2 ** 20;
const KiB = 1024;

/** Issue 12's targets. */
export const FOOTPRINT_TARGETS = {
  startupMs: 250,
  startupRatio: 3.5,
  versionMs: 100,
  idleRssMiB: 64,
  oneTaskRssMiB: 80,
  oneTaskRssRatio: 1.5,
  perTaskKiB: 16,
} as const;

async function imageSize(): Promise<string> {
  try {
    const { stdout } = await exec("docker", ["image", "ls", "local-ecs-api", "--format", "{{.Repository}}:{{.Tag}} {{.Size}}"]);
    const lines = stdout.trim().split("\n").filter((s) => s !== "");
    return lines.length === 0 ? "not built" : lines.join(", ");
  } catch {
    return "not built";
  }
}

const settle = (ms = 1000): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Milliseconds from spawn to exit of `node <args>`. */
function timedRun(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { stdio: "ignore" });
    child.once("error", reject);
    child.once("exit", (code) => (code === 0 ? resolve(performance.now() - started) : reject(new Error(`node ${args.join(" ")} exited with ${code}`))));
  });
}

/** Live heap (after the full GC a snapshot does) of a server started with the snapshot signal. */
async function liveHeap(server: ServerProcess): Promise<number> {
  const before = new Set(readdirSync(server.dataDir));
  process.kill(server.pid, "SIGUSR2");
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    await settle(200);
    const file = readdirSync(server.dataDir).find((f) => f.endsWith(".heapsnapshot") && !before.has(f));
    if (file === undefined) continue;
    const path = join(server.dataDir, file);
    // Written in one go; wait until it parses.
    for (;;) {
      try {
        const bytes = heapSnapshotBytes(readFileSync(path, "utf8"));
        rmSync(path, { force: true });
        return bytes;
      } catch {
        if (Date.now() > deadline) throw new Error("heap snapshot did not complete");
        await settle(500);
      }
    }
  }
  throw new Error("no heap snapshot within 120 s");
}

/** RSS and live heap with 1,000 stopped tasks stored (each described once, as pollers do). */
async function perTaskMemory(): Promise<{ rssIdle: number; rssLoaded: number; heapIdle: number; heapLoaded: number; seedSeconds: number }> {
  const cluster = uniqueClusterName("lecs-bench-fp");
  const dataDir = tempDir("lecs-bench-data-");
  const server = await spawnServer({
    dataDir,
    env: { CONTAINER_CLEANUP_DELAY: "1s" },
    nodeArgs: [...serverNodeArgs(), "--heapsnapshot-signal=SIGUSR2", `--diagnostic-dir=${dataDir}`],
  });
  try {
    await settle();
    const rssIdle = server.rssBytes();
    const heapIdle = await liveHeap(server);
    progress(`storing ${STORED_TASKS} stopped tasks (failed to start: real task documents, no container)`);
    const t = performance.now();
    const seeded = await seedTasks(server.url, cluster, { running: 0, exited: 0, failed: STORED_TASKS });
    const seedSeconds = (performance.now() - t) / 1000;
    for (let i = 0; i < seeded.all.length; i += 100) await describeTasks(server.url, cluster, seeded.all.slice(i, i + 100));
    await settle(3000);
    const rssLoaded = server.rssBytes();
    const heapLoaded = await liveHeap(server);
    return { rssIdle, rssLoaded, heapIdle, heapLoaded, seedSeconds };
  } finally {
    await server.stop();
    await removeClusterResources(cluster);
    removeDir(server.dataDir);
  }
}

/** RSS after one host-network task reached RUNNING (and was stopped again). */
async function rssAfterOneRunTask(): Promise<number> {
  const cluster = uniqueClusterName("lecs-bench-fp1");
  const server = await spawnServer();
  try {
    await createCluster(server.url, cluster);
    await registerTaskDefinition(server.url, "bench-fp-one", [{ name: "app", command: TRAPPING_SLEEP }], "host");
    const t = performance.now();
    const arns = await runTask(server.url, cluster, "bench-fp-one");
    await waitForStatus(server.url, cluster, arns, "RUNNING", t, 60_000);
    await settle();
    const rss = server.rssBytes();
    await stopTasks(server.url, cluster, arns);
    await waitForStatus(server.url, cluster, arns, "STOPPED", performance.now(), 60_000);
    return rss;
  } finally {
    await server.stop();
    await removeClusterResources(cluster);
    removeDir(server.dataDir);
  }
}

export async function footprintBenchmark(): Promise<Record<string, unknown>> {
  const T = FOOTPRINT_TARGETS;
  const ready: number[] = [];
  /** Spawn → first answer of a call that waits for the Docker side (ListTasks: tasks re-adopted, instances probed). */
  const taskSideReady: number[] = [];
  const echoReady: number[] = [];
  const idle: number[] = [];
  const echoIdle: number[] = [];
  progress(`start → first answered ListClusters (then ListTasks), and idle RSS; ${SAMPLES} samples each, alternated`);
  for (let i = 0; i < SAMPLES; i++) {
    const server = await spawnServer({ probe: "ecs" });
    try {
      ready.push(server.readyMs);
      // Sent as soon as ListClusters answered: it waits at the start-up gate until the Docker side is up.
      const t = performance.now();
      await ecsCall(server.url, "ListTasks", {});
      taskSideReady.push(server.readyMs + (performance.now() - t));
      await settle();
      idle.push(server.rssBytes());
    } finally {
      await server.stop();
      removeDir(server.dataDir);
    }
    const echo = await startEchoServer({ probe: "ecs" });
    try {
      echoReady.push(echo.readyMs);
      await settle();
      echoIdle.push(echo.rssBytes());
    } finally {
      await echo.dispose();
    }
  }
  progress(`--version, ${SAMPLES} samples each, alternated with node -e 0`);
  const version: number[] = [];
  const bareNode: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    version.push(await timedRun([...serverNodeArgs(), SERVER_SCRIPT, "--version"]));
    bareNode.push(await timedRun(["-e", "0"]));
  }
  progress("RSS after one RunTask");
  const oneTask = await rssAfterOneRunTask();
  const mem = await perTaskMemory();

  const r = summarize(ready).median;
  const tr = summarize(taskSideReady).median;
  const er = summarize(echoReady).median;
  const v = summarize(version).median;
  const bn = summarize(bareNode).median;
  const m = summarize(idle).median;
  const em = summarize(echoIdle).median;
  const rssPerTask = (mem.rssLoaded - mem.rssIdle) / STORED_TASKS;
  const heapPerTask = (mem.heapLoaded - mem.heapIdle) / STORED_TASKS;
  const image = await imageSize();
  const status = (ok: boolean): string => (ok ? "met" : "MISSED");
  const checks = {
    startup: r <= T.startupMs && r / er <= T.startupRatio,
    version: v <= T.versionMs,
    idleRss: m / MiB <= T.idleRssMiB,
    oneTaskRss: oneTask / MiB <= T.oneTaskRssMiB,
    perTaskRetained: heapPerTask / KiB <= T.perTaskKiB,
    perTaskRss: rssPerTask / KiB <= T.perTaskKiB,
  };
  printTable(`Footprint (medians of ${SAMPLES}; the floor is a bare node:http server in plain JavaScript)`, [
    { figure: "process start → first answered ECS call (ListClusters)", value: round(r), unit: "ms", baseline: round(er), "×": ratio(r, er), target: `≤ ${T.startupMs} ms and ≤ ${T.startupRatio}×: ${status(checks.startup)}` },
    { figure: "… then first answered ListTasks (waits for the Docker side: tasks re-adopted)", value: round(tr), unit: "ms", baseline: round(er), "×": ratio(tr, er), target: "(reported)" },
    { figure: "--version", value: round(v), unit: "ms", baseline: `${round(bn)} (node -e 0)`, "×": ratio(v, bn), target: `≤ ${T.versionMs} ms: ${status(checks.version)}` },
    { figure: "idle RSS 1 s after start", value: round(m / MiB, 1), unit: "MiB", baseline: round(em / MiB, 1), "×": ratio(m, em), target: `≤ ${T.idleRssMiB} MiB: ${status(checks.idleRss)}` },
    { figure: "RSS after one RunTask (host network, RUNNING)", value: round(oneTask / MiB, 1), unit: "MiB", baseline: round(em / MiB, 1), "×": ratio(oneTask, em), target: `≤ ${T.oneTaskRssMiB} MiB: ${status(checks.oneTaskRss)}` },
    { figure: `live heap per stored task (${STORED_TASKS} stopped, heap snapshots)`, value: round(heapPerTask / KiB, 1), unit: "KiB", baseline: "", "×": "", target: `≤ ${T.perTaskKiB} KiB: ${status(checks.perTaskRetained)}` },
    { figure: `RSS per stored task (${STORED_TASKS} stopped: ${round(mem.rssIdle / MiB, 1)} → ${round(mem.rssLoaded / MiB, 1)} MiB)`, value: round(rssPerTask / KiB, 1), unit: "KiB", baseline: "", "×": "", target: `≤ ${T.perTaskKiB} KiB: ${status(checks.perTaskRss)}` },
    { figure: "image size (docker image ls local-ecs-api)", value: image, unit: "", baseline: "", "×": "", target: "" },
  ]);
  return {
    startupMs: round(r),
    taskSideStartupMs: round(tr),
    echoStartupMs: round(er),
    versionMs: round(v),
    bareNodeMs: round(bn),
    idleRssBytes: m,
    echoIdleRssBytes: em,
    oneRunTaskRssBytes: oneTask,
    storedTasks: STORED_TASKS,
    rssPerTaskBytes: Math.round(rssPerTask),
    heapPerTaskBytes: Math.round(heapPerTask),
    seedSeconds: round(mem.seedSeconds, 1),
    image,
    targets: T,
    checks,
  };
}

if (import.meta.main) {
  emitResult("footprint", await footprintBenchmark());
}
