// Benchmark 1: RunTask → RUNNING (as DescribeTasks reports it) against `docker run -d` of the same
// containers through the CLI, measured alternately in the same run. Run alone: node bench/run-task.ts
import { randomBytes } from "node:crypto";
import { removeBaselineContainers, timedDockerRun } from "./lib/docker-cli.ts";
import { emitResult, note, printTable, progress } from "./lib/report.ts";
import { removeDir, spawnServer } from "./lib/server-process.ts";
import { ratio, summarize, type Summary } from "./lib/stats.ts";
import {
  createCluster,
  registerTaskDefinition,
  removeClusterResources,
  runTask,
  stopTasks,
  TRAPPING_SLEEP,
  uniqueClusterName,
  waitForStatus,
  type ContainerSpec,
} from "./lib/tasks.ts";

const SAMPLES = Number(process.env["BENCH_RUNTASK_SAMPLES"] ?? 10);
const TARGET = 1.2;

interface Scenario {
  name: string;
  family: string;
  networkMode: string;
  containers: ContainerSpec[];
  /** docker run arguments of one baseline container, per container of the task. */
  dockerArgs: string[];
}

const SCENARIOS: Scenario[] = [
  {
    name: "1 container, bridge (ECS default)",
    family: "bench-rt-bridge",
    networkMode: "bridge",
    containers: [{ name: "app", command: TRAPPING_SLEEP }],
    dockerArgs: [],
  },
  {
    name: "1 container, host network",
    family: "bench-rt-host",
    networkMode: "host",
    containers: [{ name: "app", command: TRAPPING_SLEEP }],
    dockerArgs: ["--network", "host"],
  },
  {
    name: "3 containers, dependsOn START, bridge",
    family: "bench-rt-three",
    networkMode: "bridge",
    containers: [
      { name: "a", command: TRAPPING_SLEEP },
      { name: "b", command: TRAPPING_SLEEP, dependsOn: [{ containerName: "a", condition: "START" }] },
      { name: "c", command: TRAPPING_SLEEP, dependsOn: [{ containerName: "b", condition: "START" }] },
    ],
    dockerArgs: [],
  },
];

interface ScenarioResult {
  scenario: string;
  task: Summary;
  docker: Summary;
  medianRatio: number;
  p95Ratio: number;
  met: boolean;
}

export async function runTaskBenchmark(): Promise<Record<string, unknown>> {
  const runId = randomBytes(4).toString("hex");
  const cluster = uniqueClusterName("lecs-bench-rt");
  // Quick cleanup keeps the per-task bridge networks from piling up while we sample.
  const server = await spawnServer({ env: { CONTAINER_CLEANUP_DELAY: "1s" } });
  const results: ScenarioResult[] = [];
  try {
    await createCluster(server.url, cluster);
    for (const s of SCENARIOS) await registerTaskDefinition(server.url, s.family, s.containers, s.networkMode);

    const taskSample = async (s: Scenario): Promise<number> => {
      const started = performance.now();
      const [arn] = await runTask(server.url, cluster, s.family);
      const seen = await waitForStatus(server.url, cluster, [arn!], "RUNNING", started);
      const ms = seen.get(arn!)!;
      await stopTasks(server.url, cluster, [arn!]);
      await waitForStatus(server.url, cluster, [arn!], "STOPPED", performance.now());
      return ms;
    };
    const dockerSample = async (s: Scenario): Promise<number> => {
      let total = 0;
      // Sequential, like the agent starting dependsOn START containers one after another.
      for (const _ of s.containers) total += await timedDockerRun(runId, TRAPPING_SLEEP, s.dockerArgs);
      await removeBaselineContainers(runId);
      return total;
    };

    for (const s of SCENARIOS) {
      progress(`${s.name}: warm-up + ${SAMPLES} samples each`);
      await taskSample(s);
      await dockerSample(s);
      const task: number[] = [];
      const docker: number[] = [];
      // Alternate, so drift in machine load hits both sides alike.
      for (let i = 0; i < SAMPLES; i++) {
        task.push(await taskSample(s));
        docker.push(await dockerSample(s));
      }
      const t = summarize(task);
      const d = summarize(docker);
      const medianRatio = ratio(t.median, d.median);
      results.push({ scenario: s.name, task: t, docker: d, medianRatio, p95Ratio: ratio(t.p95, d.p95), met: medianRatio <= TARGET });
    }
  } finally {
    await server.stop();
    await removeClusterResources(cluster);
    await removeBaselineContainers(runId);
    removeDir(server.dataDir);
  }
  printTable(
    `RunTask → RUNNING vs docker run -d (CLI), ${SAMPLES} samples, target ≤ ${TARGET}× (median)`,
    results.map((r) => ({
      scenario: r.scenario,
      "task median ms": r.task.median,
      "task p95 ms": r.task.p95,
      "docker median ms": r.docker.median,
      "docker p95 ms": r.docker.p95,
      "median ×": r.medianRatio,
      "p95 ×": r.p95Ratio,
      target: r.met ? "met" : "MISSED",
    })),
  );
  note("docker side: `docker run -d` (sequential for the 3-container row), CLI start-up included, as a user would type it.");
  return { samples: SAMPLES, target: TARGET, results };
}

if (import.meta.main) {
  emitResult("run-task", await runTaskBenchmark());
}
