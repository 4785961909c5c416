import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { connect, createServer as createNetServer, type AddressInfo, type Socket } from "node:net";
import { delimiter } from "node:path";
import { CreateClusterCommand, DescribeTasksCommand, RegisterTaskDefinitionCommand, RunTaskCommand, StopTaskCommand } from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { docker, removeClusterContainers, removeClusterNetworks, taskContainerId, TEST_IMAGE } from "../support/docker.ts";
import { eventually } from "../support/eventually.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { findSessionManagerPlugin, PLUGIN_BUILD_DIR } from "../support/session-manager-plugin.ts";

const CLUSTER = `e2e-exec-cli-${process.pid}`;
const ROLE = "arn:aws:iam::000000000000:role/exec";
// Two stable processes (sh waiting on one sleep): anything more in the container came from an exec.
const IDLE = ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"];

// Each test starts the AWS CLI (Python) a few times: seconds apiece on a loaded machine.
const CLI_TEST_TIMEOUT_MS = 180_000;

const pluginDir = findSessionManagerPlugin();
if (pluginDir === undefined) {
  const banner = "#".repeat(100);
  console.error(
    `\n${banner}\n## SKIPPING the ECS Exec end-to-end tests with the real AWS CLI: no session-manager-plugin on PATH or in ${PLUGIN_BUILD_DIR}.\n` +
      `## Build it with .ci/session-manager-plugin.sh (needs a mirror of github:aws/session-manager-plugin).\n${banner}\n`,
  );
  if (process.env["REQUIRE_SESSION_MANAGER_PLUGIN"] === "1") throw new Error("REQUIRE_SESSION_MANAGER_PLUGIN=1 but no session-manager-plugin was found");
}

/** `aws ecs execute-command …` with a stdin held open until the CLI exits (the plugin ends at EOF). */
interface CliSession {
  child: ChildProcessWithoutNullStreams;
  output(): string;
  type(text: string): void;
  exited: Promise<number | null>;
}

describe.skipIf(pluginDir === undefined)("ECS Exec with the real AWS CLI v2 and session-manager-plugin", () => {
  let t: TestServer;
  const spawned: ChildProcessWithoutNullStreams[] = [];

  const env = (): NodeJS.ProcessEnv => ({
    ...process.env,
    PATH: `${pluginDir}${delimiter}${process.env["PATH"] ?? ""}`,
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    AWS_DEFAULT_REGION: "us-east-1",
    AWS_PAGER: "",
  });

  function cli(args: string[]): Promise<{ code: number | null; out: string }> {
    return new Promise((resolve) => {
      const child = spawn("/usr/bin/aws", ["--endpoint-url", t.url, "--region", "us-east-1", "--output", "json", ...args], { env: env() });
      let out = "";
      child.stdout.on("data", (d: Buffer) => (out += d.toString()));
      child.stderr.on("data", (d: Buffer) => (out += d.toString()));
      child.on("close", (code) => resolve({ code, out }));
    });
  }

  function execSession(taskArn: string, container: string, command: string, endpoint = t.url): CliSession {
    const child = spawn(
      "/usr/bin/aws",
      ["ecs", "execute-command", "--endpoint-url", endpoint, "--region", "us-east-1", "--cluster", CLUSTER, "--task", taskArn, "--container", container, "--interactive", "--command", command],
      { env: env() },
    );
    spawned.push(child);
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    void exited.then(() => child.stdin.end());
    return { child, output: () => out, type: (text) => child.stdin.write(text), exited };
  }

  /** RunTask with enableExecuteCommand (through the SDK: quicker than the CLI's 6-second waiter), until RUNNING. */
  async function runTask(): Promise<{ taskArn: string; containerId: string }> {
    const ran = await t.ecs.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: "exec-idle", enableExecuteCommand: true }));
    const taskArn = ran.tasks![0]!.taskArn!;
    await eventually("the task to run", async () => {
      const d = await t.ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: [taskArn] }));
      return d.tasks?.[0]?.lastStatus === "RUNNING" ? true : undefined;
    });
    return { taskArn, containerId: await taskContainerId(taskArn, "app") };
  }

  async function processes(containerId: string): Promise<string[]> {
    return (await docker("top", containerId, "-o", "pid,args")).split("\n").slice(1);
  }

  /** Waits until the container is back to its own two processes: no exec left behind. */
  async function onlyOwnProcesses(containerId: string): Promise<void> {
    await eventually("no exec process left in the container", async () => ((await processes(containerId)).length === 2 ? true : undefined), 15_000);
  }

  beforeAll(async () => {
    t = await startTestServer({ docker: true });
    await t.ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
    await t.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "exec-idle",
        taskRoleArn: ROLE,
        containerDefinitions: [{ name: "app", image: TEST_IMAGE, memory: 64, command: IDLE, stopTimeout: 5 }],
      }),
    );
  });

  afterAll(async () => {
    // A failed test may leave its CLI running: end it (and its plugin) by pid.
    for (const c of spawned) {
      if (c.exitCode !== null || c.pid === undefined) continue;
      for (const child of childrenOf(c.pid)) process.kill(child, "SIGKILL");
      c.kill("SIGKILL");
    }
    await t?.close();
    await removeClusterContainers(CLUSTER);
    await removeClusterNetworks(CLUSTER);
  });

  it("opens a shell: `echo $HOSTNAME; exit` through a pipe prints the container's hostname, then the session ends cleanly", { timeout: CLI_TEST_TIMEOUT_MS }, async () => {
    const ran = await cli(["ecs", "run-task", "--cluster", CLUSTER, "--task-definition", "exec-idle", "--enable-execute-command"]);
    expect(ran.code, ran.out).toBe(0);
    const taskArn: string = JSON.parse(ran.out).tasks[0].taskArn;
    expect(JSON.parse(ran.out).tasks[0].enableExecuteCommand).toBe(true);
    await eventually("the task to run", async () => {
      const d = await t.ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: [taskArn] }));
      return d.tasks?.[0]?.lastStatus === "RUNNING" ? true : undefined;
    });
    const containerId = await taskContainerId(taskArn, "app");
    const described = JSON.parse((await cli(["ecs", "describe-tasks", "--cluster", CLUSTER, "--tasks", taskArn])).out).tasks[0];
    expect(described.enableExecuteCommand).toBe(true);
    expect(described.containers[0].managedAgents).toEqual([{ name: "ExecuteCommandAgent", lastStatus: "RUNNING", lastStartedAt: expect.any(String) }]);
    expect(described.containers[0].runtimeId.startsWith(containerId)).toBe(true);
    expect(await processes(containerId)).toHaveLength(2);

    const s = execSession(taskArn, "app", "/bin/sh");
    s.type("echo $HOSTNAME; exit\n");
    expect(await s.exited).toBe(0);
    const out = s.output();
    const sessionId = /Starting session with SessionId: (ecs-execute-command-[0-9a-f]+)/.exec(out)?.[1];
    expect(sessionId, out).toBeDefined();
    expect(out).toMatch(new RegExp(`^${containerId.slice(0, 12)}\\r?$`, "m"));
    expect(out).toContain(`Exiting session with sessionId: ${sessionId}.`);
    await onlyOwnProcesses(containerId);
  });

  it("runs a command line the way ECS splits it", { timeout: CLI_TEST_TIMEOUT_MS }, async () => {
    const { taskArn } = await runTask();
    const s = execSession(taskArn, "app", "sh -c 'echo one-$((40+2)); echo two'");
    expect(await s.exited).toBe(0);
    expect(s.output()).toMatch(/one-42\r?\ntwo/);
    expect(s.output()).toContain("Exiting session with sessionId: ecs-execute-command-");
  });

  it("kills the shell and what it started when the plugin dies (no stray docker exec)", { timeout: CLI_TEST_TIMEOUT_MS }, async () => {
    const { taskArn, containerId } = await runTask();
    const s = execSession(taskArn, "app", "/bin/sh");
    s.type("sleep 300 &\nsleep 301\n");
    await eventually("sleep 301 running in the container", async () => ((await processes(containerId)).some((p) => p.includes("sleep 301")) ? true : undefined), 20_000);
    expect((await processes(containerId)).length).toBe(5);
    const plugin = childrenOf(s.child.pid!).find((pid) => commOf(pid).startsWith("session-manag"));
    expect(plugin, "the session-manager-plugin child of the CLI").toBeDefined();
    process.kill(plugin!, "SIGKILL");
    await onlyOwnProcesses(containerId);
    await s.exited;
  });

  it("a dropped connection: the plugin asks ResumeSession, is told the session timed out, exits; the shell is killed", { timeout: CLI_TEST_TIMEOUT_MS }, async () => {
    const { taskArn, containerId } = await runTask();
    const proxy = await tcpProxy(Number(new URL(t.url).port));
    try {
      // Through the proxy: the stream URL follows the Host the CLI used, so the WebSocket goes through it too.
      const s = execSession(taskArn, "app", "/bin/sh", proxy.url);
      s.type("sleep 300\n");
      await eventually("sleep 300 in the container", async () => ((await processes(containerId)).some((p) => p.includes("sleep 300")) ? true : undefined), 20_000);
      proxy.cutAll();
      expect(await s.exited).toBe(0);
      const sessionId = /Starting session with SessionId: (ecs-execute-command-[0-9a-f]+)/.exec(s.output())?.[1];
      expect(s.output()).toContain(`Session: ${sessionId} timed out.`);
      await onlyOwnProcesses(containerId);
    } finally {
      await proxy.close();
    }
  });

  it("ends the session when the task stops", { timeout: CLI_TEST_TIMEOUT_MS }, async () => {
    const { taskArn } = await runTask();
    const s = execSession(taskArn, "app", "/bin/sh");
    s.type("echo ready-$((1+1))\n");
    await eventually("the shell to answer", () => (s.output().includes("ready-2") ? true : undefined), 20_000);
    await t.ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: taskArn }));
    expect(await s.exited).toBe(0);
    expect(s.output()).toMatch(/The task was stopped\.|Exiting session with sessionId/);
  });
});

/** A TCP proxy to the server whose connections a test can cut (as a network would). */
async function tcpProxy(port: number): Promise<{ url: string; cutAll(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createNetServer((client) => {
    const upstream = connect(port, "127.0.0.1");
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s)).on("error", () => {});
    }
    client.pipe(upstream).on("close", () => client.destroy());
    upstream.pipe(client).on("close", () => upstream.destroy());
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const cutAll = (): void => {
    for (const s of sockets) s.destroy();
  };
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cutAll,
    close: () => {
      cutAll();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) out.push(Number(name));
    } catch {
      // gone
    }
  }
  return out;
}

function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "";
  }
}
