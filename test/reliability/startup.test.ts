// Start-up: the server listens first and brings its Docker side up after (issue 12). Docker is reached
// through a socket proxy that can hold every new connection, so "Docker is slow to answer at start" is a
// state the test sets, not a race. A restarted server with tasks running:
// - answers the control plane while Docker is held;
// - holds DescribeTasks / StopTask / RunTask sent during start-up until it has re-adopted and reconciled its
//   tasks, then answers with what it found (an exit that happened while it was down), accepts the RunTask
//   (no "no container instances" refusal for a client that came early), and carries the stop out;
// - past the start-up bound, answers as ECS does while an instance's agent is disconnected (RunTask:
//   no container instance; DescribeTasks: the last known state; StopTask: recorded, acted on once the task
//   is re-adopted), and catches up by itself once Docker answers.
// Real child servers (SIGKILL), real Docker, raw awsJson calls.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { removeDataDir, startChildServer, tempDataDir, type ChildServer } from "./support/child-server.ts";
import { containersOfTask, docker, eventually, IMAGE, removeCluster, TRAPPING_SLEEP, uniqueCluster } from "./support/docker.ts";
import { startSocketProxy, type SocketProxy } from "./support/socket-proxy.ts";

const NO_INSTANCES = "No Container Instances were found in your cluster.";

/** A request in flight, and whether it has been answered yet. */
function inFlight<T>(p: Promise<T>): { answer: Promise<T>; answered: () => boolean } {
  let done = false;
  const answer = p.finally(() => (done = true));
  return { answer, answered: () => done };
}

describe("start-up: listening first, the Docker side after", () => {
  const cluster = uniqueCluster("startup");
  const dataDir = tempDataDir();
  const env = { DOCKER_HOST: `unix://${join(dataDir, "docker.sock")}` };
  let proxy: SocketProxy;
  let server: ChildServer | undefined;

  const call = async (op: string, body: unknown): Promise<any> => {
    const res = await server!.call(op, body);
    if (res.status !== 200) throw new Error(`${op}: ${res.status} ${JSON.stringify(res.json)}`);
    return res.json;
  };
  const describeTask = async (arn: string): Promise<any> => (await call("DescribeTasks", { cluster, tasks: [arn] })).tasks[0];
  const status = (arn: string, wanted: string): Promise<any> =>
    eventually(`${arn} ${wanted}`, async () => {
      const t = await describeTask(arn);
      return t?.lastStatus === wanted ? t : undefined;
    }, 60_000, 200);
  const run = async (family: string): Promise<string> => (await call("RunTask", { cluster, taskDefinition: family })).tasks[0].taskArn;
  const containerOf = async (arn: string): Promise<string> => {
    const [id] = await containersOfTask(arn);
    if (id === undefined) throw new Error(`no container for ${arn}`);
    return id;
  };
  const running = async (id: string): Promise<boolean> => (await docker("inspect", "--format", "{{.State.Running}}", id)) === "true";

  beforeAll(async () => {
    proxy = await startSocketProxy(join(dataDir, "docker.sock"));
    server = await startChildServer({ dataDir, env });
    await call("CreateCluster", { clusterName: cluster });
    // Host networking keeps this suite off Docker's small pool of bridge networks on a shared machine.
    for (const [family, command] of [
      [`${cluster}-usr1`, ["sh", "-c", "trap 'exit 42' USR1; sleep 600 & wait"]],
      [`${cluster}-trap`, TRAPPING_SLEEP],
    ] as const) {
      await call("RegisterTaskDefinition", { family, networkMode: "host", containerDefinitions: [{ name: "app", image: IMAGE, memory: 32, command }] });
    }
  });

  afterAll(async () => {
    proxy?.hold(false);
    await server?.stop();
    await proxy?.close();
    await removeCluster(cluster);
    removeDataDir(dataDir);
  });

  it("after a crash, holds task requests until the tasks are re-adopted, answers with what it found, and serves the control plane meanwhile", { timeout: 120_000 }, async () => {
    const exiting = await run(`${cluster}-usr1`);
    const staying = await run(`${cluster}-trap`);
    await status(exiting, "RUNNING");
    await status(staying, "RUNNING");
    const stayingContainer = await containerOf(staying);
    const { port } = server!;
    await server!.kill("SIGKILL");

    // While the server is down, one task's container exits with 42.
    const exitingContainer = await containerOf(exiting);
    await docker("kill", "--signal", "USR1", exitingContainer);
    expect(await docker("wait", exitingContainer)).toBe("42");

    // Docker is slow to answer the restarted server: it listens anyway (startChildServer waits for /health).
    // A bound far beyond this test's pace, so only the Docker side coming up can release the requests.
    proxy.hold(true);
    server = await startChildServer({
      dataDir,
      port,
      script: "test/reliability/support/serve-with-options.ts",
      env: { ...env, SERVER_OPTIONS: JSON.stringify({ startupWaitMs: 300_000 }) },
    });
    const described = inFlight(server.call("DescribeTasks", { cluster, tasks: [exiting, staying] }));
    const stopped = inFlight(server.call("StopTask", { cluster, task: staying, reason: "sent during start-up" }));
    const ran = inFlight(server.call("RunTask", { cluster, taskDefinition: `${cluster}-trap` }));

    // The control plane answers while the Docker side waits at the proxy.
    expect((await call("ListClusters", {})).clusterArns.some((a: string) => a.endsWith(`:cluster/${cluster}`))).toBe(true);
    const td = await call("RegisterTaskDefinition", { family: `${cluster}-later`, containerDefinitions: [{ name: "app", image: IMAGE, memory: 32 }] });
    expect(td.taskDefinition.revision).toBe(1);
    expect(proxy.held).toBeGreaterThan(0);
    expect([described.answered(), stopped.answered(), ran.answered()]).toEqual([false, false, false]);
    // Nothing was done to the tasks meanwhile.
    expect(await running(stayingContainer)).toBe(true);

    proxy.hold(false);
    // DescribeTasks, though sent before the reconcile could run, shows what it found: the exit while down.
    const d = await described.answer;
    expect(d.status).toBe(200);
    const exited = d.json.tasks.find((t: any) => t.taskArn === exiting);
    expect(exited).toMatchObject({ lastStatus: "STOPPED", stopCode: "EssentialContainerExited" });
    expect(exited.containers[0].exitCode).toBe(42);
    expect(d.json.tasks.find((t: any) => t.taskArn === staying)).toBeDefined();

    // RunTask sent during start-up gets a task, not "no container instances".
    const r = await ran.answer;
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    expect(r.json.failures).toEqual([]);
    const fresh = r.json.tasks[0].taskArn as string;

    const s = await stopped.answer;
    expect(s.status).toBe(200);
    expect(s.json.task).toMatchObject({ taskArn: staying, desiredStatus: "STOPPED", stoppedReason: "sent during start-up" });
    const down = await status(staying, "STOPPED");
    expect(down).toMatchObject({ stopCode: "UserInitiated", stoppedReason: "sent during start-up" });
    expect(down.containers[0].exitCode).toBe(0);

    await status(fresh, "RUNNING");
    await call("StopTask", { cluster, task: fresh });
    await status(fresh, "STOPPED");
  });

  it("past the start-up bound, answers as ECS does while the agent is disconnected, and catches up once Docker answers", { timeout: 120_000 }, async () => {
    const staying = await run(`${cluster}-trap`);
    await status(staying, "RUNNING");
    const stayingContainer = await containerOf(staying);
    const { port } = server!;
    await server!.kill("SIGKILL");

    proxy.hold(true);
    server = await startChildServer({
      dataDir,
      port,
      script: "test/reliability/support/serve-with-options.ts",
      env: { ...env, SERVER_OPTIONS: JSON.stringify({ startupWaitMs: 1000 }) },
    });
    // Held for the bound, then refused as on a cluster whose instance's agent is not connected.
    const refused = await server.call("RunTask", { cluster, taskDefinition: `${cluster}-trap` });
    expect(refused.status).toBe(400);
    expect(refused.json).toMatchObject({ __type: "InvalidParameterException", message: NO_INSTANCES });
    expect(server.log()).toContain('"event":"docker.start_slow"');
    // The last known state.
    expect(await describeTask(staying)).toMatchObject({ lastStatus: "RUNNING", desiredStatus: "RUNNING" });
    // The stop is recorded, not done: Docker is not reachable and the task is not re-adopted yet.
    const s = await call("StopTask", { cluster, task: staying, reason: "past the bound" });
    expect(s.task).toMatchObject({ desiredStatus: "STOPPED", lastStatus: "RUNNING", stoppedReason: "past the bound" });
    expect(await describeTask(staying)).toMatchObject({ desiredStatus: "STOPPED", lastStatus: "RUNNING" });
    expect(await running(stayingContainer)).toBe(true);
    expect(proxy.held).toBeGreaterThan(0);

    proxy.hold(false);
    const down = await status(staying, "STOPPED");
    expect(down).toMatchObject({ stopCode: "UserInitiated", stoppedReason: "past the bound" });
    expect(down.containers[0].exitCode).toBe(0);
    const again = await eventually("RunTask to be accepted", async () => {
      const res = await server!.call("RunTask", { cluster, taskDefinition: `${cluster}-trap` });
      return res.status === 200 ? (res.json.tasks[0].taskArn as string) : undefined;
    });
    await status(again, "RUNNING");
    await call("StopTask", { cluster, task: again });
    await status(again, "STOPPED");
  });
});
