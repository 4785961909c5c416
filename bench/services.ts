// Benchmark 8: CreateService of a 3-task service → steady state, against 3 `docker run -d` started at once,
// measured alternately in the same run. Run alone: node bench/services.ts
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { baselineLabel, removeBaselineContainers, timedDockerRun } from "./lib/docker-cli.ts";
import { ecsCall } from "./lib/ecs-call.ts";
import { emitResult, note, printTable, progress } from "./lib/report.ts";
import { removeDir, spawnServer } from "./lib/server-process.ts";
import { ratio, summarize, type Summary } from "./lib/stats.ts";
import { createCluster, registerTaskDefinition, removeClusterResources, TRAPPING_SLEEP, uniqueClusterName } from "./lib/tasks.ts";

const exec = promisify(execFile);
const SAMPLES = Number(process.env["BENCH_SERVICE_SAMPLES"] ?? 5);
const TASKS = 3;

interface ServiceView {
  status: string;
  runningCount: number;
  deployments: Array<{ rolloutState?: string }>;
}

interface Scenario {
  name: string;
  family: string;
  networkMode: string;
  dockerArgs: string[];
}

const SCENARIOS: Scenario[] = [
  // Each bridge task runs on its own user-defined network; the baseline's containers share one such network.
  { name: "3 tasks, bridge (ECS default)", family: "bench-svc-bridge", networkMode: "bridge", dockerArgs: ["--network", "BASELINE_NET"] },
  { name: "3 tasks, host network", family: "bench-svc-host", networkMode: "host", dockerArgs: ["--network", "host"] },
];

interface ScenarioResult {
  scenario: string;
  running: Summary;
  steady: Summary;
  docker: Summary;
  runningRatio: number;
  steadyRatio: number;
}

async function describeService(url: string, cluster: string, name: string): Promise<ServiceView> {
  const r = await ecsCall<{ services: ServiceView[] }>(url, "DescribeServices", { cluster, services: [name] });
  return r.services[0]!;
}

export async function servicesBenchmark(): Promise<Record<string, unknown>> {
  const runId = randomBytes(4).toString("hex");
  const cluster = uniqueClusterName("lecs-bench-svc");
  const server = await spawnServer({ env: { CONTAINER_CLEANUP_DELAY: "1s" } });
  const results: ScenarioResult[] = [];
  const baselineNet = `lecs-bench-svc-net-${runId}`;
  let n = 0;
  try {
    await exec("docker", ["network", "create", "--label", baselineLabel(runId), baselineNet]);
    await createCluster(server.url, cluster);
    for (const s of SCENARIOS) await registerTaskDefinition(server.url, s.family, [{ name: "app", command: TRAPPING_SLEEP }], s.networkMode);

    /** ms to runningCount 3 (what `wait services-stable` sees) and to the deployment COMPLETED (the steady-state event). */
    const serviceSample = async (s: Scenario): Promise<{ running: number; steady: number }> => {
      const name = `svc-${n++}`;
      const started = performance.now();
      await ecsCall(server.url, "CreateService", { cluster, serviceName: name, taskDefinition: s.family, desiredCount: TASKS });
      let running = Number.NaN;
      const deadline = started + 120_000;
      for (;;) {
        const view = await describeService(server.url, cluster, name);
        const now = performance.now();
        if (Number.isNaN(running) && view.runningCount === TASKS && view.deployments.length === 1) running = now - started;
        if (view.deployments.length === 1 && view.deployments[0]?.rolloutState === "COMPLETED" && view.runningCount === TASKS) {
          await ecsCall(server.url, "DeleteService", { cluster, service: name, force: true });
          await waitInactive(server.url, cluster, name);
          return { running, steady: now - started };
        }
        if (now > deadline) throw new Error(`service ${name} not steady after 120 s: ${JSON.stringify(view)}`);
      }
    };
    const dockerSample = async (s: Scenario): Promise<number> => {
      const started = performance.now();
      const args = s.dockerArgs.map((a) => (a === "BASELINE_NET" ? baselineNet : a));
      await Promise.all(Array.from({ length: TASKS }, () => timedDockerRun(runId, TRAPPING_SLEEP, args)));
      const ms = performance.now() - started;
      await removeBaselineContainers(runId);
      return ms;
    };

    for (const s of SCENARIOS) {
      progress(`${s.name}: warm-up + ${SAMPLES} samples each`);
      await serviceSample(s);
      await dockerSample(s);
      const running: number[] = [];
      const steady: number[] = [];
      const docker: number[] = [];
      for (let i = 0; i < SAMPLES; i++) {
        const r = await serviceSample(s);
        running.push(r.running);
        steady.push(r.steady);
        docker.push(await dockerSample(s));
      }
      const d = summarize(docker);
      const rs = summarize(running);
      const st = summarize(steady);
      results.push({ scenario: s.name, running: rs, steady: st, docker: d, runningRatio: ratio(rs.median, d.median), steadyRatio: ratio(st.median, d.median) });
    }
  } finally {
    await server.stop();
    await removeClusterResources(cluster);
    await removeBaselineContainers(runId);
    await exec("docker", ["network", "rm", baselineNet]).catch(() => {});
    removeDir(server.dataDir);
  }
  printTable(
    `CreateService (${TASKS} tasks) → steady state vs ${TASKS} × docker run -d at once (CLI), ${SAMPLES} samples, medians`,
    results.map((r) => ({
      scenario: r.scenario,
      "runningCount 3 ms": r.running.median,
      "steady state ms": r.steady.median,
      "steady p95 ms": r.steady.p95,
      "docker ms": r.docker.median,
      "running ×": r.runningRatio,
      "steady ×": r.steadyRatio,
    })),
  );
  note("runningCount 3 = what `aws ecs wait services-stable` checks (one deployment, runningCount = desiredCount); steady state = the deployment COMPLETED.");
  note(`docker side: ${TASKS} \`docker run -d\` launched together through the CLI (bridge row: on one user-defined network), CLI start-up included.`);
  return { samples: SAMPLES, tasks: TASKS, results };
}

async function waitInactive(url: string, cluster: string, name: string): Promise<void> {
  const deadline = performance.now() + 60_000;
  for (;;) {
    const view = await describeService(url, cluster, name);
    const { taskArns } = await ecsCall<{ taskArns: string[] }>(url, "ListTasks", { cluster, serviceName: name });
    if (view.status === "INACTIVE" && taskArns.length === 0) return;
    if (performance.now() > deadline) throw new Error(`service ${name} not INACTIVE after 60 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

if (import.meta.main) {
  emitResult("services", await servicesBenchmark());
}
