// Benchmark 3: DescribeTasks (10 ARNs) and ListTasks throughput and latency with 1,000 tasks in the
// store, driven by wrk at 1, 16 and 64 connections, against a node:http JSON echo server in the same run.
// Run alone: node bench/describe-tasks.ts
import { startEchoServer } from "./lib/echo-baseline.ts";
import { emitResult, note, printTable, progress } from "./lib/report.ts";
import { removeDir, spawnServer, tempDir } from "./lib/server-process.ts";
import { ratio, round } from "./lib/stats.ts";
import { seedTasks } from "./lib/seed-tasks.ts";
import { removeClusterResources, stopTasks, uniqueClusterName, waitForStatus } from "./lib/tasks.ts";
import { runWrk, writeWrkScript, type WrkRequest, type WrkResult } from "./lib/wrk.ts";

const DURATION = Number(process.env["BENCH_WRK_SECONDS"] ?? 4);
const CONNECTIONS = [1, 16, 64];
const TARGET_RATIO = 0.5;
const TARGET_P99_MS = 10;

/** Deterministic shuffle, so every run describes the same mix. */
function pick<T>(items: readonly T[], n: number, seed: number): T[] {
  let s = seed;
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy.slice(0, n);
}

export async function describeTasksBenchmark(): Promise<Record<string, unknown>> {
  const scripts = tempDir("lecs-bench-wrk-");
  const cluster = uniqueClusterName("lecs-bench-store");
  const server = await spawnServer({ env: { CONTAINER_CLEANUP_DELAY: "1s" } });
  const echo = await startEchoServer();
  try {
    const idleRss = server.rssBytes();
    progress("seeding 1,000 tasks through the API (50 running, 100 exited, 850 failed to start)");
    const t0 = performance.now();
    const seeded = await seedTasks(server.url, cluster);
    const seedSeconds = (performance.now() - t0) / 1000;
    // Let the 1 s container clean-up finish so Docker work does not overlap the measurement.
    await new Promise((r) => setTimeout(r, 3000));
    const rss1000 = server.rssBytes();

    const describe: WrkRequest[] = Array.from({ length: 20 }, (_, k) => ({
      operation: "DescribeTasks",
      body: JSON.stringify({ cluster, tasks: pick(seeded.all, 10, k + 1) }),
    }));
    const list: WrkRequest[] = [
      { operation: "ListTasks", body: JSON.stringify({ cluster }) },
      { operation: "ListTasks", body: JSON.stringify({ cluster, desiredStatus: "STOPPED" }) },
      { operation: "ListTasks", body: JSON.stringify({ cluster, desiredStatus: "RUNNING" }) },
      { operation: "ListTasks", body: JSON.stringify({ cluster, family: seeded.family.exited, desiredStatus: "STOPPED" }) },
    ];
    const scriptOf = async (name: string, url: string, reqs: WrkRequest[]): Promise<string> => writeWrkScript(scripts, name, url, reqs);
    const describeScript = await scriptOf("describe", server.url, describe);
    const listScript = await scriptOf("list", server.url, list);
    const echoScript = await scriptOf("echo", echo.url, describe);

    const rows: Array<Record<string, string | number>> = [];
    const results: Record<string, { server: WrkResult; echo: WrkResult; ratio: number }> = {};
    for (const c of CONNECTIONS) {
      progress(`wrk at ${c} connection(s): echo, DescribeTasks, ListTasks`);
      const e = await runWrk(echo.url, echoScript, c, DURATION);
      for (const [op, script] of [
        ["DescribeTasks", describeScript],
        ["ListTasks", listScript],
      ] as const) {
        const s = await runWrk(server.url, script, c, DURATION);
        const r = ratio(s.requestsPerSec, e.requestsPerSec);
        results[`${op}.c${c}`] = { server: s, echo: e, ratio: r };
        const targets = [r >= TARGET_RATIO ? "ratio met" : "ratio MISSED"];
        if (c === 16) targets.push(s.p99 < TARGET_P99_MS ? "p99 met" : "p99 MISSED");
        rows.push({
          operation: op,
          conns: c,
          "req/s": round(s.requestsPerSec, 0),
          "echo req/s": round(e.requestsPerSec, 0),
          "vs echo": r,
          "p50 ms": s.p50,
          "p99 ms": s.p99,
          "echo p50 ms": e.p50,
          "echo p99 ms": e.p99,
          errors: s.non2xx + s.socketErrors,
          targets: targets.join(", "),
        });
      }
    }
    const rssAfter = server.rssBytes();
    printTable(
      `DescribeTasks (10 ARNs) / ListTasks on 1,000 tasks, wrk ${DURATION}s per row; targets ≥ ${TARGET_RATIO}× echo req/s, p99 < ${TARGET_P99_MS} ms at 16 conns`,
      rows,
    );
    note(
      `store: ${seeded.running.length} running, ${seeded.exited.length} exited, ${seeded.failed.length} failed to start; seeded in ${round(seedSeconds, 1)} s. ` +
        `RSS idle ${round(idleRss / 2 ** 20, 1)} MiB, with 1,000 tasks ${round(rss1000 / 2 ** 20, 1)} MiB, after the wrk runs ${round(rssAfter / 2 ** 20, 1)} MiB.`,
    );

    progress("stopping the running tasks");
    const t1 = performance.now();
    await stopTasks(server.url, cluster, seeded.running);
    await waitForStatus(server.url, cluster, seeded.running, "STOPPED", t1, 60_000);
    return {
      tasks: seeded.all.length,
      seedSeconds: round(seedSeconds, 1),
      rssIdleBytes: idleRss,
      rss1000Bytes: rss1000,
      rssAfterWrkBytes: rssAfter,
      results,
    };
  } finally {
    await server.stop();
    await echo.dispose();
    await removeClusterResources(cluster);
    removeDir(server.dataDir);
    removeDir(scripts);
  }
}

if (import.meta.main) {
  emitResult("describe-tasks", await describeTasksBenchmark());
}
