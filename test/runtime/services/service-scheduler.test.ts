import {
  CreateServiceCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListTagsForResourceCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  type ECSClient,
  type Service,
  type Task,
} from "@aws-sdk/client-ecs";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../../src/runtime/clock.ts";
import { FakeBackend } from "../../support/fake-backend.ts";
import { eventually } from "../../support/eventually.ts";
import { startServiceServer, type ServiceTestServer } from "../../operations/service-server.ts";
import type { EcsEvent } from "../../../src/runtime/events/ecs-event.ts";

// The loop around the decisions, on the real engine over the fake task backend, with a manual clock
// where time matters (grace periods, back-off).

const servers: ServiceTestServer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function start(options: Parameters<typeof startServiceServer>[0] = {}): Promise<ServiceTestServer> {
  const server = await startServiceServer(options);
  servers.push(server);
  return server;
}

async function service(ecs: ECSClient, name: string): Promise<Service> {
  return (await ecs.send(new DescribeServicesCommand({ services: [name] }))).services![0]!;
}

async function tasksOf(ecs: ECSClient, name: string, desiredStatus: "RUNNING" | "STOPPED" = "RUNNING"): Promise<Task[]> {
  const { taskArns } = await ecs.send(new ListTasksCommand({ serviceName: name, desiredStatus }));
  if (taskArns!.length === 0) return [];
  return (await ecs.send(new DescribeTasksCommand({ tasks: taskArns! }))).tasks!;
}

function messages(s: Service): string[] {
  return s.events!.map((e) => e.message!);
}

const steadyOf = (ecs: ECSClient, name: string) =>
  eventually(`${name} to be steady`, async () => {
    const s = await service(ecs, name);
    return s.deployments?.length === 1 && s.runningCount === s.desiredCount && s.deployments[0]?.rolloutState === "COMPLETED" ? s : undefined;
  });

describe("service scheduler loop", () => {
  it("replaces a task whose container health check fails, but only after healthCheckGracePeriodSeconds", async () => {
    const clock = new ManualClock();
    const { ecs, fake } = await start({ clock });
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "hc",
        containerDefinitions: [{ name: "app", image: "busybox", memory: 32, healthCheck: { command: ["CMD-SHELL", "true"] } }],
      }),
    );
    await ecs.send(new CreateServiceCommand({ serviceName: "hc", taskDefinition: "hc", desiredCount: 1, healthCheckGracePeriodSeconds: 60 }));
    const [first] = await eventually("the task to run", async () => {
      const t = await tasksOf(ecs, "hc");
      return t.length === 1 && t[0]!.lastStatus === "RUNNING" ? t : undefined;
    });
    // RUNNING but not HEALTHY yet: the deployment is not complete.
    expect((await service(ecs, "hc")).deployments![0]!.rolloutState).toBe("IN_PROGRESS");
    fake.setHealth(fake.find("app", first!.taskArn)!.runtimeId, "healthy");
    await steadyOf(ecs, "hc");

    fake.setHealth(fake.find("app", first!.taskArn)!.runtimeId, "unhealthy");
    await eventually("the task to be UNHEALTHY", async () => ((await tasksOf(ecs, "hc"))[0]?.healthStatus === "UNHEALTHY" ? true : undefined));
    // Within the grace period nothing happens (the scheduler waits on the clock).
    expect((await tasksOf(ecs, "hc")).map((t) => t.taskArn)).toEqual([first!.taskArn]);
    clock.advance(60_000);
    const replaced = await eventually("a replacement", async () => {
      const t = await tasksOf(ecs, "hc");
      return t.length === 1 && t[0]!.taskArn !== first!.taskArn ? t[0] : undefined;
    });
    const [stopped] = await tasksOf(ecs, "hc", "STOPPED");
    expect(stopped).toMatchObject({ taskArn: first!.taskArn, stopCode: "ServiceSchedulerInitiated", stoppedReason: "Task failed container health checks" });
    const id = (arn: string) => arn.split("/").at(-1);
    const s = await service(ecs, "hc");
    expect(messages(s).slice(0, 3)).toEqual([
      `(service hc) has stopped 1 running tasks: (task ${id(first!.taskArn!)}).`,
      `(service hc) (task ${id(first!.taskArn!)}) failed container health checks.`,
      `(service hc) has started 1 tasks: (task ${id(replaced!.taskArn!)}). Amazon ECS replaced 1 tasks due to an unhealthy status.`,
    ]);
  });

  it("circuit breaker with rollback: a revision whose tasks cannot start fails and the previous one comes back", async () => {
    const { ecs, fake } = await start();
    fake.pullFailures.set("broken:1", "pull access denied for broken, repository does not exist");
    await ecs.send(new RegisterTaskDefinitionCommand({ family: "cb", containerDefinitions: [{ name: "app", image: "busybox", memory: 32 }] }));
    await ecs.send(new RegisterTaskDefinitionCommand({ family: "cb", containerDefinitions: [{ name: "app", image: "broken:1", memory: 32 }] }));
    await ecs.send(
      new CreateServiceCommand({
        serviceName: "cb",
        taskDefinition: "cb:1",
        desiredCount: 2,
        deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } },
      }),
    );
    const good = await steadyOf(ecs, "cb");
    const goodId = good.deployments![0]!.id!;
    const { service: updated } = await ecs.send(new UpdateServiceCommand({ service: "cb", taskDefinition: "cb:2" }));
    const badId = updated!.deployments![0]!.id!;
    const rolled = await eventually("the rollback to complete", async () => {
      const s = await service(ecs, "cb");
      return messages(s).includes(`(service cb) (deployment ${goodId}) deployment completed.`) && messages(s).includes(`(service cb) rolling back to deployment ${goodId}.`) && s.deployments?.length === 1
        ? s
        : undefined;
    });
    expect(rolled.taskDefinition).toMatch(/task-definition\/cb:1$/);
    expect(rolled.deployments![0]).toMatchObject({ id: goodId, status: "PRIMARY", rolloutState: "COMPLETED", rolloutStateReason: `ECS deployment ${goodId} completed.` });
    expect(messages(rolled)).toContain(`(service cb) (deployment ${badId}) deployment failed: tasks failed to start.`);
    // ECS's threshold for 2 tasks is 3 failures (launched two at a time, a fourth may be on its way and is
    // stopped); the old tasks kept running throughout (min 100 %).
    const bad = (await tasksOf(ecs, "cb", "STOPPED")).filter((t) => t.startedBy === badId);
    expect(bad.filter((t) => t.stopCode === "TaskFailedToStart").length).toBeGreaterThanOrEqual(3);
    expect(bad.length).toBeLessThanOrEqual(4);
    expect((await tasksOf(ecs, "cb")).map((t) => t.startedBy)).toEqual([goodId, goodId]);
  });

  it("backs off tasks that keep failing to start (bounded, never hot) and says so", async () => {
    const clock = new ManualClock();
    const { ecs, fake } = await start({ clock });
    fake.pullFailures.set("broken:1", "pull access denied for broken, repository does not exist");
    await ecs.send(new RegisterTaskDefinitionCommand({ family: "bad", containerDefinitions: [{ name: "app", image: "broken:1", memory: 32 }] }));
    await ecs.send(new CreateServiceCommand({ serviceName: "bad", taskDefinition: "bad", desiredCount: 1 }));
    const throttled = await eventually("the back-off event", async () => {
      const s = await service(ecs, "bad");
      return messages(s).includes("(service bad) is unable to consistently start tasks successfully.") ? s : undefined;
    });
    const stoppedCount = async () => (await tasksOf(ecs, "bad", "STOPPED")).length;
    expect(await stoppedCount()).toBe(3);
    expect(throttled.pendingCount).toBe(0);
    // Nothing more until the clock moves: 5 s after the third failure.
    await new Promise((r) => setTimeout(r, 300));
    expect(await stoppedCount()).toBe(3);
    clock.advance(4_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(await stoppedCount()).toBe(3);
    clock.advance(1_000);
    await eventually("the fourth attempt", async () => ((await stoppedCount()) === 4 ? true : undefined));
    // The next one waits 10 s; the event is not repeated.
    clock.advance(9_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(await stoppedCount()).toBe(4);
    clock.advance(1_000);
    await eventually("the fifth attempt", async () => ((await stoppedCount()) === 5 ? true : undefined));
    expect(messages(await service(ecs, "bad")).filter((m) => m.includes("unable to consistently start"))).toHaveLength(1);
    // A new task definition ends the back-off at once.
    await ecs.send(new RegisterTaskDefinitionCommand({ family: "bad", containerDefinitions: [{ name: "app", image: "busybox", memory: 32 }] }));
    await ecs.send(new UpdateServiceCommand({ service: "bad", taskDefinition: "bad:2" }));
    await steadyOf(ecs, "bad");
  });

  it("restart: tasks are re-adopted and nothing is started twice; the service converges again", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "lecs-svc-"));
    dirs.push(dataDir);
    const fake = new FakeBackend();
    const first = await startServiceServer({ dataDir, fake });
    await first.ecs.send(new RegisterTaskDefinitionCommand({ family: "r", containerDefinitions: [{ name: "app", image: "busybox", memory: 32 }] }));
    await first.ecs.send(new RegisterTaskDefinitionCommand({ family: "r", containerDefinitions: [{ name: "app", image: "busybox:latest", memory: 32 }] }));
    await first.ecs.send(new CreateServiceCommand({ serviceName: "r", taskDefinition: "r:1", desiredCount: 3 }));
    await steadyOf(first.ecs, "r");
    // Mid-deployment: the new revision's tasks are created, the old ones still run.
    await first.ecs.send(new UpdateServiceCommand({ service: "r", taskDefinition: "r:2" }));
    await first.close();

    const second = await start({ dataDir, fake });
    const s = await steadyOf(second.ecs, "r");
    expect(s.taskDefinition).toMatch(/task-definition\/r:2$/);
    const running = await tasksOf(second.ecs, "r");
    expect(running).toHaveLength(3);
    expect(new Set(running.map((t) => t.taskDefinitionArn?.split("/").at(-1)))).toEqual(new Set(["r:2"]));
    // Every container the fake runtime ever ran belongs to a task the engine knows: no duplicates, no orphans.
    const live = [...fake.containers.values()].filter((c) => c.status === "running");
    expect(live).toHaveLength(3);
    expect(new Set(live.map((c) => c.taskArn))).toEqual(new Set(running.map((t) => t.taskArn)));
    // And it keeps the service: a container killed behind its back is replaced.
    fake.exit(live[0]!.runtimeId, 137);
    await eventually("the replacement", async () => {
      const now = await tasksOf(second.ecs, "r");
      return now.length === 3 && !now.some((t) => t.taskArn === live[0]!.taskArn) ? now : undefined;
    });
  });

  it("DAEMON: one task on the (single) instance", async () => {
    const { ecs } = await start();
    await ecs.send(new RegisterTaskDefinitionCommand({ family: "d", containerDefinitions: [{ name: "app", image: "busybox", memory: 32 }] }));
    const { service: created } = await ecs.send(new CreateServiceCommand({ serviceName: "d", taskDefinition: "d", schedulingStrategy: "DAEMON" }));
    expect(created).toMatchObject({ schedulingStrategy: "DAEMON", deploymentConfiguration: { maximumPercent: 100, minimumHealthyPercent: 0 } });
    const s = await steadyOf(ecs, "d");
    expect(s).toMatchObject({ desiredCount: 1, runningCount: 1 });
  });

  it("a fixed host port: one task per instance, the rest cannot be placed (as ECS says it)", async () => {
    const { ecs } = await start();
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "port",
        containerDefinitions: [{ name: "app", image: "busybox", memory: 32, portMappings: [{ containerPort: 80, hostPort: 18080 }] }],
      }),
    );
    await ecs.send(new CreateServiceCommand({ serviceName: "port", taskDefinition: "port", desiredCount: 2 }));
    const s = await eventually("the placement event", async () => {
      const now = await service(ecs, "port");
      return now.runningCount === 1 && messages(now).some((m) => m.includes("was unable to place a task")) ? now : undefined;
    });
    expect(messages(s)).toContainEqual(
      expect.stringMatching(
        /^\(service port\) was unable to place a task because no container instance met all of its requirements\. The closest matching \(container-instance [0-9a-f]{32}\) is already using a port required by your task\. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide\.$/,
      ),
    );
    expect(await tasksOf(ecs, "port")).toHaveLength(1);
  });

  it("sends ECS Deployment State Change and ECS Service Action events to EventBridge", async () => {
    const published: EcsEvent[] = [];
    const { ecs } = await start({ events: { publish: (e) => void published.push(e) } });
    await ecs.send(new RegisterTaskDefinitionCommand({ family: "ev", containerDefinitions: [{ name: "app", image: "busybox", memory: 32 }] }));
    const { service: created } = await ecs.send(new CreateServiceCommand({ serviceName: "ev", taskDefinition: "ev", desiredCount: 1 }));
    const id = created!.deployments![0]!.id!;
    await steadyOf(ecs, "ev");
    await eventually("the steady-state event", () => (published.some((e) => e.detail["eventName"] === "SERVICE_STEADY_STATE") ? true : undefined));
    expect(published.map((e) => [e["detail-type"], e.detail["eventName"], e.resources])).toEqual([
      ["ECS Deployment State Change", "SERVICE_DEPLOYMENT_IN_PROGRESS", [created!.serviceArn]],
      ["ECS Deployment State Change", "SERVICE_DEPLOYMENT_COMPLETED", [created!.serviceArn]],
      ["ECS Service Action", "SERVICE_STEADY_STATE", [created!.serviceArn]],
    ]);
    expect(published[0]!.detail).toMatchObject({ eventType: "INFO", deploymentId: id, reason: `ECS deployment ${id} in progress.` });
    expect(published[1]!.detail).toMatchObject({ eventType: "INFO", deploymentId: id, reason: `ECS deployment ${id} completed.` });
    expect(published[2]!.detail).toMatchObject({ eventType: "INFO", clusterArn: created!.clusterArn });
    expect(published[2]).toMatchObject({ source: "aws.ecs", region: "us-east-1", account: "123456789012" });
  });

  it("propagates the service's tags and the ECS managed tags to its tasks", async () => {
    const { ecs } = await start();
    await ecs.send(new RegisterTaskDefinitionCommand({ family: "t", containerDefinitions: [{ name: "app", image: "busybox", memory: 32 }] }));
    await ecs.send(
      new CreateServiceCommand({
        serviceName: "t",
        taskDefinition: "t",
        desiredCount: 1,
        propagateTags: "SERVICE",
        enableECSManagedTags: true,
        tags: [{ key: "team", value: "x" }],
      }),
    );
    const [task] = await eventually("the task", async () => {
      const t = await tasksOf(ecs, "t");
      return t.length === 1 ? t : undefined;
    });
    expect((await ecs.send(new ListTagsForResourceCommand({ resourceArn: task!.taskArn! }))).tags).toEqual([
      { key: "team", value: "x" },
      { key: "aws:ecs:clusterName", value: "default" },
      { key: "aws:ecs:serviceName", value: "t" },
    ]);
  });
});
