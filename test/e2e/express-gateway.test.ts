import {
  CreateExpressGatewayServiceCommand,
  DeleteExpressGatewayServiceCommand,
  DescribeExpressGatewayServiceCommand,
  DescribeServicesCommand,
  UpdateExpressGatewayServiceCommand,
  type ECSClient,
} from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { removeDataDir, startChildServer, tempDataDir, type ChildServer } from "../reliability/support/child-server.ts";
import { eventually, IMAGE, removeCluster, uniqueCluster } from "../reliability/support/docker.ts";
import { CreateClusterCommand } from "@aws-sdk/client-ecs";

// busybox httpd answering "<version> <container id>" at / and 200 at the health check path.
const SERVE = ["sh", "-c", 'trap "exit 0" TERM; mkdir -p /www; echo "$MSG $(hostname)" > /www/index.html; echo ok > /www/health; httpd -f -p 8080 -h /www & wait'];
const versionOf = (text: string): string => text.split(" ")[0] ?? "";
const ROLE = "arn:aws:iam::000000000000:role/ecsTaskExecutionRole";
const INFRA = "arn:aws:iam::000000000000:role/ecsInfrastructureRole";

describe("Express Gateway services on real Docker (JS SDK): a local ingress that follows a rolling update", () => {
  const cluster = uniqueCluster("express");
  const dataDir = tempDataDir();
  let server: ChildServer;
  let ecs: ECSClient;
  let serviceArn = "";
  let endpoint = "";

  beforeAll(async () => {
    server = await startChildServer({ dataDir, script: "test/reliability/support/serve-with-options.ts", env: { SERVER_OPTIONS: JSON.stringify({ validateResponses: true }) } });
    ecs = server.ecs;
    await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
  });

  afterAll(async () => {
    await server?.stop();
    await removeCluster(cluster);
    removeDataDir(dataDir);
  });

  it("validates its input as documented", async () => {
    const base = { cluster, executionRoleArn: ROLE, infrastructureRoleArn: INFRA, primaryContainer: { image: IMAGE } };
    await expect(ecs.send(new CreateExpressGatewayServiceCommand({ ...base, healthCheckPath: "health" }))).rejects.toMatchObject({ name: "InvalidParameterException" });
    await expect(ecs.send(new CreateExpressGatewayServiceCommand({ ...base, scalingTarget: { minTaskCount: 3, maxTaskCount: 2 } }))).rejects.toMatchObject({
      name: "InvalidParameterException",
    });
    await expect(ecs.send(new DescribeExpressGatewayServiceCommand({ serviceArn: `arn:aws:ecs:us-east-1:000000000000:service/${cluster}/nope` }))).rejects.toMatchObject({
      name: "ResourceNotFoundException",
    });
  });

  it("creates a service whose local URL answers from its tasks, round robin over healthy ones", { timeout: 180_000 }, async () => {
    const created = await ecs.send(
      new CreateExpressGatewayServiceCommand({
        cluster,
        serviceName: "site",
        executionRoleArn: ROLE,
        infrastructureRoleArn: INFRA,
        healthCheckPath: "/health",
        primaryContainer: { image: IMAGE, containerPort: 8080, command: SERVE, environment: [{ name: "MSG", value: "v1" }] },
        scalingTarget: { minTaskCount: 2, maxTaskCount: 4 },
      }),
    );
    const svc = created.service!;
    serviceArn = svc.serviceArn!;
    expect(svc).toMatchObject({ serviceName: "site", status: { statusCode: "ACTIVE" }, infrastructureRoleArn: INFRA });
    const config = svc.activeConfigurations![0]!;
    expect(config).toMatchObject({ healthCheckPath: "/health", scalingTarget: { minTaskCount: 2, maxTaskCount: 4 }, primaryContainer: { containerPort: 8080 } });
    endpoint = config.ingressPaths![0]!.endpoint!;
    expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    // An ordinary ECS service underneath, at min tasks.
    const ecsService = (await ecs.send(new DescribeServicesCommand({ cluster, services: [serviceArn] }))).services![0]!;
    expect(ecsService).toMatchObject({ serviceName: "site", desiredCount: 2 });

    const body = await eventually("the ingress to answer from a task", async () => {
      const res = await fetch(`${endpoint}/`);
      return res.status === 200 ? (await res.text()).trim() : undefined;
    }, 90_000, 250);
    expect(versionOf(body)).toBe("v1");
    // Both tasks healthy: successive requests go to each in turn (the answer names the container).
    await eventually("both tasks in rotation", async () => {
      const s = (await ecs.send(new DescribeServicesCommand({ cluster, services: [serviceArn] }))).services![0]!;
      return s.runningCount === 2 && s.deployments?.[0]?.rolloutState === "COMPLETED" ? true : undefined;
    }, 90_000);
    const hosts: string[] = [];
    for (let i = 0; i < 4; i++) hosts.push((await (await fetch(`${endpoint}/`)).text()).trim());
    expect(new Set(hosts).size).toBe(2);
    expect(hosts[0]).toBe(hosts[2]);
    expect(hosts[1]).toBe(hosts[3]);
    const described = await ecs.send(new DescribeExpressGatewayServiceCommand({ serviceArn, include: ["TAGS"] }));
    expect(described.service!.activeConfigurations![0]!.serviceRevisionArn).toMatch(/:service-revision\//);
  });

  it("an update rolls out a new revision while the URL keeps answering (never a 5xx), then answers from it", { timeout: 240_000 }, async () => {
    const updated = await ecs.send(
      new UpdateExpressGatewayServiceCommand({
        serviceArn,
        primaryContainer: { image: IMAGE, containerPort: 8080, command: SERVE, environment: [{ name: "MSG", value: "v2" }] },
      }),
    );
    expect(updated.service!.targetConfiguration!.primaryContainer!.environment).toEqual([{ name: "MSG", value: "v2" }]);
    const seen: string[] = [];
    const statuses = new Set<number>();
    await eventually("only v2 to answer", async () => {
      const res = await fetch(`${endpoint}/`);
      statuses.add(res.status);
      const text = versionOf((await res.text()).trim());
      seen.push(text);
      const s = (await ecs.send(new DescribeServicesCommand({ cluster, services: [serviceArn] }))).services![0]!;
      return s.deployments!.length === 1 && s.deployments![0]!.rolloutState === "COMPLETED" && text === "v2" ? true : undefined;
    }, 180_000, 200);
    expect([...statuses]).toEqual([200]);
    expect(seen).toContain("v2");
    for (let i = 0; i < 6; i++) expect(versionOf((await (await fetch(`${endpoint}/`)).text()).trim())).toBe("v2");
  });

  it("delete drains the service to INACTIVE and closes the URL", { timeout: 180_000 }, async () => {
    const deleted = await ecs.send(new DeleteExpressGatewayServiceCommand({ serviceArn }));
    expect(deleted.service!.status!.statusCode).toBe("DRAINING");
    await eventually("INACTIVE", async () => {
      const d = await ecs.send(new DescribeExpressGatewayServiceCommand({ serviceArn }));
      return d.service!.status!.statusCode === "INACTIVE" ? true : undefined;
    }, 120_000, 500);
    await eventually("the URL closed", async () => fetch(`${endpoint}/`).then(() => undefined, () => true));
  });
});
