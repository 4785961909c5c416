import { mapLimit } from "./concurrency.ts";
import { createCluster, registerTaskDefinition, runTask, TRAPPING_SLEEP, waitForStatus } from "./tasks.ts";

export interface SeededTasks {
  running: string[];
  exited: string[];
  failed: string[];
  all: string[];
  family: { running: string; exited: string; failed: string };
}

export interface SeedPlan {
  running: number;
  exited: number;
  /** Tasks whose image cannot be pulled (a closed loopback port): STOPPED with TaskFailedToStart, no container. */
  failed: number;
}

/**
 * Fills a cluster with tasks through the API: long-running ones, ones that ran and exited, and ones that
 * failed to start. All three are real task documents in the store; only the first two cost a container
 * (a container costs ~0.1-0.3 s of Docker time here, so 950 real exits would take minutes).
 */
export const DEFAULT_SEED: SeedPlan = { running: 50, exited: 100, failed: 850 };

export async function seedTasks(url: string, cluster: string, plan: SeedPlan = DEFAULT_SEED): Promise<SeededTasks> {
  await createCluster(url, cluster);
  const family = { running: "bench-store-running", exited: "bench-store-exited", failed: "bench-store-failed" };
  await registerTaskDefinition(url, family.running, [{ name: "app", command: TRAPPING_SLEEP }], "host");
  await registerTaskDefinition(url, family.exited, [{ name: "app", command: ["sh", "-c", "exit 3"] }], "host");
  await registerTaskDefinition(url, family.failed, [{ name: "app", command: ["true"], image: "127.0.0.1:9/lecs-bench/unpullable:latest" }], "host");
  const launch = async (fam: string, n: number): Promise<string[]> => {
    const calls = Array.from({ length: Math.ceil(n / 10) }, (_, i) => Math.min(10, n - i * 10));
    return (await mapLimit(calls, 5, (count) => runTask(url, cluster, fam, count))).flat();
  };
  const running = await launch(family.running, plan.running);
  const exited = await launch(family.exited, plan.exited);
  const failed = await launch(family.failed, plan.failed);
  const t = performance.now();
  await waitForStatus(url, cluster, running, "RUNNING", t, 180_000);
  await waitForStatus(url, cluster, [...exited, ...failed], "STOPPED", t, 180_000);
  return { running, exited, failed, all: [...running, ...exited, ...failed], family };
}
