// `npm start` where no Docker engine answers: the server serves the control plane anyway, says once that
// Docker is unreachable, answers RunTask as ECS does for a cluster without container instances, and
// recovers by itself when the engine appears (here: a socket proxy to the real one, opened later), and
// again after it goes away and comes back. Real clients: the JS SDK and boto3.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  CreateClusterCommand,
  DescribeTasksCommand,
  ListTagsForResourceCommand,
  PutAccountSettingCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  TagResourceCommand,
} from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { removeDataDir, startChildServer, tempDataDir, type ChildServer } from "./support/child-server.ts";
import { eventually, IMAGE, removeCluster, uniqueCluster } from "./support/docker.ts";
import { startSocketProxy, type SocketProxy } from "./support/socket-proxy.ts";

const exec = promisify(execFile);
const NO_INSTANCES = "No Container Instances were found in your cluster.";

describe("serving without a Docker engine", () => {
  const cluster = uniqueCluster("nodocker");
  const dataDir = tempDataDir();
  const socket = join(dataDir, "docker.sock");
  let server: ChildServer;
  let proxy: SocketProxy | undefined;

  const logLines = (event: string): number => server.log().split("\n").filter((l) => l.includes(`"event":"${event}"`)).length;
  const runTask = () => server.ecs.send(new RunTaskCommand({ cluster, taskDefinition: cluster }));

  beforeAll(async () => {
    // Nobody serves this socket yet.
    server = await startChildServer({ dataDir, env: { DOCKER_HOST: `unix://${socket}` } });
  });

  afterAll(async () => {
    await server?.stop();
    await proxy?.close();
    await removeCluster(cluster);
    removeDataDir(dataDir);
  });

  it("serves the control plane and says once that Docker is unreachable", async () => {
    await server.ecs.send(new CreateClusterCommand({ clusterName: cluster }));
    const td = await server.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: cluster,
        networkMode: "bridge",
        containerDefinitions: [{ name: "app", image: IMAGE, memory: 32, command: ["sh", "-c", "exit 7"] }],
      }),
    );
    const arn = td.taskDefinition!.taskDefinitionArn!;
    await server.ecs.send(new TagResourceCommand({ resourceArn: arn, tags: [{ key: "k", value: "v" }] }));
    expect((await server.ecs.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags).toEqual([{ key: "k", value: "v" }]);
    await server.ecs.send(new PutAccountSettingCommand({ name: "containerInsights", value: "enabled" }));
    expect(logLines("docker.unreachable")).toBe(1);
    expect(server.log()).toContain(socket);
  });

  it("does not repeat itself while it keeps retrying", { timeout: 30_000 }, async () => {
    // A socket that hangs up on every connection: the retries become countable.
    proxy = await startSocketProxy(socket);
    proxy.refuse(true);
    await eventually("three more connection attempts", () => (proxy!.refused >= 3 ? true : undefined), 20_000, 100);
    expect(logLines("docker.unreachable")).toBe(1);
    expect(logLines("docker.connected")).toBe(0);
  });

  it("answers RunTask like ECS with no container instance (EC2), and with a capacity failure (Fargate)", async () => {
    await expect(runTask()).rejects.toMatchObject({ name: "InvalidParameterException", message: NO_INSTANCES });
    const script = `
import boto3, sys, botocore
ecs = boto3.client("ecs", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t")
try:
    ecs.run_task(cluster=sys.argv[2], taskDefinition=sys.argv[2])
except botocore.exceptions.ClientError as e:
    print(e.response["Error"]["Code"] + "|" + e.response["Error"]["Message"])
`;
    const { stdout } = await exec("python3", ["-c", script, server.url, cluster]);
    expect(stdout.trim()).toBe(`InvalidParameterException|${NO_INSTANCES}`);

    await server.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: `${cluster}-fargate`,
        networkMode: "awsvpc",
        requiresCompatibilities: ["FARGATE"],
        cpu: "256",
        memory: "512",
        containerDefinitions: [{ name: "app", image: IMAGE }],
      }),
    );
    const fargate = await server.ecs.send(
      new RunTaskCommand({
        cluster,
        taskDefinition: `${cluster}-fargate`,
        launchType: "FARGATE",
        networkConfiguration: { awsvpcConfiguration: { subnets: ["subnet-1"] } },
      }),
    );
    expect(fargate.tasks).toEqual([]);
    expect(fargate.failures).toEqual([{ reason: "Capacity is unavailable at this time. Please try again later or in a different availability zone" }]);
  });

  it("runs tasks once the Docker engine answers, and says so once", { timeout: 90_000 }, async () => {
    proxy!.refuse(false);
    await eventually("the agent endpoint to start", () => (server.log().includes('"event":"agent.endpoint"') ? true : undefined), 30_000, 100);
    await eventually("RunTask to be accepted", async () => {
      try {
        return await runTask();
      } catch (err) {
        if ((err as Error).message === NO_INSTANCES) return undefined;
        throw err;
      }
    }).then(async (out) => {
      const arn = out.tasks![0]!.taskArn!;
      const stopped = await eventually(`${arn} STOPPED`, async () => {
        const t = (await server.ecs.send(new DescribeTasksCommand({ cluster, tasks: [arn] }))).tasks?.[0];
        return t?.lastStatus === "STOPPED" ? t : undefined;
      }, 60_000, 200);
      expect(stopped.containers?.[0]?.exitCode).toBe(7);
    });
    expect(logLines("docker.connected")).toBe(1);
    expect(logLines("docker.unreachable")).toBe(1);
  });

  it("refuses RunTask while the engine is away again, and recovers by itself", { timeout: 90_000 }, async () => {
    proxy!.refuse(true);
    proxy!.cutAll();
    await eventually("the outage to be noticed", () => (logLines("docker.unreachable") === 2 ? true : undefined), 30_000, 100);
    await expect(runTask()).rejects.toMatchObject({ name: "InvalidParameterException", message: NO_INSTANCES });
    proxy!.refuse(false);
    await eventually("the engine to be back", () => (logLines("docker.connected") === 2 ? true : undefined), 30_000, 100);
    const out = await runTask();
    expect(out.tasks?.[0]?.lastStatus).toBe("PENDING");
    expect(logLines("docker.unreachable")).toBe(2);
  });
});
