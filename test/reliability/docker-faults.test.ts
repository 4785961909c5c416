import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { startChildServer, removeDataDir, tempDataDir, type ChildServer } from "./support/child-server.ts";
import { containersOfTask, docker, eventually, IMAGE, removeCluster, TRAPPING_SLEEP, uniqueCluster } from "./support/docker.ts";
import { startSocketProxy, type SocketProxy } from "./support/socket-proxy.ts";

// Faults from outside the emulator: containers killed or removed behind its back, and the Docker
// connection (events stream included) cut while a container exits.
describe("Docker faults", () => {
  const cluster = uniqueCluster("faults");
  const dataDir = tempDataDir();
  let proxy: SocketProxy;
  let server: ChildServer;

  beforeAll(async () => {
    proxy = await startSocketProxy(join(dataDir, "docker.sock"));
    server = await startChildServer({ dataDir, env: { DOCKER_HOST: `unix://${proxy.path}` } });
    expect((await server.call("CreateCluster", { clusterName: cluster })).status).toBe(200);
    const register = async (family: string, command: string[]): Promise<void> => {
      const res = await server.call("RegisterTaskDefinition", {
        family,
        networkMode: "host",
        containerDefinitions: [{ name: "app", image: IMAGE, memory: 32, command }],
      });
      expect(res.status).toBe(200);
    };
    await register(`${cluster}-sleep`, ["sleep", "600"]);
    await register(`${cluster}-usr1`, ["sh", "-c", "trap 'exit 42' USR1; sleep 600 & wait"]);
    await register(`${cluster}-trap`, TRAPPING_SLEEP);
  });

  afterAll(async () => {
    await server?.stop();
    await proxy?.close();
    await removeCluster(cluster);
    removeDataDir(dataDir);
  });

  const run = async (family: string): Promise<string> => {
    const res = await server.call("RunTask", { cluster, taskDefinition: family });
    expect(res.status).toBe(200);
    const arn = res.json.tasks[0].taskArn as string;
    await status(arn, "RUNNING");
    return arn;
  };
  const describeTask = async (arn: string): Promise<any> => {
    const res = await server.call("DescribeTasks", { cluster, tasks: [arn] });
    expect(res.status).toBe(200);
    return res.json.tasks[0];
  };
  const status = (arn: string, wanted: string): Promise<any> =>
    eventually(`task ${arn} ${wanted}`, async () => {
      const t = await describeTask(arn);
      return t.lastStatus === wanted ? t : undefined;
    });

  it("docker kill → STOPPED, exit 137, EssentialContainerExited", { timeout: 40_000 }, async () => {
    const arn = await run(`${cluster}-sleep`);
    const [id] = await containersOfTask(arn);
    await docker("kill", id!);
    const t = await status(arn, "STOPPED");
    expect(t.containers[0].exitCode).toBe(137);
    expect(t.stopCode).toBe("EssentialContainerExited");
    expect(t.stoppedReason).toBe("Essential container in task exited");
    expect(t.desiredStatus).toBe("STOPPED");
  });

  it("docker rm -f → STOPPED with a reason", { timeout: 40_000 }, async () => {
    const arn = await run(`${cluster}-sleep`);
    const [id] = await containersOfTask(arn);
    await docker("rm", "-f", id!);
    const t = await status(arn, "STOPPED");
    expect(t.stopCode).toBe("EssentialContainerExited");
    expect(t.stoppedReason ?? "").not.toBe("");
    expect(t.containers[0].lastStatus).toBe("STOPPED");
    // rm -f kills first, so Docker usually reports a die (137) before the destroy; if the emulator only
    // sees the container gone, it must say so (ContainerVanishedError) instead of inventing an exit code.
    const c = t.containers[0];
    expect(c.exitCode === 137 || /ContainerVanishedError/.test(c.reason ?? ""), JSON.stringify(c)).toBe(true);
  });

  it("events stream cut while a container exits → reconnects, reconciles, nothing stuck", { timeout: 60_000 }, async () => {
    const exiting = await run(`${cluster}-usr1`);
    const staying = await run(`${cluster}-trap`);
    const [id] = await containersOfTask(exiting);
    const acceptedBefore = proxy.accepted;
    expect(proxy.open).toBeGreaterThan(0); // at least the events stream

    // Cut every connection and keep Docker unreachable through the proxy while the container exits,
    // so the die event is never delivered: only the reconcile on reconnect can see it.
    proxy.refuse(true);
    proxy.cutAll();
    await docker("kill", "--signal", "USR1", id!);
    expect(await docker("wait", id!)).toBe("42");
    const during = await describeTask(exiting);
    expect(during.lastStatus).toBe("RUNNING"); // the emulator cannot know yet
    proxy.refuse(false);

    const t = await status(exiting, "STOPPED");
    expect(proxy.accepted).toBeGreaterThan(acceptedBefore);
    expect(t.containers[0].exitCode).toBe(42);
    expect(t.stopCode).toBe("EssentialContainerExited");

    // The engine is fully back: the other task still runs and stops on request.
    expect((await describeTask(staying)).lastStatus).toBe("RUNNING");
    expect((await server.call("StopTask", { cluster, task: staying })).status).toBe(200);
    const s = await status(staying, "STOPPED");
    expect(s.stopCode).toBe("UserInitiated");
    expect(s.containers[0].exitCode).toBe(0);
  });
});
