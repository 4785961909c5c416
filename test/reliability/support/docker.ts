import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";

const exec = promisify(execFile);

export const IMAGE = "local-ecs-api-test/busybox:latest";
/** Exits 0 at once on SIGTERM (busybox sh as PID 1 ignores TERM unless it traps it). */
export const TRAPPING_SLEEP = ["sh", "-c", "trap 'exit 0' TERM; sleep 600 & wait"];

export function uniqueCluster(prefix: string): string {
  return `lecs-rel-${prefix}-${randomBytes(4).toString("hex")}`;
}

export async function docker(...args: string[]): Promise<string> {
  const { stdout } = await exec("docker", args);
  return stdout.trim();
}

/** Container ids of one task, from the agent label every task container carries. */
export async function containersOfTask(taskArn: string): Promise<string[]> {
  const out = await docker("ps", "-aq", "--no-trunc", "--filter", `label=com.amazonaws.ecs.task-arn=${taskArn}`);
  return out.split("\n").filter((s) => s !== "");
}

/** Removes every container and network of our cluster (only ours: the label carries the unique name). */
export async function removeCluster(cluster: string): Promise<void> {
  const label = `label=com.amazonaws.ecs.cluster=${cluster}`;
  const ids = (await docker("ps", "-aq", "--filter", label)).split("\n").filter((s) => s !== "");
  if (ids.length > 0) await docker("rm", "-f", ...ids).catch(() => "");
  const nets = (await docker("network", "ls", "-q", "--filter", label)).split("\n").filter((s) => s !== "");
  if (nets.length > 0) await docker("network", "rm", ...nets).catch(() => "");
}

export { eventually } from "../../support/eventually.ts";
