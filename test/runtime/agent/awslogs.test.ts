import { CloudWatchLogsClient, CreateLogGroupCommand, GetLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import Docker from "dockerode";
import { DockerBackend } from "../../../src/runtime/backend/docker/docker-backend.ts";
import { DockerRuntime } from "../../../src/runtime/backend/docker/docker-runtime.ts";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgentAwsClients, type AgentAwsClients } from "../../../src/runtime/agent/aws-clients.ts";
import { AwsLogsShipper, type ContainerLogSource, type LogCursor } from "../../../src/runtime/agent/awslogs.ts";
import { logsSince } from "../../../src/runtime/log-lines.ts";
import { RoleCredentialsProvider } from "../../../src/runtime/agent/role-credentials.ts";
import { createLogger, silentLogger } from "../../../src/runtime/logger.ts";
import { startMoto, type MotoServer } from "../../support/moto.ts";
import { motoConfig, until } from "./helpers.ts";

const IMAGE = "local-ecs-api-test/busybox:latest";
const PREFIX = `agenttest-awslogs-${randomBytes(3).toString("hex")}`;
const TASK_ID = "0123456789abcdef0123456789abcdef";
const TASK = `arn:aws:ecs:us-east-1:123456789012:task/default/${TASK_ID}`;

const docker = new Docker();
/** Container output the way the server reads it: through the Docker backend (by runtime id). */
const backend = new DockerBackend({ runtime: new DockerRuntime(), logger: silentLogger, networkPool: false });
const source: ContainerLogSource = {
  logs: (c, options) => backend.logs({ plan: { taskArn: c.taskArn, clusterName: "x", taskDefinition: {}, overrides: {}, networkMode: "bridge" }, data: {}, save: () => {} }, c.runtimeId, options),
};
let moto: MotoServer;
let clients: AgentAwsClients;
let cwl: CloudWatchLogsClient;
const created: string[] = [];

beforeAll(async () => {
  moto = await startMoto();
  clients = createAgentAwsClients(motoConfig(moto), {});
  cwl = new CloudWatchLogsClient({ region: moto.region, endpoint: moto.endpoint, credentials: moto.credentials });
});
afterAll(async () => {
  await Promise.all(created.map((id) => docker.getContainer(id).remove({ force: true }).catch(() => {})));
  cwl?.destroy();
  clients?.destroy();
  await moto?.stop();
});

async function run(name: string, script: string, tty = false): Promise<string> {
  const c = await docker.createContainer({
    name: `${PREFIX}-${name}`,
    Image: IMAGE,
    Cmd: ["sh", "-c", script],
    Tty: tty,
    HostConfig: { LogConfig: { Type: "json-file", Config: {} } },
  });
  created.push(c.id);
  await c.start();
  return c.id;
}

async function messages(group: string, stream: string): Promise<string[]> {
  const out = await cwl.send(new GetLogEventsCommand({ logGroupName: group, logStreamName: stream, startFromHead: true }));
  return (out.events ?? []).map((e) => e.message ?? "");
}

function shipper(logs = silentLogger, c = clients): AwsLogsShipper {
  return new AwsLogsShipper({ source, clients: c, credentials: new RoleCredentialsProvider({ clients: c, logger: silentLogger }), logger: logs, flushIntervalMs: 200 });
}

describe("AwsLogsShipper", () => {
  it("ships a container's lines in order to <prefix>/<container>/<task-id>, creating the group", async () => {
    const id = await run("five", "for i in 1 2 3 4 5; do echo line $i; done");
    const handle = shipper().start({
      dockerId: id,
      containerName: "app",
      taskArn: TASK,
      executionRoleArn: "arn:aws:iam::123456789012:role/exec",
      logOptions: { "awslogs-group": "/ecs/agenttest", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "ecs", "awslogs-create-group": "true" },
    });
    expect(handle.target.stream).toBe(`ecs/app/${TASK_ID}`);
    await handle.done;
    expect(await messages("/ecs/agenttest", `ecs/app/${TASK_ID}`)).toEqual(["line 1", "line 2", "line 3", "line 4", "line 5"]);
  });

  it("interleaves stdout and stderr by Docker timestamp and names the stream by container id without a prefix", async () => {
    await cwl.send(new CreateLogGroupCommand({ logGroupName: "/ecs/existing" }));
    const id = await run("mixed", "echo out-1; sleep 0.05; echo err-2 >&2; sleep 0.05; echo out-3; echo; sleep 0.05; echo err-4 >&2");
    const handle = shipper().start({ dockerId: id, containerName: "app", taskArn: TASK, logOptions: { "awslogs-group": "/ecs/existing" } });
    expect(handle.target.stream).toBe(id);
    await handle.done;
    // The empty line is dropped, as Docker's awslogs driver does.
    expect(await messages("/ecs/existing", id)).toEqual(["out-1", "err-2", "out-3", "err-4"]);
  });

  it("handles TTY containers (raw, not multiplexed output)", async () => {
    const id = await run("tty", "echo tty-1; echo tty-2", true);
    const handle = shipper().start({ dockerId: id, containerName: "t", taskArn: TASK, logOptions: { "awslogs-group": "/ecs/tty", "awslogs-create-group": "true" } });
    await handle.done;
    expect(await messages("/ecs/tty", id)).toEqual(["tty-1", "tty-2"]);
  });

  it("ships live while the container is still running", async () => {
    const id = await run("live", "trap 'exit 0' TERM; echo first; while true; do sleep 0.2; done");
    const s = shipper();
    const handle = s.start({ dockerId: id, containerName: "live", taskArn: TASK, logOptions: { "awslogs-group": "/ecs/live", "awslogs-create-group": "true", "awslogs-stream-prefix": "p" } });
    const seen = await until("the first line in CloudWatch Logs", async () => {
      const m = await messages("/ecs/live", `p/live/${TASK_ID}`).catch(() => []);
      return m.length > 0 ? m : undefined;
    });
    expect(seen).toEqual(["first"]);
    expect((await docker.getContainer(id).inspect()).State.Running).toBe(true);
    await docker.getContainer(id).kill();
    await handle.done;
  });

  it("logs an unreachable CloudWatch Logs once, not per line, and never throws", async () => {
    const lines: string[] = [];
    const dead = createAgentAwsClients(motoConfig(moto, { LOGS_ENDPOINT_URL: "http://127.0.0.1:9" }), {});
    try {
      const id = await run("dead", "for i in $(seq 1 50); do echo n$i; done");
      const s = shipper(createLogger("debug", (l) => lines.push(l)), dead);
      s.start({ dockerId: id, containerName: "d", taskArn: TASK, logOptions: { "awslogs-group": "/ecs/dead" } });
      await until("the failure to be logged", () => (lines.some((l) => l.includes("agent.awslogs.put_failed")) ? true : undefined));
      await s.stop(id, 1500);
      expect(lines.filter((l) => l.includes("agent.awslogs.put_failed"))).toHaveLength(1);
      expect(lines.some((l) => l.includes("agent.awslogs.abandoned"))).toBe(true);
    } finally {
      dead.destroy();
    }
  });

  it("resumes after a stop from the last event sent: every line exactly once, in order", async () => {
    const id = await run("resume", "trap 'exit 0' TERM; for i in $(seq 1 25); do echo tick-$i; sleep 0.2; done");
    const input = { dockerId: id, containerName: "r", taskArn: TASK, logOptions: { "awslogs-group": "/ecs/resume", "awslogs-create-group": "true" } };
    const cursors: LogCursor[] = [];
    const before = shipper();
    const first = before.start({ ...input, onSent: (c) => cursors.push(c) });
    await until("a few lines shipped", async () => ((await messages("/ecs/resume", id).catch(() => [])).length >= 3 ? true : undefined));
    // Stopped as on a server shutdown: what was sent is at or before the last cursor reported.
    await before.stop(id, 2000);
    expect(await first.done).toBe("stopped");
    const shippedBefore = (await messages("/ecs/resume", id)).length;
    expect(cursors.length).toBeGreaterThan(0);
    // The container prints on while nothing ships.
    await until("more lines printed while not shipping", async () => {
      const printed = (await docker.getContainer(id).logs({ stdout: true })).toString().split("tick-").length - 1;
      return printed >= shippedBefore + 3 ? true : undefined;
    });

    const second = shipper().start({ ...input, after: cursors.at(-1) });
    expect(await second.done).toBe("ended");
    const m = await messages("/ecs/resume", id);
    expect(m).toEqual(Array.from({ length: 25 }, (_, i) => `tick-${i + 1}`));
  }, 30_000);

  it("says the container is gone when it does not exist", async () => {
    const handle = shipper().start({ dockerId: "0".repeat(64), containerName: "x", taskArn: TASK, logOptions: { "awslogs-group": "/ecs/gone" } });
    expect(await handle.done).toBe("gone");
  });

  it("formats Docker's since exactly, to the nanosecond", () => {
    expect(logsSince({ timestamp: Date.parse("2024-01-01T00:00:01.234Z"), nanos: 567_890 })).toBe("1704067201.234567890");
    expect(logsSince({ timestamp: Date.parse("2024-01-01T00:00:01.000Z"), nanos: 5 })).toBe("1704067201.000000005");
  });
});
