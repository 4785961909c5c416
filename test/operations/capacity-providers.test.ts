import {
  CreateCapacityProviderCommand,
  CreateClusterCommand,
  DeleteCapacityProviderCommand,
  DescribeCapacityProvidersCommand,
  PutClusterCapacityProvidersCommand,
  UpdateCapacityProviderCommand,
} from "@aws-sdk/client-ecs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.ts";

const ASG = "arn:aws:autoscaling:us-east-1:000000000000:autoScalingGroup:57ffcb94-11f0-4d6d-bf60-3bac5EXAMPLE:autoScalingGroupName/MyASG";
const CP_ARN = "arn:aws:ecs:us-east-1:000000000000:capacity-provider/";

let s: TestServer;

beforeEach(async () => {
  s = await startTestServer();
});

afterEach(async () => {
  await s.close();
});

describe("capacity providers", () => {
  it("creates an Auto Scaling group provider with ECS's defaults (the model's example)", async () => {
    const out = await s.ecs.send(
      new CreateCapacityProviderCommand({
        name: "MyCapacityProvider",
        autoScalingGroupProvider: { autoScalingGroupArn: ASG, managedScaling: { status: "ENABLED", targetCapacity: 100 }, managedTerminationProtection: "ENABLED" },
        tags: [{ key: "team", value: "a" }],
      }),
    );
    expect(out.capacityProvider).toEqual({
      capacityProviderArn: `${CP_ARN}MyCapacityProvider`,
      name: "MyCapacityProvider",
      status: "ACTIVE",
      type: "EC2_AUTOSCALING",
      autoScalingGroupProvider: {
        autoScalingGroupArn: ASG,
        managedScaling: { status: "ENABLED", targetCapacity: 100, minimumScalingStepSize: 1, maximumScalingStepSize: 10000, instanceWarmupPeriod: 300 },
        managedTerminationProtection: "ENABLED",
        managedDraining: "ENABLED",
      },
      tags: [{ key: "team", value: "a" }],
    });
  });

  it("validates as ECS does", async () => {
    const err = async (input: Record<string, unknown>) => (await s.call("CreateCapacityProvider", input)).json;
    expect(await err({ name: "fargate-x", autoScalingGroupProvider: { autoScalingGroupArn: ASG } })).toMatchObject({
      message: expect.stringContaining('The name cannot be prefixed with "aws", "ecs", or "fargate".'),
    });
    expect((await err({ name: "ECSthing", autoScalingGroupProvider: { autoScalingGroupArn: ASG } })).__type).toContain("ClientException");
    expect((await err({ name: "no-provider" })).__type).toContain("InvalidParameterException");
    expect((await err({ name: "mtp", autoScalingGroupProvider: { autoScalingGroupArn: ASG, managedTerminationProtection: "ENABLED" } })).message).toContain(
      "managed termination protection",
    );
    await s.ecs.send(new CreateCapacityProviderCommand({ name: "one", autoScalingGroupProvider: { autoScalingGroupArn: ASG } }));
    expect((await err({ name: "one", autoScalingGroupProvider: { autoScalingGroupArn: `${ASG}2` } })).message).toBe(
      "The specified capacity provider already exists. To change the configuration of an existing capacity provider, update the capacity provider.",
    );
    expect((await err({ name: "two", autoScalingGroupProvider: { autoScalingGroupArn: ASG } })).message).toContain("already being used by another capacity provider");
    // The model's range: targetCapacity 1..100.
    expect((await err({ name: "three", autoScalingGroupProvider: { autoScalingGroupArn: `${ASG}3`, managedScaling: { targetCapacity: 0 } } })).__type).toContain(
      "InvalidParameterException",
    );
  });

  it("describes FARGATE and FARGATE_SPOT with the account's providers, with pagination and failures", async () => {
    await s.ecs.send(new CreateCapacityProviderCommand({ name: "cp1", autoScalingGroupProvider: { autoScalingGroupArn: ASG } }));
    const all = await s.ecs.send(new DescribeCapacityProvidersCommand({}));
    expect(all.capacityProviders!.map((p) => [p.name, p.type])).toEqual([
      ["cp1", "EC2_AUTOSCALING"],
      ["FARGATE", "FARGATE"],
      ["FARGATE_SPOT", "FARGATE_SPOT"],
    ]);
    const page = await s.ecs.send(new DescribeCapacityProvidersCommand({ maxResults: 2 }));
    const rest = await s.ecs.send(new DescribeCapacityProvidersCommand({ maxResults: 2, nextToken: page.nextToken }));
    expect([...page.capacityProviders!, ...rest.capacityProviders!].map((p) => p.name)).toEqual(["cp1", "FARGATE", "FARGATE_SPOT"]);
    const some = await s.ecs.send(new DescribeCapacityProvidersCommand({ capacityProviders: ["FARGATE", "nope"] }));
    expect(some.capacityProviders).toEqual([{ capacityProviderArn: `${CP_ARN}FARGATE`, name: "FARGATE", status: "ACTIVE", type: "FARGATE", tags: [] }]);
    expect(some.failures).toEqual([{ arn: `${CP_ARN}nope`, reason: "MISSING" }]);
  });

  it("updates managed scaling and deletes a provider no cluster uses", async () => {
    await s.ecs.send(new CreateCapacityProviderCommand({ name: "cp1", autoScalingGroupProvider: { autoScalingGroupArn: ASG } }));
    const updated = await s.ecs.send(
      new UpdateCapacityProviderCommand({ name: "cp1", autoScalingGroupProvider: { managedScaling: { status: "ENABLED", targetCapacity: 90, instanceWarmupPeriod: 150 }, managedDraining: "DISABLED" } }),
    );
    expect(updated.capacityProvider).toMatchObject({
      updateStatus: "UPDATE_COMPLETE",
      autoScalingGroupProvider: { managedScaling: { status: "ENABLED", targetCapacity: 90, instanceWarmupPeriod: 150, minimumScalingStepSize: 1 }, managedDraining: "DISABLED" },
    });
    await s.ecs.send(new CreateClusterCommand({ clusterName: "c1", capacityProviders: ["cp1"] }));
    const inUse = await s.call("DeleteCapacityProvider", { capacityProvider: "cp1" });
    expect(inUse.json.message).toContain("in use by cluster c1");
    await s.ecs.send(new PutClusterCapacityProvidersCommand({ cluster: "c1", capacityProviders: [], defaultCapacityProviderStrategy: [] }));
    const deleted = await s.ecs.send(new DeleteCapacityProviderCommand({ capacityProvider: `${CP_ARN}cp1` }));
    expect(deleted.capacityProvider).toMatchObject({ name: "cp1", status: "ACTIVE", updateStatus: "DELETE_IN_PROGRESS" });
    const after = await s.ecs.send(new DescribeCapacityProvidersCommand({ capacityProviders: ["cp1"] }));
    expect(after.capacityProviders![0]).toMatchObject({ status: "INACTIVE", updateStatus: "DELETE_COMPLETE" });
    expect((await s.call("DeleteCapacityProvider", { capacityProvider: "FARGATE" })).json.message).toContain("reserved");
  });

  it("PutClusterCapacityProviders and CreateCluster accept only providers that exist", async () => {
    await s.ecs.send(new CreateClusterCommand({ clusterName: "c1" }));
    const bad = await s.call("PutClusterCapacityProviders", { cluster: "c1", capacityProviders: ["nope"], defaultCapacityProviderStrategy: [] });
    expect(bad.json).toMatchObject({ message: "The specified capacity provider 'nope' does not exist. Specify a valid capacity provider and try again." });
    expect((await s.call("CreateCluster", { clusterName: "c2", capacityProviders: ["nope"] })).json.__type).toContain("InvalidParameterException");
    const ok = await s.ecs.send(
      new PutClusterCapacityProvidersCommand({
        cluster: "c1",
        capacityProviders: ["FARGATE", "FARGATE_SPOT"],
        defaultCapacityProviderStrategy: [{ capacityProvider: "FARGATE", base: 1, weight: 1 }, { capacityProvider: "FARGATE_SPOT", weight: 4 }],
      }),
    );
    expect(ok.cluster!.defaultCapacityProviderStrategy).toEqual([
      { capacityProvider: "FARGATE", base: 1, weight: 1 },
      { capacityProvider: "FARGATE_SPOT", base: 0, weight: 4 },
    ]);
  });
});
