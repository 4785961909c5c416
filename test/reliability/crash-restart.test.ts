import {
  CreateClusterCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  type Task,
} from "@aws-sdk/client-ecs";
import { afterAll, describe, expect, it } from "vitest";
import { startChildServer, removeDataDir, tempDataDir, type ChildServer } from "./support/child-server.ts";
import { containersOfTask, docker, eventually, IMAGE, removeCluster, TRAPPING_SLEEP, uniqueCluster } from "./support/docker.ts";

// SIGKILL the server with 10 tasks running, let the short ones exit while it is down, restart it on the
// same DATA_DIR: nothing lost, nothing duplicated, exits recorded with their codes, the rest still stoppable.
describe("crash and restart", () => {
  const cluster = uniqueCluster("crash");
  const dataDir = tempDataDir();
  let server: ChildServer | undefined;

  afterAll(async () => {
    await server?.stop();
    await removeCluster(cluster);
    removeDataDir(dataDir);
  });

  it("re-adopts running tasks and records exits that happened while it was down", { timeout: 90_000 }, async () => {
    server = await startChildServer({ dataDir });
    const { ecs, port } = server;
    await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
    // Host networking keeps this suite off Docker's small pool of bridge networks on a shared machine.
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: `${cluster}-short`,
        networkMode: "host",
        containerDefinitions: [{ name: "app", image: IMAGE, memory: 32, command: ["sh", "-c", "sleep 5; exit 7"] }],
      }),
    );
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: `${cluster}-long`,
        networkMode: "host",
        containerDefinitions: [{ name: "app", image: IMAGE, memory: 32, command: TRAPPING_SLEEP }],
      }),
    );
    const short = (await ecs.send(new RunTaskCommand({ cluster, taskDefinition: `${cluster}-short`, count: 5 }))).tasks!.map((t) => t.taskArn!);
    const long = (await ecs.send(new RunTaskCommand({ cluster, taskDefinition: `${cluster}-long`, count: 5 }))).tasks!.map((t) => t.taskArn!);
    const all = [...short, ...long];
    await eventually("all 10 tasks RUNNING", async () => {
      const { tasks } = await server!.ecs.send(new DescribeTasksCommand({ cluster, tasks: all }));
      return tasks!.every((t) => t.lastStatus === "RUNNING") ? true : undefined;
    });

    await server.kill("SIGKILL");

    // While the server is down, the short tasks' containers exit with 7.
    const shortContainers = (await Promise.all(short.map(containersOfTask))).flat();
    expect(shortContainers).toHaveLength(5);
    const codes = await Promise.all(shortContainers.map((id) => docker("wait", id)));
    expect(codes).toEqual(["7", "7", "7", "7", "7"]);

    server = await startChildServer({ dataDir, port });
    const describeAll = async (): Promise<Task[]> => (await server!.ecs.send(new DescribeTasksCommand({ cluster, tasks: all }))).tasks!;

    const afterRestart = await eventually("the exits to be reconciled", async () => {
      const tasks = await describeAll();
      return tasks.filter((t) => short.includes(t.taskArn!)).every((t) => t.lastStatus === "STOPPED") ? tasks : undefined;
    });
    expect(afterRestart).toHaveLength(10);
    for (const t of afterRestart.filter((t) => short.includes(t.taskArn!))) {
      expect(t.stopCode).toBe("EssentialContainerExited");
      expect(t.containers?.[0]?.exitCode).toBe(7);
      expect(t.containers?.[0]?.lastStatus).toBe("STOPPED");
    }
    for (const t of afterRestart.filter((t) => long.includes(t.taskArn!))) {
      expect(t.lastStatus).toBe("RUNNING");
      expect(t.desiredStatus).toBe("RUNNING");
    }

    const running = (await server.ecs.send(new ListTasksCommand({ cluster, desiredStatus: "RUNNING" }))).taskArns!;
    const stopped = (await server.ecs.send(new ListTasksCommand({ cluster, desiredStatus: "STOPPED" }))).taskArns!;
    expect([...running].sort()).toEqual([...long].sort());
    expect([...stopped].sort()).toEqual([...short].sort());

    // The re-adopted tasks still stop normally.
    for (const task of long) await server.ecs.send(new StopTaskCommand({ cluster, task, reason: "after restart" }));
    const final = await eventually("the long tasks to stop", async () => {
      const tasks = await describeAll();
      return tasks.every((t) => t.lastStatus === "STOPPED") ? tasks : undefined;
    });
    for (const t of final.filter((t) => long.includes(t.taskArn!))) {
      expect(t.stopCode).toBe("UserInitiated");
      expect(t.stoppedReason).toBe("after restart");
      expect(t.containers?.[0]?.exitCode).toBe(0);
    }
    const everything = (await server.ecs.send(new ListTasksCommand({ cluster, desiredStatus: "STOPPED" }))).taskArns!;
    expect(new Set(everything).size).toBe(10);
    expect(everything).toHaveLength(10);
  });
});
