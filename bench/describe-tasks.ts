// Benchmark 3: DescribeTasks (10 ARNs) and ListTasks throughput and latency with 1,000 tasks in the
// store, driven by wrk at 1, 16 and 64 connections, against a node:http JSON echo server in the same run.
// Then the store grows to 10,000 tasks (copies of the stopped ones, written while the server is down):
// the restart to the first answer, and DescribeTasks (1 and 100 ARNs) / ListTasks at 16 connections.
// Run alone: node bench/describe-tasks.ts
import { startEchoServer } from "./lib/echo-baseline.ts";
import { ecsCall } from "./lib/ecs-call.ts";
import { emitResult, note, printTable, progress } from "./lib/report.ts";
import { removeDir, spawnServer, tempDir } from "./lib/server-process.ts";
import { ratio, round } from "./lib/stats.ts";
import { seedTasks } from "./lib/seed-tasks.ts";
import { cloneStoredTasks } from "./lib/clone-tasks.ts";
import { removeClusterResources, stopTasks, uniqueClusterName, waitForStatus } from "./lib/tasks.ts";
import { runWrk, writeWrkScript, type WrkRequest, type WrkResult } from "./lib/wrk.ts";

const DURATION = Number(process.env["BENCH_WRK_SECONDS"] ?? 4);
const CONNECTIONS = [1, 16, 64];
const TARGET_RATIO = 0.5;
const TARGET_P99_MS = 10;
const LARGE_STORE = Number(process.env["BENCH_LARGE_STORE"] ?? 10_000);
const TARGET_RESTART_MS = 1000;

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
  let large: Awaited<ReturnType<typeof spawnServer>> | undefined;
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

    // ---- 10,000 tasks: copies of the stopped ones, written while the server is down, then a restart.
    await server.stop();
    progress(`growing the store to ${LARGE_STORE} tasks and restarting`);
    const copies = cloneStoredTasks(server.dataDir, [...seeded.exited, ...seeded.failed], LARGE_STORE);
    large = await spawnServer({ dataDir: server.dataDir, env: { CONTAINER_CLEANUP_DELAY: "1s" }, probe: "ecs" });
    const restartMs = large.readyMs;
    // The first call that reads tasks waits until the restarted server has re-adopted its tasks.
    const restartTasksStarted = performance.now();
    await ecsCall(large.url, "DescribeTasks", { cluster, tasks: [copies[0]] });
    const restartTasksMs = large.readyMs + (performance.now() - restartTasksStarted);
    await new Promise((r) => setTimeout(r, 1000));
    const rssLarge = large.rssBytes();
    const everything = [...seeded.all, ...copies];
    const one: WrkRequest[] = Array.from({ length: 20 }, (_, k) => ({ operation: "DescribeTasks", body: JSON.stringify({ cluster, tasks: pick(everything, 1, k + 101) }) }));
    const hundred: WrkRequest[] = Array.from({ length: 20 }, (_, k) => ({ operation: "DescribeTasks", body: JSON.stringify({ cluster, tasks: pick(everything, 100, k + 201) }) }));
    const largeRows: Array<Record<string, string | number>> = [];
    const largeResults: Record<string, { server: WrkResult; echo: WrkResult; ratio: number }> = {};
    for (const [name, reqs] of [
      ["DescribeTasks 1 ARN", one],
      ["DescribeTasks 100 ARNs", hundred],
      ["ListTasks", list],
    ] as const) {
      const c = 16;
      const echoScriptLarge = await scriptOf(`echo-${largeRows.length}`, echo.url, reqs);
      const largeScript = await scriptOf(`large-${largeRows.length}`, large.url, reqs);
      // A fresh process: one unmeasured second first (JIT, and each task's first read from SQLite), as the
      // 1,000-task rows above come after the seeding warmed that server.
      await runWrk(echo.url, echoScriptLarge, c, 1);
      await runWrk(large.url, largeScript, c, 1);
      const e = await runWrk(echo.url, echoScriptLarge, c, DURATION);
      const s = await runWrk(large.url, largeScript, c, DURATION);
      const r = ratio(s.requestsPerSec, e.requestsPerSec);
      largeResults[`${name}.c${c}`] = { server: s, echo: e, ratio: r };
      largeRows.push({
        operation: name,
        conns: c,
        "req/s": round(s.requestsPerSec, 0),
        "echo req/s": round(e.requestsPerSec, 0),
        "vs echo": r,
        "p50 ms": s.p50,
        "p99 ms": s.p99,
        "echo p99 ms": e.p99,
        errors: s.non2xx + s.socketErrors,
        targets: [r >= TARGET_RATIO ? "ratio met" : "ratio MISSED", s.p99 < TARGET_P99_MS ? "p99 met" : "p99 MISSED"].join(", "),
      });
    }
    printTable(`${LARGE_STORE.toLocaleString("en")} tasks in the store, wrk ${DURATION}s at 16 connections; targets ≥ ${TARGET_RATIO}× echo req/s, p99 < ${TARGET_P99_MS} ms`, largeRows);
    note(
      `restart with ${LARGE_STORE} tasks → first answered ECS call (ListClusters): ${round(restartMs)} ms (target ≤ ${TARGET_RESTART_MS} ms: ${restartMs <= TARGET_RESTART_MS ? "met" : "MISSED"}), ` +
        `→ first answered DescribeTasks (waits for the tasks to be re-adopted): ${round(restartTasksMs)} ms; ` +
        `RSS 1 s after the restart ${round(rssLarge / 2 ** 20, 1)} MiB, after the wrk runs ${round(large.rssBytes() / 2 ** 20, 1)} MiB.`,
    );
    return {
      tasks: seeded.all.length,
      seedSeconds: round(seedSeconds, 1),
      rssIdleBytes: idleRss,
      rss1000Bytes: rss1000,
      rssAfterWrkBytes: rssAfter,
      results,
      large: { tasks: LARGE_STORE, restartMs: round(restartMs), restartTasksMs: round(restartTasksMs), targetRestartMs: TARGET_RESTART_MS, rssBytes: rssLarge, results: largeResults },
    };
  } finally {
    await large?.stop();
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
