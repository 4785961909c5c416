// Benchmark 5: idle RSS, RSS with 1,000 tasks stored, time from process start to the first answered
// request, and the image size; the node:http echo server is the baseline for the first two.
// Run alone: node bench/footprint.ts   (run-all passes the 1,000-task RSS measured by describe-tasks
// in BENCH_RSS_1000, so the store is not seeded twice)
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { startEchoServer } from "./lib/echo-baseline.ts";
import { emitResult, printTable, progress } from "./lib/report.ts";
import { removeDir, spawnServer } from "./lib/server-process.ts";
import { seedTasks } from "./lib/seed-tasks.ts";
import { ratio, round, summarize } from "./lib/stats.ts";
import { removeClusterResources, stopTasks, uniqueClusterName, waitForStatus } from "./lib/tasks.ts";

const exec = promisify(execFile);
const SAMPLES = 3;
const MiB = 2 ** 20;

async function imageSize(): Promise<string> {
  try {
    const { stdout } = await exec("docker", ["image", "ls", "local-ecs-api", "--format", "{{.Repository}}:{{.Tag}} {{.Size}}"]);
    const lines = stdout.trim().split("\n").filter((s) => s !== "");
    return lines.length === 0 ? "not built" : lines.join(", ");
  } catch {
    return "not built";
  }
}

async function settle(): Promise<void> {
  await new Promise((r) => setTimeout(r, 1000));
}

async function rssWith1000Tasks(): Promise<{ bytes: number; source: string }> {
  const given = Number(process.env["BENCH_RSS_1000"]);
  if (Number.isFinite(given) && given > 0) return { bytes: given, source: "describe-tasks, same run" };
  progress("seeding 1,000 tasks for the RSS figure");
  const cluster = uniqueClusterName("lecs-bench-fp");
  const server = await spawnServer({ env: { CONTAINER_CLEANUP_DELAY: "1s" } });
  try {
    const seeded = await seedTasks(server.url, cluster);
    await new Promise((r) => setTimeout(r, 3000));
    const bytes = server.rssBytes();
    const t = performance.now();
    await stopTasks(server.url, cluster, seeded.running);
    await waitForStatus(server.url, cluster, seeded.running, "STOPPED", t, 60_000);
    return { bytes, source: "seeded here" };
  } finally {
    await server.stop();
    await removeClusterResources(cluster);
    removeDir(server.dataDir);
  }
}

export async function footprintBenchmark(): Promise<Record<string, unknown>> {
  const ready: number[] = [];
  const echoReady: number[] = [];
  const idle: number[] = [];
  const echoIdle: number[] = [];
  progress(`start-up and idle RSS, ${SAMPLES} samples each`);
  for (let i = 0; i < SAMPLES; i++) {
    const server = await spawnServer();
    try {
      ready.push(server.readyMs);
      await settle();
      idle.push(server.rssBytes());
    } finally {
      await server.stop();
      removeDir(server.dataDir);
    }
    const echo = await startEchoServer();
    try {
      echoReady.push(echo.readyMs);
      await settle();
      echoIdle.push(echo.rssBytes());
    } finally {
      await echo.dispose();
    }
  }
  const r = summarize(ready).median;
  const er = summarize(echoReady).median;
  const m = summarize(idle).median;
  const em = summarize(echoIdle).median;
  const loaded = await rssWith1000Tasks();
  const image = await imageSize();
  printTable("Footprint (medians of 3; the echo server is a bare node:http process)", [
    { figure: "process start → first answered GET /health", value: round(r), unit: "ms", baseline: round(er), "×": ratio(r, er) },
    { figure: "idle RSS after start", value: round(m / MiB, 1), unit: "MiB", baseline: round(em / MiB, 1), "×": ratio(m, em) },
    { figure: `RSS with 1,000 tasks stored (${loaded.source})`, value: round(loaded.bytes / MiB, 1), unit: "MiB", baseline: round(m / MiB, 1), "×": ratio(loaded.bytes, m) },
    { figure: "image size (docker image ls local-ecs-api)", value: image, unit: "", baseline: "", "×": "" },
  ]);
  return {
    startupMs: round(r),
    echoStartupMs: round(er),
    idleRssBytes: m,
    echoIdleRssBytes: em,
    rss1000Bytes: loaded.bytes,
    rss1000Source: loaded.source,
    image,
  };
}

if (import.meta.main) {
  emitResult("footprint", await footprintBenchmark());
}
