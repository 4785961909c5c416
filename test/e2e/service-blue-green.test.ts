// The ECS-native BLUE_GREEN deployment strategy with a real service (real Docker, JS SDK): green is scaled
// to the full count next to blue (maximumPercent 100 would stop a rolling update), blue keeps its tasks
// until green is healthy, then (bakeTimeInMinutes 0) blue goes at once; the service deployment ends
// SUCCESSFUL in the CLEAN_UP stage and the SDK's services-stable waiter agrees.
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServiceDeploymentsCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListServiceDeploymentsCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  waitUntilServicesStable,
  type DeploymentConfiguration,
  type ECSClient,
  type Service,
  type Task,
} from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, expect, it } from "vitest";
import { removeDataDir, startChildServer, tempDataDir, type ChildServer } from "../reliability/support/child-server.ts";
import { eventually, IMAGE, removeCluster, TRAPPING_SLEEP, uniqueCluster } from "../reliability/support/docker.ts";

const cluster = uniqueCluster("svc-bg");
const dataDir = tempDataDir();
const family = `${cluster}-web`;
// A health check: green is RUNNING a few seconds before it is HEALTHY, the moment blue and green both run.
const HEALTH = { command: ["CMD-SHELL", "true"], interval: 5, timeout: 2, retries: 1 };
const BLUE_GREEN: DeploymentConfiguration = { strategy: "BLUE_GREEN", bakeTimeInMinutes: 0, minimumHealthyPercent: 100, maximumPercent: 100 };
let server: ChildServer;
let ecs: ECSClient;

beforeAll(async () => {
  server = await startChildServer({ dataDir });
  ecs = server.ecs;
  await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
  for (const version of ["v1", "v2"]) {
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family,
        networkMode: "host",
        containerDefinitions: [{ name: "app", image: IMAGE, memory: 32, command: TRAPPING_SLEEP, healthCheck: HEALTH, stopTimeout: 2, environment: [{ name: "V", value: version }] }],
      }),
    );
  }
});

afterAll(async () => {
  await server?.stop();
  await removeCluster(cluster);
  removeDataDir(dataDir);
});

it("UpdateService under BLUE_GREEN: 2 blue and 2 green tasks run side by side, then only green; SUCCESSFUL in CLEAN_UP", { timeout: 240_000 }, async () => {
  const describeService = async (): Promise<Service> => (await ecs.send(new DescribeServicesCommand({ cluster, services: ["web"] }))).services![0]!;
  const liveTasks = async (): Promise<Task[]> => {
    const { taskArns } = await ecs.send(new ListTasksCommand({ cluster, serviceName: "web" }));
    return taskArns!.length === 0 ? [] : (await ecs.send(new DescribeTasksCommand({ cluster, tasks: taskArns! }))).tasks!;
  };
  const stable = async (): Promise<void> => {
    const r = await waitUntilServicesStable({ client: ecs, maxWaitTime: 180, minDelay: 1, maxDelay: 2 }, { cluster, services: ["web"] });
    expect(r.state).toBe("SUCCESS");
  };

  await ecs.send(new CreateServiceCommand({ cluster, serviceName: "web", taskDefinition: `${family}:1`, desiredCount: 2, deploymentConfiguration: BLUE_GREEN }));
  await stable();
  await eventually("the first deployment to complete (blue HEALTHY)", async () => ((await describeService()).deployments?.[0]?.rolloutState === "COMPLETED" ? true : undefined), 60_000);
  const blue = (await liveTasks()).map((t) => t.taskArn!);
  expect(blue).toHaveLength(2);

  const { service } = await ecs.send(new UpdateServiceCommand({ cluster, service: "web", taskDefinition: `${family}:2` }));
  const greenId = service!.deployments![0]!.id!;
  expect(service!.deploymentConfiguration).toMatchObject({ strategy: "BLUE_GREEN", bakeTimeInMinutes: 0 });

  // Some sampled moment: both revisions at full count, all RUNNING (maximumPercent 100 does not limit green).
  const together = await eventually(
    "2 blue and 2 green tasks RUNNING at once",
    async () => {
      const tasks = (await liveTasks()).filter((t) => t.lastStatus === "RUNNING");
      const of = (td: string): Task[] => tasks.filter((t) => t.taskDefinitionArn?.endsWith(`/${td}`));
      return of(`${family}:1`).length === 2 && of(`${family}:2`).length === 2 ? tasks : undefined;
    },
    90_000,
    50,
  );
  expect(together.filter((t) => blue.includes(t.taskArn!))).toHaveLength(2);

  await stable();
  // services-stable needs one deployment and runningCount = desiredCount; COMPLETED follows at the
  // scheduler's next look, once blue's stopped tasks are accounted for (as on AWS, it may lag the waiter).
  const now = await eventually("the green deployment COMPLETED", async () => {
    const s = await describeService();
    return s.deployments?.[0]?.rolloutState === "COMPLETED" ? s : undefined;
  });
  expect(now.deployments!.map((d) => [d.id, d.status, d.rolloutState])).toEqual([[greenId, "PRIMARY", "COMPLETED"]]);
  const remaining = await liveTasks();
  expect(remaining.map((t) => [t.lastStatus, t.taskDefinitionArn?.split("/").pop()])).toEqual(Array(2).fill(["RUNNING", `${family}:2`]));
  const { tasks: gone } = await ecs.send(new DescribeTasksCommand({ cluster, tasks: blue }));
  for (const t of gone!) {
    expect(t).toMatchObject({ desiredStatus: "STOPPED", stopCode: "ServiceSchedulerInitiated" });
    expect(t.stoppedReason).toBe(`Scaling activity initiated by (deployment ${t.startedBy})`);
  }

  const { serviceDeployments } = await ecs.send(new ListServiceDeploymentsCommand({ cluster, service: "web" }));
  const newest = [...serviceDeployments!].sort((a, b) => b.createdAt!.getTime() - a.createdAt!.getTime())[0];
  expect(serviceDeployments).toHaveLength(2);
  const described = await eventually(
    "the service deployment to finish",
    async () => {
      const d = (await ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [newest!.serviceDeploymentArn!] }))).serviceDeployments?.[0];
      return d?.status === "SUCCESSFUL" ? d : undefined;
    },
    30_000,
  );
  expect(described).toMatchObject({ status: "SUCCESSFUL", lifecycleStage: "CLEAN_UP", deploymentConfiguration: expect.objectContaining({ strategy: "BLUE_GREEN" }) });
  expect(described.targetServiceRevision).toMatchObject({ requestedTaskCount: 2, runningTaskCount: 2 });
});
