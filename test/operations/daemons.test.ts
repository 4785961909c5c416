import {
  CreateCapacityProviderCommand,
  CreateClusterCommand,
  CreateDaemonCommand,
  DeleteDaemonCommand,
  DeleteDaemonTaskDefinitionCommand,
  DescribeDaemonCommand,
  DescribeDaemonDeploymentsCommand,
  DescribeDaemonRevisionsCommand,
  DescribeDaemonTaskDefinitionCommand,
  ListDaemonDeploymentsCommand,
  ListDaemonsCommand,
  ListDaemonTaskDefinitionsCommand,
  RegisterDaemonTaskDefinitionCommand,
  UpdateDaemonCommand,
} from "@aws-sdk/client-ecs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.ts";

const PREFIX = "arn:aws:ecs:us-east-1:000000000000";
const MI = {
  infrastructureRoleArn: "arn:aws:iam::000000000000:role/ecsInfrastructureRole",
  instanceLaunchTemplate: { ec2InstanceProfileArn: "arn:aws:iam::000000000000:instance-profile/ecsInstance", networkConfiguration: { subnets: ["subnet-1"] } },
};
const AGENT = {
  family: "monitoring-agent",
  containerDefinitions: [
    { name: "cloudwatch-agent", image: "public.ecr.aws/cloudwatch-agent/cloudwatch-agent:latest", memory: 256, cpu: 128, environment: [{ name: "USE_DEFAULT_CONFIG", value: "true" }] },
  ],
  cpu: "128",
  memory: "256",
};

let s: TestServer;

beforeEach(async () => {
  s = await startTestServer();
  await s.ecs.send(new CreateClusterCommand({ clusterName: "my-cluster" }));
  await s.ecs.send(new CreateCapacityProviderCommand({ name: "my-capacity-provider", cluster: "my-cluster", managedInstancesProvider: MI }));
});

afterEach(async () => {
  await s.close();
});

describe("daemon task definitions", () => {
  it("registers, describes (with ECS's defaults), lists and deletes revisions", async () => {
    const first = await s.ecs.send(new RegisterDaemonTaskDefinitionCommand(AGENT));
    expect(first.daemonTaskDefinitionArn).toBe(`${PREFIX}:daemon-task-definition/monitoring-agent:1`);
    await s.ecs.send(new RegisterDaemonTaskDefinitionCommand(AGENT));
    const described = await s.ecs.send(new DescribeDaemonTaskDefinitionCommand({ daemonTaskDefinition: "monitoring-agent" }));
    expect(described.daemonTaskDefinition).toMatchObject({
      daemonTaskDefinitionArn: `${PREFIX}:daemon-task-definition/monitoring-agent:2`,
      family: "monitoring-agent",
      revision: 2,
      cpu: "128",
      memory: "256",
      status: "ACTIVE",
      volumes: [],
      registeredBy: "arn:aws:iam::000000000000:root",
      containerDefinitions: [{ name: "cloudwatch-agent", essential: true, mountPoints: [], secrets: [] }],
    });
    const listed = await s.ecs.send(new ListDaemonTaskDefinitionsCommand({ familyPrefix: "monitoring" }));
    expect(listed.daemonTaskDefinitions!.map((d) => d.arn)).toEqual([
      `${PREFIX}:daemon-task-definition/monitoring-agent:1`,
      `${PREFIX}:daemon-task-definition/monitoring-agent:2`,
    ]);
    const deleted = await s.ecs.send(new DeleteDaemonTaskDefinitionCommand({ daemonTaskDefinition: "monitoring-agent:1" }));
    expect(deleted.daemonTaskDefinitionArn).toBe(`${PREFIX}:daemon-task-definition/monitoring-agent:1`);
    const active = await s.ecs.send(new ListDaemonTaskDefinitionsCommand({ family: "monitoring-agent" }));
    expect(active.daemonTaskDefinitions!.map((d) => d.arn)).toEqual([`${PREFIX}:daemon-task-definition/monitoring-agent:2`]);
    const last = await s.ecs.send(new ListDaemonTaskDefinitionsCommand({ status: "ALL", revision: "LAST_REGISTERED" }));
    expect(last.daemonTaskDefinitions!.map((d) => d.arn)).toEqual([`${PREFIX}:daemon-task-definition/monitoring-agent:2`]);
    expect((await s.call("DeleteDaemonTaskDefinition", { daemonTaskDefinition: "monitoring-agent" })).json.__type).toContain("ClientException");
  });

  it("refuses invalid definitions", async () => {
    const err = async (input: Record<string, unknown>) => (await s.call("RegisterDaemonTaskDefinition", input)).json;
    expect((await err({ family: "bad family", containerDefinitions: [{ name: "a", image: "x" }] })).__type).toContain("ClientException");
    expect((await err({ family: "f", containerDefinitions: [] })).message).toContain("at least one container definition");
    expect((await err({ family: "f", containerDefinitions: [{ name: "a", image: "x", essential: false }] })).message).toContain("essential");
    expect((await err({ family: "f", containerDefinitions: [{ name: "a", image: "x", mountPoints: [{ sourceVolume: "v", containerPath: "/v" }] }] })).message).toContain("unknown volume");
    expect((await err({ family: "f", cpu: "abc", containerDefinitions: [{ name: "a", image: "x" }] })).__type).toContain("ClientException");
  });
});

describe("daemons", () => {
  it("creates, describes, updates, lists and deletes a daemon with its deployments and revisions", async () => {
    const td1 = (await s.ecs.send(new RegisterDaemonTaskDefinitionCommand(AGENT))).daemonTaskDefinitionArn!;
    const created = await s.ecs.send(
      new CreateDaemonCommand({
        daemonName: "my-monitoring-daemon",
        clusterArn: `${PREFIX}:cluster/my-cluster`,
        daemonTaskDefinitionArn: td1,
        capacityProviderArns: [`${PREFIX}:capacity-provider/my-capacity-provider`],
        deploymentConfiguration: { drainPercent: 10.0, bakeTimeInMinutes: 5 },
        tags: [{ key: "team", value: "obs" }],
      }),
    );
    const daemonArn = `${PREFIX}:daemon/my-cluster/my-monitoring-daemon`;
    expect(created).toMatchObject({ daemonArn, status: "ACTIVE" });
    expect(created.deploymentArn).toMatch(new RegExp(`^${PREFIX}:daemon-deployment/my-cluster/my-monitoring-daemon/[A-Za-z0-9]{16}$`));

    const detail = (await s.ecs.send(new DescribeDaemonCommand({ daemonArn }))).daemon!;
    expect(detail).toMatchObject({ daemonArn, clusterArn: `${PREFIX}:cluster/my-cluster`, status: "ACTIVE", deploymentArn: created.deploymentArn });
    const revisionArn = detail.currentRevisions![0]!.arn!;
    expect(revisionArn).toMatch(new RegExp(`^${PREFIX}:daemon-revision/my-cluster/my-monitoring-daemon/\\d{19}$`));
    expect(detail.currentRevisions![0]).toEqual({
      arn: revisionArn,
      capacityProviders: [{ arn: `${PREFIX}:capacity-provider/my-capacity-provider`, runningCount: 0 }],
      totalRunningCount: 0,
    });

    const revisions = await s.ecs.send(new DescribeDaemonRevisionsCommand({ daemonRevisionArns: [revisionArn, `${revisionArn}9`] }));
    expect(revisions.daemonRevisions![0]).toMatchObject({
      daemonArn,
      daemonTaskDefinitionArn: td1,
      containerImages: [{ containerName: "cloudwatch-agent", image: "public.ecr.aws/cloudwatch-agent/cloudwatch-agent:latest" }],
      propagateTags: "NONE",
      enableECSManagedTags: false,
      enableExecuteCommand: false,
    });
    expect(revisions.failures).toEqual([{ arn: `${revisionArn}9`, reason: "MISSING" }]);

    // No container instance of the provider: the first deployment has nothing to wait for… but stays until the scheduler runs.
    const deployments = await s.ecs.send(new DescribeDaemonDeploymentsCommand({ daemonDeploymentArns: [created.deploymentArn!] }));
    expect(deployments.daemonDeployments![0]).toMatchObject({
      clusterArn: `${PREFIX}:cluster/my-cluster`,
      targetDaemonRevision: { arn: revisionArn, totalRunningInstanceCount: 0, totalDrainingInstanceCount: 0 },
      sourceDaemonRevisions: [],
      circuitBreaker: { failureCount: 0, threshold: 10 },
      alarms: { status: "DISABLED", alarmNames: [], triggeredAlarmNames: [] },
      deploymentConfiguration: { drainPercent: 10, bakeTimeInMinutes: 5, alarms: { alarmNames: [], enable: false } },
    });

    const td2 = (await s.ecs.send(new RegisterDaemonTaskDefinitionCommand(AGENT))).daemonTaskDefinitionArn!;
    const updated = await s.ecs.send(
      new UpdateDaemonCommand({ daemonArn, daemonTaskDefinitionArn: td2, capacityProviderArns: ["my-capacity-provider"] }),
    );
    expect(updated.deploymentArn).not.toBe(created.deploymentArn);
    const history = await s.ecs.send(new ListDaemonDeploymentsCommand({ daemonArn }));
    expect(history.daemonDeployments!.map((d) => d.daemonDeploymentArn)).toEqual([updated.deploymentArn, created.deploymentArn]);
    expect(history.daemonDeployments![1]!.status).toBe("STOPPED");

    const list = await s.ecs.send(new ListDaemonsCommand({ clusterArn: `${PREFIX}:cluster/my-cluster` }));
    expect(list.daemonSummariesList!.map((d) => [d.daemonArn, d.status])).toEqual([[daemonArn, "ACTIVE"]]);

    const deleted = await s.ecs.send(new DeleteDaemonCommand({ daemonArn }));
    expect(deleted).toMatchObject({ daemonArn, status: "DELETE_IN_PROGRESS" });
    expect((await s.call("UpdateDaemon", { daemonArn, daemonTaskDefinitionArn: td2, capacityProviderArns: ["my-capacity-provider"] })).json.__type).toContain(
      "DaemonNotActiveException",
    );
    expect((await s.call("DescribeDaemon", { daemonArn: `${daemonArn}-x` })).json.__type).toContain("DaemonNotFoundException");
  });

  it("only works with Managed Instances capacity providers and existing definitions", async () => {
    const td = (await s.ecs.send(new RegisterDaemonTaskDefinitionCommand(AGENT))).daemonTaskDefinitionArn!;
    const base = { daemonName: "d", clusterArn: "my-cluster", daemonTaskDefinitionArn: td };
    expect((await s.call("CreateDaemon", { ...base, capacityProviderArns: ["FARGATE"] })).json.message).toBe(
      "ECS Managed Daemons is only supported for Amazon ECS Managed Instances Capacity Providers.",
    );
    expect((await s.call("CreateDaemon", { ...base, capacityProviderArns: ["nope"] })).json.__type).toContain("InvalidParameterException");
    expect((await s.call("CreateDaemon", { ...base, clusterArn: "nope", capacityProviderArns: ["my-capacity-provider"] })).json.__type).toContain(
      "ClusterNotFoundException",
    );
    expect((await s.call("CreateDaemon", { ...base, daemonTaskDefinitionArn: "unknown:1", capacityProviderArns: ["my-capacity-provider"] })).json.__type).toContain(
      "ClientException",
    );
    expect((await s.call("CreateDaemon", { ...base, capacityProviderArns: ["my-capacity-provider"], deploymentConfiguration: { drainPercent: 120 } })).json.__type).toContain(
      "InvalidParameterException",
    );
  });
});
