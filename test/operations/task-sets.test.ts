import {
  CreateServiceCommand,
  CreateTaskSetCommand,
  DeleteTaskSetCommand,
  DescribeServicesCommand,
  DescribeTaskSetsCommand,
  ListTagsForResourceCommand,
  RegisterTaskDefinitionCommand,
  TagResourceCommand,
  UpdateServiceCommand,
  UpdateServicePrimaryTaskSetCommand,
  UpdateTaskSetCommand,
  type ECSClient,
  type Service,
} from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../support/eventually.ts";
import { ACCOUNT, startServiceServer, type ServiceTestServer } from "./service-server.ts";

async function errorOf(p: Promise<unknown>): Promise<{ name: string; message: string }> {
  try {
    await p;
  } catch (err) {
    return { name: (err as Error).name, message: (err as Error).message };
  }
  throw new Error("expected the call to fail");
}

describe("task sets: EXTERNAL and CODE_DEPLOY deployment controllers", () => {
  let server: ServiceTestServer;
  let ecs: ECSClient;
  const describeService = async (name: string): Promise<Service> => (await ecs.send(new DescribeServicesCommand({ services: [name] }))).services![0]!;

  beforeAll(async () => {
    server = await startServiceServer();
    ecs = server.ecs;
    for (let i = 0; i < 2; i++) {
      await ecs.send(new RegisterTaskDefinitionCommand({ family: "app", containerDefinitions: [{ name: "app", image: "busybox", memory: 32 }] }));
    }
  });
  afterAll(async () => {
    await server?.close();
  });

  it("an EXTERNAL service starts with no deployments and no task sets", async () => {
    const { service } = await ecs.send(new CreateServiceCommand({ serviceName: "ext", desiredCount: 4, deploymentController: { type: "EXTERNAL" } }));
    expect(service).toMatchObject({ deploymentController: { type: "EXTERNAL" }, deployments: [], taskSets: [], desiredCount: 4 });
    expect(service!.taskDefinition).toBeUndefined();
  });

  it("CreateTaskSet: ACTIVE, scale as given, and the scheduler runs its computed desired count", async () => {
    const { taskSet } = await ecs.send(
      new CreateTaskSetCommand({
        service: "ext",
        cluster: "default",
        taskDefinition: "app:1",
        externalId: "blue",
        scale: { value: 50, unit: "PERCENT" },
        tags: [{ key: "color", value: "blue" }],
      }),
    );
    expect(taskSet!.id).toMatch(/^ecs-svc\/\d{19}$/);
    expect(taskSet).toMatchObject({
      taskSetArn: `arn:aws:ecs:us-east-1:${ACCOUNT}:task-set/default/ext/${taskSet!.id}`,
      serviceArn: `arn:aws:ecs:us-east-1:${ACCOUNT}:service/default/ext`,
      status: "ACTIVE",
      externalId: "blue",
      taskDefinition: `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/app:1`,
      computedDesiredCount: 2,
      launchType: "EC2",
      scale: { value: 50, unit: "PERCENT" },
      stabilityStatus: "STABILIZING",
      tags: [{ key: "color", value: "blue" }],
    });
    const steady = await eventually("the task set to reach its count", async () => {
      const ts = (await ecs.send(new DescribeTaskSetsCommand({ cluster: "default", service: "ext" }))).taskSets![0]!;
      return ts.stabilityStatus === "STEADY_STATE" ? ts : undefined;
    });
    expect(steady).toMatchObject({ runningCount: 2, pendingCount: 0, computedDesiredCount: 2 });
    const s = await describeService("ext");
    expect(s).toMatchObject({ runningCount: 2, pendingCount: 0 });
    expect(s.events!.map((e) => e.message)).toContainEqual(
      expect.stringMatching(new RegExp(`^\\(service ext, taskSet ${taskSet!.id}\\) has started 2 tasks: (\\(task [0-9a-f]{32}\\) ?){2}\\.$`)),
    );
  });

  it("UpdateTaskSet changes the scale; UpdateService desiredCount re-computes it (rounded up)", async () => {
    const [ts] = (await ecs.send(new DescribeTaskSetsCommand({ cluster: "default", service: "ext" }))).taskSets!;
    const { taskSet } = await ecs.send(new UpdateTaskSetCommand({ cluster: "default", service: "ext", taskSet: ts!.taskSetArn!, scale: { value: 100, unit: "PERCENT" } }));
    expect(taskSet).toMatchObject({ computedDesiredCount: 4, scale: { value: 100, unit: "PERCENT" }, stabilityStatus: "STABILIZING" });
    await ecs.send(new UpdateServiceCommand({ service: "ext", desiredCount: 3 }));
    await ecs.send(new UpdateTaskSetCommand({ cluster: "default", service: "ext", taskSet: ts!.id!, scale: { value: 50, unit: "PERCENT" } }));
    const settled = await eventually("2 tasks (3 × 50 % rounded up)", async () => {
      const now = (await ecs.send(new DescribeTaskSetsCommand({ cluster: "default", service: "ext", taskSets: [ts!.id!] }))).taskSets![0]!;
      return now.stabilityStatus === "STEADY_STATE" && now.runningCount === 2 ? now : undefined;
    });
    expect(settled.computedDesiredCount).toBe(2);
  });

  it("UpdateServicePrimaryTaskSet makes a task set PRIMARY and the service shows its fields", async () => {
    const { taskSet: green } = await ecs.send(
      new CreateTaskSetCommand({ service: "ext", cluster: "default", taskDefinition: "app:2", scale: { value: 100, unit: "PERCENT" } }),
    );
    const { taskSet } = await ecs.send(new UpdateServicePrimaryTaskSetCommand({ cluster: "default", service: "ext", primaryTaskSet: green!.taskSetArn! }));
    expect(taskSet).toMatchObject({ id: green!.id, status: "PRIMARY" });
    const s = await describeService("ext");
    expect(s.taskDefinition).toBe(`arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/app:2`);
    expect(s.taskSets?.map((t) => [t.id, t.status])).toEqual([
      [expect.any(String), "ACTIVE"],
      [green!.id, "PRIMARY"],
    ]);
    await eventually("the service counts to cover both task sets", async () => {
      const now = await describeService("ext");
      return now.runningCount === 5 ? now : undefined;
    });
  });

  it("DescribeTaskSets reports unknown task sets as MISSING and shows tags when asked", async () => {
    const out = await ecs.send(new DescribeTaskSetsCommand({ cluster: "default", service: "ext", taskSets: ["ecs-svc/1234567890123456789"], include: ["TAGS"] }));
    expect(out).toMatchObject({ taskSets: [], failures: [{ arn: "ecs-svc/1234567890123456789", reason: "MISSING" }] });
    const blue = (await ecs.send(new DescribeTaskSetsCommand({ cluster: "default", service: "ext", include: ["TAGS"] }))).taskSets!.find((t) => t.status === "ACTIVE")!;
    expect(blue.tags).toEqual([{ key: "color", value: "blue" }]);
    await ecs.send(new TagResourceCommand({ resourceArn: blue.taskSetArn!, tags: [{ key: "owner", value: "me" }] }));
    expect((await ecs.send(new ListTagsForResourceCommand({ resourceArn: blue.taskSetArn! }))).tags).toEqual([
      { key: "color", value: "blue" },
      { key: "owner", value: "me" },
    ]);
    expect(await errorOf(ecs.send(new DescribeTaskSetsCommand({ cluster: "default", service: "ghost" })))).toEqual({
      name: "ServiceNotFoundException",
      message: "Service not found.",
    });
  });

  it("DeleteTaskSet: not the primary, not while scaled above 0 without force; DRAINING, then gone", async () => {
    const sets = (await ecs.send(new DescribeTaskSetsCommand({ cluster: "default", service: "ext" }))).taskSets!;
    const primary = sets.find((t) => t.status === "PRIMARY")!;
    const blue = sets.find((t) => t.status === "ACTIVE")!;
    expect(await errorOf(ecs.send(new DeleteTaskSetCommand({ cluster: "default", service: "ext", taskSet: primary.id! })))).toMatchObject({
      name: "InvalidParameterException",
    });
    expect(await errorOf(ecs.send(new DeleteTaskSetCommand({ cluster: "default", service: "ext", taskSet: blue.id! })))).toEqual({
      name: "InvalidParameterException",
      message: "The task set cannot be deleted while it is scaled above 0. Scale it to 0 first, or use force.",
    });
    const { taskSet } = await ecs.send(new DeleteTaskSetCommand({ cluster: "default", service: "ext", taskSet: blue.taskSetArn!, force: true }));
    expect(taskSet).toMatchObject({ id: blue.id, status: "DRAINING" });
    await eventually("the drained task set to disappear", async () => {
      const now = await describeService("ext");
      return now.taskSets?.length === 1 && now.runningCount === 3 ? now : undefined;
    });
    expect(await errorOf(ecs.send(new UpdateTaskSetCommand({ cluster: "default", service: "ext", taskSet: blue.id!, scale: { value: 10, unit: "PERCENT" } })))).toEqual({
      name: "TaskSetNotFoundException",
      message: "The specified task set does not exist.",
    });
  });

  it("task set operations refuse services of the ECS deployment controller", async () => {
    await ecs.send(new CreateServiceCommand({ serviceName: "rolling", taskDefinition: "app", desiredCount: 0 }));
    expect(await errorOf(ecs.send(new CreateTaskSetCommand({ service: "rolling", cluster: "default", taskDefinition: "app:1" })))).toEqual({
      name: "InvalidParameterException",
      message: "Task sets are only supported for services that use the EXTERNAL or CODE_DEPLOY deployment controller.",
    });
  });

  it("CODE_DEPLOY: recorded with a PRIMARY task set at 100 % that the scheduler runs; no forced deployments", async () => {
    const { service } = await ecs.send(new CreateServiceCommand({ serviceName: "cd", taskDefinition: "app:1", desiredCount: 2, deploymentController: { type: "CODE_DEPLOY" } }));
    expect(service!.taskSets).toEqual([
      expect.objectContaining({ status: "PRIMARY", startedBy: "CODE_DEPLOY", scale: { value: 100, unit: "PERCENT" }, computedDesiredCount: 2 }),
    ]);
    await eventually("the CodeDeploy task set to run", async () => {
      const now = await describeService("cd");
      return now.runningCount === 2 ? now : undefined;
    });
    expect(await errorOf(ecs.send(new UpdateServiceCommand({ service: "cd", forceNewDeployment: true })))).toEqual({
      name: "InvalidParameterException",
      message: "Cannot force a new deployment on services with a CODE_DEPLOY deployment controller. Use AWS CodeDeploy to trigger a new deployment.",
    });
    expect(await errorOf(ecs.send(new UpdateServiceCommand({ service: "cd", taskDefinition: "app:2" })))).toMatchObject({ name: "InvalidParameterException" });
  });
});
