import { CreateClusterCommand, DescribeTasksCommand, ExecuteCommandCommand, RegisterTaskDefinitionCommand, RunTaskCommand } from "@aws-sdk/client-ecs";
import { afterAll, describe, expect, it } from "vitest";
import { TestClient } from "../runtime/exec/ws-test-client.ts";
import { startChildServer, removeDataDir, tempDataDir, type ChildServer } from "./support/child-server.ts";
import { containersOfTask, docker, eventually, IMAGE, removeCluster, TRAPPING_SLEEP, uniqueCluster } from "./support/docker.ts";

// SIGKILL the server while an ECS Exec session runs a command: nobody can reach that process any more.
// The next start on the same DATA_DIR kills it (and what it started) in the container.
describe("ECS Exec across a crash", () => {
  const cluster = uniqueCluster("exec-crash");
  const dataDir = tempDataDir();
  let server: ChildServer | undefined;
  let client: TestClient | undefined;

  afterAll(async () => {
    client?.socket.terminate();
    await server?.stop();
    await removeCluster(cluster);
    removeDataDir(dataDir);
  });

  it("reaps the exec processes a killed server left in the container", { timeout: 90_000 }, async () => {
    server = await startChildServer({ dataDir });
    await server.ecs.send(new CreateClusterCommand({ clusterName: cluster }));
    await server.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: `${cluster}-exec`,
        networkMode: "host",
        taskRoleArn: "arn:aws:iam::000000000000:role/exec",
        containerDefinitions: [{ name: "app", image: IMAGE, memory: 32, command: TRAPPING_SLEEP }],
      }),
    );
    const taskArn = (await server.ecs.send(new RunTaskCommand({ cluster, taskDefinition: `${cluster}-exec`, enableExecuteCommand: true }))).tasks![0]!.taskArn!;
    await eventually("the task RUNNING", async () => {
      const { tasks } = await server!.ecs.send(new DescribeTasksCommand({ cluster, tasks: [taskArn] }));
      return tasks![0]!.lastStatus === "RUNNING" ? true : undefined;
    });
    const [containerId] = await containersOfTask(taskArn);
    const count = async (): Promise<number> => (await docker("top", containerId!, "-o", "pid,args")).split("\n").length - 1;
    expect(await count()).toBe(2);

    const out = await server.ecs.send(new ExecuteCommandCommand({ cluster, task: taskArn, container: "app", command: "/bin/sh", interactive: true }));
    client = await TestClient.connect(out.session!.streamUrl!);
    await client.open(out.session!.tokenValue!);
    client.type("sleep 300 &\rsleep 301\r");
    await eventually("the session's processes in the container", async () => ((await count()) === 5 ? true : undefined));

    await server.kill("SIGKILL");
    client.socket.terminate();
    // Nobody is left to end them: they stay.
    await client.closed;
    expect(await count()).toBe(5);

    const restarted = await startChildServer({ dataDir, port: server.port });
    server = restarted;
    await eventually("the orphaned exec processes reaped", async () => ((await count()) === 2 ? true : undefined));
    // The audit line is written once the reap has settled, which can be just after the processes are gone.
    await eventually("the audit line of the reaped session", async () => (/"event":"exec.session".*"reason":"server-restart"/.test(restarted.log()) ? true : undefined));
    // The task itself is untouched.
    const { tasks } = await server.ecs.send(new DescribeTasksCommand({ cluster, tasks: [taskArn] }));
    expect(tasks![0]!.lastStatus).toBe("RUNNING");
  });
});
