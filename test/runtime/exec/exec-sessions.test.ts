import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ssm } from "ssm-session";
import { WebSocket } from "ws";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Task } from "../../../generated/shapes.ts";
import { createExecService, type ExecService } from "../../../src/runtime/exec/exec-service.ts";
import { ExecSessionLimitError, IDLE_TIMEOUT_MESSAGE, type IssueRequest } from "../../../src/runtime/exec/exec-sessions.ts";
import { openDatabase } from "../../../src/runtime/database.ts";
import { createLogger } from "../../../src/runtime/logger.ts";
import { ExecSessionStore } from "../../../src/runtime/store/exec-session-store.ts";
import { ackFor, encodeFrame, json, keys } from "./plugin-client.ts";
import { FakeExecBackend } from "./fake-exec-backend.ts";
import { TestClient } from "./ws-test-client.ts";

const TASK = "arn:aws:ecs:us-east-1:000000000000:task/default/0123456789abcdef0123456789abcdef";

let now: number;
let backend: FakeExecBackend;
let exec: ExecService;
let http: Server;
let host: string;
let logs: Array<Record<string, unknown>>;
let listeners: Set<(t: Task) => void>;
const clients: TestClient[] = [];

function request(overrides: Partial<IssueRequest> = {}): IssueRequest {
  return {
    clusterArn: "arn:aws:ecs:us-east-1:000000000000:cluster/default",
    taskArn: TASK,
    containerName: "app",
    containerArn: "arn:aws:ecs:us-east-1:000000000000:container/default/0123456789abcdef0123456789abcdef/c1",
    runtimeId: "runtime-1",
    command: "/bin/sh",
    accessKeyId: "AKIDTEST",
    region: "us-east-1",
    host,
    ...overrides,
  };
}

async function connect(url: string): Promise<TestClient> {
  const c = await TestClient.connect(url);
  clients.push(c);
  return c;
}

/** A connected session with its process started. */
async function started(overrides: Partial<IssueRequest> = {}) {
  const issued = exec.sessions.issue(request(overrides));
  const client = await connect(issued.streamUrl);
  const proc = backend.next();
  await client.open(issued.tokenValue);
  return { issued, client, proc: await proc };
}

function audit(): Array<Record<string, unknown>> {
  return logs.filter((l) => l["event"] === "exec.session");
}

beforeEach(async () => {
  now = Date.parse("2026-01-01T00:00:00Z");
  backend = new FakeExecBackend();
  logs = [];
  listeners = new Set();
  exec = createExecService({
    backend,
    tasks: { get: () => undefined, subscribe: (l) => (listeners.add(l), () => listeners.delete(l)) },
    clock: { now: () => new Date(now) },
    logger: createLogger("debug", (line) => logs.push(JSON.parse(line) as Record<string, unknown>)),
    sessions: { tickMs: 0 },
  });
  http = createServer((_req, res) => res.end());
  http.on("upgrade", exec.handleUpgrade);
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
  host = `127.0.0.1:${(http.address() as AddressInfo).port}`;
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.socket.terminate();
  await exec.close();
  http.closeAllConnections();
  await new Promise((r) => http.close(r));
});

describe("ECS Exec sessions over a real WebSocket", () => {
  it("runs the command as root with a terminal, bridges keystrokes, resizes and output, and closes on exit", async () => {
    const issued = exec.sessions.issue(request());
    expect(issued.sessionId).toMatch(/^ecs-execute-command-0[0-9a-f]{16}$/);
    expect(issued.streamUrl).toBe(`ws://${host}/v1/data-channel/${issued.sessionId}?role=publish_subscribe`);
    const client = await connect(issued.streamUrl);
    const next = backend.next();
    await client.open(issued.tokenValue, 120, 40);
    const proc = await next;
    expect(proc.runtimeId).toBe("runtime-1");
    expect(proc.options).toMatchObject({ argv: ["/bin/sh"], tty: true, user: "0", env: { TERM: "xterm-256color" }, envDefaults: { LANG: "C.UTF-8" }, tag: issued.sessionId });
    await expect.poll(() => proc.sizes).toEqual([[120, 40]]);

    client.type("echo hi\r");
    await expect.poll(() => proc.typed()).toBe("echo hi\r");
    proc.output.write("hi\r\n/ # ");
    await client.waitForOutput("hi\r\n/ # ");
    client.resize(100, 30);
    await expect.poll(() => proc.sizes.at(-1)).toEqual([100, 30]);

    proc.exit(0);
    const closed = await client.waitFor((f) => f.messageType === "channel_closed", "channel_closed");
    expect(json(closed)).toMatchObject({ SessionId: issued.sessionId, Output: "" });
    expect((await client.closed).code).toBe(1000);
    await expect.poll(() => audit()).toHaveLength(1);
    expect(audit()[0]).toMatchObject({
      sessionId: issued.sessionId,
      accessKeyId: "AKIDTEST",
      taskArn: TASK,
      container: "app",
      runtimeId: "runtime-1",
      command: "/bin/sh",
      reason: "exited",
      exitCode: 0,
    });
    expect(exec.sessions.size).toBe(0);
  });

  it("splits the command like the SSM agent and reports a command it cannot parse", async () => {
    const { proc } = await started({ command: "sh -c 'echo a; echo b'" });
    expect(proc.options.argv).toEqual(["sh", "-c", "echo a; echo b"]);

    const issued = exec.sessions.issue(request({ containerName: "other", command: "sh -c 'oops" }));
    const client = await connect(issued.streamUrl);
    await client.open(issued.tokenValue);
    await client.waitFor((f) => f.messageType === "channel_closed", "channel_closed");
    expect(client.output()).toContain("Failed to parse commands input: EOF found when expecting closing quote");
  });

  it("tells the client when the command cannot start", async () => {
    backend.failWith = new Error('OCI runtime exec failed: exec: "/bin/bash": stat /bin/bash: no such file or directory');
    const issued = exec.sessions.issue(request({ command: "/bin/bash" }));
    const client = await connect(issued.streamUrl);
    await client.open(issued.tokenValue);
    await client.waitFor((f) => f.messageType === "channel_closed", "channel_closed");
    expect(client.output()).toContain("Unable to start command: OCI runtime exec failed");
    await expect.poll(() => audit()[0]?.["reason"]).toBe("start-failed");
  });

  it("takes a token once: a second socket, a reused token and a forged token are all refused", async () => {
    const issued = exec.sessions.issue(request());
    const forger = await connect(issued.streamUrl);
    forger.sendToken("forged-token-value");
    expect((await forger.closed).code).toBe(1008);
    expect(backend.started).toHaveLength(0);

    // The real token still works after a forged attempt.
    const client = await connect(issued.streamUrl);
    await client.open(issued.tokenValue);
    await expect(TestClient.connect(issued.streamUrl)).rejects.toThrow("upgrade refused: 403");

    client.socket.close();
    await expect.poll(() => exec.sessions.size).toBe(0);
    await expect(TestClient.connect(issued.streamUrl)).rejects.toThrow("upgrade refused: 403");
    expect(backend.started).toHaveLength(1);
  });

  it("refuses unknown paths, unknown sessions and a first frame that is not the token", async () => {
    await expect(TestClient.connect(`ws://${host}/elsewhere`)).rejects.toThrow("upgrade refused: 404");
    await expect(TestClient.connect(`ws://${host}/v1/data-channel/ecs-execute-command-0nope`)).rejects.toThrow("upgrade refused: 403");
    const issued = exec.sessions.issue(request());
    const binaryFirst = await connect(issued.streamUrl);
    binaryFirst.send(keys(0, "no token"));
    expect((await binaryFirst.closed).code).toBe(1008);
    const notJson = await connect(issued.streamUrl);
    notJson.socket.send("{not json");
    expect((await notJson.closed).code).toBe(1008);
  });

  it("voids a token not used within its lifetime (clock-driven)", async () => {
    const issued = exec.sessions.issue(request());
    now += 60_000;
    await expect(TestClient.connect(issued.streamUrl)).rejects.toThrow("upgrade refused: 403");
    exec.sessions.tick();
    expect(exec.sessions.size).toBe(0);
    expect(audit()[0]).toMatchObject({ reason: "expired", connected: false });
  });

  it("closes a socket that never presents its token", async () => {
    const issued = exec.sessions.issue(request());
    const silent = await connect(issued.streamUrl);
    now += 10_000;
    exec.sessions.tick();
    expect((await silent.closed).code).toBe(1008);
  });

  it("allows two sessions per container, like ECS", async () => {
    exec.sessions.issue(request());
    const second = await started();
    expect(() => exec.sessions.issue(request())).toThrow(ExecSessionLimitError);
    expect(() => exec.sessions.issue(request())).toThrow(
      "Unable to start new execute sessions because the maximum session limit of 2 has been reached.",
    );
    expect(() => exec.sessions.issue(request({ containerName: "sidecar" }))).not.toThrow();
    second.client.socket.close();
    await expect.poll(() => exec.sessions.size).toBe(2);
    expect(() => exec.sessions.issue(request())).not.toThrow();
  });

  it("kills the command when the socket drops", async () => {
    const { client, proc } = await started();
    client.socket.terminate();
    await expect.poll(() => proc.killed).toBe(true);
    await expect.poll(() => audit()[0]?.["reason"]).toBe("socket-closed");
  });

  it("ends a session idle for 20 minutes, and keystrokes keep it alive", async () => {
    const { client, proc } = await started();
    now += 19 * 60_000;
    exec.sessions.tick();
    client.type("x");
    await expect.poll(() => proc.typed()).toBe("x");
    now += 19 * 60_000;
    exec.sessions.tick();
    expect(client.channelClosed()).toBeUndefined();
    now += 60_000;
    exec.sessions.tick();
    const closed = await client.waitFor((f) => f.messageType === "channel_closed", "channel_closed");
    expect(json(closed).Output).toBe(IDLE_TIMEOUT_MESSAGE);
    await expect.poll(() => proc.killed).toBe(true);
    expect(audit()[0]).toMatchObject({ reason: "idle" });
  });

  it("ends the task's sessions when the task stops", async () => {
    const { client, proc } = await started();
    exec.sessions.issue(request({ containerName: "sidecar" }));
    const other = await started({ taskArn: TASK.replace("0123", "9999") });
    for (const l of listeners) l({ taskArn: TASK, lastStatus: "RUNNING", containers: [{ name: "app", lastStatus: "RUNNING" }] });
    expect(exec.sessions.size).toBe(3);
    for (const l of listeners) l({ taskArn: TASK, lastStatus: "STOPPED", desiredStatus: "STOPPED" });
    const closed = await client.waitFor((f) => f.messageType === "channel_closed", "channel_closed");
    expect(json(closed).Output).toBe("The task was stopped.");
    await expect.poll(() => proc.killed).toBe(true);
    await expect.poll(() => exec.sessions.size).toBe(1);
    expect(other.proc.killed).toBe(false);
  });

  it("answers the plugin's SSM calls: TerminateSession ends the session, ResumeSession offers no token", async () => {
    const { issued, client, proc } = await started();
    const resume = await exec.ssm.handle("AmazonSSM.ResumeSession", Buffer.from(JSON.stringify({ SessionId: issued.sessionId })));
    expect(resume).toEqual({ status: 200, body: { SessionId: issued.sessionId } });
    const terminate = await exec.ssm.handle("AmazonSSM.TerminateSession", Buffer.from(JSON.stringify({ SessionId: issued.sessionId })));
    expect(terminate).toEqual({ status: 200, body: { SessionId: issued.sessionId } });
    await client.waitFor((f) => f.messageType === "channel_closed", "channel_closed");
    await expect.poll(() => proc.killed).toBe(true);
    expect((await exec.ssm.handle("AmazonSSM.TerminateSession", Buffer.from("{}"))).status).toBe(400);
    expect((await exec.ssm.handle("AmazonSSM.StartSession", Buffer.from("{}"))).body).toMatchObject({ __type: "UnknownOperationException" });
    expect((await exec.ssm.handle("AmazonSSM.ResumeSession", Buffer.from("{bad"))).body).toMatchObject({ __type: "SerializationException" });
  });

  it("pauses the command's output for a client that never acknowledges (memory stays bounded)", async () => {
    const { client, proc } = await started();
    client.autoAck = false;
    const chunk = Buffer.alloc(16 * 1024, "y");
    let written = 0;
    // Like `yes`: writes while the stream takes them; the session pauses it once the window is full.
    for (let turn = 0; turn < 10_000 && !(proc.output.isPaused() && proc.output.writableNeedDrain); turn++) {
      if (proc.output.write(chunk)) written += chunk.length;
      else await new Promise((r) => setImmediate(r));
    }
    expect(proc.output.isPaused()).toBe(true);
    expect(written).toBeLessThan(2 * 1024 * 1024);
    const outputs = client.frames.filter((f) => f.messageType === "output_stream_data" && f.payloadType === 1).length;
    expect(outputs).toBeLessThanOrEqual(256);
    // Acknowledging resumes the flow.
    client.autoAck = true;
    for (const f of client.frames.filter((x) => x.messageType === "output_stream_data")) client.send(ackFor(f));
    await expect.poll(() => proc.output.isPaused()).toBe(false);
  });

  it("ignores a few garbage frames but ends a session that sends nothing else", async () => {
    const { client, proc } = await started();
    client.send(Buffer.from("garbage"));
    client.send(encodeFrame({ messageType: "", sequenceNumber: 1, payloadType: 1, payload: "x" }));
    client.type("still fine");
    await expect.poll(() => proc.typed()).toBe("still fine");
    for (let i = 0; i < 100; i++) client.send(Buffer.from(`junk ${i}`));
    const closed = await client.waitFor((f) => f.messageType === "channel_closed", "channel_closed");
    expect(json(closed).Output).toBe("Too many malformed messages.");
    await expect.poll(() => proc.killed).toBe(true);
  });

  it("serves the ssm-session package, a client without the handshake", async () => {
    const issued = exec.sessions.issue(request());
    const socket = new WebSocket(issued.streamUrl);
    const received: string[] = [];
    socket.on("message", (data, isBinary) => {
      if (!isBinary) return;
      const m = ssm.decode(data as Buffer);
      ssm.sendACK(socket, m);
      if (m.payloadType === 1) received.push(Buffer.from(m.payload).toString());
    });
    await new Promise((r) => socket.once("open", r));
    const next = backend.next();
    ssm.init(socket, { token: issued.tokenValue, termOptions: { cols: 90, rows: 20 } });
    const proc = await next;
    await expect.poll(() => proc.sizes).toEqual([[90, 20]]);
    ssm.sendText(socket, new TextEncoder().encode("pwd\r"));
    await expect.poll(() => proc.typed()).toBe("pwd\r");
    proc.output.write("/root\r\n");
    await expect.poll(() => received.join("")).toBe("/root\r\n");
    const connected = logs.find((l) => l["event"] === "exec.session-connected");
    expect(connected).toMatchObject({ clientVersion: "" });
    socket.close();
    await expect.poll(() => proc.killed).toBe(true);
  });

  it("shuts down cleanly: every session is told and its command killed", async () => {
    const { client, proc } = await started();
    await exec.close();
    const closed = await client.waitFor((f) => f.messageType === "channel_closed", "channel_closed");
    expect(json(closed).Output).toBe("local-ecs-api is shutting down.");
    expect(proc.killed).toBe(true);
  });
});

describe("ECS Exec sessions across a crash", () => {
  it("journals connected sessions; the next start reaps what a killed server left behind", async () => {
    const db = openDatabase(":memory:");
    const logger = createLogger("debug", (line) => logs.push(JSON.parse(line) as Record<string, unknown>));
    const tasks = { get: () => undefined, subscribe: () => () => {} };
    const first = createExecService({ backend, tasks, clock: { now: () => new Date(now) }, logger, db, sessions: { tickMs: 0 } });
    const server = createServer((_req, res) => res.end());
    server.on("upgrade", first.handleUpgrade);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const firstHost = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      // One session ends normally (its row goes), one is connected when the server "dies".
      const done = first.sessions.issue(request({ host: firstHost }));
      const c1 = await connect(done.streamUrl);
      const p1 = backend.next();
      await c1.open(done.tokenValue);
      (await p1).exit(0);
      await c1.waitFor((f) => f.messageType === "channel_closed", "channel_closed");
      const live = first.sessions.issue(request({ host: firstHost, runtimeId: "runtime-2" }));
      const c2 = await connect(live.streamUrl);
      const p2 = backend.next();
      await c2.open(live.tokenValue);
      await p2;
      await expect.poll(() => new ExecSessionStore(db).all().map((r) => r.target.sessionId)).toEqual([live.sessionId]);

      // A new server on the same database (the first never got to end its session).
      const second = createExecService({ backend, tasks, clock: { now: () => new Date(now) }, logger, db, sessions: { tickMs: 0 } });
      expect(await second.recovered).toBe(1);
      expect(backend.reaped).toEqual([["runtime-2", live.sessionId]]);
      expect(new ExecSessionStore(db).all()).toEqual([]);
      expect(logs.filter((l) => l["event"] === "exec.session" && l["reason"] === "server-restart")).toEqual([
        expect.objectContaining({ sessionId: live.sessionId, runtimeId: "runtime-2", taskArn: TASK, command: "/bin/sh" }),
      ]);
      await second.close();
    } finally {
      await first.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      db.close();
    }
  });

  it("keeps the orphans of a runtime that does not answer and reaps them once it does (tried every 30 s)", async () => {
    const db = openDatabase(":memory:");
    const logger = createLogger("debug", (line) => logs.push(JSON.parse(line) as Record<string, unknown>));
    const tasks = { get: () => undefined, subscribe: () => () => {} };
    const { host: _h, ...target } = request({ runtimeId: "runtime-on-engine-2" });
    new ExecSessionStore(db).put({ ...target, accessKeyId: "AKIDTEST", sessionId: "orphan-1" }, now);
    backend.unreachable = true;
    const restarted = createExecService({ backend, tasks, clock: { now: () => new Date(now) }, logger, db, sessions: { tickMs: 0 } });
    try {
      expect(await restarted.recovered).toBe(0);
      expect(new ExecSessionStore(db).all().map((r) => r.target.sessionId)).toEqual(["orphan-1"]);
      expect(logs.filter((l) => l["event"] === "exec.reap-deferred")).toHaveLength(1);
      // Still down at the next attempt: kept again.
      now += 30_000;
      restarted.sessions.tick();
      await expect.poll(() => logs.filter((l) => l["event"] === "exec.reap-deferred").length).toBe(2);
      expect(new ExecSessionStore(db).all()).toHaveLength(1);
      // The engine answers again: not before the next attempt is due, then reaped and audited once.
      backend.unreachable = false;
      now += 29_000;
      restarted.sessions.tick();
      expect(backend.reaped).toEqual([]);
      now += 1_000;
      restarted.sessions.tick();
      await expect.poll(() => backend.reaped).toEqual([["runtime-on-engine-2", "orphan-1"]]);
      await expect.poll(() => new ExecSessionStore(db).all()).toEqual([]);
      expect(audit().filter((l) => l["reason"] === "server-restart").map((l) => l["sessionId"])).toEqual(["orphan-1"]);
      now += 60_000;
      restarted.sessions.tick();
      expect(backend.reaped).toHaveLength(1);
    } finally {
      await restarted.close();
      db.close();
    }
  });
});
