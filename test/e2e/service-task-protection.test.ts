// Task scale-in protection with a real service (real Docker, JS SDK): a scale-in stops the unprotected
// task and keeps the protected one running until its protection is cleared, then the service is steady.
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  UpdateTaskProtectionCommand,
  waitUntilServicesStable,
  type ECSClient,
  type Service,
} from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, expect, it } from "vitest";
import { removeDataDir, startChildServer, tempDataDir, type ChildServer } from "../reliability/support/child-server.ts";
import { eventually, IMAGE, removeCluster, TRAPPING_SLEEP, uniqueCluster } from "../reliability/support/docker.ts";

const cluster = uniqueCluster("svc-protect");
const dataDir = tempDataDir();
let server: ChildServer;
let ecs: ECSClient;

beforeAll(async () => {
  server = await startChildServer({ dataDir });
  ecs = server.ecs;
  await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: `${cluster}-worker`,
      networkMode: "host",
      containerDefinitions: [{ name: "worker", image: IMAGE, memory: 32, command: TRAPPING_SLEEP, stopTimeout: 2 }],
    }),
  );
});

afterAll(async () => {
  await server?.stop();
  await removeCluster(cluster);
  removeDataDir(dataDir);
});

it("a scale-in to 0 keeps the protected task until UpdateTaskProtection clears it", { timeout: 180_000 }, async () => {
  const describe = async (): Promise<Service> => (await ecs.send(new DescribeServicesCommand({ cluster, services: ["worker"] }))).services![0]!;
  const status = async (arn: string): Promise<string | undefined> => (await ecs.send(new DescribeTasksCommand({ cluster, tasks: [arn] }))).tasks?.[0]?.lastStatus;
  await ecs.send(new CreateServiceCommand({ cluster, serviceName: "worker", taskDefinition: `${cluster}-worker`, desiredCount: 2 }));
  expect((await waitUntilServicesStable({ client: ecs, maxWaitTime: 120, minDelay: 1, maxDelay: 2 }, { cluster, services: ["worker"] })).state).toBe("SUCCESS");
  const [kept, other] = (await ecs.send(new ListTasksCommand({ cluster, serviceName: "worker" }))).taskArns!;
  const protectedTasks = (await ecs.send(new UpdateTaskProtectionCommand({ cluster, tasks: [kept!], protectionEnabled: true, expiresInMinutes: 10 }))).protectedTasks;
  expect(protectedTasks?.[0]).toMatchObject({ taskArn: kept, protectionEnabled: true });

  await ecs.send(new UpdateServiceCommand({ cluster, service: "worker", desiredCount: 0 }));
  await eventually("the unprotected task stopped", async () => ((await status(other!)) === "STOPPED" ? true : undefined), 60_000);
  expect(await status(kept!)).toBe("RUNNING");
  const waiting = await describe();
  expect([waiting.desiredCount, waiting.runningCount]).toEqual([0, 1]);
  // Not steady while the protected task holds the scale-in back.
  expect(waiting.events?.[0]?.message).not.toMatch(/has reached a steady state/);

  await ecs.send(new UpdateTaskProtectionCommand({ cluster, tasks: [kept!], protectionEnabled: false }));
  await eventually("the formerly protected task stopped", async () => ((await status(kept!)) === "STOPPED" ? true : undefined), 60_000);
  expect((await waitUntilServicesStable({ client: ecs, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { cluster, services: ["worker"] })).state).toBe("SUCCESS");
  // The steady-state event comes with the scheduler's next look, which may follow the waiter's answer.
  const done = await eventually("the steady-state event", async () => {
    const s = await describe();
    return s.events?.[0]?.message === "(service worker) has reached a steady state." ? s : undefined;
  });
  expect([done.desiredCount, done.runningCount]).toEqual([0, 0]);
});
