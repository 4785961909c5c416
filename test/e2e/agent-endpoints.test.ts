// The agent endpoints end to end: the whole server in-process on real Docker, moto_server as AWS, and
// task containers that read their metadata, credentials, secrets and logs exactly as a workload would
// (from the env vars the agent injected).
import { eventually } from "../support/eventually.ts";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { CloudWatchLogsClient, GetLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import {
  CreateClusterCommand,
  DescribeTasksCommand,
  ECSClient,
  GetTaskProtectionCommand,
  UpdateTaskProtectionCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  type ContainerDefinition,
  type Task,
} from "@aws-sdk/client-ecs";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/runtime/config.ts";
import { silentLogger } from "../../src/runtime/logger.ts";
import { createServer, type LocalEcsApi } from "../../src/runtime/server.ts";
import { containerLogs, docker, removeClusterContainers, taskContainerId, TEST_IMAGE } from "../support/docker.ts";
import { startMoto, type MotoServer } from "../support/moto.ts";

const run = promisify(execFile);
const SUFFIX = `${process.pid}${Date.now().toString(36)}`;
const CLUSTER = `e2e-agent-${SUFFIX}`;
const T = 45_000;
/** moto's STS assumes any role ARN; the secrets are fetched with this role's credentials. */
const EXECUTION_ROLE = "arn:aws:iam::123456789012:role/e2e-execution";
/** Runs until SIGTERM, then exits 0 (busybox sh as PID 1 ignores SIGTERM otherwise). */
const IDLE = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1 & wait $!; done"];
/** The credentials URL in either endpoint mode (RELATIVE_URI, or FULL_URI + token when port 80 is taken). */
const CREDS_URL = 'if [ -n "$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI" ]; then U="http://169.254.170.2$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"; else U="$AWS_CONTAINER_CREDENTIALS_FULL_URI"; fi';

interface Running {
  server: LocalEcsApi;
  ecs: ECSClient;
}

let moto: MotoServer;
let dataDir: string;
let current: Running;
const taskArns: string[] = [];

function serverEnv(): Record<string, string> {
  return {
    DATA_DIR: dataDir,
    PORT: "0",
    AWS_DEFAULT_REGION: "us-east-1",
    AWS_ACCOUNT_ID: "123456789012",
    STS_ENDPOINT: moto.endpoint,
    IAM_ENDPOINT: moto.endpoint,
    SSM_ENDPOINT_URL: moto.endpoint,
    SECRET_MANAGER_ENDPOINT_URL: moto.endpoint,
    LOGS_ENDPOINT_URL: moto.endpoint,
    ECS_ENDPOINT_AWS_ACCESS_KEY_ID: "testing",
    ECS_ENDPOINT_AWS_SECRET_ACCESS_KEY: "testing",
    CONTAINER_CLEANUP_DELAY: "1h",
  };
}

async function startServer(): Promise<Running> {
  const server = await createServer({ config: loadConfig(serverEnv()), docker: true, logger: silentLogger, validateResponses: true });
  const { url } = await server.listen();
  const ecs = new ECSClient({ endpoint: url, region: "us-east-1", credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "secret" }, maxAttempts: 1 });
  return { server, ecs };
}

async function stopServer(r: Running): Promise<void> {
  r.ecs.destroy();
  await r.server.close();
}

let families = 0;
async function runTask(containerDefinitions: ContainerDefinition[], extra: { taskRoleArn?: string; executionRoleArn?: string } = {}): Promise<string> {
  const family = `e2eagent${SUFFIX}-${++families}`;
  await current.ecs.send(new RegisterTaskDefinitionCommand({ family, containerDefinitions, ...extra }));
  const out = await current.ecs.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: family }));
  const arn = out.tasks?.[0]?.taskArn;
  if (arn === undefined) throw new Error(`RunTask failed: ${JSON.stringify(out.failures)}`);
  taskArns.push(arn);
  return arn;
}

async function describe1(arn: string): Promise<Task> {
  const out = await current.ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: [arn] }));
  const task = out.tasks?.[0];
  if (task === undefined) throw new Error(`task ${arn} not found`);
  return task;
}

function until<V>(what: string, check: () => Promise<V | undefined>, timeoutMs = T): Promise<V> {
  return eventually(what, check, timeoutMs, 200);
}

const waitStatus = (arn: string, status: string): Promise<Task> =>
  until(`${arn} ${status}`, async () => {
    const t = await describe1(arn);
    return t.lastStatus === status ? t : undefined;
  });

/** The lines a container printed that start with `prefix`, prefix removed. */
async function printed(arn: string, container: string, prefix: string): Promise<string[]> {
  const id = await taskContainerId(arn, container);
  return (await containerLogs(id))
    .split("\n")
    .filter((l) => l.startsWith(prefix))
    .map((l) => l.slice(prefix.length));
}

async function containerEnv(arn: string, container: string): Promise<Record<string, string>> {
  const id = await taskContainerId(arn, container);
  const env = JSON.parse(await docker("inspect", "--format", "{{json .Config.Env}}", id)) as string[];
  return Object.fromEntries(env.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
}

async function getJson(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: await res.json() };
}

beforeAll(async () => {
  moto = await startMoto();
  dataDir = mkdtempSync(join(tmpdir(), "e2e-agent-"));
  current = await startServer();
  await current.ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
});

afterAll(async () => {
  if (current !== undefined) {
    for (const arn of taskArns) await current.ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: arn })).catch(() => {});
    await Promise.all(taskArns.map((arn) => waitStatus(arn, "STOPPED").catch(() => {})));
    await stopServer(current);
  }
  await removeClusterContainers(CLUSTER);
  await moto?.stop();
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
});

describe("agent endpoints end to end (real Docker, moto, real SDK)", () => {
  it("a task reads its live metadata: a sibling that already exited shows KnownStatus STOPPED", async () => {
    const arn = await runTask([
      { name: "side", image: TEST_IMAGE, memory: 32, essential: false, command: ["sh", "-c", "exit 0"] },
      {
        name: "main",
        image: TEST_IMAGE,
        memory: 64,
        cpu: 10,
        dockerLabels: { "e2e.label": "yes" },
        dependsOn: [{ containerName: "side", condition: "COMPLETE" }],
        // The engine records RUNNING just after Docker's start returns, so a container's very first
        // request can still see itself CREATED: wait for RUNNING as a workload would.
        command: [
          "sh",
          "-c",
          'for i in $(seq 1 50); do S=$(http-get $ECS_CONTAINER_METADATA_URI_V4); case "$S" in *\'"KnownStatus":"RUNNING"\'*) break;; esac; sleep 0.1; done; ' +
            'echo "TASK:$(http-get $ECS_CONTAINER_METADATA_URI_V4/task)"; echo "SELF:$S"',
        ],
      },
    ]);
    const stopped = await waitStatus(arn, "STOPPED");
    const [taskLine] = await printed(arn, "main", "TASK:");
    const [selfLine] = await printed(arn, "main", "SELF:");
    const task = JSON.parse(taskLine ?? "null");
    const self = JSON.parse(selfLine ?? "null");

    expect(task).toMatchObject({
      Cluster: CLUSTER,
      TaskARN: arn,
      Family: `e2eagent${SUFFIX}-1`,
      Revision: "1",
      DesiredStatus: "RUNNING",
      KnownStatus: "RUNNING",
      LaunchType: "EC2",
      FaultInjectionEnabled: false,
    });
    const byName = Object.fromEntries((task.Containers as any[]).map((c) => [c.Name, c]));
    expect(Object.keys(byName).sort()).toEqual(["main", "side"]);
    expect(byName["side"]).toMatchObject({
      KnownStatus: "STOPPED",
      ExitCode: 0,
      Type: "NORMAL",
      DockerId: expect.stringMatching(/^[0-9a-f]{64}$/),
      DockerName: expect.stringMatching(/^ecs-e2eagent.*-side-[0-9a-f]{20}$/),
      Image: TEST_IMAGE,
      ImageID: expect.stringMatching(/^sha256:/),
      Limits: { CPU: 2, Memory: 32 },
      StartedAt: expect.any(String),
      FinishedAt: expect.any(String),
    });
    expect(byName["main"]).toMatchObject({
      KnownStatus: "RUNNING",
      DesiredStatus: "RUNNING",
      Limits: { CPU: 10, Memory: 64 },
      CreatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/),
      StartedAt: expect.any(String),
      ContainerARN: stopped.containers?.find((c) => c.name === "main")?.containerArn,
      Labels: {
        "e2e.label": "yes",
        "com.amazonaws.ecs.cluster": CLUSTER,
        "com.amazonaws.ecs.container-name": "main",
        "com.amazonaws.ecs.task-arn": arn,
        "com.amazonaws.ecs.task-definition-family": `e2eagent${SUFFIX}-1`,
        "com.amazonaws.ecs.task-definition-version": "1",
      },
    });
    expect(byName["main"].Networks[0]).toMatchObject({ NetworkMode: expect.stringMatching(/^ecs-task-/), IPv4Addresses: [expect.stringMatching(/^\d+\.\d+\.\d+\.\d+$/)] });
    expect(self).toMatchObject({ Name: "main", KnownStatus: "RUNNING", DockerId: byName["main"].DockerId });

    // The same endpoint still answers after the task stopped, now with everything STOPPED.
    const uri = (await containerEnv(arn, "main"))["ECS_CONTAINER_METADATA_URI_V4"]!;
    const after = await getJson(`${uri}/task`);
    expect(after.status).toBe(200);
    expect(after.body).toMatchObject({ TaskARN: arn, KnownStatus: "STOPPED", DesiredStatus: "STOPPED" });
    expect((after.body.Containers as any[]).every((c) => c.KnownStatus === "STOPPED")).toBe(true);
  });

  it("a task with a task role gets that role's credentials; other ids are refused", async () => {
    const roleName = `e2e-role-${SUFFIX}`;
    const { stdout } = await run(
      "aws",
      ["--endpoint-url", moto.endpoint, "--region", "us-east-1", "--output", "json", "iam", "create-role", "--role-name", roleName,
        "--assume-role-policy-document", JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "ecs-tasks.amazonaws.com" }, Action: "sts:AssumeRole" }] })],
      { env: { ...process.env, AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing", AWS_PAGER: "" } },
    );
    const roleArn = JSON.parse(stdout).Role.Arn as string;

    const arn = await runTask(
      [
        {
          name: "app",
          image: TEST_IMAGE,
          memory: 32,
          command: [
            "sh",
            "-c",
            `${CREDS_URL}; for i in 1 2 3 4 5 6 7 8 9 10; do C=$(http-get "$U" "Authorization: $AWS_CONTAINER_AUTHORIZATION_TOKEN"); case "$C" in *AccessKeyId*) break;; esac; sleep 1; done; ` +
              'echo "CREDS:$C"; echo "OTHER:$(http-get "${U%/*}/3f1b7c2e-0000-4000-8000-000000000000" "Authorization: $AWS_CONTAINER_AUTHORIZATION_TOKEN")"; ' +
              "trap 'exit 0' TERM; while true; do sleep 1 & wait $!; done",
          ],
        },
      ],
      { taskRoleArn: roleArn },
    );
    await waitStatus(arn, "RUNNING");
    const creds = JSON.parse((await until("credentials printed", async () => (await printed(arn, "app", "CREDS:"))[0])) ?? "null");
    expect(creds).toMatchObject({ RoleArn: roleArn, AccessKeyId: expect.any(String), SecretAccessKey: expect.any(String), Token: expect.any(String) });
    expect(creds.Expiration).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const other = JSON.parse((await printed(arn, "app", "OTHER:"))[0] ?? "null");
    expect(other).toEqual({ code: "InvalidIdInRequest", message: "CredentialsV2Request: Credentials not found", HTTPErrorCode: 400 });

    // The credentials id is only in this task's env, and dies with the task.
    const env = await containerEnv(arn, "app");
    const url = env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] ?? `http://169.254.170.2${env["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"]}`;
    const headers: Record<string, string> = env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] === undefined ? {} : { Authorization: env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] };
    expect((await getJson(url, headers)).body.RoleArn).toBe(roleArn);
    await current.ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: arn }));
    await waitStatus(arn, "STOPPED");
    expect(await getJson(url, headers)).toEqual({ status: 400, body: { code: "InvalidIdInRequest", message: "CredentialsV2Request: Credentials not found", HTTPErrorCode: 400 } });
  });

  it("SSM and Secrets Manager secrets reach the container env; a missing one fails the task to start", async () => {
    const ssm = new SSMClient({ endpoint: moto.endpoint, region: "us-east-1", credentials: moto.credentials });
    const sm = new SecretsManagerClient({ endpoint: moto.endpoint, region: "us-east-1", credentials: moto.credentials });
    try {
      await ssm.send(new PutParameterCommand({ Name: `e2e-${SUFFIX}-plain`, Value: "plain-value", Type: "String" }));
      await ssm.send(new PutParameterCommand({ Name: `/e2e/${SUFFIX}/db/password`, Value: "hier-value", Type: "SecureString" }));
      const plain = await sm.send(new CreateSecretCommand({ Name: `e2e-${SUFFIX}-token`, SecretString: "sm-plain-value" }));
      const json = await sm.send(new CreateSecretCommand({ Name: `e2e-${SUFFIX}-db`, SecretString: JSON.stringify({ username: "admin", port: 5432 }) }));

      const arn = await runTask([
        {
          name: "app",
          image: TEST_IMAGE,
          memory: 32,
          secrets: [
            { name: "S_PLAIN", valueFrom: `e2e-${SUFFIX}-plain` },
            { name: "S_HIER", valueFrom: `arn:aws:ssm:us-east-1:123456789012:parameter/e2e/${SUFFIX}/db/password` },
            { name: "S_SM", valueFrom: plain.ARN! },
            { name: "S_SM_KEY", valueFrom: `${json.ARN!}:username::` },
          ],
          command: ["sh", "-c", 'echo "SECRET:S_PLAIN=$S_PLAIN"; echo "SECRET:S_HIER=$S_HIER"; echo "SECRET:S_SM=$S_SM"; echo "SECRET:S_SM_KEY=$S_SM_KEY"'],
        },
      ], { executionRoleArn: EXECUTION_ROLE });
      const stopped = await waitStatus(arn, "STOPPED");
      expect(stopped.stopCode).toBe("EssentialContainerExited");
      expect(await printed(arn, "app", "SECRET:")).toEqual(["S_PLAIN=plain-value", "S_HIER=hier-value", "S_SM=sm-plain-value", "S_SM_KEY=admin"]);

      const missing = await runTask([
        { name: "app", image: TEST_IMAGE, memory: 32, secrets: [{ name: "NOPE", valueFrom: `e2e-${SUFFIX}-missing` }], command: ["sh", "-c", "echo never"] },
      ], { executionRoleArn: EXECUTION_ROLE });
      const failed = await waitStatus(missing, "STOPPED");
      expect(failed.stopCode).toBe("TaskFailedToStart");
      expect(failed.stoppedReason).toMatch(/^ResourceInitializationError: unable to pull secrets or registry auth: /);
      expect(failed.stoppedReason).toContain(`e2e-${SUFFIX}-missing`);
      expect(await taskContainerId(missing, "app")).toBe("");
    } finally {
      ssm.destroy();
      sm.destroy();
    }
  });

  it("awslogs: lines arrive in CloudWatch Logs in order under <group> / <prefix>/<container>/<task-id>", async () => {
    const group = `/e2e/${SUFFIX}`;
    const arn = await runTask([
      {
        name: "app",
        image: TEST_IMAGE,
        memory: 32,
        logConfiguration: {
          logDriver: "awslogs",
          options: { "awslogs-group": group, "awslogs-region": "us-east-1", "awslogs-stream-prefix": "e2e", "awslogs-create-group": "true" },
        },
        command: ["sh", "-c", "for i in 1 2 3 4 5 6 7 8; do echo line-$i; done"],
      },
    ]);
    await waitStatus(arn, "STOPPED");
    const taskId = arn.slice(arn.lastIndexOf("/") + 1);
    const logs = new CloudWatchLogsClient({ endpoint: moto.endpoint, region: "us-east-1", credentials: moto.credentials });
    try {
      const messages = await until("log events in moto", async () => {
        const out = await logs.send(new GetLogEventsCommand({ logGroupName: group, logStreamName: `e2e/app/${taskId}`, startFromHead: true }));
        const m = (out.events ?? []).map((e) => e.message);
        return m.length >= 8 ? m : undefined;
      });
      expect(messages).toEqual(["line-1", "line-2", "line-3", "line-4", "line-5", "line-6", "line-7", "line-8"]);
    } finally {
      logs.destroy();
    }
  });

  it("UpdateTaskProtection through the SDK is what the task sees at $ECS_AGENT_URI/task-protection/v1/state", async () => {
    const arn = await runTask([
      {
        name: "app",
        image: TEST_IMAGE,
        memory: 32,
        command: [
          "sh",
          "-c",
          'for i in $(seq 1 300); do P=$(http-get $ECS_AGENT_URI/task-protection/v1/state); case "$P" in *\'"ProtectionEnabled":true\'*) break;; esac; sleep 0.1; done; ' +
            'echo "PROTECTION:$P"; ' +
            "trap 'exit 0' TERM; while true; do sleep 1 & wait $!; done",
        ],
      },
    ]);
    await waitStatus(arn, "RUNNING");
    const updated = await current.ecs.send(new UpdateTaskProtectionCommand({ cluster: CLUSTER, tasks: [arn], protectionEnabled: true, expiresInMinutes: 30 }));
    expect(updated.failures).toEqual([]);
    const expiration = updated.protectedTasks?.[0]?.expirationDate;
    expect(expiration).toBeInstanceOf(Date);
    const seen = JSON.parse(await until("protection seen by the task", async () => (await printed(arn, "app", "PROTECTION:"))[0]));
    expect(seen.protection).toMatchObject({ ProtectionEnabled: true, TaskArn: arn });
    expect(new Date(seen.protection.ExpirationDate).getTime()).toBe(expiration!.getTime());

    await current.ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: arn }));
    await waitStatus(arn, "STOPPED");
    const after = await current.ecs.send(new GetTaskProtectionCommand({ cluster: CLUSTER, tasks: [arn, "0".repeat(32)] }));
    expect(after.protectedTasks).toEqual([{ taskArn: arn, protectionEnabled: false }]);
    expect(after.failures).toEqual([{ arn: arn.replace(/[0-9a-f]{32}$/, "0".repeat(32)), reason: "MISSING" }]);
  });

  it("after a server restart on the same DATA_DIR, a running task's metadata and credentials still answer", async () => {
    const arn = await runTask([{ name: "app", image: TEST_IMAGE, memory: 32, command: IDLE }], { taskRoleArn: "arn:aws:iam::123456789012:role/e2e-restart" });
    await waitStatus(arn, "RUNNING");
    const env = await containerEnv(arn, "app");
    const uri = env["ECS_CONTAINER_METADATA_URI_V4"]!;
    const credsUrl = env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] ?? `http://169.254.170.2${env["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"]}`;
    const headers: Record<string, string> = env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] === undefined ? {} : { Authorization: env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] };
    expect((await getJson(`${uri}/task`)).body).toMatchObject({ TaskARN: arn, KnownStatus: "RUNNING" });

    await stopServer(current);
    current = await startServer();

    const task = await until("metadata after restart", async () => {
      const r = await getJson(`${uri}/task`);
      return r.status === 200 ? r.body : undefined;
    });
    expect(task).toMatchObject({ TaskARN: arn, KnownStatus: "RUNNING" });
    expect((await getJson(uri)).body).toMatchObject({ Name: "app", KnownStatus: "RUNNING" });
    const creds = await until("credentials after restart", async () => {
      const r = await getJson(credsUrl, headers);
      return r.status === 200 ? r.body : undefined;
    });
    expect(creds.RoleArn).toBe("arn:aws:iam::123456789012:role/e2e-restart");
    expect((await describe1(arn)).lastStatus).toBe("RUNNING");
  });

  it("after a server restart, task protection set through the API and through $ECS_AGENT_URI still holds", async () => {
    const viaApi = await runTask([{ name: "app", image: TEST_IMAGE, memory: 32, command: IDLE }]);
    const viaAgent = await runTask([{ name: "app", image: TEST_IMAGE, memory: 32, command: IDLE }]);
    await waitStatus(viaApi, "RUNNING");
    await waitStatus(viaAgent, "RUNNING");
    const apiSet = await current.ecs.send(new UpdateTaskProtectionCommand({ cluster: CLUSTER, tasks: [viaApi], protectionEnabled: true, expiresInMinutes: 30 }));
    const apiExpiration = apiSet.protectedTasks?.[0]?.expirationDate;
    expect(apiExpiration).toBeInstanceOf(Date);
    const agentUri = (await containerEnv(viaAgent, "app"))["ECS_AGENT_URI"]!;
    const put = await fetch(`${agentUri}/task-protection/v1/state`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ProtectionEnabled: true, ExpiresInMinutes: 45 }),
      signal: AbortSignal.timeout(5000),
    });
    expect(put.status).toBe(200);
    const agentExpiration = new Date(((await put.json()) as { protection: { ExpirationDate: string } }).protection.ExpirationDate);

    await stopServer(current);
    current = await startServer();

    const after = await current.ecs.send(new GetTaskProtectionCommand({ cluster: CLUSTER, tasks: [viaApi, viaAgent] }));
    expect(after.failures).toEqual([]);
    expect(after.protectedTasks).toEqual([
      { taskArn: viaApi, protectionEnabled: true, expirationDate: apiExpiration },
      { taskArn: viaAgent, protectionEnabled: true, expirationDate: agentExpiration },
    ]);
    // The re-adopted task sees the same through its agent endpoint.
    const apiUri = (await containerEnv(viaApi, "app"))["ECS_AGENT_URI"]!;
    const seen = await until("the agent endpoint after restart", async () => {
      const r = await getJson(`${apiUri}/task-protection/v1/state`).catch(() => undefined);
      return r?.status === 200 ? r.body : undefined;
    });
    expect(seen.protection).toMatchObject({ ProtectionEnabled: true, TaskArn: viaApi });
    expect(new Date(seen.protection.ExpirationDate).getTime()).toBe(apiExpiration!.getTime());
  });

  it("awslogs resumes after a server restart: every line reaches CloudWatch Logs exactly once, in order", async () => {
    const group = `/e2e/${SUFFIX}/resume`;
    const LINES = 40;
    const arn = await runTask([
      {
        name: "app",
        image: TEST_IMAGE,
        memory: 32,
        logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": group, "awslogs-region": "us-east-1", "awslogs-stream-prefix": "e2e", "awslogs-create-group": "true" } },
        // One line per 200 ms, then idle, so the container is still running when the server comes back.
        command: ["sh", "-c", `trap 'exit 0' TERM; for i in $(seq 1 ${LINES}); do echo tick-$i; sleep 0.2; done; while true; do sleep 1 & wait $!; done`],
      },
    ]);
    await waitStatus(arn, "RUNNING");
    const stream = `e2e/app/${arn.slice(arn.lastIndexOf("/") + 1)}`;
    const logs = new CloudWatchLogsClient({ endpoint: moto.endpoint, region: "us-east-1", credentials: moto.credentials });
    const shipped = async (): Promise<string[]> => {
      const out = await logs.send(new GetLogEventsCommand({ logGroupName: group, logStreamName: stream, startFromHead: true }));
      return (out.events ?? []).map((e) => e.message ?? "");
    };
    try {
      await until("the first lines in CloudWatch Logs", async () => ((await shipped().catch(() => [])).length >= 5 ? true : undefined));
      await stopServer(current);
      const atStop = (await printed(arn, "app", "tick-")).length;
      expect(atStop).toBeLessThan(LINES);
      // Lines printed while no server runs must arrive too.
      await until("lines printed while the server is down", async () => ((await printed(arn, "app", "tick-")).length >= atStop + 3 ? true : undefined));
      current = await startServer();

      const messages = await until("every line in CloudWatch Logs", async () => {
        const m = await shipped();
        return m.length >= LINES ? m : undefined;
      });
      expect(messages).toEqual(Array.from({ length: LINES }, (_, i) => `tick-${i + 1}`));
      expect((await describe1(arn)).lastStatus).toBe("RUNNING");
    } finally {
      logs.destroy();
    }
  });
});
