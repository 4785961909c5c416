// Benchmark 2: 10 parallel RunTask × count 10 = 100 tasks, time until all RUNNING, then StopTask on all
// and time until all STOPPED; against one task alone and against the Docker engine's own parallel
// create+start rate in the same run. Run alone: node bench/burst.ts
import Docker from "dockerode";
import { randomBytes } from "node:crypto";
import { cpuMeter, CPUS, machineBusyMeter, pidsOf } from "./lib/cpu.ts";
import { removeBaselineContainers } from "./lib/docker-cli.ts";
import { emitResult, note, printTable, progress } from "./lib/report.ts";
import { removeDir, spawnServer } from "./lib/server-process.ts";
import { round, summarize } from "./lib/stats.ts";
import {
  createCluster,
  IMAGE,
  registerTaskDefinition,
  removeClusterResources,
  runTask,
  stopTasks,
  TRAPPING_SLEEP,
  uniqueClusterName,
  waitForStatus,
} from "./lib/tasks.ts";

const CALLS = 10;
const COUNT = 10;
const TOTAL = CALLS * COUNT;
const PROBE = Number(process.env["BENCH_DOCKER_PROBE"] ?? 20);
const FAMILY = "bench-burst";

/**
 * The Docker engine's effective parallelism on this machine: `n` containers created and started at
 * once through the API, against one alone. P = n × single / wall (1 = Docker serialises everything).
 */
async function dockerProbe(runId: string, n: number): Promise<{ singleMs: number; wallMs: number; parallelism: number; startPerSec: number; stopPerSec: number }> {
  const docker = new Docker({ socketPath: "/var/run/docker.sock" });
  const labels = { "local-ecs-api.bench-baseline": runId };
  const one = async (): Promise<Docker.Container> => {
    const c = await docker.createContainer({ Image: IMAGE, Cmd: TRAPPING_SLEEP, Labels: labels, HostConfig: { NetworkMode: "host", Memory: 32 * 1024 * 1024 } });
    await c.start();
    return c;
  };
  const singles: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    const c = await one();
    singles.push(performance.now() - t);
    await c.remove({ force: true });
  }
  const singleMs = summarize(singles).median;
  const t0 = performance.now();
  const all = await Promise.all(Array.from({ length: n }, one));
  const wallMs = performance.now() - t0;
  const t1 = performance.now();
  await Promise.all(all.map((c) => c.stop({ t: 10 })));
  const stopMs = performance.now() - t1;
  await Promise.all(all.map((c) => c.remove({ force: true })));
  return { singleMs, wallMs, parallelism: (n * singleMs) / wallMs, startPerSec: n / (wallMs / 1000), stopPerSec: n / (stopMs / 1000) };
}

export async function burstBenchmark(): Promise<Record<string, unknown>> {
  const runId = randomBytes(4).toString("hex");
  const cluster = uniqueClusterName("lecs-bench-burst");
  const server = await spawnServer({ env: { CONTAINER_CLEANUP_DELAY: "5m" } });
  try {
    await createCluster(server.url, cluster);
    // Host networking: a bridge task gets its own Docker network, and Docker's default address pools
    // hold about 30 of them, so 100 bridge tasks would measure pool exhaustion (see README).
    await registerTaskDefinition(server.url, FAMILY, [{ name: "app", command: TRAPPING_SLEEP }], "host");

    progress("single task, 3 samples");
    const singles: number[] = [];
    for (let i = 0; i < 4; i++) {
      const started = performance.now();
      const [arn] = await runTask(server.url, cluster, FAMILY);
      const ms = (await waitForStatus(server.url, cluster, [arn!], "RUNNING", started)).get(arn!)!;
      if (i > 0) singles.push(ms); // the first is a warm-up
      await stopTasks(server.url, cluster, [arn!]);
      await waitForStatus(server.url, cluster, [arn!], "STOPPED", performance.now());
    }
    const singleMs = summarize(singles).median;

    progress(`Docker engine probe: ${PROBE} parallel create+start`);
    const probe = await dockerProbe(runId, PROBE);

    progress(`burst: ${CALLS} parallel RunTask × count ${COUNT}`);
    const meter = cpuMeter({ server: [server.pid], dockerd: pidsOf("dockerd"), containerd: pidsOf("containerd") });
    const busy = machineBusyMeter();
    const t0 = performance.now();
    const runTaskMs: number[] = [];
    const arns = (
      await Promise.all(
        Array.from({ length: CALLS }, async () => {
          const t = performance.now();
          const a = await runTask(server.url, cluster, FAMILY, COUNT);
          runTaskMs.push(performance.now() - t);
          return a;
        }),
      )
    ).flat();
    const running = await waitForStatus(server.url, cluster, arns, "RUNNING", t0, 180_000);
    const allRunningMs = Math.max(...running.values());
    const cpuStart = meter.read();
    const busyStart = busy.read();

    progress("StopTask on all 100");
    const stopMeter = cpuMeter({ server: [server.pid], dockerd: pidsOf("dockerd"), containerd: pidsOf("containerd") });
    const stopBusy = machineBusyMeter();
    const t1 = performance.now();
    await stopTasks(server.url, cluster, arns);
    const stopped = await waitForStatus(server.url, cluster, arns, "STOPPED", t1, 120_000);
    const allStoppedMs = Math.max(...stopped.values());
    const cpuStop = stopMeter.read();
    const busyStop = stopBusy.read();

    const parallelism = Math.max(1, probe.parallelism);
    const budgetMs = 3 * singleMs * Math.ceil(TOTAL / parallelism);
    const perTask = summarize([...running.values()]);
    const startRate = TOTAL / (allRunningMs / 1000);
    const stopRate = TOTAL / (allStoppedMs / 1000);
    printTable(`Burst: ${CALLS} parallel RunTask × count ${COUNT} = ${TOTAL} tasks (host network), ${CPUS} CPUs`, [
      { figure: "single task RunTask → RUNNING (median of 3)", value: round(singleMs), unit: "ms" },
      { figure: `Docker probe: 1 container create+start / ${PROBE} at once`, value: `${round(probe.singleMs)} / ${round(probe.wallMs)}`, unit: "ms" },
      { figure: "Docker effective parallelism P", value: round(parallelism), unit: "×" },
      { figure: "RunTask API calls (10 × count 10) median", value: round(summarize(runTaskMs).median), unit: "ms" },
      { figure: "all 100 RUNNING", value: round(allRunningMs), unit: "ms" },
      { figure: "per-task RUNNING latency in the burst p50 / p95", value: `${round(perTask.median)} / ${round(perTask.p95)}`, unit: "ms" },
      { figure: `target: 3 × single × ceil(100 / P)`, value: round(budgetMs), unit: "ms" },
      { figure: "start rate (vs Docker probe rate)", value: `${round(startRate, 1)} (${round(probe.startPerSec, 1)})`, unit: "tasks/s" },
      { figure: "all 100 STOPPED after StopTask", value: round(allStoppedMs), unit: "ms" },
      { figure: "stop rate (vs Docker probe rate)", value: `${round(stopRate, 1)} (${round(probe.stopPerSec, 1)})`, unit: "tasks/s" },
      { figure: "CPU s during start: server / dockerd / containerd", value: `${cpuStart["server"]} / ${cpuStart["dockerd"]} / ${cpuStart["containerd"]}`, unit: `of ${round((allRunningMs / 1000) * CPUS, 1)} available` },
      { figure: "CPU s during stop: server / dockerd / containerd", value: `${cpuStop["server"]} / ${cpuStop["dockerd"]} / ${cpuStop["containerd"]}`, unit: `of ${round((allStoppedMs / 1000) * CPUS, 1)} available` },
      { figure: "whole machine CPU busy during start / stop", value: `${round(busyStart * 100, 0)} / ${round(busyStop * 100, 0)}`, unit: "% (shims, runc, kernel included)" },
    ]);
    const met = allRunningMs <= budgetMs;
    note(`target ${met ? "met" : "MISSED"}: all RUNNING in ${round(allRunningMs)} ms vs budget ${round(budgetMs)} ms (${round(allRunningMs / budgetMs)}× the budget); start rate is ${round(startRate / probe.startPerSec)}× the Docker engine's own.`);
    return {
      tasks: TOTAL,
      cpus: CPUS,
      singleMs: round(singleMs),
      dockerProbe: { ...probe, parallelism: round(probe.parallelism) },
      allRunningMs: round(allRunningMs),
      perTaskRunning: perTask,
      budgetMs: round(budgetMs),
      met,
      startTasksPerSec: round(startRate, 1),
      startRateVsDocker: round(startRate / probe.startPerSec),
      allStoppedMs: round(allStoppedMs),
      stopTasksPerSec: round(stopRate, 1),
      stopRateVsDocker: round(stopRate / probe.stopPerSec),
      cpuSecondsStart: cpuStart,
      cpuSecondsStop: cpuStop,
      machineBusyStart: round(busyStart),
      machineBusyStop: round(busyStop),
    };
  } finally {
    await server.stop();
    await removeClusterResources(cluster);
    await removeBaselineContainers(runId);
    removeDir(server.dataDir);
  }
}

if (import.meta.main) {
  emitResult("burst", await burstBenchmark());
}
