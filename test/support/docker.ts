import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

export const TEST_IMAGE = "local-ecs-api-test/busybox:latest";

export async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run("docker", args, { maxBuffer: 16 * 1024 * 1024 });
  return stdout.trim();
}

/** Removes every container (and task network) a test's cluster left behind. */
export async function removeClusterContainers(clusterName: string): Promise<void> {
  const ids = (await docker("ps", "-aq", "--filter", `label=com.amazonaws.ecs.cluster=${clusterName}`)).split("\n").filter(Boolean);
  if (ids.length > 0) await docker("rm", "-f", "-v", ...ids).catch(() => "");
}

/** Removes the task networks a test's cluster left behind (the engine keeps spares warm per cluster). */
export async function removeClusterNetworks(clusterName: string): Promise<void> {
  const ids = (await docker("network", "ls", "-q", "--filter", `label=com.amazonaws.ecs.cluster=${clusterName}`)).split("\n").filter(Boolean);
  if (ids.length > 0) await docker("network", "rm", ...ids).catch(() => "");
}

/** Container id of one task container, found by its ECS labels. */
export async function taskContainerId(taskArn: string, containerName: string): Promise<string> {
  return docker("ps", "-aq", "--filter", `label=com.amazonaws.ecs.task-arn=${taskArn}`, "--filter", `label=com.amazonaws.ecs.container-name=${containerName}`);
}

export async function containerLogs(id: string): Promise<string> {
  const { stdout, stderr } = await run("docker", ["logs", id]);
  return stdout + stderr;
}
