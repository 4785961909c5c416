// A task run from a client signed for us-west-2 lives in us-west-2: its ARNs, its availability zone, the
// region injected into its containers (AWS_REGION/AWS_DEFAULT_REGION) and its task metadata. From
// us-east-1 it is not there. The whole server in-process on real Docker, the real JS SDK.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateClusterCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  type Task,
} from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/runtime/config.ts";
import { silentLogger } from "../../src/runtime/logger.ts";
import { createServer, type LocalEcsApi } from "../../src/runtime/server.ts";
import { containerLogs, removeClusterContainers, taskContainerId, TEST_IMAGE } from "../support/docker.ts";
import { eventually } from "../support/eventually.ts";

const ACCOUNT = "123456789012";
const CLUSTER = `e2e-regions-${process.pid}${Date.now().toString(36)}`;

let dataDir: string;
let server: LocalEcsApi;
const clients: ECSClient[] = [];
let west: ECSClient;
let east: ECSClient;

function client(url: string, region: string): ECSClient {
  const c = new ECSClient({ endpoint: url, region, credentials: { accessKeyId: "AKIDREGIONS", secretAccessKey: "secret" }, maxAttempts: 1 });
  clients.push(c);
  return c;
}

async function describeIn(ecs: ECSClient, arn: string): Promise<{ tasks: Task[]; failures: unknown[] }> {
  const out = await ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: [arn] }));
  return { tasks: out.tasks ?? [], failures: out.failures ?? [] };
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "e2e-regions-"));
  server = await createServer({
    config: loadConfig({ DATA_DIR: dataDir, PORT: "0", AWS_DEFAULT_REGION: "us-east-1", AWS_ACCOUNT_ID: ACCOUNT }),
    docker: true,
    logger: silentLogger,
    validateResponses: true,
  });
  const { url } = await server.listen();
  west = client(url, "us-west-2");
  east = client(url, "us-east-1");
  await west.send(new CreateClusterCommand({ clusterName: CLUSTER }));
  await east.send(new CreateClusterCommand({ clusterName: CLUSTER }));
});

afterAll(async () => {
  for (const c of clients) c.destroy();
  await server?.close();
  await removeClusterContainers(CLUSTER);
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
});

describe("a task in the caller's region", () => {
  it("has us-west-2 ARNs and zone, gets us-west-2 injected, and is invisible from us-east-1", async () => {
    await west.send(
      new RegisterTaskDefinitionCommand({
        family: "regional",
        containerDefinitions: [
          {
            name: "app",
            image: TEST_IMAGE,
            memory: 32,
            command: ["sh", "-c", 'echo "REGION:$AWS_REGION $AWS_DEFAULT_REGION"; echo "TASK:$(http-get $ECS_CONTAINER_METADATA_URI_V4/task)"; trap "exit 0" TERM; sleep 600 & wait'],
          },
        ],
      }),
    );
    const run = await west.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: "regional" }));
    const task = run.tasks![0]!;
    const arn = task.taskArn!;
    expect(arn).toMatch(new RegExp(`^arn:aws:ecs:us-west-2:${ACCOUNT}:task/${CLUSTER}/[0-9a-f]{32}$`));
    expect(task.clusterArn).toBe(`arn:aws:ecs:us-west-2:${ACCOUNT}:cluster/${CLUSTER}`);
    expect(task.taskDefinitionArn).toBe(`arn:aws:ecs:us-west-2:${ACCOUNT}:task-definition/regional:1`);
    expect(task.availabilityZone).toBe("us-west-2a");
    expect(task.containers?.[0]?.containerArn).toMatch(new RegExp(`^arn:aws:ecs:us-west-2:${ACCOUNT}:container/${CLUSTER}/`));

    const lines = await eventually("the container's output", async () => {
      const id = await taskContainerId(arn, "app");
      if (id === "") return undefined;
      const out = await containerLogs(id);
      return out.includes("TASK:{") ? out.split("\n") : undefined;
    }, 60_000, 200);
    expect(lines).toContain("REGION:us-west-2 us-west-2");
    const metadata = JSON.parse(lines.find((l) => l.startsWith("TASK:"))!.slice("TASK:".length));
    expect(metadata).toMatchObject({ TaskARN: arn, AvailabilityZone: "us-west-2a" });

    // From us-east-1, the same cluster name is another cluster: the task is not in it.
    expect((await describeIn(east, arn)).failures).toEqual([{ arn, reason: "MISSING" }]);
    expect((await east.send(new ListTasksCommand({ cluster: CLUSTER }))).taskArns).toEqual([]);
    await expect(east.send(new StopTaskCommand({ cluster: CLUSTER, task: arn }))).rejects.toMatchObject({ name: "InvalidParameterException" });
    expect((await west.send(new ListTasksCommand({ cluster: CLUSTER }))).taskArns).toEqual([arn]);
    // The task id alone resolves in the caller's region.
    expect((await describeIn(west, arn.slice(arn.lastIndexOf("/") + 1))).tasks[0]?.taskArn).toBe(arn);

    await west.send(new StopTaskCommand({ cluster: CLUSTER, task: arn }));
    await eventually("the task to stop", async () => ((await describeIn(west, arn)).tasks[0]?.lastStatus === "STOPPED" ? true : undefined), 60_000, 200);
  });
});
