import {
  ClientException,
  ClusterNotFoundException,
  CreateClusterCommand,
  DescribeTasksCommand,
  ExecuteCommandCommand,
  InvalidParameterException,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
} from "@aws-sdk/client-ecs";
import { ResumeSessionCommand, SSMClient, TerminateSessionCommand } from "@aws-sdk/client-ssm";
import { ssm } from "ssm-session";
import { WebSocket } from "ws";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { NOT_ENABLED_MESSAGE } from "../../src/operations/execute-command.ts";
import { docker, removeClusterContainers, removeClusterNetworks, taskContainerId, TEST_IMAGE } from "../support/docker.ts";
import { eventually } from "../support/eventually.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { ackFor, handshakeResponse, json, size } from "../runtime/exec/plugin-client.ts";
import { TestClient } from "../runtime/exec/ws-test-client.ts";

const CLUSTER = `e2e-exec-protocol-${process.pid}`;
const ROLE = "arn:aws:iam::000000000000:role/exec";
const IDLE = ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"];

describe("ECS Exec against real Docker: the SDK, a hand-written client, ssm-session and the SSM SDK", () => {
  let t: TestServer;
  let ssmClient: SSMClient;
  let task: { taskArn: string; containerId: string };
  const sockets: WebSocket[] = [];

  async function runTask(family: string, enableExecuteCommand = true): Promise<{ taskArn: string; containerId: string }> {
    const ran = await t.ecs.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: family, enableExecuteCommand }));
    const taskArn = ran.tasks![0]!.taskArn!;
    await eventually("the task to run", async () => {
      const d = await t.ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: [taskArn] }));
      return d.tasks?.[0]?.lastStatus === "RUNNING" ? true : undefined;
    });
    return { taskArn, containerId: await taskContainerId(taskArn, "app") };
  }

  const execute = (taskArn: string, extra: Partial<{ container: string; command: string; interactive: boolean }> = {}) =>
    t.ecs.send(new ExecuteCommandCommand({ cluster: CLUSTER, task: taskArn, container: "app", command: "/bin/sh", interactive: true, ...extra }));

  async function processes(containerId: string): Promise<string[]> {
    return (await docker("top", containerId, "-o", "pid,args")).split("\n").slice(1);
  }

  async function onlyOwnProcesses(containerId: string): Promise<void> {
    await eventually("no exec process left in the container", async () => ((await processes(containerId)).length === 2 ? true : undefined), 15_000);
  }

  async function client(url: string): Promise<TestClient> {
    const c = await TestClient.connect(url);
    sockets.push(c.socket);
    return c;
  }

  beforeAll(async () => {
    t = await startTestServer({ docker: true });
    ssmClient = new SSMClient({ endpoint: t.url, region: "us-east-1", credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "secret" }, maxAttempts: 1 });
    await t.ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
    await t.ecs.send(
      new RegisterTaskDefinitionCommand({ family: "exec-one", taskRoleArn: ROLE, containerDefinitions: [{ name: "app", image: TEST_IMAGE, memory: 64, command: IDLE, stopTimeout: 5 }] }),
    );
    await t.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "exec-two",
        taskRoleArn: ROLE,
        containerDefinitions: [
          { name: "app", image: TEST_IMAGE, memory: 64, command: IDLE, stopTimeout: 5 },
          { name: "side", image: TEST_IMAGE, memory: 32, command: IDLE, stopTimeout: 5 },
        ],
      }),
    );
    await t.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "exec-nobody",
        taskRoleArn: ROLE,
        containerDefinitions: [{ name: "app", image: TEST_IMAGE, memory: 64, command: IDLE, stopTimeout: 5, user: "nobody" }],
      }),
    );
    task = await runTask("exec-one");
  });

  // A failed test must not leave its session (and process) to the next one.
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.terminate();
    if (task !== undefined) await onlyOwnProcesses(task.containerId);
  });

  afterAll(async () => {
    ssmClient?.destroy();
    await t?.close();
    await removeClusterContainers(CLUSTER);
    await removeClusterNetworks(CLUSTER);
  });

  it("answers ExecuteCommand with a ws:// stream URL on the endpoint the client used", async () => {
    const out = await execute(task.taskArn);
    expect(out).toMatchObject({ containerName: "app", interactive: true, taskArn: task.taskArn, clusterArn: expect.stringContaining(`:cluster/${CLUSTER}`) });
    expect(out.session!.streamUrl).toBe(`${t.url.replace("http://", "ws://")}/v1/data-channel/${out.session!.sessionId}?role=publish_subscribe`);
    // Nothing starts in the container until a client connects; TerminateSession withdraws it.
    expect(await processes(task.containerId)).toHaveLength(2);
    await ssmClient.send(new TerminateSessionCommand({ SessionId: out.session!.sessionId! }));
    await expect(TestClient.connect(out.session!.streamUrl!)).rejects.toThrow("upgrade refused: 403");
  });

  it("refuses with ECS's exceptions: not enabled, not running, interactive false, container, task and cluster unknown", { timeout: 120_000 }, async () => {
    const plain = await runTask("exec-one", false);
    const two = await runTask("exec-two");
    const stopped = await runTask("exec-one");
    await t.ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: stopped.taskArn }));
    await eventually("the task to stop", async () => {
      const d = await t.ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: [stopped.taskArn] }));
      return d.tasks?.[0]?.lastStatus === "STOPPED" ? true : undefined;
    });
    const cases: Array<[Promise<unknown>, new (...args: never[]) => Error, string | RegExp]> = [
      [execute(plain.taskArn), InvalidParameterException, NOT_ENABLED_MESSAGE],
      [execute(stopped.taskArn), InvalidParameterException, NOT_ENABLED_MESSAGE],
      [execute(task.taskArn, { interactive: false }), InvalidParameterException, "Interactive is the only mode supported currently."],
      [t.ecs.send(new ExecuteCommandCommand({ cluster: CLUSTER, task: two.taskArn, command: "sh", interactive: true })), InvalidParameterException, /container name must be specified/],
      [execute(two.taskArn, { container: "nope" }), InvalidParameterException, "The container nope does not exist in the task."],
      [execute("f".repeat(32)), InvalidParameterException, "The referenced task was not found."],
      [t.ecs.send(new ExecuteCommandCommand({ cluster: "no-such-cluster", task: task.taskArn, command: "sh", interactive: true })), ClusterNotFoundException, "Cluster not found."],
    ];
    for (const [call, type, message] of cases) {
      const err = await call.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(type);
      expect((err as Error).message).toMatch(message);
    }
  });

  it("a hand-written client gets a root shell over the data channel; the token then works no more", async () => {
    const out = await execute(task.taskArn);
    const forger = await client(out.session!.streamUrl!);
    forger.sendToken("not-the-token");
    expect((await forger.closed).code).toBe(1008);

    const c = await client(out.session!.streamUrl!);
    await c.open(out.session!.tokenValue!, 100, 30);
    c.type("echo answer-$((6*7)) $(id -u); stty size\r");
    await c.waitForOutput("answer-42 0");
    await c.waitForOutput("30 100").catch((e: Error) => {
      throw new Error(`${e.message}\noutput: ${JSON.stringify(c.output())}`);
    });
    c.resize(132, 43);
    c.type("stty size\r");
    await c.waitForOutput("43 132");
    expect(c.frames.filter((f) => f.messageType === "output_stream_data").every((f) => f.digestOk)).toBe(true);
    c.type("exit 3\r");
    const closed = await c.waitFor((f) => f.messageType === "channel_closed", "channel_closed");
    expect(json(closed)).toMatchObject({ SessionId: out.session!.sessionId, Output: "" });
    await expect(TestClient.connect(out.session!.streamUrl!)).rejects.toThrow("upgrade refused: 403");
    await onlyOwnProcesses(task.containerId);
  });

  it("runs the command as root in a container whose user is not, and still leaves nothing behind", async () => {
    const nobody = await runTask("exec-nobody");
    const out = await execute(nobody.taskArn);
    const c = await client(out.session!.streamUrl!);
    await c.open(out.session!.tokenValue!);
    c.type("echo uid-$(id -u) pid1-$(stat -c %U /proc/1); sleep 305 & (sleep 306 &); sleep 307\r");
    await c.waitForOutput("uid-0 pid1-nobody");
    await eventually("the session's sleeps", async () => ((await processes(nobody.containerId)).length === 6 ? true : undefined));
    c.socket.terminate();
    await onlyOwnProcesses(nobody.containerId);
  });

  it("a client that never acknowledges gets one window of output, then `yes` is paused; closing the socket kills it", async () => {
    const out = await execute(task.taskArn, { command: "yes" });
    const c = await client(out.session!.streamUrl!);
    c.autoAck = false;
    // The handshake must still be acknowledged (the plugin acks its messages too).
    c.sendToken(out.session!.tokenValue!);
    const request = await c.waitFor((f) => f.payloadType === 5, "handshake request");
    c.send(ackFor(request));
    c.send(handshakeResponse(0));
    const complete = await c.waitFor((f) => f.payloadType === 7, "handshake complete");
    c.send(ackFor(complete));
    c.send(size(1, 80, 24));
    await c.waitFor(() => c.frames.filter((f) => f.payloadType === 1).length >= 256, "a full window of output");
    expect((await processes(task.containerId)).some((p) => / yes$/.test(p))).toBe(true);
    // Then only resends of the oldest unacknowledged message: distinct messages stay at the window (256)
    // plus the rest of the one socket read (≤ 64 KiB) that filled it.
    const distinct = (): number => new Set(c.frames.filter((f) => f.payloadType === 1).map((f) => f.sequenceNumber)).size;
    const atFull = distinct();
    expect(atFull).toBeLessThanOrEqual(256 + 64);
    await c.waitFor((f) => f.payloadType === 1 && c.frames.filter((x) => x.sequenceNumber === f.sequenceNumber && x.payloadType === 1).length > 1, "a resend");
    expect(distinct()).toBe(atFull);
    c.socket.close();
    await onlyOwnProcesses(task.containerId);
  });

  it("ignores garbage frames on a live session and keeps serving it", async () => {
    const out = await execute(task.taskArn);
    const c = await client(out.session!.streamUrl!);
    await c.open(out.session!.tokenValue!);
    c.send(Buffer.from("garbage"));
    c.send(Buffer.alloc(200));
    c.type("echo still-$((2+2))\r");
    await c.waitForOutput("still-4");
    c.socket.terminate();
    await onlyOwnProcesses(task.containerId);
  });

  it("TerminateSession from the SSM SDK at our endpoint ends the session; ResumeSession offers no token", async () => {
    const out = await execute(task.taskArn);
    const c = await client(out.session!.streamUrl!);
    await c.open(out.session!.tokenValue!);
    c.type("echo up\r");
    await c.waitForOutput("up");
    const resumed = await ssmClient.send(new ResumeSessionCommand({ SessionId: out.session!.sessionId! }));
    expect(resumed.SessionId).toBe(out.session!.sessionId);
    expect(resumed.TokenValue).toBeUndefined();
    const terminated = await ssmClient.send(new TerminateSessionCommand({ SessionId: out.session!.sessionId! }));
    expect(terminated.SessionId).toBe(out.session!.sessionId);
    await c.waitFor((f) => f.messageType === "channel_closed", "channel_closed");
    await onlyOwnProcesses(task.containerId);
  });

  it("serves the ssm-session package against a real container", async () => {
    const out = await execute(task.taskArn);
    const socket = new WebSocket(out.session!.streamUrl!);
    sockets.push(socket);
    let text = "";
    socket.on("message", (data, isBinary) => {
      if (!isBinary) return;
      const m = ssm.decode(data as Buffer);
      ssm.sendACK(socket, m);
      if (m.payloadType === 1) text += Buffer.from(m.payload).toString();
    });
    await new Promise((r) => socket.once("open", r));
    ssm.init(socket, { token: out.session!.tokenValue!, termOptions: { cols: 80, rows: 24 } });
    ssm.sendText(socket, new TextEncoder().encode("echo via-ssm-session-$((3*3))\r"));
    await eventually("ssm-session output", () => (text.includes("via-ssm-session-9") ? true : undefined));
    socket.close();
    await onlyOwnProcesses(task.containerId);
  });

  it("allows two concurrent sessions per container and refuses a third with ClientException", async () => {
    const a = await execute(task.taskArn);
    const b = await execute(task.taskArn);
    const err = await execute(task.taskArn).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientException);
    expect((err as Error).message).toBe("Unable to start new execute sessions because the maximum session limit of 2 has been reached.");
    // Ending one frees its place.
    await ssmClient.send(new TerminateSessionCommand({ SessionId: a.session!.sessionId! }));
    await ssmClient.send(new TerminateSessionCommand({ SessionId: b.session!.sessionId! }));
    await expect(execute(task.taskArn)).resolves.toMatchObject({ containerName: "app" });
  });
});
