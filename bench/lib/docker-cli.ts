import { execFile } from "node:child_process";
import { promisify } from "node:util";

const exec = promisify(execFile);

/** The label on every container the baselines start, so cleanup removes exactly those. */
export function baselineLabel(runId: string): string {
  return `local-ecs-api.bench-baseline=${runId}`;
}

/** `docker run -d` through the CLI: the floor RunTask is compared with. Returns elapsed ms. */
export async function timedDockerRun(runId: string, command: string[], extra: string[] = []): Promise<number> {
  const started = performance.now();
  await exec("docker", ["run", "-d", "--label", baselineLabel(runId), "--memory", "32m", ...extra, "local-ecs-api-test/busybox:latest", ...command]);
  return performance.now() - started;
}

export async function removeBaselineContainers(runId: string): Promise<void> {
  const { stdout } = await exec("docker", ["ps", "-aq", "--filter", `label=${baselineLabel(runId)}`]);
  const ids = stdout.split("\n").filter((s) => s !== "");
  if (ids.length > 0) await exec("docker", ["rm", "-f", ...ids]).catch(() => {});
}

/** A user-defined bridge network for the baselines (what a bridge task gets: its own network). */
export async function createBaselineNetwork(runId: string): Promise<string> {
  const name = `lecs-bench-baseline-${runId}`;
  await exec("docker", ["network", "create", "--label", baselineLabel(runId), name]);
  return name;
}

export async function removeBaselineNetworks(runId: string): Promise<void> {
  const { stdout } = await exec("docker", ["network", "ls", "-q", "--filter", `label=${baselineLabel(runId)}`]);
  const ids = stdout.split("\n").filter((s) => s !== "");
  if (ids.length > 0) await exec("docker", ["network", "rm", ...ids]).catch(() => {});
}
