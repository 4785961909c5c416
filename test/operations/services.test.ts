import {
  ECSClient as Client,
  CreateClusterCommand,
  CreateServiceCommand,
  DeleteClusterCommand,
  DeleteServiceCommand,
  DescribeClustersCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListServicesByNamespaceCommand,
  ListServicesCommand,
  ListTagsForResourceCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  StopTaskCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateServiceCommand,
  waitUntilServicesInactive,
  waitUntilServicesStable,
  type CreateServiceCommandInput,
  type ECSClient,
  type Service,
} from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../support/eventually.ts";
import { ACCOUNT, startServiceServer, type ServiceTestServer } from "./service-server.ts";

const CLUSTER = "svc";
const CLUSTER_ARN = `arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/${CLUSTER}`;

async function errorOf(p: Promise<unknown>): Promise<{ name: string; message: string }> {
  try {
    await p;
  } catch (err) {
    return { name: (err as Error).name, message: (err as Error).message };
  }
  throw new Error("expected the call to fail");
}

async function describe1(ecs: ECSClient, name: string, cluster = CLUSTER): Promise<Service> {
  const { services } = await ecs.send(new DescribeServicesCommand({ cluster, services: [name] }));
  return services![0]!;
}

/** The JS SDK's own waiter, polling every second. */
async function stable(ecs: ECSClient, names: string[], cluster = CLUSTER): Promise<void> {
  const result = await waitUntilServicesStable({ client: ecs, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { cluster, services: names });
  expect(result.state).toBe("SUCCESS");
}

describe("services: operations through the JS SDK (fake containers)", () => {
  let server: ServiceTestServer;
  let ecs: ECSClient;

  beforeAll(async () => {
    server = await startServiceServer();
    ecs = server.ecs;
    await ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));
    for (const [family, extra] of [
      ["web", {}],
      ["vpc", { networkMode: "awsvpc" as const }],
    ] as const) {
      for (let i = 0; i < 2; i++) {
        await ecs.send(
          new RegisterTaskDefinitionCommand({
            family,
            ...extra,
            containerDefinitions: [{ name: "app", image: "busybox", memory: 32, portMappings: [{ containerPort: 80 }] }],
          }),
        );
      }
    }
  });
  afterAll(async () => {
    await server?.close();
  });

  it("CreateService answers the service as ECS shows it, then the scheduler runs it to a steady state", async () => {
    const { service } = await ecs.send(
      new CreateServiceCommand({ cluster: CLUSTER, serviceName: "web", taskDefinition: "web:1", desiredCount: 2, tags: [{ key: "team", value: "a" }] }),
    );
    expect(service).toMatchObject({
      serviceArn: `arn:aws:ecs:us-east-1:${ACCOUNT}:service/${CLUSTER}/web`,
      serviceName: "web",
      clusterArn: CLUSTER_ARN,
      status: "ACTIVE",
      desiredCount: 2,
      runningCount: 0,
      pendingCount: 0,
      launchType: "EC2",
      taskDefinition: `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/web:1`,
      schedulingStrategy: "REPLICA",
      deploymentController: { type: "ECS" },
      deploymentConfiguration: { deploymentCircuitBreaker: { enable: false, rollback: false }, maximumPercent: 200, minimumHealthyPercent: 100 },
      loadBalancers: [],
      serviceRegistries: [],
      events: [],
      propagateTags: "NONE",
      enableECSManagedTags: false,
      createdBy: `arn:aws:iam::${ACCOUNT}:root`,
    });
    expect(service!.deployments).toHaveLength(1);
    const deployment = service!.deployments![0]!;
    expect(deployment.id).toMatch(/^ecs-svc\/\d{19}$/);
    expect(deployment).toMatchObject({
      status: "PRIMARY",
      desiredCount: 2,
      rolloutState: "IN_PROGRESS",
      rolloutStateReason: `ECS deployment ${deployment.id} in progress.`,
      failedTasks: 0,
    });
    expect(service!.currentServiceDeployment).toMatch(new RegExp(`^arn:aws:ecs:us-east-1:${ACCOUNT}:service-deployment/${CLUSTER}/web/[A-Za-z0-9_-]{22}$`));

    await stable(ecs, ["web"]);
    const s = await describe1(ecs, "web");
    expect(s).toMatchObject({ runningCount: 2, pendingCount: 0 });
    expect(s.deployments).toEqual([
      expect.objectContaining({ id: deployment.id, rolloutState: "COMPLETED", rolloutStateReason: `ECS deployment ${deployment.id} completed.`, runningCount: 2 }),
    ]);
    const messages = s.events!.map((e) => e.message);
    expect(messages[0]).toBe("(service web) has reached a steady state.");
    expect(messages[1]).toBe(`(service web) (deployment ${deployment.id}) deployment completed.`);
    expect(messages.at(-1)).toMatch(/^\(service web\) has started 2 tasks: \(task [0-9a-f]{32}\) \(task [0-9a-f]{32}\)\.$/);
    expect(s.currentServiceRevisions).toEqual([
      { arn: expect.stringMatching(new RegExp(`service-revision/${CLUSTER}/web/\\d{19}$`)), requestedTaskCount: 2, runningTaskCount: 2, pendingTaskCount: 0 },
    ]);

    const { taskArns } = await ecs.send(new ListTasksCommand({ cluster: CLUSTER, serviceName: "web" }));
    expect(taskArns).toHaveLength(2);
    const { tasks } = await ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: taskArns! }));
    for (const t of tasks!) expect(t).toMatchObject({ startedBy: deployment.id, group: "service:web", lastStatus: "RUNNING" });
  });

  it("CreateService is idempotent for the same request and refuses a different one", async () => {
    const same = await ecs.send(new CreateServiceCommand({ cluster: CLUSTER, serviceName: "web", taskDefinition: "web:1", desiredCount: 2, tags: [{ key: "team", value: "a" }] }));
    expect(same.service?.serviceArn).toBe(`arn:aws:ecs:us-east-1:${ACCOUNT}:service/${CLUSTER}/web`);
    expect(same.service?.runningCount).toBe(2);
    expect(await errorOf(ecs.send(new CreateServiceCommand({ cluster: CLUSTER, serviceName: "web", taskDefinition: "web:1", desiredCount: 3 })))).toEqual({
      name: "InvalidParameterException",
      message: "Creation of service was not idempotent.",
    });
  });

  it.each<[string, CreateServiceCommandInput, string, string]>([
    ["an unknown cluster", { cluster: "nope", serviceName: "x", taskDefinition: "web:1" }, "ClusterNotFoundException", "Cluster not found."],
    ["a bad name", { cluster: CLUSTER, serviceName: "bad name!", taskDefinition: "web:1" }, "InvalidParameterException", "Invalid service name 'bad name!'. Up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens are allowed."],
    ["an unknown task definition", { cluster: CLUSTER, serviceName: "x", taskDefinition: "nope:3" }, "ClientException", "TaskDefinition not found."],
    [
      "both a launch type and a capacity provider strategy",
      { cluster: CLUSTER, serviceName: "x", taskDefinition: "web:1", launchType: "EC2", capacityProviderStrategy: [{ capacityProvider: "FARGATE" }] },
      "InvalidParameterException",
      "Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.",
    ],
    ["awsvpc without a network configuration", { cluster: CLUSTER, serviceName: "x", taskDefinition: "vpc" }, "InvalidParameterException", "Network Configuration must be provided when networkMode 'awsvpc' is specified."],
    [
      "a network configuration on a bridge task definition",
      { cluster: CLUSTER, serviceName: "x", taskDefinition: "web", networkConfiguration: { awsvpcConfiguration: { subnets: ["subnet-1"] } } },
      "InvalidParameterException",
      "Network Configuration is not valid for the given networkMode of this task definition.",
    ],
    ["FARGATE on a bridge task definition", { cluster: CLUSTER, serviceName: "x", taskDefinition: "web", launchType: "FARGATE" }, "InvalidParameterException", "Task definition does not support launch_type FARGATE."],
    ["a platform version on EC2", { cluster: CLUSTER, serviceName: "x", taskDefinition: "web", launchType: "EC2", platformVersion: "1.4.0" }, "InvalidParameterException", "The platform version must be null when specifying an EC2 launch type."],
    [
      "a load balancer naming an unknown container",
      { cluster: CLUSTER, serviceName: "x", taskDefinition: "web", loadBalancers: [{ targetGroupArn: "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/t/1", containerName: "nope", containerPort: 80 }] },
      "InvalidParameterException",
      "The container nope does not exist in the task definition.",
    ],
    [
      "a task definition on an EXTERNAL service",
      { cluster: CLUSTER, serviceName: "x", taskDefinition: "web", deploymentController: { type: "EXTERNAL" } },
      "InvalidParameterException",
      "taskDefinition is not supported for services with an EXTERNAL deployment controller: specify it when you create a task set.",
    ],
    ["no task definition", { cluster: CLUSTER, serviceName: "x" }, "InvalidParameterException", "A task definition must be specified for a service with the ECS deployment controller."],
    [
      "DAEMON with the EXTERNAL controller",
      { cluster: CLUSTER, serviceName: "x", schedulingStrategy: "DAEMON", deploymentController: { type: "EXTERNAL" } },
      "InvalidParameterException",
      "The DAEMON scheduling strategy is not supported with the EXTERNAL deployment controller.",
    ],
    [
      "a minimumHealthyPercent above 100",
      { cluster: CLUSTER, serviceName: "x", taskDefinition: "web", deploymentConfiguration: { minimumHealthyPercent: 150 } },
      "InvalidParameterException",
      "Invalid minimumHealthyPercent 150: it must be between 0 and 100.",
    ],
    ["a negative desiredCount", { cluster: CLUSTER, serviceName: "x", taskDefinition: "web", desiredCount: -1 }, "InvalidParameterException", "Invalid desiredCount -1: it must be 0 or more."],
    ["more tasks than a service may have", { cluster: CLUSTER, serviceName: "x", taskDefinition: "web", desiredCount: 5001 }, "InvalidParameterException", "desiredCount 5001 is above the limit of 5000 tasks per service."],
    [
      "a negative grace period",
      { cluster: CLUSTER, serviceName: "x", taskDefinition: "web", healthCheckGracePeriodSeconds: -5 },
      "InvalidParameterException",
      "Invalid healthCheckGracePeriodSeconds -5: it must be between 0 and 2147483647.",
    ],
    ["a reserved tag key", { cluster: CLUSTER, serviceName: "x", taskDefinition: "web", tags: [{ key: "aws:x", value: "1" }] }, "InvalidParameterException", "Tag key 'aws:x' is invalid: the 'aws:' prefix is reserved for AWS use."],
  ])("CreateService refuses %s", async (_, input, name, message) => {
    expect(await errorOf(ecs.send(new CreateServiceCommand(input)))).toEqual({ name, message });
  });

  it("DescribeServices reports unknown services as MISSING failures and shows tags only when asked", async () => {
    const out = await ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: ["web", "ghost", `arn:aws:ecs:us-east-1:${ACCOUNT}:service/${CLUSTER}/gone`] }));
    expect(out.services?.map((s) => s.serviceName)).toEqual(["web"]);
    expect(out.services?.[0]?.tags).toBeUndefined();
    expect(out.failures).toEqual([
      { arn: `arn:aws:ecs:us-east-1:${ACCOUNT}:service/${CLUSTER}/ghost`, reason: "MISSING" },
      { arn: `arn:aws:ecs:us-east-1:${ACCOUNT}:service/${CLUSTER}/gone`, reason: "MISSING" },
    ]);
    const tagged = await ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: ["web"], include: ["TAGS"] }));
    expect(tagged.services?.[0]?.tags).toEqual([{ key: "team", value: "a" }]);
    expect(await errorOf(ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: [] })))).toEqual({
      name: "InvalidParameterException",
      message: "Services cannot be empty.",
    });
    expect(await errorOf(ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: Array.from({ length: 11 }, (_, i) => `s${i}`) })))).toMatchObject({
      name: "InvalidParameterException",
    });
  });

  it("tags a service through TagResource / UntagResource / ListTagsForResource", async () => {
    const arn = `arn:aws:ecs:us-east-1:${ACCOUNT}:service/${CLUSTER}/web`;
    await ecs.send(new TagResourceCommand({ resourceArn: arn, tags: [{ key: "env", value: "dev" }] }));
    expect((await ecs.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags).toEqual([
      { key: "team", value: "a" },
      { key: "env", value: "dev" },
    ]);
    await ecs.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: ["team"] }));
    expect((await ecs.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags).toEqual([{ key: "env", value: "dev" }]);
    expect(await errorOf(ecs.send(new TagResourceCommand({ resourceArn: `${arn}-nope`, tags: [{ key: "a", value: "b" }] })))).toEqual({
      name: "ResourceNotFoundException",
      message: "The specified service does not exist.",
    });
  });

  it("a service task stopped with StopTask is replaced", async () => {
    const { taskArns } = await ecs.send(new ListTasksCommand({ cluster: CLUSTER, serviceName: "web" }));
    const victim = taskArns![0]!;
    const { task } = await ecs.send(new StopTaskCommand({ cluster: CLUSTER, task: victim, reason: "testing" }));
    expect(task).toMatchObject({ desiredStatus: "STOPPED", stopCode: "UserInitiated", stoppedReason: "testing" });
    const replaced = await eventually("a replacement task", async () => {
      const { taskArns: now } = await ecs.send(new ListTasksCommand({ cluster: CLUSTER, serviceName: "web" }));
      return now!.length === 2 && !now!.includes(victim) ? now : undefined;
    });
    expect(replaced).toHaveLength(2);
    await stable(ecs, ["web"]);
    const s = await describe1(ecs, "web");
    expect(s.events![0]!.message).toBe("(service web) has reached a steady state.");
    expect(s.events![1]!.message).toMatch(/^\(service web\) has started 1 tasks: \(task [0-9a-f]{32}\)\.$/);
  });

  it("UpdateService desiredCount scales out and in; tasks are stopped by the scheduler with ECS's reason", async () => {
    await ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: "web", desiredCount: 3 }));
    await stable(ecs, ["web"]);
    expect((await describe1(ecs, "web")).runningCount).toBe(3);
    const deploymentId = (await describe1(ecs, "web")).deployments![0]!.id!;
    const { service } = await ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: "web", desiredCount: 0 }));
    expect(service?.deployments).toHaveLength(1);
    await stable(ecs, ["web"]);
    const s = await describe1(ecs, "web");
    expect(s).toMatchObject({ desiredCount: 0, runningCount: 0 });
    expect(s.events!.map((e) => e.message)).toContainEqual(expect.stringMatching(/^\(service web\) has stopped 3 running tasks: (\(task [0-9a-f]{32}\) ?){3}\.$/));
    const { taskArns } = await ecs.send(new ListTasksCommand({ cluster: CLUSTER, serviceName: "web", desiredStatus: "STOPPED" }));
    const { tasks } = await ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: taskArns! }));
    const byScheduler = tasks!.filter((t) => t.stopCode === "ServiceSchedulerInitiated");
    expect(byScheduler).toHaveLength(3);
    for (const t of byScheduler) expect(t.stoppedReason).toBe(`Scaling activity initiated by (deployment ${deploymentId})`);
  });

  it("UpdateService with a new task definition rolls a new PRIMARY deployment through to COMPLETED", async () => {
    await ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: "web", desiredCount: 2 }));
    await stable(ecs, ["web"]);
    const before = await describe1(ecs, "web");
    const { service } = await ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: "web", taskDefinition: "web:2" }));
    expect(service?.taskDefinition).toBe(`arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/web:2`);
    expect(service?.deployments?.map((d) => [d.status, d.taskDefinition?.split("/").at(-1), d.rolloutState])).toEqual([
      ["PRIMARY", "web:2", "IN_PROGRESS"],
      ["ACTIVE", "web:1", "COMPLETED"],
    ]);
    expect(service?.currentServiceDeployment).not.toBe(before.currentServiceDeployment);
    await stable(ecs, ["web"]);
    const after = await describe1(ecs, "web");
    expect(after.deployments).toHaveLength(1);
    expect(after.deployments![0]).toMatchObject({ taskDefinition: `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/web:2`, rolloutState: "COMPLETED" });
    const { taskArns } = await ecs.send(new ListTasksCommand({ cluster: CLUSTER, serviceName: "web" }));
    const { tasks } = await ecs.send(new DescribeTasksCommand({ cluster: CLUSTER, tasks: taskArns! }));
    expect(tasks!.map((t) => t.taskDefinitionArn?.split("/").at(-1))).toEqual(["web:2", "web:2"]);
  });

  it("UpdateService and DeleteService name unknown and deleted services as ECS does", async () => {
    expect(await errorOf(ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: "ghost", desiredCount: 1 })))).toEqual({
      name: "ServiceNotFoundException",
      message: "Service not found.",
    });
    expect(await errorOf(ecs.send(new DeleteServiceCommand({ cluster: CLUSTER, service: "ghost" })))).toEqual({
      name: "ServiceNotFoundException",
      message: "Service not found.",
    });
    expect(await errorOf(ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: "web", taskDefinition: "nope:9" })))).toEqual({
      name: "ClientException",
      message: "TaskDefinition not found.",
    });
  });

  it("ListServices pages through ACTIVE services and filters them", async () => {
    for (const name of ["a1", "a2", "a3"]) {
      await ecs.send(new CreateServiceCommand({ cluster: CLUSTER, serviceName: name, taskDefinition: "web", desiredCount: 0, launchType: name === "a3" ? "FARGATE" : undefined, ...(name === "a3" ? { taskDefinition: "vpc", networkConfiguration: { awsvpcConfiguration: { subnets: ["subnet-1"] } } } : {}) }));
    }
    const first = await ecs.send(new ListServicesCommand({ cluster: CLUSTER, maxResults: 2 }));
    expect(first.serviceArns?.map((a) => a.split("/").at(-1))).toEqual(["a1", "a2"]);
    const second = await ecs.send(new ListServicesCommand({ cluster: CLUSTER, maxResults: 2, nextToken: first.nextToken }));
    expect(second.serviceArns?.map((a) => a.split("/").at(-1))).toEqual(["a3", "web"]);
    expect(second.nextToken).toBeUndefined();
    expect((await ecs.send(new ListServicesCommand({ cluster: CLUSTER, launchType: "FARGATE" }))).serviceArns?.map((a) => a.split("/").at(-1))).toEqual(["a3"]);
    expect((await ecs.send(new ListServicesCommand({ cluster: CLUSTER, schedulingStrategy: "DAEMON" }))).serviceArns).toEqual([]);
    expect((await ecs.send(new ListServicesCommand({ cluster: CLUSTER, resourceManagementType: "CUSTOMER" }))).serviceArns).toHaveLength(4);
    expect((await ecs.send(new ListServicesCommand({ cluster: CLUSTER, resourceManagementType: "ECS" }))).serviceArns).toEqual([]);
    expect(await errorOf(ecs.send(new ListServicesCommand({ cluster: CLUSTER, nextToken: "garbage" })))).toMatchObject({ name: "InvalidParameterException" });
  });

  it("DescribeClusters counts the active services; a cluster with services cannot be deleted", async () => {
    const { clusters } = await ecs.send(new DescribeClustersCommand({ clusters: [CLUSTER], include: ["STATISTICS"] }));
    expect(clusters?.[0]?.activeServicesCount).toBe(4);
    expect(clusters?.[0]?.statistics).toContainEqual({ name: "activeEC2ServiceCount", value: "3" });
    expect(clusters?.[0]?.statistics).toContainEqual({ name: "activeFargateServiceCount", value: "1" });
    expect(await errorOf(ecs.send(new DeleteClusterCommand({ cluster: CLUSTER })))).toEqual({
      name: "ClusterContainsServicesException",
      message: "The Cluster cannot be deleted while Services are active.",
    });
  });

  it("DeleteService: refused while scaled above 0 without force; with force DRAINING, then INACTIVE with every task stopped", async () => {
    await ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: "a1", desiredCount: 2 }));
    await stable(ecs, ["a1"]);
    expect(await errorOf(ecs.send(new DeleteServiceCommand({ cluster: CLUSTER, service: "a1" })))).toEqual({
      name: "InvalidParameterException",
      message: "The service cannot be stopped while it is scaled above 0.",
    });
    const { service } = await ecs.send(new DeleteServiceCommand({ cluster: CLUSTER, service: "a1", force: true }));
    expect(service).toMatchObject({ status: "DRAINING", desiredCount: 0 });
    const result = await waitUntilServicesInactive({ client: ecs, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { cluster: CLUSTER, services: ["a1"] });
    expect(result.state).toBe("SUCCESS");
    expect((await ecs.send(new ListTasksCommand({ cluster: CLUSTER, serviceName: "a1" }))).taskArns).toEqual([]);
    expect(await errorOf(ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: "a1", desiredCount: 1 })))).toEqual({
      name: "ServiceNotActiveException",
      message: "Service was not ACTIVE.",
    });
    expect((await ecs.send(new ListServicesCommand({ cluster: CLUSTER }))).serviceArns?.map((a) => a.split("/").at(-1))).not.toContain("a1");
    // A deleted service's name can be used again.
    const again = await ecs.send(new CreateServiceCommand({ cluster: CLUSTER, serviceName: "a1", taskDefinition: "web", desiredCount: 0 }));
    expect(again.service?.status).toBe("ACTIVE");
  });

  it("services are regional: ARNs in the caller's region, invisible from another region", async () => {
    const west = new Client({ endpoint: server.url, region: "us-west-2", credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "secret" }, maxAttempts: 1 });
    try {
      await west.send(new RegisterTaskDefinitionCommand({ family: "w", containerDefinitions: [{ name: "app", image: "busybox", memory: 32 }] }));
      const { service } = await west.send(new CreateServiceCommand({ serviceName: "regional", taskDefinition: "w", desiredCount: 1 }));
      expect(service?.serviceArn).toBe(`arn:aws:ecs:us-west-2:${ACCOUNT}:service/default/regional`);
      expect(service?.clusterArn).toBe(`arn:aws:ecs:us-west-2:${ACCOUNT}:cluster/default`);
      expect(service?.taskDefinition).toBe(`arn:aws:ecs:us-west-2:${ACCOUNT}:task-definition/w:1`);
      await stable(west, ["regional"], "default");
      const east = await ecs.send(new DescribeServicesCommand({ services: ["regional"] }));
      expect(east.failures).toEqual([{ arn: `arn:aws:ecs:us-east-1:${ACCOUNT}:service/default/regional`, reason: "MISSING" }]);
      const byArn = await ecs.send(new DescribeServicesCommand({ services: [service!.serviceArn!] }));
      expect(byArn.failures).toEqual([{ arn: service!.serviceArn, reason: "MISSING" }]);
      const { taskArns } = await west.send(new ListTasksCommand({ serviceName: "regional" }));
      expect(taskArns?.[0]).toMatch(/^arn:aws:ecs:us-west-2:/);
    } finally {
      west.destroy();
    }
  });

  it("ListServicesByNamespace answers from the Service Connect namespaces services recorded", async () => {
    await ecs.send(
      new CreateServiceCommand({
        cluster: CLUSTER,
        serviceName: "sc",
        taskDefinition: "web",
        desiredCount: 0,
        serviceConnectConfiguration: { enabled: true, namespace: "local" },
      }),
    );
    expect((await ecs.send(new ListServicesByNamespaceCommand({ namespace: "local" }))).serviceArns).toEqual([`arn:aws:ecs:us-east-1:${ACCOUNT}:service/${CLUSTER}/sc`]);
    expect((await ecs.send(new ListServicesByNamespaceCommand({ namespace: "other" }))).serviceArns).toEqual([]);
  });
});

describe("services: a DRAINING service (scheduler paused)", () => {
  let server: ServiceTestServer;
  afterAll(async () => {
    await server?.close();
  });

  it("keeps its name taken until it is INACTIVE, and stays visible to DescribeServices", async () => {
    server = await startServiceServer();
    // With the scheduler stopped, nothing moves a DRAINING service on.
    server.services.scheduler.close();
    const { ecs } = server;
    await ecs.send(new RegisterTaskDefinitionCommand({ family: "web", containerDefinitions: [{ name: "app", image: "busybox", memory: 32 }] }));
    await ecs.send(new CreateServiceCommand({ serviceName: "d", taskDefinition: "web", desiredCount: 0 }));
    const { service } = await ecs.send(new DeleteServiceCommand({ service: "d" }));
    expect(service?.status).toBe("DRAINING");
    expect(await errorOf(ecs.send(new CreateServiceCommand({ serviceName: "d", taskDefinition: "web", desiredCount: 0 })))).toEqual({
      name: "InvalidParameterException",
      message: "Creation of service was not idempotent.",
    });
    expect((await ecs.send(new DeleteServiceCommand({ service: "d" }))).service?.status).toBe("DRAINING");
    expect((await describe1(ecs, "d", "default")).status).toBe("DRAINING");
    expect((await ecs.send(new ListServicesCommand({}))).serviceArns).toEqual([]);
  });
});
