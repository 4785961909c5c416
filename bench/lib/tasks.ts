import { randomBytes } from "node:crypto";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { ecsCall } from "./ecs-call.ts";

const exec = promisify(execFile);

export const IMAGE = "local-ecs-api-test/busybox:latest";
/** busybox sh as PID 1 ignores SIGTERM unless it traps it; this one exits at once on StopTask. */
export const TRAPPING_SLEEP = ["sh", "-c", "trap 'exit 0' TERM; sleep 600 & wait"];

export interface Task {
  taskArn: string;
  lastStatus: string;
  stopCode?: string;
  containers?: Array<{ name: string; exitCode?: number; reason?: string; lastStatus?: string }>;
}

/** A cluster name unique to this run: every container we start carries it as a label, so cleanup never touches others'. */
export function uniqueClusterName(prefix = "lecs-bench"): string {
  return `${prefix}-${process.pid}-${randomBytes(3).toString("hex")}`;
}

export async function createCluster(url: string, name: string): Promise<void> {
  await ecsCall(url, "CreateCluster", { clusterName: name });
}

export interface ContainerSpec {
  name: string;
  command: string[];
  image?: string;
  dependsOn?: Array<{ containerName: string; condition: string }>;
  essential?: boolean;
}

export async function registerTaskDefinition(url: string, family: string, containers: ContainerSpec[], networkMode = "host"): Promise<void> {
  await ecsCall(url, "RegisterTaskDefinition", {
    family,
    networkMode,
    containerDefinitions: containers.map((c) => ({
      name: c.name,
      image: c.image ?? IMAGE,
      memory: 32,
      essential: c.essential ?? true,
      command: c.command,
      ...(c.dependsOn === undefined ? {} : { dependsOn: c.dependsOn }),
    })),
  });
}

export async function runTask(url: string, cluster: string, family: string, count = 1): Promise<string[]> {
  const r = await ecsCall<{ tasks: Task[]; failures: unknown[] }>(url, "RunTask", { cluster, taskDefinition: family, count });
  if (r.failures.length > 0) throw new Error(`RunTask failures: ${JSON.stringify(r.failures)}`);
  return r.tasks.map((t) => t.taskArn);
}

export async function describeTasks(url: string, cluster: string, arns: readonly string[]): Promise<Task[]> {
  const out: Task[] = [];
  for (let i = 0; i < arns.length; i += 100) {
    const r = await ecsCall<{ tasks: Task[] }>(url, "DescribeTasks", { cluster, tasks: arns.slice(i, i + 100) });
    out.push(...r.tasks);
  }
  return out;
}

/**
 * Polls DescribeTasks without pausing (it reads memory) until every task reached `status` (or STOPPED,
 * which ends a wait for RUNNING as a failure). Returns, per task, the ms from `since` at which it was
 * first seen there.
 */
export async function waitForStatus(
  url: string,
  cluster: string,
  arns: readonly string[],
  status: "RUNNING" | "STOPPED",
  since: number,
  timeoutMs = 120_000,
): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  const deadline = performance.now() + timeoutMs;
  while (seen.size < arns.length) {
    if (performance.now() > deadline) throw new Error(`timed out: ${seen.size}/${arns.length} tasks ${status}`);
    const pending = arns.filter((a) => !seen.has(a));
    const tasks = await describeTasks(url, cluster, pending);
    const now = performance.now();
    for (const t of tasks) {
      if (t.lastStatus === status) seen.set(t.taskArn, now - since);
      else if (status === "RUNNING" && t.lastStatus === "STOPPED") {
        throw new Error(`task stopped before RUNNING: ${JSON.stringify({ stopCode: t.stopCode, containers: t.containers })}`);
      }
    }
  }
  return seen;
}

export async function stopTasks(url: string, cluster: string, arns: readonly string[]): Promise<void> {
  await Promise.all(arns.map((task) => ecsCall(url, "StopTask", { cluster, task, reason: "benchmark done" })));
}

/** Removes every container and network labelled with our cluster (containers first: networks need them gone). */
export async function removeClusterResources(cluster: string): Promise<void> {
  const label = `label=com.amazonaws.ecs.cluster=${cluster}`;
  const { stdout: ids } = await exec("docker", ["ps", "-aq", "--filter", label]);
  const containers = ids.split("\n").filter((s) => s !== "");
  for (let i = 0; i < containers.length; i += 100) await exec("docker", ["rm", "-f", ...containers.slice(i, i + 100)]).catch(() => {});
  const { stdout: nets } = await exec("docker", ["network", "ls", "-q", "--filter", label]);
  const networks = nets.split("\n").filter((s) => s !== "");
  if (networks.length > 0) await exec("docker", ["network", "rm", ...networks]).catch(() => {});
}
