import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/runtime/logger.ts";
import { mutate, rng } from "../support/fuzz-corpus.ts";
import { startServiceServer, type ServiceTestServer } from "./service-server.ts";

const TARGET = "AmazonEC2ContainerServiceV20141113";
const SD = "arn:aws:ecs:us-east-1:123456789012:service-deployment/default/web/NCWGC2ZR-taawPAYrIaU5";
const TS = "arn:aws:ecs:us-east-1:123456789012:task-set/default/ext/ecs-svc/1234567890123456789";

// Seeds for the 15 service / task set / service deployment operations; each is mutated at random.
const SEEDS: Array<[string, unknown]> = [
  ["CreateService", { serviceName: "web", taskDefinition: "web", desiredCount: 2, deploymentConfiguration: { maximumPercent: 200, minimumHealthyPercent: 50, deploymentCircuitBreaker: { enable: true, rollback: true } }, healthCheckGracePeriodSeconds: 10, tags: [{ key: "a", value: "b" }], propagateTags: "SERVICE", enableECSManagedTags: true, loadBalancers: [{ targetGroupArn: "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/t/1", containerName: "app", containerPort: 80 }] }],
  ["CreateService", { serviceName: "ext", desiredCount: 2, deploymentController: { type: "EXTERNAL" } }],
  ["CreateService", { serviceName: "daemon", taskDefinition: "web", schedulingStrategy: "DAEMON", capacityProviderStrategy: [{ capacityProvider: "FARGATE", weight: 1 }] }],
  ["UpdateService", { service: "web", desiredCount: 1, taskDefinition: "web:1", forceNewDeployment: true, deploymentConfiguration: { maximumPercent: 100, minimumHealthyPercent: 0 } }],
  ["DeleteService", { service: "web", force: true }],
  ["DescribeServices", { services: ["web", "ext", "arn:aws:ecs:us-east-1:123456789012:service/default/web"], include: ["TAGS"] }],
  ["ListServices", { maxResults: 5, launchType: "EC2", schedulingStrategy: "REPLICA" }],
  ["ListServicesByNamespace", { namespace: "local", maxResults: 5 }],
  ["CreateTaskSet", { service: "ext", cluster: "default", taskDefinition: "web", scale: { value: 50, unit: "PERCENT" }, externalId: "x" }],
  ["UpdateTaskSet", { service: "ext", cluster: "default", taskSet: TS, scale: { value: 100, unit: "PERCENT" } }],
  ["DeleteTaskSet", { service: "ext", cluster: "default", taskSet: TS, force: true }],
  ["DescribeTaskSets", { service: "ext", cluster: "default", taskSets: [TS], include: ["TAGS"] }],
  ["UpdateServicePrimaryTaskSet", { service: "ext", cluster: "default", primaryTaskSet: TS }],
  ["ListServiceDeployments", { service: "web", status: ["SUCCESSFUL", "IN_PROGRESS"], createdAt: { after: 0 }, maxResults: 3 }],
  ["DescribeServiceDeployments", { serviceDeploymentArns: [SD] }],
  ["DescribeServiceRevisions", { serviceRevisionArns: ["arn:aws:ecs:us-east-1:123456789012:service-revision/default/web/1234567890123456789"] }],
  ["StopServiceDeployment", { serviceDeploymentArn: SD, stopType: "ROLLBACK" }],
];

describe("seeded fuzzing of the service operations (validated responses, fake containers)", () => {
  let server: ServiceTestServer;
  const errors: string[] = [];

  beforeAll(async () => {
    server = await startServiceServer({ logger: createLogger("error", (line) => errors.push(line)) });
    await fetch(server.url, {
      method: "POST",
      headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": `${TARGET}.RegisterTaskDefinition` },
      body: JSON.stringify({ family: "web", containerDefinitions: [{ name: "app", image: "busybox", memory: 32, portMappings: [{ containerPort: 80 }] }] }),
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it("answers a thousand mutated requests with 200 or an AWS-shaped 4xx, and the scheduler never fails", async () => {
    const next = rng(Number(process.env["FUZZ_SEED"] ?? 20261130));
    const statuses = new Map<number, number>();
    const serverErrors: string[] = [];
    for (let i = 0; i < 1000; i++) {
      const [operation, base] = SEEDS[Math.floor(next() * SEEDS.length)]!;
      const body = next() < 0.03 ? JSON.stringify(base).slice(0, Math.floor(next() * 40)) : JSON.stringify(mutate(base, next));
      const res = await fetch(server.url, {
        method: "POST",
        headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": `${TARGET}.${operation}` },
        body,
      });
      const json = (await res.json()) as { __type?: string };
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status >= 500) serverErrors.push(`${operation} ${body} -> ${JSON.stringify(json)}`);
      else if (res.status !== 200) expect(typeof json.__type).toBe("string");
    }
    expect(serverErrors.slice(0, 5)).toEqual([]);
    expect(statuses.get(200) ?? 0).toBeGreaterThan(100);
    // Let the scheduler work through what was created, then check it never failed.
    await new Promise((r) => setTimeout(r, 500));
    expect(errors).toEqual([]);
    const res = await fetch(server.url, {
      method: "POST",
      headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": `${TARGET}.ListServices` },
      body: "{}",
    });
    expect(res.status).toBe(200);
  });
});
