// Task networks must not pile up when servers die: servers killed (SIGKILL) or stopped with too short a
// grace (SIGTERM, then SIGKILL) in a loop, each with a fresh owner (DATA_DIR=:memory:, as test suites run
// them), leave idle pool networks that the next server reclaims, so the count stays bounded. A full
// TASK_SUBNET_POOL reclaims before failing, and a RunTask that still gets no network fails the task with
// a reason naming TASK_SUBNET_POOL. Real child servers, real Docker.
import { afterAll, describe, expect, it } from "vitest";
import { removeDataDir, startChildServer, tempDataDir, type ChildServer } from "./support/child-server.ts";
import { docker, eventually, IMAGE, removeCluster, TRAPPING_SLEEP, uniqueCluster } from "./support/docker.ts";

const POOL_LABEL = "local-ecs-api.task-network-pool";

/** Pool networks of a cluster, with the number of containers on each. */
async function poolNetworks(cluster: string): Promise<Array<{ name: string; containers: number }>> {
  const names = (await docker("network", "ls", "--format", "{{.Name}}", "--filter", `label=${POOL_LABEL}`, "--filter", `label=com.amazonaws.ecs.cluster=${cluster}`))
    .split("\n")
    .filter((s) => s !== "");
  const out: Array<{ name: string; containers: number }> = [];
  for (const name of names) {
    const n = await docker("network", "inspect", "--format", "{{len .Containers}}", name).catch(() => undefined);
    if (n !== undefined) out.push({ name, containers: Number(n) });
  }
  return out;
}

const taskNetworkCount = async (): Promise<number> => (await docker("network", "ls", "--format", "{{.Name}}")).split("\n").filter((n) => n.startsWith("ecs-task-net-")).length;

async function call(server: ChildServer, op: string, body: unknown): Promise<any> {
  const res = await server.call(op, body);
  if (res.status !== 200) throw new Error(`${op}: ${res.status} ${JSON.stringify(res.json)}`);
  return res.json;
}

async function taskStatus(server: ChildServer, cluster: string, arn: string, wanted: string): Promise<any> {
  return eventually(`${arn} ${wanted}`, async () => {
    const t = (await call(server, "DescribeTasks", { cluster, tasks: [arn] })).tasks[0];
    return t?.lastStatus === wanted ? t : undefined;
  }, 60_000, 200);
}

async function startServer(dataDir: string, cluster: string, env: Record<string, string> = {}): Promise<ChildServer> {
  const server = await startChildServer({ dataDir, env: { DATA_DIR: ":memory:", ...env } });
  await call(server, "CreateCluster", { clusterName: cluster });
  await call(server, "RegisterTaskDefinition", {
    family: cluster,
    networkMode: "bridge",
    containerDefinitions: [{ name: "app", image: IMAGE, memory: 32, command: TRAPPING_SLEEP }],
  });
  return server;
}

describe("task networks of dead servers", () => {
  const cluster = uniqueCluster("netleak");
  const dataDirs: string[] = [];
  let live: ChildServer | undefined;

  afterAll(async () => {
    await live?.stop();
    await removeCluster(cluster);
    for (const d of dataDirs) removeDataDir(d);
  });

  it("stay bounded while servers are killed (SIGKILL, and SIGTERM with a short grace) in a loop", { timeout: 300_000 }, async () => {
    const before = await taskNetworkCount();
    const counts: number[] = [];
    let reclaims = 0;
    for (let i = 0; i < 6; i++) {
      const dataDir = tempDataDir();
      dataDirs.push(dataDir);
      live = await startServer(dataDir, cluster);
      // What the servers killed before left is reclaimed by this one as it starts.
      // (Any server on this Docker daemon may be the one that reclaims them; this one does at start.)
      await eventually("the dead servers' networks to be reclaimed", async () => ((await poolNetworks(cluster)).length === 0 ? true : undefined), 30_000, 200);

      // One bridge task: its network, plus the spares made once it runs; stopped, all three are idle.
      const arn = (await call(live, "RunTask", { cluster, taskDefinition: cluster })).tasks[0].taskArn;
      await taskStatus(live, cluster, arn, "RUNNING");
      await eventually("the spares", async () => ((await poolNetworks(cluster)).length === 3 ? true : undefined), 30_000, 200);
      await call(live, "StopTask", { cluster, task: arn });
      await taskStatus(live, cluster, arn, "STOPPED");
      const idle = await poolNetworks(cluster);
      expect(idle.map((n) => n.containers)).toEqual([0, 0, 0]);
      counts.push(idle.length);
      if (live.log().includes('"event":"task-network.orphans-reclaimed"')) reclaims++;

      if (i % 2 === 0) {
        await live.kill("SIGKILL");
      } else {
        // A harness that gives a stopping server 50 ms: too short to remove its spares.
        const stopping = live.kill("SIGTERM");
        const timer = setTimeout(() => void live?.kill("SIGKILL"), 50);
        await stopping;
        clearTimeout(timer);
      }
      live = undefined;
    }
    // Without reclamation 6 dead servers would have left up to 18 idle networks of this cluster.
    expect((await poolNetworks(cluster)).length).toBeLessThanOrEqual(3);
    const last = tempDataDir();
    dataDirs.push(last);
    live = await startServer(last, cluster);
    await eventually("the last dead server's networks to be gone", async () => ((await poolNetworks(cluster)).length === 0 ? true : undefined), 30_000, 200);
    console.log(
      `ecs-task-net-* networks on this host: ${before} before, ${await taskNetworkCount()} after; ${counts.join("+")} made by the servers, ` +
        `${reclaims} of them logged a reclaim at start`,
    );
    await live.stop();
    live = undefined;
  });
});

describe("a full TASK_SUBNET_POOL", () => {
  // Four /24s of a range no one else uses here.
  const POOL = "10.247.252.0/22";
  const SUBNETS = [0, 1, 2, 3].map((i) => `10.247.${252 + i}.0/24`);
  const cluster = uniqueCluster("netfull");
  const dataDir = tempDataDir();
  const userNetworks: string[] = [];
  let server: ChildServer | undefined;

  afterAll(async () => {
    await server?.stop();
    await removeCluster(cluster);
    for (const n of userNetworks) await docker("network", "rm", n).catch(() => "");
    removeDataDir(dataDir);
  });

  it("reclaims idle networks left by an older version before failing", { timeout: 120_000 }, async () => {
    // Three of the four subnets held by idle pool networks without a lease (written before leases existed).
    for (const [i, subnet] of SUBNETS.slice(0, 3).entries()) {
      await docker("network", "create", "--subnet", subnet, "--label", `${POOL_LABEL}=an-old-server`, "--label", `com.amazonaws.ecs.cluster=${cluster}`, `ecs-task-net-old${i}-${cluster.slice(-8)}`);
    }
    server = await startServer(dataDir, cluster, { TASK_SUBNET_POOL: POOL });
    const a = (await call(server, "RunTask", { cluster, taskDefinition: cluster })).tasks[0].taskArn;
    const b = (await call(server, "RunTask", { cluster, taskDefinition: cluster })).tasks[0].taskArn;
    await taskStatus(server, cluster, a, "RUNNING");
    await taskStatus(server, cluster, b, "RUNNING");
    expect(server.log()).toContain('"event":"task-network.subnet-pool-full"');
    expect(server.log()).toContain('"event":"task-network.orphans-reclaimed"');
    for (const arn of [a, b]) await call(server, "StopTask", { cluster, task: arn });
    for (const arn of [a, b]) await taskStatus(server, cluster, arn, "STOPPED");
    await server.stop();
    server = undefined;
  });

  it("fails the task with a reason naming TASK_SUBNET_POOL when nothing can be reclaimed", { timeout: 120_000 }, async () => {
    // Every subnet taken by networks that are not ours to remove.
    await eventually("the previous server's networks to be gone", async () => ((await poolNetworks(cluster)).length === 0 ? true : undefined), 30_000, 200);
    for (const [i, subnet] of SUBNETS.entries()) {
      const name = `lecs-user-net${i}-${cluster.slice(-8)}`;
      await docker("network", "create", "--subnet", subnet, name);
      userNetworks.push(name);
    }
    server = await startServer(dataDir, cluster, { TASK_SUBNET_POOL: POOL });
    const arn = (await call(server, "RunTask", { cluster, taskDefinition: cluster })).tasks[0].taskArn;
    const t = await taskStatus(server, cluster, arn, "STOPPED");
    expect(t.stopCode).toBe("TaskFailedToStart");
    expect(t.stoppedReason).toContain("TASK_SUBNET_POOL (10.247.252.0/22)");
    expect(t.stoppedReason).toMatch(/^ResourceInitializationError: /);
    expect(t.containers[0].reason).toContain("TASK_SUBNET_POOL");
  });
});
