// Benchmark 1: RunTask → RUNNING (as DescribeTasks reports it) against `docker run -d` of the same
// containers through the CLI, measured alternately in the same run. Run alone: node bench/run-task.ts
//
// Two floors per bridge row: `docker run -d` on Docker's default bridge, and `docker run -d --network
// <user-defined network>`, which is what a bridge task is (a network of its own, so its containers resolve
// each other by name); the target is against the second. The host row's floor is `--network host`.
import { randomBytes } from "node:crypto";
import { createBaselineNetwork, removeBaselineContainers, removeBaselineNetworks, timedDockerRun } from "./lib/docker-cli.ts";
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
/** Targets (issue 12) against the floor of the same network kind. */
const TARGET_BRIDGE = 1.1;
const TARGET_HOST = 1.05;
/** Stands for the pre-created user-defined network in `dockerArgs`. */
const USER_NETWORK = "<user-network>";

interface Scenario {
  name: string;
  family: string;
  networkMode: string;
  containers: ContainerSpec[];
  /** docker run arguments of one baseline container, per container of the task: the floor of the target. */
  dockerArgs: string[];
  /** Another floor reported beside it (Docker's default bridge for the bridge rows). */
  otherDockerArgs?: string[];
  target: number;
}

const SCENARIOS: Scenario[] = [
  {
    name: "1 container, bridge (ECS default)",
    family: "bench-rt-bridge",
    networkMode: "bridge",
    containers: [{ name: "app", command: TRAPPING_SLEEP }],
    dockerArgs: ["--network", USER_NETWORK],
    otherDockerArgs: [],
    target: TARGET_BRIDGE,
  },
  {
    name: "1 container, host network",
    family: "bench-rt-host",
    networkMode: "host",
    containers: [{ name: "app", command: TRAPPING_SLEEP }],
    dockerArgs: ["--network", "host"],
    target: TARGET_HOST,
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
    dockerArgs: ["--network", USER_NETWORK],
    otherDockerArgs: [],
    target: TARGET_BRIDGE,
  },
];

interface ScenarioResult {
  scenario: string;
  /** The floor the target is against, as typed. */
  floor: string;
  task: Summary;
  docker: Summary;
  medianRatio: number;
  p95Ratio: number;
  target: number;
  met: boolean;
  /** The other floor (default bridge), when there is one; an error text if Docker could not run it. */
  other?: { floor: string; docker: Summary; medianRatio: number } | { floor: string; error: string };
}

export async function runTaskBenchmark(): Promise<Record<string, unknown>> {
  const runId = randomBytes(4).toString("hex");
  const cluster = uniqueClusterName("lecs-bench-rt");
  // Quick cleanup keeps the per-task bridge networks from piling up while we sample.
  const server = await spawnServer({ env: { CONTAINER_CLEANUP_DELAY: "1s" } });
  const results: ScenarioResult[] = [];
  try {
    const network = await createBaselineNetwork(runId);
    const args = (a: string[]): string[] => a.map((x) => (x === USER_NETWORK ? network : x));
    const typed = (a: string[]): string => ["docker run -d", ...a.map((x) => (x === USER_NETWORK ? "<user-defined network>" : x))].join(" ");
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
    const dockerSample = async (s: Scenario, dockerArgs: string[]): Promise<number> => {
      let total = 0;
      try {
        // Sequential, like the agent starting dependsOn START containers one after another.
        for (const _ of s.containers) total += await timedDockerRun(runId, TRAPPING_SLEEP, args(dockerArgs));
      } finally {
        await removeBaselineContainers(runId);
      }
      return total;
    };

    for (const s of SCENARIOS) {
      progress(`${s.name}: warm-up + ${SAMPLES} samples each`);
      await taskSample(s);
      await dockerSample(s, s.dockerArgs);
      // The default-bridge floor is informative only: if Docker cannot run it (e.g. no docker0), say so.
      let otherError: string | undefined;
      if (s.otherDockerArgs !== undefined) await dockerSample(s, s.otherDockerArgs).catch((err: Error & { stderr?: string }) => (otherError = (err.stderr ?? "").trim().split("\n").pop() || err.message));
      const task: number[] = [];
      const docker: number[] = [];
      const other: number[] = [];
      // Alternate, so drift in machine load hits every side alike.
      for (let i = 0; i < SAMPLES; i++) {
        task.push(await taskSample(s));
        docker.push(await dockerSample(s, s.dockerArgs));
        if (s.otherDockerArgs !== undefined && otherError === undefined) other.push(await dockerSample(s, s.otherDockerArgs));
      }
      const t = summarize(task);
      const d = summarize(docker);
      const medianRatio = ratio(t.median, d.median);
      const result: ScenarioResult = {
        scenario: s.name,
        floor: typed(s.dockerArgs),
        task: t,
        docker: d,
        medianRatio,
        p95Ratio: ratio(t.p95, d.p95),
        target: s.target,
        met: medianRatio <= s.target,
      };
      if (s.otherDockerArgs !== undefined) {
        const floor = typed(s.otherDockerArgs);
        if (otherError !== undefined) result.other = { floor, error: otherError };
        else {
          const o = summarize(other);
          result.other = { floor, docker: o, medianRatio: ratio(t.median, o.median) };
        }
      }
      results.push(result);
    }
  } finally {
    await server.stop();
    await removeClusterResources(cluster);
    await removeBaselineContainers(runId);
    await removeBaselineNetworks(runId);
    removeDir(server.dataDir);
  }
  printTable(
    `RunTask → RUNNING vs docker run -d (CLI), ${SAMPLES} samples, targets (median) ≤ ${TARGET_BRIDGE}× bridge / ≤ ${TARGET_HOST}× host against the same network kind`,
    results.flatMap((r) => [
      {
        scenario: r.scenario,
        floor: r.floor,
        "task median ms": r.task.median,
        "task p95 ms": r.task.p95,
        "floor median ms": r.docker.median,
        "floor p95 ms": r.docker.p95,
        "median ×": r.medianRatio,
        "p95 ×": r.p95Ratio,
        target: `≤ ${r.target}× ${r.met ? "met" : "MISSED"}`,
      },
      ...(r.other === undefined
        ? []
        : [
            "error" in r.other
              ? { scenario: "", floor: r.other.floor, target: `(not measured: ${r.other.error.slice(0, 100)})` }
              : { scenario: "", floor: r.other.floor, "floor median ms": r.other.docker.median, "floor p95 ms": r.other.docker.p95, "median ×": r.other.medianRatio, target: "(for reference)" },
          ]),
    ]),
  );
  note("floors: `docker run -d` (sequential for the 3-container row), CLI start-up included, as a user would type it; the user-defined network exists before the samples, as the emulator's task-network pool does.");
  return { samples: SAMPLES, targets: { bridge: TARGET_BRIDGE, host: TARGET_HOST }, results };
}

if (import.meta.main) {
  emitResult("run-task", await runTaskBenchmark());
}
