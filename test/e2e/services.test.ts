import { execFile } from "node:child_process";
import { promisify } from "node:util";
import {
  CreateClusterCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  waitUntilServicesStable,
  type ECSClient,
  type Service,
  type Task,
} from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { removeDataDir, startChildServer, tempDataDir, type ChildServer } from "../reliability/support/child-server.ts";
import { docker, eventually, IMAGE, removeCluster, uniqueCluster } from "../reliability/support/docker.ts";

const run = promisify(execFile);

/** busybox sh as PID 1 ignores SIGTERM unless it traps it. */
const SERVE = (version: string) => ["sh", "-c", `trap 'exit 0' TERM; echo ${version}; sleep 600 & wait`];
const HEALTH = { command: ["CMD-SHELL", "true"], interval: 5, timeout: 2, retries: 1 };

function cliEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("AWS_")) env[k] = v;
  return { ...env, AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test", AWS_DEFAULT_REGION: "us-east-1", AWS_PAGER: "", AWS_CONFIG_FILE: "/dev/null" };
}

describe("services end to end (real Docker; AWS CLI v2, boto3 and JS SDK waiters; SIGKILL)", () => {
  const cluster = uniqueCluster("svc");
  const dataDir = tempDataDir();
  let server: ChildServer;
  let ecs: ECSClient;
  /** The AWS CLI v2 against the server; parsed JSON output. */
  const cli = async (...args: string[]): Promise<any> => {
    const { stdout } = await run("/usr/bin/aws", ["ecs", ...args, "--endpoint-url", server.url, "--output", "json"], { env: cliEnv(), timeout: 240_000 });
    return stdout.trim() === "" ? {} : JSON.parse(stdout);
  };
  const describeService = async (): Promise<Service> => (await ecs.send(new DescribeServicesCommand({ cluster, services: ["web"] }))).services![0]!;
  const liveTasks = async (): Promise<Task[]> => {
    const { taskArns } = await ecs.send(new ListTasksCommand({ cluster, serviceName: "web" }));
    return taskArns!.length === 0 ? [] : (await ecs.send(new DescribeTasksCommand({ cluster, tasks: taskArns! }))).tasks!;
  };
  const runningContainers = async (): Promise<string[]> =>
    (await docker("ps", "-q", "--no-trunc", "--filter", `label=com.amazonaws.ecs.cluster=${cluster}`)).split("\n").filter(Boolean);
  const taskArnOfContainer = async (id: string): Promise<string> => docker("inspect", "-f", '{{index .Config.Labels "com.amazonaws.ecs.task-arn"}}', id);
  const jsStable = async (): Promise<void> => {
    const r = await waitUntilServicesStable({ client: ecs, maxWaitTime: 180, minDelay: 1, maxDelay: 2 }, { cluster, services: ["web"] });
    expect(r.state).toBe("SUCCESS");
  };

  beforeAll(async () => {
    server = await startChildServer({ dataDir });
    ecs = server.ecs;
    await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
    // Host networking keeps this suite off Docker's small pool of bridge networks on a shared machine.
    const family = `${cluster}-web`;
    for (const [version, command] of [
      ["v1", SERVE("v1")],
      ["v2", SERVE("v2")],
      ["broken", ["sh", "-c", "echo crash; exit 1"]],
    ] as const) {
      await ecs.send(
        new RegisterTaskDefinitionCommand({
          family,
          networkMode: "host",
          containerDefinitions: [{ name: "app", image: IMAGE, memory: 32, command: [...command], healthCheck: HEALTH, stopTimeout: 5 }],
          tags: [{ key: "version", value: version }],
        }),
      );
    }
  });

  afterAll(async () => {
    await server?.stop();
    await removeCluster(cluster);
    removeDataDir(dataDir);
  });

  it("creates a 3-task service with the AWS CLI v2 and `aws ecs wait services-stable` returns once it runs", { timeout: 240_000 }, async () => {
    const created = await cli("create-service", "--cluster", cluster, "--service-name", "web", "--task-definition", `${cluster}-web:1`, "--desired-count", "3");
    expect(created.service).toMatchObject({ serviceName: "web", status: "ACTIVE", desiredCount: 3 });
    await cli("wait", "services-stable", "--cluster", cluster, "--services", "web");
    const s = await describeService();
    expect(s).toMatchObject({ runningCount: 3, pendingCount: 0 });
    expect(s.deployments).toHaveLength(1);
    const tasks = await liveTasks();
    // The waiter looks at runningCount (and one deployment) only; health checks may still be starting.
    expect(tasks.map((t) => [t.lastStatus, t.group])).toEqual(Array(3).fill(["RUNNING", "service:web"]));
    // Placed like RunTask's tasks: on the cluster's (local) container instance.
    for (const t of tasks) expect(t.containerInstanceArn).toMatch(new RegExp(`:container-instance/${cluster}/[0-9a-f]{32}$`));
    await eventually("the deployment to complete once the tasks are HEALTHY", async () => {
      const now = await describeService();
      return now.deployments![0]!.rolloutState === "COMPLETED" ? true : undefined;
    }, 60_000);
    expect((await liveTasks()).map((t) => t.healthStatus)).toEqual(["HEALTHY", "HEALTHY", "HEALTHY"]);
    const containers = await runningContainers();
    expect(containers).toHaveLength(3);
    expect(new Set(await Promise.all(containers.map(taskArnOfContainer)))).toEqual(new Set(tasks.map((t) => t.taskArn)));
  });

  it("`docker kill` of a service task: the task stops (exit 137) and the scheduler replaces it; boto3's services_stable waiter agrees", { timeout: 180_000 }, async () => {
    const [victim] = await runningContainers();
    const victimTask = await taskArnOfContainer(victim!);
    await docker("kill", victim!);
    const replaced = await eventually(
      "a replacement task",
      async () => {
        const tasks = await liveTasks();
        return tasks.length === 3 && !tasks.some((t) => t.taskArn === victimTask) ? tasks : undefined;
      },
      60_000,
    );
    expect(replaced).toHaveLength(3);
    const { tasks } = await ecs.send(new DescribeTasksCommand({ cluster, tasks: [victimTask] }));
    expect(tasks![0]).toMatchObject({ lastStatus: "STOPPED", stopCode: "EssentialContainerExited", containers: [expect.objectContaining({ exitCode: 137 })] });
    const python = [
      "import boto3",
      `ecs = boto3.client("ecs", endpoint_url="${server.url}", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")`,
      `ecs.get_waiter("services_stable").wait(cluster="${cluster}", services=["web"], WaiterConfig={"Delay": 1, "MaxAttempts": 120})`,
      `s = ecs.describe_services(cluster="${cluster}", services=["web"])["services"][0]`,
      'print(s["runningCount"], len(s["deployments"]))',
    ].join("\n");
    const { stdout } = await run("python3", ["-c", python], { env: cliEnv(), timeout: 170_000 });
    expect(stdout.trim()).toBe("3 1");
    const s = await describeService();
    expect(s.events!.map((e) => e.message)).toContainEqual(expect.stringMatching(/^\(service web\) has started 1 tasks: \(task [0-9a-f]{32}\)\.$/));
  });

  it("rolling update v1 → v2 with min 100 % / max 200 %: never fewer than 3 healthy tasks at any sampled moment", { timeout: 240_000 }, async () => {
    // The replacement of the previous test is RUNNING (what the waiters look at) but may not be HEALTHY yet.
    await eventually("three healthy tasks", async () => ((await liveTasks()).filter((t) => t.healthStatus === "HEALTHY").length === 3 ? true : undefined), 60_000);
    const { service } = await ecs.send(
      new UpdateServiceCommand({
        cluster,
        service: "web",
        taskDefinition: `${cluster}-web:2`,
        deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200 },
      }),
    );
    const newId = service!.deployments![0]!.id!;
    let minHealthy = Number.POSITIVE_INFINITY;
    let maxLive = 0;
    let samples = 0;
    const seenRevisions = new Set<string>();
    const deadline = Date.now() + 180_000;
    for (;;) {
      const tasks = await liveTasks();
      const healthy = tasks.filter((t) => t.lastStatus === "RUNNING" && t.healthStatus === "HEALTHY" && t.desiredStatus === "RUNNING");
      minHealthy = Math.min(minHealthy, healthy.length);
      maxLive = Math.max(maxLive, tasks.length);
      for (const t of healthy) seenRevisions.add(t.taskDefinitionArn!.split(":").at(-1)!);
      samples++;
      const s = await describeService();
      if (s.deployments!.length === 1 && s.deployments![0]!.rolloutState === "COMPLETED" && s.deployments![0]!.id === newId) break;
      if (Date.now() > deadline) throw new Error(`the rolling update did not complete: ${JSON.stringify(s.deployments)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(samples).toBeGreaterThan(5);
    expect(minHealthy).toBeGreaterThanOrEqual(3);
    expect(maxLive).toBeLessThanOrEqual(6);
    expect(seenRevisions).toEqual(new Set(["1", "2"]));
    await jsStable();
    const tasks = await liveTasks();
    expect(tasks.map((t) => t.taskDefinitionArn!.split(":").at(-1))).toEqual(["2", "2", "2"]);
    const s = await describeService();
    expect(s.events![1]!.message).toBe(`(service web) (deployment ${newId}) deployment completed.`);
    expect(s.events!.map((e) => e.message)).toContainEqual(expect.stringMatching(/^\(service web\) has stopped 1 running tasks: \(task [0-9a-f]{32}\)\.$/));
  });

  it("circuit breaker with rollback: a revision whose container exits at once fails, and v2 comes back", { timeout: 240_000 }, async () => {
    const before = await describeService();
    const goodId = before.deployments![0]!.id!;
    const { service } = await ecs.send(
      new UpdateServiceCommand({
        cluster,
        service: "web",
        taskDefinition: `${cluster}-web:3`,
        deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } },
      }),
    );
    const badId = service!.deployments![0]!.id!;
    const s = await eventually(
      "the rollback to complete",
      async () => {
        const now = await describeService();
        const done = now.deployments!.length === 1 && now.deployments![0]!.id === goodId && now.deployments![0]!.rolloutState === "COMPLETED";
        return done ? now : undefined;
      },
      180_000,
      500,
    );
    expect(s.taskDefinition).toMatch(/:2$/);
    const messages = s.events!.map((e) => e.message);
    expect(messages).toContain(`(service web) (deployment ${badId}) deployment failed: tasks failed to start.`);
    expect(messages).toContain(`(service web) rolling back to deployment ${goodId}.`);
    expect(messages[1]).toBe(`(service web) (deployment ${goodId}) deployment completed.`);
    // v2 kept serving throughout.
    const tasks = await liveTasks();
    expect(tasks.map((t) => t.taskDefinitionArn!.split(":").at(-1))).toEqual(["2", "2", "2"]);
  });

  it("SIGKILL of the server mid-deployment: after a restart it converges, with no task started twice", { timeout: 300_000 }, async () => {
    const { service } = await ecs.send(new UpdateServiceCommand({ cluster, service: "web", forceNewDeployment: true }));
    const newId = service!.deployments![0]!.id!;
    await eventually("the new deployment to launch its first tasks", async () => ((await liveTasks()).some((t) => t.startedBy === newId) ? true : undefined));
    await server.kill("SIGKILL");
    server = await startChildServer({ dataDir, port: server.port });
    ecs = server.ecs;
    await cli("wait", "services-stable", "--cluster", cluster, "--services", "web");
    const s = await describeService();
    expect(s.deployments!.map((d) => [d.id, d.rolloutState])).toEqual([[newId, "COMPLETED"]]);
    const tasks = await liveTasks();
    expect(tasks).toHaveLength(3);
    expect(tasks.map((t) => t.startedBy)).toEqual([newId, newId, newId]);
    // Exactly the three tasks' containers run: nothing duplicated, nothing orphaned.
    await eventually("the old tasks' containers to be gone", async () => ((await runningContainers()).length === 3 ? true : undefined), 60_000);
    expect(new Set(await Promise.all((await runningContainers()).map(taskArnOfContainer)))).toEqual(new Set(tasks.map((t) => t.taskArn)));
    const { taskArns } = await ecs.send(new ListTasksCommand({ cluster, startedBy: newId, desiredStatus: "STOPPED" }));
    expect(taskArns).toEqual([]);
  });

  it("DeleteService --force: DRAINING, then `aws ecs wait services-inactive`; every task stopped", { timeout: 240_000 }, async () => {
    const deleted = await cli("delete-service", "--cluster", cluster, "--service", "web", "--force");
    expect(deleted.service.status).toBe("DRAINING");
    await cli("wait", "services-inactive", "--cluster", cluster, "--services", "web");
    expect((await describeService()).status).toBe("INACTIVE");
    await eventually("the containers to stop", async () => ((await runningContainers()).length === 0 ? true : undefined), 60_000);
    const { taskArns } = await ecs.send(new ListTasksCommand({ cluster, serviceName: "web", desiredStatus: "STOPPED" }));
    const { tasks } = await ecs.send(new DescribeTasksCommand({ cluster, tasks: taskArns!.slice(0, 100) }));
    expect(tasks!.filter((t) => t.stopCode === "ServiceSchedulerInitiated").length).toBeGreaterThanOrEqual(3);
  });
});
