// A service on a two-instance cluster (both instances on the local engine): setting one instance to
// DRAINING makes the service scheduler replace the tasks there on the other one, within the service's
// minimumHealthyPercent / maximumPercent, as ECS's "Draining behavior for services" says.
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DeleteServiceCommand,
  DeregisterContainerInstanceCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListContainerInstancesCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  UpdateContainerInstancesStateCommand,
  waitUntilServicesStable,
  type Task,
} from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { removeClusterContainers, TEST_IMAGE } from "../support/docker.ts";
import { eventually } from "../support/eventually.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

const CLUSTER = `draining-${process.pid}`;
const LOCAL = "unix:///var/run/docker.sock";

describe("services on a draining container instance (real Docker)", () => {
  let t: TestServer;

  beforeAll(async () => {
    t = await startTestServer({ docker: true, env: { CONTAINER_INSTANCES: `${CLUSTER}=${LOCAL}?az=us-east-1a,${CLUSTER}=${LOCAL}?az=us-east-1b` } });
    await t.ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
    await t.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "drained",
        containerDefinitions: [{ name: "app", image: TEST_IMAGE, memory: 16, stopTimeout: 2, command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"] }],
      }),
    );
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    await removeClusterContainers(CLUSTER);
  });

  const running = async (): Promise<Task[]> => {
    const { taskArns } = await t.ecs.send(new ListTasksCommand({ cluster: CLUSTER, serviceName: "web" }));
    if (taskArns === undefined || taskArns.length === 0) return [];
    return ((await t.ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: taskArns }))).tasks ?? []).filter((x) => x.lastStatus === "RUNNING");
  };

  it("replaces the tasks of the draining instance on the other one, never below the minimum healthy", async () => {
    await t.ecs.send(
      new CreateServiceCommand({
        cluster: CLUSTER,
        serviceName: "web",
        taskDefinition: "drained",
        desiredCount: 4,
        placementStrategy: [{ type: "spread", field: "instanceId" }],
        deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200 },
      }),
    );
    await waitUntilServicesStable({ client: t.ecs, maxWaitTime: 120, minDelay: 1 }, { cluster: CLUSTER, services: ["web"] });
    const before = await running();
    const instances = [...new Set(before.map((x) => x.containerInstanceArn!))];
    expect(instances).toHaveLength(2);
    const drained = instances[0]!;
    expect(before.filter((x) => x.containerInstanceArn === drained)).toHaveLength(2);

    const { containerInstanceArns } = await t.ecs.send(new ListContainerInstancesCommand({ cluster: CLUSTER }));
    expect(containerInstanceArns).toContain(drained);
    await t.ecs.send(new UpdateContainerInstancesStateCommand({ cluster: CLUSTER, containerInstances: [drained], status: "DRAINING" }));

    // min 100 %: at every sampled moment at least 4 tasks run; at the end all 4 run on the other instance.
    let fewest = Number.POSITIVE_INFINITY;
    const after = await eventually(
      "every task off the draining instance",
      async () => {
        const now = await running();
        fewest = Math.min(fewest, now.length);
        return now.length === 4 && now.every((x) => x.containerInstanceArn !== drained) ? now : undefined;
      },
      90_000,
      200,
    );
    expect(fewest).toBeGreaterThanOrEqual(4);
    expect(new Set(after.map((x) => x.containerInstanceArn))).toEqual(new Set([instances[1]]));
    await waitUntilServicesStable({ client: t.ecs, maxWaitTime: 60, minDelay: 1 }, { cluster: CLUSTER, services: ["web"] });
    const { services } = await t.ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: ["web"] }));
    expect(services![0]!.events!.some((e) => /has stopped 2 running tasks/.test(e.message ?? "") || /has stopped 1 running tasks/.test(e.message ?? ""))).toBe(true);
    const { taskArns: stoppedArns } = await t.ecs.send(new ListTasksCommand({ cluster: CLUSTER, serviceName: "web", desiredStatus: "STOPPED" }));
    const stopped = (await t.ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: stoppedArns! }))).tasks!;
    expect(stopped.filter((x) => x.containerInstanceArn === drained).map((x) => x.stoppedReason)).toEqual(["Task stopped during instance draining", "Task stopped during instance draining"]);

    await t.ecs.send(new DeleteServiceCommand({ cluster: CLUSTER, service: "web", force: true }));
  }, 240_000);

  it("DeregisterContainerInstance --force orphans the instance's service task: it keeps running, and the scheduler starts a copy on the other instance", async () => {
    const { containerInstanceArns } = await t.ecs.send(new ListContainerInstancesCommand({ cluster: CLUSTER }));
    // The previous test left one instance DRAINING: both take tasks again.
    await t.ecs.send(new UpdateContainerInstancesStateCommand({ cluster: CLUSTER, containerInstances: containerInstanceArns!, status: "ACTIVE" }));
    await t.ecs.send(
      new CreateServiceCommand({ cluster: CLUSTER, serviceName: "api", taskDefinition: "drained", desiredCount: 2, placementStrategy: [{ type: "spread", field: "instanceId" }] }),
    );
    await waitUntilServicesStable({ client: t.ecs, maxWaitTime: 120, minDelay: 1 }, { cluster: CLUSTER, services: ["api"] });
    const runningOf = async (): Promise<Task[]> => {
      const { taskArns } = await t.ecs.send(new ListTasksCommand({ cluster: CLUSTER, serviceName: "api" }));
      return ((await t.ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: taskArns! }))).tasks ?? []).filter((x) => x.lastStatus === "RUNNING");
    };
    const before = await runningOf();
    expect(new Set(before.map((x) => x.containerInstanceArn)).size).toBe(2);
    const [kept, lost] = containerInstanceArns!;
    const orphan = before.find((x) => x.containerInstanceArn === lost)!;

    await expect(t.ecs.send(new DeregisterContainerInstanceCommand({ cluster: CLUSTER, containerInstance: lost! }))).rejects.toThrow("Found running tasks on the instance.");
    await t.ecs.send(new DeregisterContainerInstanceCommand({ cluster: CLUSTER, containerInstance: lost!, force: true }));
    const after = await eventually(
      "a copy of the orphaned task on the other instance",
      async () => {
        const now = await runningOf();
        return now.filter((x) => x.containerInstanceArn === kept).length === 2 ? now : undefined;
      },
      90_000,
      200,
    );
    // The orphan still runs (ECS leaves it until the instance goes), and the service counts only the two it sees.
    expect(after.map((x) => x.taskArn)).toContain(orphan.taskArn);
    const { services } = await t.ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: ["api"] }));
    expect([services![0]!.desiredCount, services![0]!.runningCount]).toEqual([2, 2]);
    await t.ecs.send(new DeleteServiceCommand({ cluster: CLUSTER, service: "api", force: true }));
  }, 240_000);
});
