import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ECSClient,
  DeleteAttributesCommand,
  DeregisterContainerInstanceCommand,
  DescribeClustersCommand,
  DescribeContainerInstancesCommand,
  DiscoverPollEndpointCommand,
  ListAttributesCommand,
  ListContainerInstancesCommand,
  PutAttributesCommand,
  RegisterContainerInstanceCommand,
  SubmitTaskStateChangeCommand,
  UpdateContainerAgentCommand,
  UpdateContainerInstancesStateCommand,
  type ContainerInstance,
} from "@aws-sdk/client-ecs";
import { afterEach, describe, expect, it } from "vitest";
import { fakeProbes } from "../support/fake-engine-probe.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

const INSTANCES = "default=unix:///engine-a.sock?cpu=4096&memory=8192,default=unix:///engine-a.sock?az=us-east-1b,*=tcp://remote:2376?capacityProvider=mi";
const ARN = /^arn:aws:ecs:us-east-1:000000000000:container-instance\/default\/[0-9a-f]{32}$/;

let server: TestServer | undefined;
let dataDir: string | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  dataDir = undefined;
});

async function start(env: Record<string, string> = {}, probes = fakeProbes()): Promise<TestServer> {
  server = await startTestServer({ env: { CONTAINER_INSTANCES: INSTANCES, ...env }, instanceProbes: probes });
  return server;
}

async function describeAll(s: TestServer): Promise<ContainerInstance[]> {
  const { containerInstanceArns } = await s.ecs.send(new ListContainerInstancesCommand({}));
  const out = await s.ecs.send(new DescribeContainerInstancesCommand({ containerInstances: containerInstanceArns!, include: ["TAGS", "CONTAINER_INSTANCE_HEALTH"] }));
  expect(out.failures).toEqual([]);
  return out.containerInstances!;
}

const attr = (ci: ContainerInstance, name: string): string | undefined => ci.attributes?.find((a) => a.name === name)?.value;
const resource = (ci: ContainerInstance, which: "registeredResources" | "remainingResources", name: string) => ci[which]?.find((r) => r.name === name);

describe("container instances of the configured engines", () => {
  it("registers each configured engine as an instance of the cluster, as the agent reports it", async () => {
    const s = await start();
    const all = await describeAll(s);
    expect(all).toHaveLength(3);
    for (const ci of all) {
      expect(ci.containerInstanceArn).toMatch(ARN);
      expect(ci.ec2InstanceId).toMatch(/^i-[0-9a-f]{17}$/);
      expect(ci).toMatchObject({ status: "ACTIVE", agentConnected: true, runningTasksCount: 0, pendingTasksCount: 0, version: 1 });
      expect(ci.versionInfo).toEqual({ agentVersion: "1.105.1", agentHash: "54d3e56b", dockerVersion: "DockerVersion: 20.10.24" });
      expect(resource(ci, "registeredResources", "PORTS")).toEqual({
        name: "PORTS",
        type: "STRINGSET",
        doubleValue: 0,
        longValue: 0,
        integerValue: 0,
        stringSetValue: ["22", "2375", "2376", "51678", "51679"],
      });
      expect(resource(ci, "registeredResources", "PORTS_UDP")?.stringSetValue).toEqual([]);
      expect(ci.remainingResources).toEqual(ci.registeredResources);
      expect(attr(ci, "ecs.os-type")).toBe("linux");
      expect(attr(ci, "ecs.cpu-architecture")).toBe("x86_64");
      expect(attr(ci, "ecs.instance-type")).toBe("m5.large");
      expect(attr(ci, "ecs.ami-id")).toMatch(/^ami-[0-9a-f]{17}$/);
      const names = ci.attributes!.map((a) => a.name);
      for (const capability of [
        "com.amazonaws.ecs.capability.docker-remote-api.1.18",
        "com.amazonaws.ecs.capability.docker-remote-api.1.32",
        "com.amazonaws.ecs.capability.logging-driver.awslogs",
        "com.amazonaws.ecs.capability.logging-driver.json-file",
        "com.amazonaws.ecs.capability.task-iam-role",
        "ecs.capability.task-eni",
        "ecs.capability.container-health-check",
        "ecs.capability.execution-role-awslogs",
        "ecs.capability.secrets.ssm.environment-variables",
      ]) {
        expect(names).toContain(capability);
      }
      expect(names).not.toContain("com.amazonaws.ecs.capability.docker-remote-api.1.26");
      expect(ci.healthStatus?.overallStatus).toBe("OK");
    }
    const [big, zoneB, remote] = all;
    expect(resource(big!, "registeredResources", "CPU")?.integerValue).toBe(4096);
    expect(resource(big!, "registeredResources", "MEMORY")?.integerValue).toBe(8192);
    expect(attr(big!, "ecs.availability-zone")).toBe("us-east-1a");
    // Cores × 1024 and MiB from the engine when not overridden.
    expect(resource(zoneB!, "registeredResources", "CPU")?.integerValue).toBe(2048);
    expect(resource(zoneB!, "registeredResources", "MEMORY")?.integerValue).toBe(4096);
    expect(attr(zoneB!, "ecs.availability-zone")).toBe("us-east-1b");
    expect(remote!.capacityProviderName).toBe("mi");
    const clusters = await s.ecs.send(new DescribeClustersCommand({ clusters: ["default"] }));
    expect(clusters.clusters![0]!.registeredContainerInstancesCount).toBe(3);
  });

  it("keeps the same ARNs, EC2 ids and state across a restart", async () => {
    dataDir = mkdtempSync(join(tmpdir(), "instances-"));
    const first = await start({ DATA_DIR: dataDir });
    const before = await describeAll(first);
    await first.ecs.send(new UpdateContainerInstancesStateCommand({ containerInstances: [before[0]!.containerInstanceArn!], status: "DRAINING" }));
    await first.close();
    server = undefined;
    const second = await start({ DATA_DIR: dataDir });
    const after = await describeAll(second);
    expect(after.map((c) => [c.containerInstanceArn, c.ec2InstanceId])).toEqual(before.map((c) => [c.containerInstanceArn, c.ec2InstanceId]));
    expect(after[0]!.status).toBe("DRAINING");
  });

  it("registers the instances per region: another region's callers see their own instances", async () => {
    const s = await start();
    const east = await describeAll(s);
    const eu = new ECSClient({ endpoint: s.url, region: "eu-west-1", credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "secret" }, maxAttempts: 1 });
    try {
      const { containerInstanceArns } = await eu.send(new ListContainerInstancesCommand({}));
      expect(containerInstanceArns).toHaveLength(3);
      for (const arn of containerInstanceArns!) expect(arn).toMatch(/^arn:aws:ecs:eu-west-1:000000000000:container-instance\/default\/[0-9a-f]{32}$/);
      const [first] = (await eu.send(new DescribeContainerInstancesCommand({ containerInstances: containerInstanceArns! }))).containerInstances!;
      expect(first!.attributes!.find((a) => a.name === "ecs.availability-zone")?.value).toBe("eu-west-1a");
      // us-east-1's instance is not one of eu-west-1's.
      const missing = await eu.send(new DescribeContainerInstancesCommand({ containerInstances: [east[0]!.containerInstanceArn!] }));
      expect(missing.failures).toEqual([{ arn: east[0]!.containerInstanceArn, reason: "MISSING" }]);
    } finally {
      eu.destroy();
    }
  });

  it("reports agentConnected false while an engine does not answer", async () => {
    const probes = fakeProbes();
    const s = await start({}, probes);
    probes.probes.get("tcp://remote:2376")!.setConnected(false);
    const all = await describeAll(s);
    expect(all.map((c) => c.agentConnected)).toEqual([true, true, false]);
    expect(all[2]!.healthStatus?.overallStatus).toBe("IMPAIRED");
    const disconnected = await s.ecs.send(new ListContainerInstancesCommand({ filter: "agentConnected == false" }));
    expect(disconnected.containerInstanceArns).toEqual([all[2]!.containerInstanceArn]);
  });

  it("lists with the cluster query language and by status, with pagination", async () => {
    const s = await start();
    const all = await describeAll(s);
    const list = async (input: { filter?: string; status?: "ACTIVE" | "DRAINING" }) =>
      (await s.ecs.send(new ListContainerInstancesCommand(input))).containerInstanceArns;
    expect(await list({ filter: "attribute:ecs.availability-zone == us-east-1b" })).toEqual([all[1]!.containerInstanceArn]);
    expect(await list({ filter: `ec2InstanceId in [${all[0]!.ec2InstanceId}, ${all[2]!.ec2InstanceId}]` })).toEqual([
      all[0]!.containerInstanceArn,
      all[2]!.containerInstanceArn,
    ]);
    await s.ecs.send(new UpdateContainerInstancesStateCommand({ containerInstances: [all[1]!.containerInstanceArn!], status: "DRAINING" }));
    expect(await list({ status: "DRAINING" })).toEqual([all[1]!.containerInstanceArn]);
    expect(await list({ status: "ACTIVE" })).toHaveLength(2);
    const page1 = await s.ecs.send(new ListContainerInstancesCommand({ maxResults: 2 }));
    const page2 = await s.ecs.send(new ListContainerInstancesCommand({ maxResults: 2, nextToken: page1.nextToken }));
    expect([...page1.containerInstanceArns!, ...page2.containerInstanceArns!]).toEqual(all.map((c) => c.containerInstanceArn));
    expect(page2.nextToken).toBeUndefined();
    const bad = await s.call("ListContainerInstances", { filter: "attribute:color = blue" });
    expect(bad.status).toBe(400);
    expect(bad.json.__type).toContain("InvalidParameterException");
  });

  it("DescribeContainerInstances answers MISSING for unknown ids and accepts bare ids", async () => {
    const s = await start();
    const [first] = await describeAll(s);
    const id = first!.containerInstanceArn!.split("/").pop()!;
    const out = await s.ecs.send(new DescribeContainerInstancesCommand({ containerInstances: [id, "0123456789abcdef0123456789abcdef"] }));
    expect(out.containerInstances!.map((c) => c.containerInstanceArn)).toEqual([first!.containerInstanceArn]);
    expect(out.failures).toEqual([
      { arn: "arn:aws:ecs:us-east-1:000000000000:container-instance/default/0123456789abcdef0123456789abcdef", reason: "MISSING" },
    ]);
  });

  it("UpdateContainerInstancesState drains and reactivates; other statuses are refused", async () => {
    const s = await start();
    const [first] = await describeAll(s);
    const drained = await s.ecs.send(
      new UpdateContainerInstancesStateCommand({ containerInstances: [first!.containerInstanceArn!, "nope"], status: "DRAINING" }),
    );
    expect(drained.containerInstances![0]).toMatchObject({ status: "DRAINING", version: 2 });
    expect(drained.failures).toEqual([{ arn: "arn:aws:ecs:us-east-1:000000000000:container-instance/default/nope", reason: "MISSING" }]);
    const back = await s.ecs.send(new UpdateContainerInstancesStateCommand({ containerInstances: [first!.containerInstanceArn!], status: "ACTIVE" }));
    expect(back.containerInstances![0]!.status).toBe("ACTIVE");
    const refused = await s.call("UpdateContainerInstancesState", { containerInstances: [first!.containerInstanceArn], status: "REGISTERING" });
    expect(refused.json.__type).toContain("InvalidParameterException");
  });

  it("PutAttributes / ListAttributes / DeleteAttributes with the model's limits", async () => {
    const s = await start();
    const [first, second] = await describeAll(s);
    const target = first!.containerInstanceArn!;
    const put = await s.ecs.send(new PutAttributesCommand({ attributes: [{ name: "color", value: "blue", targetId: target }, { name: "gpu", targetId: target }] }));
    expect(put.attributes).toEqual([{ name: "color", value: "blue", targetId: target }, { name: "gpu", targetId: target }]);
    const listed = await s.ecs.send(new ListAttributesCommand({ targetType: "container-instance", attributeName: "color", attributeValue: "blue" }));
    expect(listed.attributes).toEqual([{ name: "color", value: "blue", targetType: "container-instance", targetId: target }]);
    const blue = await s.ecs.send(new ListContainerInstancesCommand({ filter: "attribute:color == blue" }));
    expect(blue.containerInstanceArns).toEqual([target]);
    // Short ids need the target type.
    const id = target.split("/").pop()!;
    const noType = await s.call("PutAttributes", { attributes: [{ name: "x", targetId: id }] });
    expect(noType.json.__type).toContain("InvalidParameterException");
    await s.ecs.send(new PutAttributesCommand({ attributes: [{ name: "x", value: "1", targetId: id, targetType: "container-instance" }] }));
    // Ten custom attributes per resource.
    const many = Array.from({ length: 8 }, (_, i) => ({ name: `k${i}`, value: "v", targetId: target }));
    const limit = await s.call("PutAttributes", { attributes: many });
    expect(limit.json.__type).toContain("AttributeLimitExceededException");
    expect((await s.call("PutAttributes", { attributes: [{ name: "bad name", targetId: target }] })).json.__type).toContain("InvalidParameterException");
    expect((await s.call("PutAttributes", { attributes: [{ name: "a", value: " lead", targetId: target }] })).json.__type).toContain("InvalidParameterException");
    expect((await s.call("PutAttributes", { attributes: [{ name: "a", targetId: "0123456789abcdef0123456789abcdef", targetType: "container-instance" }] })).json.__type).toContain(
      "TargetNotFoundException",
    );
    const deleted = await s.ecs.send(new DeleteAttributesCommand({ attributes: [{ name: "color", targetId: target }] }));
    expect(deleted.attributes).toEqual([{ name: "color", value: "blue", targetId: target }]);
    expect((await s.ecs.send(new ListContainerInstancesCommand({ filter: "attribute:color exists" }))).containerInstanceArns).toEqual([]);
    expect(second).toBeDefined();
  });

  it("DeregisterContainerInstance makes the instance INACTIVE (and keeps it so after a restart of the lookups)", async () => {
    const s = await start();
    const [first] = await describeAll(s);
    const out = await s.ecs.send(new DeregisterContainerInstanceCommand({ containerInstance: first!.containerInstanceArn! }));
    expect(out.containerInstance).toMatchObject({ status: "INACTIVE", agentConnected: false });
    expect((await s.ecs.send(new ListContainerInstancesCommand({}))).containerInstanceArns).toHaveLength(2);
    const described = await s.ecs.send(new DescribeContainerInstancesCommand({ containerInstances: [first!.containerInstanceArn!] }));
    expect(described.containerInstances![0]!.status).toBe("INACTIVE");
    const again = await s.call("DeregisterContainerInstance", { containerInstance: first!.containerInstanceArn });
    expect(again.json.__type).toContain("InvalidParameterException");
  });

  it("RegisterContainerInstance registers an instance from its identity document and resources", async () => {
    const s = await start();
    const out = await s.ecs.send(
      new RegisterContainerInstanceCommand({
        instanceIdentityDocument: JSON.stringify({ instanceId: "i-0123456789abcdef0", availabilityZone: "us-east-1c", instanceType: "c5.xlarge", imageId: "ami-12345678" }),
        totalResources: [
          { name: "CPU", type: "INTEGER", integerValue: 1024 },
          { name: "MEMORY", type: "INTEGER", integerValue: 512 },
        ],
        versionInfo: { agentVersion: "1.50.0", agentHash: "abc", dockerVersion: "DockerVersion: 19.03" },
        attributes: [{ name: "stack", value: "prod" }],
        tags: [{ key: "team", value: "a" }],
      }),
    );
    const ci = out.containerInstance!;
    expect(ci.containerInstanceArn).toMatch(ARN);
    expect(ci).toMatchObject({ ec2InstanceId: "i-0123456789abcdef0", status: "ACTIVE" });
    expect(attr(ci, "ecs.availability-zone")).toBe("us-east-1c");
    expect(attr(ci, "ecs.instance-type")).toBe("c5.xlarge");
    expect(attr(ci, "stack")).toBe("prod");
    // UpdateContainerAgent: ECS accepts; the agent of a non-ECS-optimized host refuses the update.
    const update = await s.ecs.send(new UpdateContainerAgentCommand({ containerInstance: ci.containerInstanceArn! }));
    expect(update.containerInstance!.agentUpdateStatus).toBe("PENDING");
    const after = await s.ecs.send(new DescribeContainerInstancesCommand({ containerInstances: [ci.containerInstanceArn!], include: ["TAGS"] }));
    expect(after.containerInstances![0]).toMatchObject({ agentUpdateStatus: "FAILED", tags: [{ key: "team", value: "a" }] });
    expect((await s.call("RegisterContainerInstance", { cluster: "nope" })).json.__type).toContain("ClusterNotFoundException");
  });

  it("UpdateContainerAgent on a current agent: no update available", async () => {
    const s = await start();
    const [first] = await describeAll(s);
    const out = await s.call("UpdateContainerAgent", { containerInstance: first!.containerInstanceArn });
    expect(out.status).toBe(400);
    expect(out.json).toMatchObject({ message: "There is no update available for your container agent." });
    expect(out.json.__type).toContain("NoUpdateAvailableException");
  });

  it("agent-only operations answer a non-agent caller", async () => {
    const s = await start();
    const poll = await s.ecs.send(new DiscoverPollEndpointCommand({}));
    expect(poll).toMatchObject({ endpoint: "https://ecs-a-1.us-east-1.amazonaws.com/", telemetryEndpoint: "https://ecs-t-1.us-east-1.amazonaws.com/" });
    await expect(s.ecs.send(new SubmitTaskStateChangeCommand({ task: "x", status: "STOPPED" }))).rejects.toMatchObject({
      name: "AccessDeniedException",
      message: "This action is only used by the Amazon ECS agent, and it is not intended for use outside of the agent.",
    });
    for (const op of ["SubmitContainerStateChange", "SubmitAttachmentStateChanges"]) {
      const out = await s.call(op, op === "SubmitAttachmentStateChanges" ? { attachments: [] } : {});
      expect(out.json.__type).toContain("AccessDeniedException");
    }
  });
});
