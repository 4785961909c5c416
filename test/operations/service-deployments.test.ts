import {
  CreateServiceCommand,
  DescribeServiceDeploymentsCommand,
  DescribeServiceRevisionsCommand,
  DescribeServicesCommand,
  ListServiceDeploymentsCommand,
  RegisterTaskDefinitionCommand,
  StopServiceDeploymentCommand,
  UpdateServiceCommand,
  waitUntilServicesStable,
  type ECSClient,
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

const TD = (rev: number) => `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/app:${rev}`;

describe("service deployments and revisions (the newer deployment APIs)", () => {
  let server: ServiceTestServer;
  let ecs: ECSClient;
  const stable = async (name: string) =>
    expect((await waitUntilServicesStable({ client: ecs, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { services: [name] })).state).toBe("SUCCESS");

  beforeAll(async () => {
    server = await startServiceServer();
    ecs = server.ecs;
    for (const image of ["busybox", "busybox", "no-such-image:never"]) {
      await ecs.send(new RegisterTaskDefinitionCommand({ family: "app", containerDefinitions: [{ name: "app", image, memory: 32 }] }));
    }
    // The third revision's image cannot be pulled: its tasks fail to start.
    server.fake.pullFailures.set("no-such-image:never", "pull access denied for no-such-image, repository does not exist");
  });
  afterAll(async () => {
    await server?.close();
  });

  it("CreateService and UpdateService each record a service deployment with its source and target revisions", async () => {
    const created = await ecs.send(new CreateServiceCommand({ serviceName: "api", taskDefinition: "app:1", desiredCount: 2 }));
    await stable("api");
    const updated = await ecs.send(new UpdateServiceCommand({ service: "api", taskDefinition: "app:2" }));
    const firstArn = created.service!.currentServiceDeployment!;
    const secondArn = updated.service!.currentServiceDeployment!;
    expect(secondArn).not.toBe(firstArn);
    await stable("api");

    const { serviceDeployments, failures } = await ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [firstArn, secondArn, `${firstArn}x`] }));
    expect(failures).toEqual([{ arn: `${firstArn}x`, reason: "MISSING" }]);
    const [first, second] = serviceDeployments!;
    expect(first).toMatchObject({
      serviceDeploymentArn: firstArn,
      serviceArn: `arn:aws:ecs:us-east-1:${ACCOUNT}:service/default/api`,
      clusterArn: `arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/default`,
      status: "SUCCESSFUL",
      sourceServiceRevisions: [],
      targetServiceRevision: { requestedTaskCount: 2, runningTaskCount: 2, pendingTaskCount: 0 },
      deploymentCircuitBreaker: { status: "DISABLED", failureCount: 0, threshold: 3 },
      deploymentConfiguration: { maximumPercent: 200, minimumHealthyPercent: 100 },
    });
    expect(first!.startedAt).toBeInstanceOf(Date);
    expect(first!.finishedAt).toBeInstanceOf(Date);
    expect(second).toMatchObject({ status: "SUCCESSFUL", sourceServiceRevisions: [{ arn: first!.targetServiceRevision!.arn }] });

    const revisions = await ecs.send(
      new DescribeServiceRevisionsCommand({ serviceRevisionArns: [first!.targetServiceRevision!.arn!, second!.targetServiceRevision!.arn!] }),
    );
    expect(revisions.serviceRevisions?.map((r) => [r.taskDefinition, r.launchType, r.containerImages])).toEqual([
      [TD(1), "EC2", [{ containerName: "app", image: "busybox" }]],
      [TD(2), "EC2", [{ containerName: "app", image: "busybox" }]],
    ]);
    expect(revisions.serviceRevisions?.[0]?.serviceRevisionArn).toMatch(/service-revision\/default\/api\/\d{19}$/);
    expect(revisions.failures).toEqual([]);

    const listed = await ecs.send(new ListServiceDeploymentsCommand({ service: "api" }));
    expect(listed.serviceDeployments?.map((d) => [d.serviceDeploymentArn, d.status])).toEqual([
      [secondArn, "SUCCESSFUL"],
      [firstArn, "SUCCESSFUL"],
    ]);
    expect(listed.serviceDeployments?.[0]?.targetServiceRevisionArn).toBe(second!.targetServiceRevision!.arn);
  });

  it("ListServiceDeployments filters by status and creation time and pages", async () => {
    const all = (await ecs.send(new ListServiceDeploymentsCommand({ service: "api" }))).serviceDeployments!;
    expect((await ecs.send(new ListServiceDeploymentsCommand({ service: "api", status: ["IN_PROGRESS"] }))).serviceDeployments).toEqual([]);
    expect((await ecs.send(new ListServiceDeploymentsCommand({ service: "api", status: ["SUCCESSFUL"] }))).serviceDeployments).toHaveLength(2);
    const future = new Date(Date.now() + 3_600_000);
    expect((await ecs.send(new ListServiceDeploymentsCommand({ service: "api", createdAt: { after: future } }))).serviceDeployments).toEqual([]);
    expect((await ecs.send(new ListServiceDeploymentsCommand({ service: "api", createdAt: { before: future } }))).serviceDeployments).toHaveLength(2);
    const page1 = await ecs.send(new ListServiceDeploymentsCommand({ service: "api", maxResults: 1 }));
    const page2 = await ecs.send(new ListServiceDeploymentsCommand({ service: "api", maxResults: 1, nextToken: page1.nextToken }));
    expect([...page1.serviceDeployments!, ...page2.serviceDeployments!]).toEqual(all);
    expect(page2.nextToken).toBeUndefined();
    expect(await errorOf(ecs.send(new ListServiceDeploymentsCommand({ service: "ghost" })))).toEqual({ name: "ServiceNotFoundException", message: "Service not found." });
  });

  it("a deployment superseded while in progress is STOPPED; concurrent UpdateService calls never lose one", async () => {
    await ecs.send(new CreateServiceCommand({ serviceName: "busy", taskDefinition: "app:1", desiredCount: 1 }));
    const arns = await Promise.all(
      Array.from({ length: 8 }, async () => (await ecs.send(new UpdateServiceCommand({ service: "busy", forceNewDeployment: true }))).service!.currentServiceDeployment!),
    );
    expect(new Set(arns).size).toBe(8);
    const listed = (await ecs.send(new ListServiceDeploymentsCommand({ service: "busy", maxResults: 100 }))).serviceDeployments!;
    expect(listed).toHaveLength(9);
    const { services } = await ecs.send(new DescribeServicesCommand({ services: ["busy"] }));
    // The last update's deployment is the PRIMARY one; every earlier one is superseded.
    expect(arns).toContain(services![0]!.currentServiceDeployment);
    await stable("busy");
    const after = (await ecs.send(new ListServiceDeploymentsCommand({ service: "busy", maxResults: 100 }))).serviceDeployments!;
    expect(after.filter((d) => d.status === "SUCCESSFUL").map((d) => d.serviceDeploymentArn)).toEqual([services![0]!.currentServiceDeployment]);
    expect(after.filter((d) => d.status === "STOPPED")).toHaveLength(8);
    expect(after.find((d) => d.status === "STOPPED")?.statusReason).toBe("The service deployment was stopped because a newer service deployment started.");
  });

  it("StopServiceDeployment ROLLBACK brings back the previous revision", async () => {
    // A revision whose image cannot be pulled never completes: roll it back by hand.
    const { service } = await ecs.send(new UpdateServiceCommand({ service: "api", taskDefinition: "app:3" }));
    const arn = service!.currentServiceDeployment!;
    expect((await ecs.send(new StopServiceDeploymentCommand({ serviceDeploymentArn: arn, stopType: "ROLLBACK" }))).serviceDeploymentArn).toBe(arn);
    await stable("api");
    const { services } = await ecs.send(new DescribeServicesCommand({ services: ["api"] }));
    expect(services![0]!.taskDefinition).toBe(TD(2));
    expect(services![0]!.events!.map((e) => e.message)).toContainEqual(expect.stringMatching(/^\(service api\) rolling back to deployment ecs-svc\/\d{19}\.$/));
    const sd = await eventually("the rollback to be recorded as successful", async () => {
      const found = (await ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [arn] }))).serviceDeployments![0]!;
      return found.status === "ROLLBACK_SUCCESSFUL" ? found : undefined;
    });
    expect(sd.rollback).toMatchObject({ reason: expect.stringContaining("rolled back"), serviceRevisionArn: expect.stringMatching(/service-revision\/default\/api\/\d{19}$/) });
    expect(sd.finishedAt).toBeInstanceOf(Date);
  });

  it("StopServiceDeployment refuses ABORT, unknown and finished deployments", async () => {
    const done = (await ecs.send(new ListServiceDeploymentsCommand({ service: "api", status: ["SUCCESSFUL"] }))).serviceDeployments![0]!.serviceDeploymentArn!;
    expect(await errorOf(ecs.send(new StopServiceDeploymentCommand({ serviceDeploymentArn: done, stopType: "ABORT" })))).toEqual({
      name: "InvalidParameterException",
      message: "The stop type ABORT is not supported. The valid value is ROLLBACK.",
    });
    expect(await errorOf(ecs.send(new StopServiceDeploymentCommand({ serviceDeploymentArn: `${done}zz` })))).toEqual({
      name: "ServiceDeploymentNotFoundException",
      message: "Service deployment not found.",
    });
    expect(await errorOf(ecs.send(new StopServiceDeploymentCommand({ serviceDeploymentArn: done })))).toEqual({
      name: "ConflictException",
      message: "The service deployment is SUCCESSFUL and can no longer be stopped.",
    });
  });
});
