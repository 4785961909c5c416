import {
  CreateServiceCommand,
  DescribeServiceDeploymentsCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListServiceDeploymentsCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  type ECSClient,
  type ServiceDeployment,
  type Task,
} from "@aws-sdk/client-ecs";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { ManualClock } from "../../../src/runtime/clock.ts";
import { createLogger } from "../../../src/runtime/logger.ts";
import { eventually } from "../../support/eventually.ts";
import { FakeBackend } from "../../support/fake-backend.ts";
import { startServiceServer, type ServiceTestServer } from "../../operations/service-server.ts";

// A blue/green deployment through the scheduler loop (real engine, fake task backend, manual clock): the
// bake time is a wake-up at its end, and it survives a restart of the server.

const servers: ServiceTestServer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function running(ecs: ECSClient): Promise<Task[]> {
  const { taskArns } = await ecs.send(new ListTasksCommand({ serviceName: "bg" }));
  if (taskArns!.length === 0) return [];
  return (await ecs.send(new DescribeTasksCommand({ tasks: taskArns! }))).tasks!.filter((t) => t.lastStatus === "RUNNING");
}

const revisions = (tasks: readonly Task[]): string[] => tasks.map((t) => t.taskDefinitionArn!.split("/").at(-1)!).sort();

async function newestDeployment(ecs: ECSClient): Promise<ServiceDeployment> {
  const { serviceDeployments } = await ecs.send(new ListServiceDeploymentsCommand({ service: "bg" }));
  const newest = [...serviceDeployments!].sort((a, b) => b.createdAt!.getTime() - a.createdAt!.getTime())[0]!;
  return (await ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [newest.serviceDeploymentArn!] }))).serviceDeployments![0]!;
}

it("blue runs through the bake time (and a restart), goes when the clock reaches its end; hooks are logged once as not run", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "lecs-bg-"));
  dirs.push(dataDir);
  const fake = new FakeBackend();
  const clock = new ManualClock();
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger("info", (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
  const first = await startServiceServer({ dataDir, fake, clock, logger });
  for (const image of ["busybox", "busybox:latest"]) {
    await first.ecs.send(new RegisterTaskDefinitionCommand({ family: "bg", containerDefinitions: [{ name: "app", image, memory: 32 }] }));
  }
  const hook = { hookTargetArn: "arn:aws:lambda:us-east-1:123456789012:function:check", roleArn: "arn:aws:iam::123456789012:role/hooks", lifecycleStages: ["POST_SCALE_UP" as const] };
  await first.ecs.send(
    new CreateServiceCommand({
      serviceName: "bg",
      taskDefinition: "bg:1",
      desiredCount: 2,
      deploymentConfiguration: { strategy: "BLUE_GREEN", bakeTimeInMinutes: 5, maximumPercent: 100, lifecycleHooks: [hook] },
    }),
  );
  await eventually("the first deployment to complete", async () => ((await newestDeployment(first.ecs)).status === "SUCCESSFUL" ? true : undefined));
  await first.ecs.send(new UpdateServiceCommand({ service: "bg", taskDefinition: "bg:2" }));
  const baking = await eventually("the bake time", async () => {
    const sd = await newestDeployment(first.ecs);
    return sd.lifecycleStage === "BAKE_TIME" ? sd : undefined;
  });
  expect(baking.status).toBe("IN_PROGRESS");
  expect(revisions(await running(first.ecs))).toEqual(["bg:1", "bg:1", "bg:2", "bg:2"]);
  await first.close();

  const second = await startServiceServer({ dataDir, fake, clock, logger });
  servers.push(second);
  // One second before the end of the bake time: still both.
  clock.advance(5 * 60_000 - 1000);
  expect((await newestDeployment(second.ecs)).lifecycleStage).toBe("BAKE_TIME");
  expect(revisions(await running(second.ecs))).toEqual(["bg:1", "bg:1", "bg:2", "bg:2"]);

  clock.advance(1000);
  const done = await eventually("the deployment to succeed", async () => {
    const sd = await newestDeployment(second.ecs);
    return sd.status === "SUCCESSFUL" ? sd : undefined;
  });
  expect(done).toMatchObject({ lifecycleStage: "CLEAN_UP", targetServiceRevision: expect.objectContaining({ runningTaskCount: 2 }) });
  expect(revisions(await running(second.ecs))).toEqual(["bg:2", "bg:2"]);
  const s = (await second.ecs.send(new DescribeServicesCommand({ services: ["bg"] }))).services![0]!;
  expect(s.deployments!.map((d) => d.rolloutState)).toEqual(["COMPLETED"]);
  expect(s.events![0]!.message).toBe("(service bg) has reached a steady state.");
  // The first deployment and the update: said once each.
  expect(lines.filter((l) => l.event === "deployment-lifecycle-hooks-not-run")).toHaveLength(2);
});
