import {
  CreateServiceCommand,
  DeleteServiceCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  type ECSClient,
  type Task,
} from "@aws-sdk/client-ecs";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Task as EcsTask, TaskDefinition } from "../../../generated/shapes.ts";
import type { CloudMap } from "../../../src/runtime/services/aws/cloud-map.ts";
import type { Target, TargetGroupInfo, TargetGroups } from "../../../src/runtime/services/aws/target-groups.ts";
import { namespaceNetworkName, serviceConnectJoin } from "../../../src/runtime/services/service-connect.ts";
import { cloudMapInstances, lbTargets } from "../../../src/runtime/services/task-registrations.ts";
import { eventually } from "../../support/eventually.ts";
import { startServiceServer, type ServiceTestServer } from "../../operations/service-server.ts";

// Load balancer targets, Cloud Map instances and Service Connect names of service tasks: the pure rules,
// then the loop on the real engine over the fake task backend with ELBv2 / Cloud Map stand-ins that
// record what they are asked (moto plays them for real in test/e2e/service-connect.test.ts).

const TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/api/0123456789abcdef";
const REGISTRY = "arn:aws:servicediscovery:us-east-1:123456789012:service/srv-abc";

class FakeTargetGroups implements TargetGroups {
  calls: string[] = [];
  /** The state DescribeTargetHealth reports for a deregistered target. */
  afterDeregistration = "draining";
  info: TargetGroupInfo = { arn: TG, targetType: "ip", loadBalancerArns: ["arn:lb"], deregistrationDelaySeconds: 300 };
  readonly #registered = new Set<string>();
  async describe(arn: string): Promise<TargetGroupInfo | undefined> {
    return arn === TG ? this.info : undefined;
  }
  async register(arn: string, targets: readonly Target[]): Promise<void> {
    for (const t of targets) this.#registered.add(`${t.id}:${t.port}`);
    this.calls.push(`register ${arn === TG ? "tg" : arn} ${targets.map((t) => `${t.id}:${t.port}`).join(",")}`);
  }
  async deregister(arn: string, targets: readonly Target[]): Promise<void> {
    for (const t of targets) this.#registered.delete(`${t.id}:${t.port}`);
    this.calls.push(`deregister ${arn === TG ? "tg" : arn} ${targets.map((t) => `${t.id}:${t.port}`).join(",")}`);
  }
  async state(_arn: string, t: Target): Promise<string | undefined> {
    return this.#registered.has(`${t.id}:${t.port}`) ? "healthy" : this.afterDeregistration;
  }
  close(): void {}
}

class FakeCloudMap implements CloudMap {
  instances = new Map<string, Record<string, string>>();
  async registerInstance(_registryArn: string, instanceId: string, attributes: Record<string, string>): Promise<void> {
    this.instances.set(instanceId, attributes);
  }
  async deregisterInstance(_registryArn: string, instanceId: string): Promise<void> {
    this.instances.delete(instanceId);
  }
  async namespaceName(): Promise<string | undefined> {
    return "corp.local";
  }
  close(): void {}
}

const servers: ServiceTestServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function tasksOf(ecs: ECSClient, service: string, desiredStatus: "RUNNING" | "STOPPED" = "RUNNING"): Promise<Task[]> {
  const { taskArns } = await ecs.send(new ListTasksCommand({ serviceName: service, desiredStatus }));
  return taskArns!.length === 0 ? [] : (await ecs.send(new DescribeTasksCommand({ tasks: taskArns! }))).tasks!;
}

const running = (ecs: ECSClient, service: string, n: number) =>
  eventually(`${n} RUNNING tasks of ${service}`, async () => {
    const t = await tasksOf(ecs, service);
    return t.length === n && t.every((x) => x.lastStatus === "RUNNING") ? t : undefined;
  });

describe("task registrations (pure)", () => {
  const task: EcsTask = {
    taskArn: "arn:aws:ecs:us-east-1:123456789012:task/c1/aaaabbbbccccdddd",
    clusterArn: "arn:aws:ecs:us-east-1:123456789012:cluster/c1",
    taskDefinitionArn: "arn:aws:ecs:us-east-1:123456789012:task-definition/api:3",
    availabilityZone: "us-east-1a",
    launchType: "EC2",
    containers: [{ name: "api", networkBindings: [{ containerPort: 8080, hostPort: 32768, bindIP: "0.0.0.0", protocol: "tcp" }] }],
    attachments: [{ type: "ElasticNetworkInterface", details: [{ name: "privateIPv4Address", value: "10.213.4.2" }] }],
  };
  it.each([
    ["ip target group: the task's address and the container port", "ip", [{ targetGroupArn: TG, id: "10.213.4.2", port: 8080 }]],
    ["instance target group: the container instance's EC2 id and the host port", "instance", [{ targetGroupArn: TG, id: "i-0123", port: 32768 }]],
  ])("%s", (_title, type, expected) => {
    expect(lbTargets(task, [{ targetGroupArn: TG, containerName: "api", containerPort: 8080 }], () => type, "i-0123")).toEqual({ targets: expected, problems: [] });
  });

  it("a container port without a published host port is a problem, not a target", () => {
    const out = lbTargets(task, [{ targetGroupArn: TG, containerName: "api", containerPort: 9999 }], () => "instance", "i-0123");
    expect(out.targets).toEqual([]);
    expect(out.problems).toHaveLength(1);
  });

  it("Cloud Map instances: the task id and ECS's attributes (awsvpc: the task's address; bridge: the host port)", () => {
    const context = { serviceName: "api", ec2InstanceId: "i-0123" };
    expect(cloudMapInstances(task, [{ registryArn: REGISTRY, port: 8080 }], { ...context, networkMode: "awsvpc" })).toEqual([
      {
        registryArn: REGISTRY,
        instanceId: "aaaabbbbccccdddd",
        attributes: {
          AWS_INSTANCE_IPV4: "10.213.4.2",
          AWS_INSTANCE_PORT: "8080",
          AVAILABILITY_ZONE: "us-east-1a",
          REGION: "us-east-1",
          ECS_SERVICE_NAME: "api",
          ECS_CLUSTER_NAME: "c1",
          EC2_INSTANCE_ID: "i-0123",
          ECS_TASK_DEFINITION_FAMILY: "api",
        },
      },
    ]);
    const bridge = cloudMapInstances({ ...task, launchType: "FARGATE" }, [{ registryArn: REGISTRY, containerName: "api", containerPort: 8080 }], {
      ...context,
      networkMode: "bridge",
      taskSetExternalId: "ext-1",
    });
    expect(bridge[0]!.attributes).toMatchObject({ AWS_INSTANCE_IPV4: "127.0.0.1", AWS_INSTANCE_PORT: "32768", ECS_TASK_SET_EXTERNAL_ID: "ext-1" });
    expect(bridge[0]!.attributes).not.toHaveProperty("EC2_INSTANCE_ID");
  });

  it("Service Connect: the port name's container answers to the discovery name, its namespace form and the client aliases", () => {
    const td: TaskDefinition = {
      containerDefinitions: [
        { name: "sidecar", portMappings: [{ containerPort: 9000, name: "admin" }] },
        { name: "api", portMappings: [{ containerPort: 8080, name: "http" }] },
      ],
    };
    const join = serviceConnectJoin(
      { enabled: true, namespace: "corp", services: [{ portName: "http", discoveryName: "api", clientAliases: [{ port: 8080, dnsName: "api.internal" }, { port: 80 }] }] },
      td,
      (ns) => `net-${ns}`,
      "corp",
    );
    expect(join).toEqual({ network: "net-corp", aliases: { api: ["api", "api.corp", "api.internal"] }, portMismatches: ["api.corp:80 → api:8080"] });
    // Client only: the namespace's network, no names.
    expect(serviceConnectJoin({ enabled: true, namespace: "corp" }, td, (ns) => `net-${ns}`, "corp")).toEqual({ network: "net-corp", aliases: {}, portMismatches: [] });
    expect(serviceConnectJoin({ enabled: false, namespace: "corp" }, td, (ns) => ns, "corp")).toBeUndefined();
    // One network per namespace and emulator; names sort after the task networks (ecs-task-…).
    expect(namespaceNetworkName("host-a", "us-east-1", "corp")).not.toBe(namespaceNetworkName("host-b", "us-east-1", "corp"));
    expect(namespaceNetworkName("host-a", "us-east-1", "corp") > "ecs-task-net-ffffffffffff").toBe(true);
  });
});

describe("task registrations on the engine", () => {
  async function setUp(): Promise<{ server: ServiceTestServer; tg: FakeTargetGroups; cm: FakeCloudMap }> {
    const tg = new FakeTargetGroups();
    const cm = new FakeCloudMap();
    const server = await startServiceServer({ targetGroups: tg, cloudMap: cm });
    servers.push(server);
    await server.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "api",
        networkMode: "awsvpc",
        containerDefinitions: [{ name: "api", image: "busybox", memory: 32, portMappings: [{ containerPort: 8080, name: "http" }] }],
      }),
    );
    return { server, tg, cm };
  }
  const create = (ecs: ECSClient, name: string, extra: Partial<ConstructorParameters<typeof CreateServiceCommand>[0]> = {}) =>
    ecs.send(
      new CreateServiceCommand({
        serviceName: name,
        taskDefinition: "api",
        desiredCount: 1,
        networkConfiguration: { awsvpcConfiguration: { subnets: ["subnet-1"] } },
        ...extra,
      }),
    );

  it("registers a RUNNING task; a stop holds it DEACTIVATING until its target has drained, then it stops", async () => {
    const { server, tg, cm } = await setUp();
    const { ecs } = server;
    await create(ecs, "api", {
      loadBalancers: [{ targetGroupArn: TG, containerName: "api", containerPort: 8080 }],
      serviceRegistries: [{ registryArn: REGISTRY }],
    });
    const [task] = await running(ecs, "api", 1);
    const id = task!.taskArn!.split("/").at(-1)!;
    await eventually("the target and the instance", () => (tg.calls.length === 1 && cm.instances.size === 1 ? true : undefined));
    expect(tg.calls).toEqual(["register tg 10.0.0.7:8080"]);
    expect(cm.instances.get(id)).toMatchObject({ AWS_INSTANCE_IPV4: "10.0.0.7", ECS_SERVICE_NAME: "api", ECS_TASK_DEFINITION_FAMILY: "api" });

    await ecs.send(new UpdateServiceCommand({ service: "api", desiredCount: 0 }));
    const deactivating = await eventually("the task to be DEACTIVATING", async () => {
      const { tasks } = await ecs.send(new DescribeTasksCommand({ tasks: [task!.taskArn!] }));
      return tasks![0]!.lastStatus === "DEACTIVATING" && tg.calls.length === 2 ? tasks![0]! : undefined;
    });
    expect(deactivating).toMatchObject({ desiredStatus: "STOPPED", stopCode: "ServiceSchedulerInitiated" });
    expect(tg.calls[1]).toBe("deregister tg 10.0.0.7:8080");
    expect(cm.instances.size).toBe(0);
    // Its container still runs while the load balancer drains it.
    expect(server.fake.find("api", task!.taskArn)!.status).toBe("running");
    tg.afterDeregistration = "unused";
    await eventually("the task to stop once drained", async () => {
      const { tasks } = await ecs.send(new DescribeTasksCommand({ tasks: [task!.taskArn!] }));
      return tasks![0]!.lastStatus === "STOPPED" ? true : undefined;
    });
    const events = (await ecs.send(new DescribeServicesCommand({ services: ["api"] }))).services![0]!.events!.map((e) => e.message);
    expect(events).toContain("(service api) has begun draining connections on 1 tasks.");
    expect(events).toContain(`(service api) registered 1 targets in (target-group ${TG})`);
  });

  it("the drain lasts at most the target group's deregistration delay", async () => {
    const { server, tg } = await setUp();
    tg.info = { ...tg.info, deregistrationDelaySeconds: 0 };
    await create(server.ecs, "api", { loadBalancers: [{ targetGroupArn: TG, containerName: "api", containerPort: 8080 }] });
    const [task] = await running(server.ecs, "api", 1);
    await eventually("the target", () => (tg.calls.length === 1 ? true : undefined));
    // The stand-in reports "draining" for ever: the delay (0 s) ends the wait.
    await server.ecs.send(new UpdateServiceCommand({ service: "api", desiredCount: 0 }));
    await eventually("the task to stop", async () => {
      const { tasks } = await server.ecs.send(new DescribeTasksCommand({ tasks: [task!.taskArn!] }));
      return tasks![0]!.lastStatus === "STOPPED" ? true : undefined;
    });
  });

  it("a task without load balancers stops at once (no DEACTIVATING hold); one that exits is deregistered once STOPPED", async () => {
    const { server, tg } = await setUp();
    await create(server.ecs, "plain");
    const [plain] = await running(server.ecs, "plain", 1);
    await server.ecs.send(new UpdateServiceCommand({ service: "plain", desiredCount: 0 }));
    await eventually("the plain task to stop", async () => ((await tasksOf(server.ecs, "plain")).length === 0 ? true : undefined));
    expect(tg.calls).toEqual([]);
    expect(plain).toBeDefined();

    await create(server.ecs, "api", { loadBalancers: [{ targetGroupArn: TG, containerName: "api", containerPort: 8080 }] });
    const [task] = await running(server.ecs, "api", 1);
    await eventually("the target", () => (tg.calls.length === 1 ? true : undefined));
    server.fake.exit(server.fake.find("api", task!.taskArn)!.runtimeId, 1);
    await eventually("the exited task's target deregistered", () => (tg.calls.includes("deregister tg 10.0.0.7:8080") ? true : undefined));
  });

  it("after a restart, what a task that stopped meanwhile left registered is deregistered", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "lecs-reg-"));
    try {
      const tg = new FakeTargetGroups();
      const cm = new FakeCloudMap();
      const first = await startServiceServer({ dataDir, targetGroups: tg, cloudMap: cm });
      await first.ecs.send(
        new RegisterTaskDefinitionCommand({
          family: "api",
          networkMode: "awsvpc",
          containerDefinitions: [{ name: "api", image: "busybox", memory: 32, portMappings: [{ containerPort: 8080 }] }],
        }),
      );
      await create(first.ecs, "api", { loadBalancers: [{ targetGroupArn: TG, containerName: "api", containerPort: 8080 }], serviceRegistries: [{ registryArn: REGISTRY }] });
      const [task] = await running(first.ecs, "api", 1);
      await eventually("registered", () => (tg.calls.length === 1 && cm.instances.size === 1 ? true : undefined));
      await first.close();
      // While no server runs, the task's container exits.
      first.fake.exit(first.fake.find("api", task!.taskArn)!.runtimeId, 1, { silent: true });
      const second = await startServiceServer({ dataDir, fake: first.fake, targetGroups: tg, cloudMap: cm });
      servers.push(second);
      await eventually("the stopped task deregistered", () => (tg.calls.includes("deregister tg 10.0.0.7:8080") && !cm.instances.has(task!.taskArn!.split("/").at(-1)!) ? true : undefined));
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("Service Connect: tasks of a namespace share its network (awsvpc: the holder answers to the names); the network goes with the last task", async () => {
    const { server } = await setUp();
    const sc = { enabled: true, namespace: "arn:aws:servicediscovery:us-east-1:123456789012:namespace/ns-1", services: [{ portName: "http", discoveryName: "api" }] };
    await create(server.ecs, "api", { serviceConnectConfiguration: sc });
    // (Another family: awsvpc tasks publish their fixed ports on the one local host.)
    await server.ecs.send(
      new RegisterTaskDefinitionCommand({ family: "client", networkMode: "awsvpc", containerDefinitions: [{ name: "client", image: "busybox", memory: 32 }] }),
    );
    await create(server.ecs, "client", { taskDefinition: "client", serviceConnectConfiguration: { enabled: true, namespace: sc.namespace } });
    const [api] = await running(server.ecs, "api", 1);
    const [client] = await running(server.ecs, "client", 1);
    const network = namespaceNetworkName("test-host", "us-east-1", "corp.local");
    expect(server.fake.provisionOptions.get(api!.taskArn!)!.networks).toEqual([{ name: network, aliases: ["api", "api.corp.local"], shared: true }]);
    expect(server.fake.provisionOptions.get(client!.taskArn!)!.networks).toEqual([{ name: network, aliases: [], shared: true }]);
    expect([...server.fake.sharedNetworks.get(network)!].sort()).toEqual([api!.taskArn!, client!.taskArn!].sort());
    for (const name of ["api", "client"]) await server.ecs.send(new DeleteServiceCommand({ service: name, force: true }));
    await eventually("the namespace network removed", () => (server.fake.removedSharedNetworks.includes(network) ? true : undefined));
  });
});
