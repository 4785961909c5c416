import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  ClientException,
  ClusterNotFoundException,
  ConflictException,
  CreateClusterCommand,
  DescribeTasksCommand,
  InvalidParameterException,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  waitUntilTasksRunning,
  waitUntilTasksStopped,
} from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { containerLogs, removeClusterContainers, taskContainerId, TEST_IMAGE } from "../support/docker.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

const run = promisify(execFile);
const CLUSTER = `e2e-tasks-${process.pid}`;
// A long-running essential container that exits 0 on SIGTERM, and a sidecar that exits on its own.
const TRAP_SLEEP = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"];

describe("tasks end to end (real Docker, real clients)", () => {
  let t: TestServer;
  let composeDest: string;
  let cli: (...args: string[]) => Promise<any>;

  beforeAll(async () => {
    composeDest = mkdtempSync(join(tmpdir(), "local-ecs-api-compose-"));
    t = await startTestServer({ docker: true, env: { COMPOSE_DEST: composeDest } });
    await t.ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
    await t.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "pair",
        containerDefinitions: [
          { name: "app", image: TEST_IMAGE, memory: 64, command: TRAP_SLEEP, stopTimeout: 5 },
          { name: "sidecar", image: TEST_IMAGE, memory: 32, essential: false, command: ["sh", "-c", "echo side; exit 4"] },
        ],
      }),
    );
    cli = async (...args: string[]) => {
      const { stdout } = await run("/usr/bin/aws", ["--endpoint-url", t.url, "--region", "us-east-1", "--output", "json", ...args], {
        env: { ...process.env, AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test", AWS_PAGER: "" },
      });
      return stdout.trim() === "" ? {} : JSON.parse(stdout);
    };
  });

  afterAll(async () => {
    await t?.close();
    await removeClusterContainers(CLUSTER);
    rmSync(composeDest, { recursive: true, force: true });
  });

  it("runs an essential + sidecar task with the AWS CLI v2 through RUNNING to STOPPED, with waiters", async () => {
    const ran = await cli("ecs", "run-task", "--cluster", CLUSTER, "--task-definition", "pair", "--started-by", "e2e");
    const taskArn: string = ran.tasks[0].taskArn;
    expect(taskArn).toMatch(new RegExp(`^arn:aws:ecs:us-east-1:000000000000:task/${CLUSTER}/[0-9a-f]{32}$`));
    expect(["PROVISIONING", "PENDING"]).toContain(ran.tasks[0].lastStatus);
    expect(ran.tasks[0].desiredStatus).toBe("RUNNING");

    await cli("ecs", "wait", "tasks-running", "--cluster", CLUSTER, "--tasks", taskArn);
    const running = (await cli("ecs", "describe-tasks", "--cluster", CLUSTER, "--tasks", taskArn)).tasks[0];
    expect(running.lastStatus).toBe("RUNNING");
    expect(running.startedAt).toBeTruthy();

    // The sidecar is not essential: its exit leaves the task running.
    const deadline = Date.now() + 20_000;
    let sidecar: any;
    for (;;) {
      const now = (await cli("ecs", "describe-tasks", "--cluster", CLUSTER, "--tasks", taskArn)).tasks[0];
      sidecar = now.containers.find((c: any) => c.name === "sidecar");
      if (sidecar.lastStatus === "STOPPED" || Date.now() > deadline) {
        expect(now.lastStatus).toBe("RUNNING");
        expect(now.desiredStatus).toBe("RUNNING");
        break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(sidecar.lastStatus).toBe("STOPPED");
    expect(sidecar.exitCode).toBe(4);

    const stopped = await cli("ecs", "stop-task", "--cluster", CLUSTER, "--task", taskArn, "--reason", "done testing");
    expect(stopped.task.desiredStatus).toBe("STOPPED");
    await cli("ecs", "wait", "tasks-stopped", "--cluster", CLUSTER, "--tasks", taskArn);
    const task = (await cli("ecs", "describe-tasks", "--cluster", CLUSTER, "--tasks", taskArn)).tasks[0];
    expect(task.lastStatus).toBe("STOPPED");
    expect(task.stopCode).toBe("UserInitiated");
    expect(task.stoppedReason).toBe("done testing");
    const byName = Object.fromEntries(task.containers.map((c: any) => [c.name, c]));
    expect(byName.app.exitCode).toBe(0);
    expect(byName.sidecar.exitCode).toBe(4);
    for (const field of ["createdAt", "pullStartedAt", "pullStoppedAt", "startedAt", "stoppingAt", "executionStoppedAt", "stoppedAt"]) {
      expect(task[field], field).toBeTruthy();
    }
    expect(Date.parse(task.stoppedAt)).toBeGreaterThanOrEqual(Date.parse(task.stoppingAt));
    expect(Date.parse(task.startedAt)).toBeGreaterThanOrEqual(Date.parse(task.createdAt));

    const taskId = taskArn.slice(taskArn.lastIndexOf("/") + 1);
    const composeFile = join(composeDest, taskId, "docker-compose.yml");
    expect(existsSync(composeFile)).toBe(true);
    expect(readFileSync(composeFile, "utf8")).toContain("sidecar");
    await run("docker-compose", ["-f", composeFile, "config", "-q"]);
  });

  it("stops the task when an essential container exits, with the JS SDK waiter", async () => {
    await t.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "quick",
        containerDefinitions: [{ name: "main", image: TEST_IMAGE, memory: 32, command: ["sh", "-c", "echo $GREETING; exit 7"], environment: [{ name: "GREETING", value: "hi" }] }],
      }),
    );
    const { tasks } = await t.ecs.send(
      new RunTaskCommand({
        cluster: CLUSTER,
        taskDefinition: "quick",
        overrides: { containerOverrides: [{ name: "main", environment: [{ name: "GREETING", value: "overridden" }] }] },
      }),
    );
    const arn = tasks![0]!.taskArn!;
    expect(tasks![0]!.overrides?.containerOverrides?.[0]?.environment).toEqual([{ name: "GREETING", value: "overridden" }]);
    await waitUntilTasksStopped({ client: t.ecs, maxWaitTime: 60, minDelay: 1, maxDelay: 1 }, { cluster: CLUSTER, tasks: [arn] });
    const task = (await t.ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: [arn] }))).tasks![0]!;
    expect(task.stopCode).toBe("EssentialContainerExited");
    expect(task.stoppedReason).toBe("Essential container in task exited");
    expect(task.containers?.[0]?.exitCode).toBe(7);
    expect(task.stoppedAt).toBeInstanceOf(Date);
    // Even when the container exits before its start is observed, the task did start.
    expect(task.startedAt).toBeInstanceOf(Date);
    expect(task.startedAt!.getTime()).toBeLessThanOrEqual(task.stoppedAt!.getTime());
    expect(await containerLogs(await taskContainerId(arn, "main"))).toContain("overridden");
  });

  it("runs count 10, idempotently for the same clientToken, and refuses a reused token with other parameters", async () => {
    const first = await t.ecs.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: "quick", count: 10, clientToken: "token-10" }));
    expect(first.tasks).toHaveLength(10);
    expect(new Set(first.tasks!.map((x) => x.taskArn)).size).toBe(10);
    const again = await t.ecs.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: "quick", count: 10, clientToken: "token-10" }));
    expect(again.tasks!.map((x) => x.taskArn).sort()).toEqual(first.tasks!.map((x) => x.taskArn).sort());
    const conflict = await t.ecs
      .send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: "quick", count: 2, clientToken: "token-10" }))
      .catch((e: unknown) => e);
    expect(conflict).toBeInstanceOf(ConflictException);
    expect((conflict as ConflictException).resourceIds?.length).toBe(10);
    await waitUntilTasksStopped({ client: t.ecs, maxWaitTime: 90, minDelay: 1, maxDelay: 2 }, { cluster: CLUSTER, tasks: first.tasks!.map((x) => x.taskArn!) });
    const listed = await t.ecs.send(new ListTasksCommand({ cluster: CLUSTER, family: "quick", desiredStatus: "STOPPED" }));
    expect(listed.taskArns!.length).toBeGreaterThanOrEqual(10);
  });

  it("answers bad RunTask input the way ECS does", async () => {
    await expect(t.ecs.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: "no-such-family" }))).rejects.toBeInstanceOf(ClientException);
    await expect(t.ecs.send(new RunTaskCommand({ cluster: "no-such-cluster", taskDefinition: "quick" }))).rejects.toBeInstanceOf(ClusterNotFoundException);
    await expect(t.ecs.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: "quick", count: 11 }))).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(t.ecs.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: "quick", count: 0 }))).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(t.ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: [] }))).rejects.toThrow("Tasks cannot be empty.");
    const missing = await t.ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: ["0123456789abcdef0123456789abcdef"] }));
    expect(missing.failures?.[0]?.reason).toBe("MISSING");
    await expect(t.ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: "0123456789abcdef0123456789abcdef" }))).rejects.toBeInstanceOf(InvalidParameterException);
  });

  it("stops a task whose image does not exist with TaskFailedToStart, while RunTask itself succeeds", async () => {
    await t.ecs.send(new RegisterTaskDefinitionCommand({ family: "noimage", containerDefinitions: [{ name: "x", image: "local-ecs-api-test/does-not-exist:1", memory: 32 }] }));
    const { tasks, failures } = await t.ecs.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: "noimage" }));
    expect(failures).toEqual([]);
    const arn = tasks![0]!.taskArn!;
    await waitUntilTasksStopped({ client: t.ecs, maxWaitTime: 60, minDelay: 1, maxDelay: 1 }, { cluster: CLUSTER, tasks: [arn] });
    const task = (await t.ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: [arn] }))).tasks![0]!;
    expect(task.stopCode).toBe("TaskFailedToStart");
    expect(task.containers?.[0]?.reason).toMatch(/^CannotPullContainerError: /);
    expect(task.stoppedReason).toMatch(/CannotPullContainerError/);
  });

  it("refuses the second of two tasks asking for the same fixed host port, and keeps the first running", async () => {
    await t.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "fixedport",
        containerDefinitions: [{ name: "web", image: TEST_IMAGE, memory: 32, command: ["sh", "-c", "trap 'exit 0' TERM; httpd -f -p 8080 & wait"], portMappings: [{ containerPort: 8080, hostPort: 38617 }] }],
      }),
    );
    const a = (await t.ecs.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: "fixedport" }))).tasks![0]!.taskArn!;
    await waitUntilTasksRunning({ client: t.ecs, maxWaitTime: 60, minDelay: 1, maxDelay: 1 }, { cluster: CLUSTER, tasks: [a] });
    const b = await t.ecs.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: "fixedport" }));
    if ((b.tasks ?? []).length > 0) {
      const arn = b.tasks![0]!.taskArn!;
      await waitUntilTasksStopped({ client: t.ecs, maxWaitTime: 60, minDelay: 1, maxDelay: 1 }, { cluster: CLUSTER, tasks: [arn] });
      const task = (await t.ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: [arn] }))).tasks![0]!;
      expect(task.stopCode).toBe("TaskFailedToStart");
      expect(task.containers?.[0]?.reason).toMatch(/CannotStartContainerError|port/);
    } else {
      expect(b.failures?.[0]?.reason).toBe("RESOURCE:PORTS");
    }
    const first = (await t.ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: [a] }))).tasks![0]!;
    expect(first.lastStatus).toBe("RUNNING");
    expect(first.containers?.[0]?.networkBindings?.[0]?.hostPort).toBe(38617);
    const res = await fetch("http://127.0.0.1:38617/").catch((e: unknown) => e);
    expect(res).toBeInstanceOf(Response);
    await t.ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: a }));
    await waitUntilTasksStopped({ client: t.ecs, maxWaitTime: 60, minDelay: 1, maxDelay: 1 }, { cluster: CLUSTER, tasks: [a] });
  });

  it("completes boto3's tasks_running and tasks_stopped waiters", async () => {
    const script = `
import boto3, sys
ecs = boto3.client("ecs", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t")
arn = ecs.run_task(cluster=sys.argv[2], taskDefinition="pair")["tasks"][0]["taskArn"]
ecs.get_waiter("tasks_running").wait(cluster=sys.argv[2], tasks=[arn], WaiterConfig={"Delay": 1, "MaxAttempts": 60})
ecs.stop_task(cluster=sys.argv[2], task=arn)
ecs.get_waiter("tasks_stopped").wait(cluster=sys.argv[2], tasks=[arn], WaiterConfig={"Delay": 1, "MaxAttempts": 60})
t = ecs.describe_tasks(cluster=sys.argv[2], tasks=[arn])["tasks"][0]
print(t["lastStatus"], t["stopCode"], type(t["stoppedAt"]).__name__)
`;
    const { stdout } = await run("python3", ["-c", script, t.url, CLUSTER]);
    expect(stdout.trim()).toBe("STOPPED UserInitiated datetime");
  });

  it("binds host volumes into containers", async () => {
    const dir = mkdtempSync(join(tmpdir(), "local-ecs-api-vol-"));
    try {
      await t.ecs.send(
        new RegisterTaskDefinitionCommand({
          family: "volumes",
          volumes: [{ name: "shared", host: { sourcePath: dir } }, { name: "scratch" }],
          containerDefinitions: [
            {
              name: "writer",
              image: TEST_IMAGE,
              memory: 32,
              command: ["sh", "-c", "echo from-writer > /out/result.txt && echo scratch > /scratch/x && cat /scratch/x"],
              mountPoints: [{ sourceVolume: "shared", containerPath: "/out" }, { sourceVolume: "scratch", containerPath: "/scratch" }],
            },
          ],
        }),
      );
      const arn = (await t.ecs.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: "volumes" }))).tasks![0]!.taskArn!;
      await waitUntilTasksStopped({ client: t.ecs, maxWaitTime: 60, minDelay: 1, maxDelay: 1 }, { cluster: CLUSTER, tasks: [arn] });
      const task = (await t.ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: [arn] }))).tasks![0]!;
      expect(task.containers?.[0]?.exitCode, JSON.stringify(task)).toBe(0);
      expect(readFileSync(join(dir, "result.txt"), "utf8").trim()).toBe("from-writer");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
