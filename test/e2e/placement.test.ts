import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  CreateCapacityProviderCommand,
  CreateClusterCommand,
  CreateDaemonCommand,
  DeleteDaemonCommand,
  DescribeContainerInstancesCommand,
  DescribeDaemonCommand,
  DescribeDaemonDeploymentsCommand,
  DescribeTasksCommand,
  ListContainerInstancesCommand,
  ListTasksCommand,
  PutAttributesCommand,
  PutClusterCapacityProvidersCommand,
  RegisterDaemonTaskDefinitionCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StartTaskCommand,
  StopTaskCommand,
  UpdateContainerInstancesStateCommand,
  waitUntilTasksRunning,
  waitUntilTasksStopped,
  type Failure,
  type Task,
} from "@aws-sdk/client-ecs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { removeClusterContainers, TEST_IMAGE } from "../support/docker.ts";
import { eventually } from "../support/eventually.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

const run = promisify(execFile);
const CLUSTER = `placement-${process.pid}`;
const DAEMONS = `daemons-${process.pid}`;
const TRAP_SLEEP = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"];
// Three container instances of CLUSTER on the local engine (small, so resources decide), one of DAEMONS.
const INSTANCES = [
  `${CLUSTER}=unix:///var/run/docker.sock?cpu=1024&memory=512&az=us-east-1a`,
  `${CLUSTER}=unix:///var/run/docker.sock?cpu=1024&memory=1024&az=us-east-1b`,
  `${DAEMONS}=unix:///var/run/docker.sock?capacityProvider=mi-${process.pid}`,
].join(",");

describe("placement on container instances (real Docker, real clients)", () => {
  let t: TestServer;
  let composeDest: string;
  let small: string;
  let large: string;

  const runTasks = async (input: Record<string, unknown>): Promise<{ tasks: Task[]; failures: Failure[] }> => {
    const out = await t.ecs.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: "sleeper", ...input }));
    return { tasks: out.tasks ?? [], failures: out.failures ?? [] };
  };
  const placedOn = (tasks: Task[]): string[] => tasks.map((x) => (x.containerInstanceArn === small ? "small" : x.containerInstanceArn === large ? "large" : "?"));
  const describe1 = async (arn: string) =>
    (await t.ecs.send(new DescribeContainerInstancesCommand({ cluster: CLUSTER, containerInstances: [arn] }))).containerInstances![0]!;

  beforeAll(async () => {
    composeDest = mkdtempSync(join(tmpdir(), "local-ecs-api-compose-"));
    t = await startTestServer({ docker: true, env: { COMPOSE_DEST: composeDest, CONTAINER_INSTANCES: INSTANCES } });
    await t.ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
    await t.ecs.send(
      new RegisterTaskDefinitionCommand({ family: "sleeper", containerDefinitions: [{ name: "app", image: TEST_IMAGE, memory: 128, command: TRAP_SLEEP, stopTimeout: 5 }] }),
    );
    const arns = (await t.ecs.send(new ListContainerInstancesCommand({ cluster: CLUSTER }))).containerInstanceArns!;
    expect(arns).toHaveLength(2);
    [small, large] = arns as [string, string];
  });

  afterEach(async () => {
    // Every test starts from empty instances.
    const { taskArns } = await t.ecs.send(new ListTasksCommand({ cluster: CLUSTER }));
    for (const arn of taskArns ?? []) await t.ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: arn }));
    if ((taskArns ?? []).length > 0) await waitUntilTasksStopped({ client: t.ecs, maxWaitTime: 60 }, { cluster: CLUSTER, tasks: taskArns! });
    for (const arn of [small, large]) {
      await t.ecs.send(new UpdateContainerInstancesStateCommand({ cluster: CLUSTER, containerInstances: [arn], status: "ACTIVE" }));
    }
  });

  afterAll(async () => {
    await t?.close();
    await removeClusterContainers(CLUSTER);
    await removeClusterContainers(DAEMONS);
    rmSync(composeDest, { recursive: true, force: true });
  });

  it("a task too big for every instance fails with RESOURCE:MEMORY naming each instance", async () => {
    const out = await runTasks({ overrides: { memory: "2048" } });
    expect(out.tasks).toEqual([]);
    expect(out.failures).toEqual([
      { arn: small, reason: "RESOURCE:MEMORY" },
      { arn: large, reason: "RESOURCE:MEMORY" },
    ]);
  });

  it("tasks get their instance and zone; the instance's counts and remaining resources follow them", async () => {
    const { tasks } = await runTasks({ placementStrategy: [{ type: "binpack", field: "memory" }] });
    expect(placedOn(tasks)).toEqual(["small"]);
    expect(tasks[0]).toMatchObject({ launchType: "EC2", availabilityZone: "us-east-1a" });
    await waitUntilTasksRunning({ client: t.ecs, maxWaitTime: 60 }, { cluster: CLUSTER, tasks: [tasks[0]!.taskArn!] });
    const ci = await describe1(small);
    expect(ci).toMatchObject({ runningTasksCount: 1, pendingTasksCount: 0 });
    expect(ci.remainingResources!.find((r) => r.name === "MEMORY")!.integerValue).toBe(512 - 128);
    const listed = await t.ecs.send(new ListTasksCommand({ cluster: CLUSTER, containerInstance: small }));
    expect(listed.taskArns).toEqual([tasks[0]!.taskArn]);
    const byId = await t.ecs.send(new ListTasksCommand({ cluster: CLUSTER, containerInstance: small.split("/").pop()! }));
    expect(byId.taskArns).toEqual([tasks[0]!.taskArn]);
    expect((await t.ecs.send(new ListTasksCommand({ cluster: CLUSTER, containerInstance: large }))).taskArns).toEqual([]);
    await t.ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: tasks[0]!.taskArn! }));
    await waitUntilTasksStopped({ client: t.ecs, maxWaitTime: 60 }, { cluster: CLUSTER, tasks: [tasks[0]!.taskArn!] });
    const after = await describe1(small);
    expect(after).toMatchObject({ runningTasksCount: 0, pendingTasksCount: 0 });
    expect(after.remainingResources).toEqual(after.registeredResources);
  });

  it("spread on instanceId: 4 tasks → 2 and 2", async () => {
    const { tasks, failures } = await runTasks({ count: 4, placementStrategy: [{ type: "spread", field: "instanceId" }] });
    expect(failures).toEqual([]);
    expect(placedOn(tasks).sort()).toEqual(["large", "large", "small", "small"]);
  });

  it("binpack on memory fills the instance with the least memory first", async () => {
    const { tasks } = await runTasks({ count: 5, placementStrategy: [{ type: "binpack", field: "memory" }] });
    expect(placedOn(tasks)).toEqual(["small", "small", "small", "small", "large"]);
  });

  it("distinctInstance: one task of the group per instance", async () => {
    const { tasks, failures } = await runTasks({ count: 3, placementConstraints: [{ type: "distinctInstance" }] });
    expect(placedOn(tasks).sort()).toEqual(["large", "small"]);
    expect(failures).toEqual([
      { arn: small, reason: "DistinctInstance placement constraint unsatisfied." },
      { arn: large, reason: "DistinctInstance placement constraint unsatisfied." },
    ]);
  });

  it("memberOf(attribute:color == blue) after PutAttributes", async () => {
    await t.ecs.send(new PutAttributesCommand({ cluster: CLUSTER, attributes: [{ name: "color", value: "blue", targetId: large }] }));
    const { tasks } = await runTasks({ count: 2, placementConstraints: [{ type: "memberOf", expression: "attribute:color == blue" }] });
    expect(placedOn(tasks)).toEqual(["large", "large"]);
  });

  it("a DRAINING instance gets nothing new; StartTask still places on a named instance", async () => {
    await t.ecs.send(new UpdateContainerInstancesStateCommand({ cluster: CLUSTER, containerInstances: [large], status: "DRAINING" }));
    const { tasks } = await runTasks({ count: 3, placementStrategy: [{ type: "spread", field: "instanceId" }] });
    expect(placedOn(tasks)).toEqual(["small", "small", "small"]);
    const started = await t.ecs.send(new StartTaskCommand({ cluster: CLUSTER, taskDefinition: "sleeper", containerInstances: [small, "0123456789abcdef0123456789abcdef"] }));
    expect(placedOn(started.tasks!)).toEqual(["small"]);
    expect(started.failures).toEqual([
      { arn: `${small.slice(0, small.lastIndexOf("/"))}/0123456789abcdef0123456789abcdef`, reason: "MISSING" },
    ]);
    // The small instance is now full (4 × 128 MiB of 512).
    const full = await t.ecs.send(new StartTaskCommand({ cluster: CLUSTER, taskDefinition: "sleeper", containerInstances: [small] }));
    expect(full.failures).toEqual([{ arn: small, reason: "RESOURCE:MEMORY" }]);
  });

  it("the cluster's default capacity provider strategy decides the launch type: Fargate tasks as Fargate reports them", async () => {
    await t.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "fargate-sleeper",
        networkMode: "awsvpc",
        requiresCompatibilities: ["FARGATE"],
        cpu: "256",
        memory: "512",
        containerDefinitions: [{ name: "app", image: TEST_IMAGE, command: TRAP_SLEEP, stopTimeout: 5 }],
      }),
    );
    await t.ecs.send(
      new PutClusterCapacityProvidersCommand({
        cluster: CLUSTER,
        capacityProviders: ["FARGATE", "FARGATE_SPOT"],
        defaultCapacityProviderStrategy: [{ capacityProvider: "FARGATE", base: 1, weight: 1 }, { capacityProvider: "FARGATE_SPOT", weight: 1 }],
      }),
    );
    try {
      const out = await t.ecs.send(
        new RunTaskCommand({
          cluster: CLUSTER,
          taskDefinition: "fargate-sleeper",
          count: 3,
          networkConfiguration: { awsvpcConfiguration: { subnets: ["subnet-1"] } },
        }),
      );
      expect(out.tasks!.map((x) => [x.capacityProviderName, x.launchType, x.platformVersion, x.platformFamily, x.containerInstanceArn])).toEqual([
        ["FARGATE", "FARGATE", "1.4.0", "Linux", undefined],
        ["FARGATE", "FARGATE", "1.4.0", "Linux", undefined],
        ["FARGATE_SPOT", "FARGATE", "1.4.0", "Linux", undefined],
      ]);
      // A provider still used by tasks cannot be removed from the cluster.
      const inUse = await t.call("PutClusterCapacityProviders", { cluster: CLUSTER, capacityProviders: [], defaultCapacityProviderStrategy: [] });
      expect(inUse.json).toMatchObject({ message: "The specified capacity provider is in use and cannot be removed." });
    } finally {
      const { taskArns } = await t.ecs.send(new ListTasksCommand({ cluster: CLUSTER }));
      for (const arn of taskArns ?? []) await t.ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: arn }));
      if ((taskArns ?? []).length > 0) await waitUntilTasksStopped({ client: t.ecs, maxWaitTime: 60 }, { cluster: CLUSTER, tasks: taskArns! });
      await t.ecs.send(new PutClusterCapacityProvidersCommand({ cluster: CLUSTER, capacityProviders: [], defaultCapacityProviderStrategy: [] }));
    }
  });

  it("the AWS CLI v2 and boto3 see the same instances", async () => {
    const env = { ...process.env, AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test", AWS_PAGER: "" };
    const { stdout } = await run(
      "/usr/bin/aws",
      ["--endpoint-url", t.url, "--region", "us-east-1", "--output", "json", "ecs", "list-container-instances", "--cluster", CLUSTER, "--filter", "attribute:ecs.availability-zone == us-east-1b"],
      { env },
    );
    expect(JSON.parse(stdout).containerInstanceArns).toEqual([large]);
    const script = [
      "import boto3, json, sys",
      `ecs = boto3.client("ecs", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")`,
      `out = ecs.describe_container_instances(cluster="${CLUSTER}", containerInstances=[sys.argv[2]])["containerInstances"][0]`,
      `print(json.dumps([out["ec2InstanceId"], out["agentConnected"], out["versionInfo"]["agentVersion"], [r["integerValue"] for r in out["registeredResources"][:2]]]))`,
    ].join("\n");
    const py = await run("python3", ["-c", script, t.url, small], { env });
    const [ec2, connected, agentVersion, resources] = JSON.parse(py.stdout) as [string, boolean, string, number[]];
    expect(ec2).toMatch(/^i-[0-9a-f]{17}$/);
    expect([connected, agentVersion, resources]).toEqual([true, "1.105.1", [1024, 512]]);
  });

  it("a daemon runs exactly one task on each matching instance, restarts it, and stops it when deleted", async () => {
    await t.ecs.send(new CreateClusterCommand({ clusterName: DAEMONS }));
    const provider = `mi-${process.pid}`;
    await t.ecs.send(
      new CreateCapacityProviderCommand({
        name: provider,
        cluster: DAEMONS,
        managedInstancesProvider: {
          infrastructureRoleArn: "arn:aws:iam::000000000000:role/ecsInfrastructureRole",
          instanceLaunchTemplate: { ec2InstanceProfileArn: "arn:aws:iam::000000000000:instance-profile/ecsInstance", networkConfiguration: { subnets: ["subnet-1"] } },
        },
      }),
    );
    const { daemonTaskDefinitionArn } = await t.ecs.send(
      new RegisterDaemonTaskDefinitionCommand({ family: "agent", containerDefinitions: [{ name: "agent", image: TEST_IMAGE, memory: 32, command: TRAP_SLEEP, stopTimeout: 5 }] }),
    );
    const [instance] = (await t.ecs.send(new ListContainerInstancesCommand({ cluster: DAEMONS }))).containerInstanceArns!;
    const created = await t.ecs.send(
      new CreateDaemonCommand({ daemonName: "agent", clusterArn: DAEMONS, daemonTaskDefinitionArn, capacityProviderArns: [provider] }),
    );
    const runningTask = async (): Promise<Task | undefined> => {
      const { taskArns } = await t.ecs.send(new ListTasksCommand({ cluster: DAEMONS, containerInstance: instance }));
      if (taskArns === undefined || taskArns.length !== 1) return undefined;
      const [task] = (await t.ecs.send(new DescribeTasksCommand({ cluster: DAEMONS, tasks: taskArns }))).tasks!;
      return task?.lastStatus === "RUNNING" ? task : undefined;
    };
    const first = await eventually("the daemon task to run", runningTask, 60_000, 200);
    expect(first).toMatchObject({ group: "daemon:agent", containerInstanceArn: instance, capacityProviderName: provider, launchType: "EC2" });
    expect((await t.ecs.send(new ListTasksCommand({ cluster: DAEMONS, daemonName: "agent" }))).taskArns).toEqual([first.taskArn]);
    expect((await t.ecs.send(new ListTasksCommand({ cluster: DAEMONS, daemonName: "other" }))).taskArns).toEqual([]);
    const deployment = await eventually("the deployment to succeed", async () => {
      const d = (await t.ecs.send(new DescribeDaemonDeploymentsCommand({ daemonDeploymentArns: [created.deploymentArn!] }))).daemonDeployments![0]!;
      return d.status === "SUCCESSFUL" ? d : undefined;
    });
    expect(deployment.targetDaemonRevision!.totalRunningInstanceCount).toBe(1);
    const detail = (await t.ecs.send(new DescribeDaemonCommand({ daemonArn: created.daemonArn! }))).daemon!;
    expect(detail.currentRevisions![0]!.totalRunningCount).toBe(1);

    // A stopped daemon task is replaced (after the restart back-off).
    await t.ecs.send(new StopTaskCommand({ cluster: DAEMONS, task: first.taskArn! }));
    const second = await eventually("a new daemon task", async () => {
      const task = await runningTask();
      return task !== undefined && task.taskArn !== first.taskArn ? task : undefined;
    }, 60_000, 200);
    expect(second.containerInstanceArn).toBe(instance);

    await t.ecs.send(new DeleteDaemonCommand({ daemonArn: created.daemonArn! }));
    await waitUntilTasksStopped({ client: t.ecs, maxWaitTime: 60 }, { cluster: DAEMONS, tasks: [second.taskArn!] });
    const stopped = (await t.ecs.send(new DescribeTasksCommand({ cluster: DAEMONS, tasks: [second.taskArn!] }))).tasks![0]!;
    expect(stopped.stoppedReason).toBe("Daemon deleted.");
  }, 120_000);
});
