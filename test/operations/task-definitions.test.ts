import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ClientException } from "../../generated/errors.ts";
import { operationExamples } from "../../generated/examples.ts";
import type { ContainerDefinition, RegisterTaskDefinitionRequest } from "../../generated/shapes.ts";
import { resolveTaskDefinition } from "../../src/operations/task-definitions.ts";
import type { Upstream } from "../../src/runtime/upstream.ts";
import { ACCOUNT, REGION, START, errorOf, makeFixture, type Fixture } from "./control-plane-fixture.ts";

const ARN_PREFIX = `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition`;

function container(overrides: Partial<ContainerDefinition> = {}): ContainerDefinition {
  return { name: "app", image: "busybox", memory: 128, ...overrides };
}

function request(overrides: Partial<RegisterTaskDefinitionRequest> = {}): RegisterTaskDefinitionRequest {
  return { family: "web", containerDefinitions: [container()], ...overrides };
}

let fx: Fixture;
afterEach(() => fx?.close());

describe("RegisterTaskDefinition", () => {
  it("numbers revisions per family from 1 and builds the ARN", async () => {
    fx = makeFixture();
    const a1 = await fx.ops.registerTaskDefinition(request(), fx.ctx);
    const a2 = await fx.ops.registerTaskDefinition(request(), fx.ctx);
    const b1 = await fx.ops.registerTaskDefinition(request({ family: "worker" }), fx.ctx);
    expect(a1.taskDefinition?.revision).toBe(1);
    expect(a2.taskDefinition?.revision).toBe(2);
    expect(b1.taskDefinition?.revision).toBe(1);
    expect(a2.taskDefinition?.taskDefinitionArn).toBe(`${ARN_PREFIX}/web:2`);
    expect(a1.taskDefinition).toMatchObject({
      family: "web",
      status: "ACTIVE",
      registeredAt: START,
      registeredBy: `arn:aws:iam::${ACCOUNT}:root`,
      compatibilities: ["EXTERNAL", "EC2"],
      volumes: [],
      placementConstraints: [],
    });
    // Real ECS omits networkMode when none was given.
    expect(a1.taskDefinition).not.toHaveProperty("networkMode");
  });

  it("never reuses a revision, even after the last one was deleted", async () => {
    fx = makeFixture();
    await fx.ops.registerTaskDefinition(request(), fx.ctx);
    await fx.ops.registerTaskDefinition(request(), fx.ctx);
    await fx.ops.deregisterTaskDefinition({ taskDefinition: "web:2" }, fx.ctx);
    await fx.ops.deleteTaskDefinitions({ taskDefinitions: ["web:2"] }, fx.ctx);
    const next = await fx.ops.registerTaskDefinition(request(), fx.ctx);
    expect(next.taskDefinition?.revision).toBe(3);
  });

  it("fills container defaults the way real responses show them", async () => {
    fx = makeFixture();
    const out = await fx.ops.registerTaskDefinition(
      request({ containerDefinitions: [container({ portMappings: [{ containerPort: 80 }] })] }),
      fx.ctx,
    );
    expect(out.taskDefinition?.containerDefinitions?.[0]).toEqual({
      name: "app",
      image: "busybox",
      memory: 128,
      cpu: 0,
      essential: true,
      portMappings: [{ containerPort: 80, hostPort: 0, protocol: "tcp" }],
      environment: [],
      mountPoints: [],
      volumesFrom: [],
    });
  });

  it("defaults hostPort to containerPort for awsvpc and host", async () => {
    fx = makeFixture();
    for (const networkMode of ["awsvpc", "host"] as const) {
      const out = await fx.ops.registerTaskDefinition(
        request({ networkMode, containerDefinitions: [container({ portMappings: [{ containerPort: 8080 }] })] }),
        fx.ctx,
      );
      expect(out.taskDefinition?.containerDefinitions?.[0]?.portMappings).toEqual([
        { containerPort: 8080, hostPort: 8080, protocol: "tcp" },
      ]);
    }
  });

  it.each([
    ["1 vCPU", "1024"],
    ["1 vcpu", "1024"],
    ["0.25 vCPU", "256"],
    [".5 vcpu", "512"],
    ["2048", "2048"],
  ])("normalises task cpu %j to %j", async (cpu, expected) => {
    fx = makeFixture();
    const out = await fx.ops.registerTaskDefinition(request({ cpu }), fx.ctx);
    expect(out.taskDefinition?.cpu).toBe(expected);
  });

  it.each([
    ["1GB", "1024"],
    ["2 GB", "2048"],
    ["0.5gb", "512"],
    ["3072", "3072"],
  ])("normalises task memory %j to %j", async (memory, expected) => {
    fx = makeFixture();
    const out = await fx.ops.registerTaskDefinition(request({ memory, containerDefinitions: [container({ memory: 64 })] }), fx.ctx);
    expect(out.taskDefinition?.memory).toBe(expected);
  });

  it("reports FARGATE compatibility for awsvpc definitions with a Fargate size", async () => {
    fx = makeFixture();
    const out = await fx.ops.registerTaskDefinition(
      request({ networkMode: "awsvpc", cpu: "0.25 vCPU", memory: "0.5 GB", requiresCompatibilities: ["FARGATE"] }),
      fx.ctx,
    );
    expect(out.taskDefinition).toMatchObject({
      cpu: "256",
      memory: "512",
      networkMode: "awsvpc",
      compatibilities: ["EC2", "FARGATE"],
      requiresCompatibilities: ["FARGATE"],
    });
    const names = out.taskDefinition?.requiresAttributes?.map((a) => a.name);
    expect(names).toContain("ecs.capability.task-eni");
    expect(names).toContain("com.amazonaws.ecs.capability.docker-remote-api.1.18");
  });

  it("derives requiresAttributes from roles, logging, secrets, health checks and ordering", async () => {
    fx = makeFixture();
    const out = await fx.ops.registerTaskDefinition(
      request({
        taskRoleArn: "arn:aws:iam::123456789012:role/task",
        executionRoleArn: "arn:aws:iam::123456789012:role/exec",
        containerDefinitions: [
          container({
            name: "init",
            essential: false,
          }),
          container({
            logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": "g" } },
            secrets: [{ name: "A", valueFrom: "arn:aws:ssm:us-east-1:123456789012:parameter/a" }],
            healthCheck: { command: ["CMD-SHELL", "true"] },
            dependsOn: [{ containerName: "init", condition: "SUCCESS" }],
          }),
        ],
      }),
      fx.ctx,
    );
    const names = out.taskDefinition?.requiresAttributes?.map((a) => a.name);
    expect(names).toEqual(
      expect.arrayContaining([
        "com.amazonaws.ecs.capability.task-iam-role",
        "com.amazonaws.ecs.capability.logging-driver.awslogs",
        "ecs.capability.execution-role-awslogs",
        "ecs.capability.secrets.ssm.environment-variables",
        "ecs.capability.container-health-check",
        "ecs.capability.container-ordering",
      ]),
    );
  });

  it("drops empty role strings, as in the model example", async () => {
    fx = makeFixture();
    const out = await fx.ops.registerTaskDefinition(request({ taskRoleArn: "" }), fx.ctx);
    expect(out.taskDefinition).not.toHaveProperty("taskRoleArn");
  });

  it("stores tags and returns them", async () => {
    fx = makeFixture();
    const out = await fx.ops.registerTaskDefinition(request({ tags: [{ key: "team", value: "a" }] }), fx.ctx);
    expect(out.tags).toEqual([{ key: "team", value: "a" }]);
    expect(fx.stores.tags.get(`${ARN_PREFIX}/web:1`)).toEqual([{ key: "team", value: "a" }]);
  });

  const invalid: Array<[string, RegisterTaskDefinitionRequest, string, RegExp]> = [
    ["an empty container list", request({ containerDefinitions: [] }), "ClientException", /Container list cannot be empty/],
    ["a bad family", request({ family: "web.app" }), "ClientException", /family 'web\.app'/],
    ["a bad container name", request({ containerDefinitions: [container({ name: "a b" })] }), "ClientException", /container name 'a b'/],
    ["a missing image", request({ containerDefinitions: [container({ image: "" })] }), "ClientException", /Container\.image/],
    [
      "duplicate container names",
      request({ containerDefinitions: [container(), container()] }),
      "ClientException",
      /Duplicate container name found: app/,
    ],
    [
      "no essential container",
      request({ containerDefinitions: [container({ essential: false })] }),
      "ClientException",
      /at least one essential container/,
    ],
    [
      "no memory anywhere",
      request({ containerDefinitions: [container({ memory: undefined })] }),
      "ClientException",
      /Invalid setting for container 'app'\. At least one of 'memory' or 'memoryReservation' must be specified\./,
    ],
    [
      "memoryReservation not below memory",
      request({ containerDefinitions: [container({ memory: 128, memoryReservation: 128 })] }),
      "ClientException",
      /'memory' \(128\) must be greater than 'memoryReservation' \(128\)/,
    ],
    [
      "a dependency on a missing container",
      request({ containerDefinitions: [container({ dependsOn: [{ containerName: "db", condition: "START" }] })] }),
      "ClientException",
      /dependency on container 'db'/,
    ],
    [
      "COMPLETE on an essential container",
      request({
        containerDefinitions: [
          container({ name: "init" }),
          container({ dependsOn: [{ containerName: "init", condition: "COMPLETE" }] }),
        ],
      }),
      "ClientException",
      /COMPLETE condition can't be set on an essential container/,
    ],
    [
      "a dependency cycle",
      request({
        containerDefinitions: [
          container({ name: "a", dependsOn: [{ containerName: "b", condition: "START" }] }),
          container({ name: "b", dependsOn: [{ containerName: "a", condition: "START" }] }),
        ],
      }),
      "ClientException",
      /Circular container dependency detected: a -> b -> a/,
    ],
    [
      "links outside bridge mode",
      request({
        networkMode: "awsvpc",
        containerDefinitions: [container({ name: "db" }), container({ links: ["db"] })],
      }),
      "ClientException",
      /links are not supported on container 'app' when networkMode=awsvpc/,
    ],
    [
      "a link to a missing container",
      request({ containerDefinitions: [container({ links: ["db:database"] })] }),
      "ClientException",
      /links to container 'db'/,
    ],
    [
      "FARGATE without awsvpc",
      request({ requiresCompatibilities: ["FARGATE"], cpu: "256", memory: "512" }),
      "ClientException",
      /Fargate only supports network mode/,
    ],
    [
      "FARGATE with an invalid size",
      request({ requiresCompatibilities: ["FARGATE"], networkMode: "awsvpc", cpu: "256", memory: "4096" }),
      "ClientException",
      /No Fargate configuration exists for given values: 256 CPU, 4096 memory/,
    ],
    [
      "FARGATE without task cpu",
      request({ requiresCompatibilities: ["FARGATE"], networkMode: "awsvpc", memory: "512" }),
      "ClientException",
      /'cpu' be defined at the task level/,
    ],
    ["an unparsable task cpu", request({ cpu: "lots" }), "ClientException", /Invalid 'cpu' setting for task/],
    ["an unparsable task memory", request({ memory: "1TB" }), "ClientException", /Invalid 'memory' setting for task/],
    [
      "hostPort != containerPort in awsvpc",
      request({ networkMode: "awsvpc", containerDefinitions: [container({ portMappings: [{ containerPort: 80, hostPort: 8080 }] })] }),
      "ClientException",
      /networkMode=awsvpc, the host ports and container ports in port mappings must match/,
    ],
    [
      "port mappings in none mode",
      request({ networkMode: "none", containerDefinitions: [container({ portMappings: [{ containerPort: 80 }] })] }),
      "ClientException",
      /Port mappings are not supported on container 'app' when networkMode=none/,
    ],
    [
      "a mount point on an undeclared volume",
      request({ containerDefinitions: [container({ mountPoints: [{ sourceVolume: "data", containerPath: "/data" }] })] }),
      "ClientException",
      /sourceVolume 'data' is not a volume/,
    ],
    [
      "volumesFrom a missing container",
      request({ containerDefinitions: [container({ volumesFrom: [{ sourceContainer: "other" }] })] }),
      "ClientException",
      /sourceContainer 'other'/,
    ],
    [
      "an empty health check command",
      request({ containerDefinitions: [container({ healthCheck: { command: [] } })] }),
      "ClientException",
      /healthCheck for container 'app': command must not be empty/,
    ],
    [
      "a reserved tag key",
      request({ tags: [{ key: "aws:owner", value: "x" }] }),
      "InvalidParameterException",
      /'aws:' prefix is reserved/,
    ],
    [
      "a container memory above the task memory",
      request({ memory: "256", containerDefinitions: [container({ memory: 512 })] }),
      "ClientException",
      /container memory \(512\) must not exceed the task memory \(256\)/,
    ],
    [
      "secrets without an execution role",
      request({ containerDefinitions: [container({ secrets: [{ name: "A", valueFrom: "a" }] })] }),
      "ClientException",
      /executionRoleArn/,
    ],
  ];

  it.each(invalid)("rejects %s and stores nothing", async (_what, input, type, message) => {
    fx = makeFixture();
    const err = await errorOf(fx.ops.registerTaskDefinition(input, fx.ctx));
    expect(err.type).toBe(type);
    expect(err.message).toMatch(message);
    expect(fx.stores.taskDefinitions.lastRevision(input.family)).toBe(0);
    const listed = await fx.ops.listTaskDefinitions({}, fx.ctx);
    expect(listed.taskDefinitionArns).toEqual([]);
  });

  it("matches the shape of the model example", async () => {
    fx = makeFixture();
    const example = operationExamples.find((e) => e.operation === "RegisterTaskDefinition")!;
    const out = await fx.call("RegisterTaskDefinition", example.input);
    const expected = (example.output as { taskDefinition: Record<string, unknown> }).taskDefinition;
    const actual = out["taskDefinition"] as Record<string, unknown>;
    expect(actual["taskDefinitionArn"]).toBe(`${ARN_PREFIX}/sleep360:1`);
    expect(actual["volumes"]).toEqual(expected["volumes"]);
    expect(actual["containerDefinitions"]).toEqual(expected["containerDefinitions"]);
    expect(actual["registeredAt"]).toBe(START.getTime() / 1000);
  });
});

describe("DescribeTaskDefinition", () => {
  it("resolves family (latest ACTIVE), family:revision and ARN", async () => {
    fx = makeFixture();
    await fx.ops.registerTaskDefinition(request(), fx.ctx);
    await fx.ops.registerTaskDefinition(request(), fx.ctx);
    await fx.ops.registerTaskDefinition(request(), fx.ctx);
    await fx.ops.deregisterTaskDefinition({ taskDefinition: "web:3" }, fx.ctx);
    const byFamily = await fx.ops.describeTaskDefinition({ taskDefinition: "web" }, fx.ctx);
    expect(byFamily.taskDefinition?.revision).toBe(2);
    const byRevision = await fx.ops.describeTaskDefinition({ taskDefinition: "web:3" }, fx.ctx);
    expect(byRevision.taskDefinition?.status).toBe("INACTIVE");
    const byArn = await fx.ops.describeTaskDefinition({ taskDefinition: `${ARN_PREFIX}/web:1` }, fx.ctx);
    expect(byArn.taskDefinition?.revision).toBe(1);
    expect(byArn).not.toHaveProperty("tags");
  });

  it("adds tags when asked to", async () => {
    fx = makeFixture();
    await fx.ops.registerTaskDefinition(request({ tags: [{ key: "k", value: "v" }] }), fx.ctx);
    const out = await fx.ops.describeTaskDefinition({ taskDefinition: "web:1", include: ["TAGS"] }, fx.ctx);
    expect(out.tags).toEqual([{ key: "k", value: "v" }]);
  });

  it("answers ClientException for an unknown definition without an upstream", async () => {
    fx = makeFixture();
    for (const ref of ["nope", "nope:1", `${ARN_PREFIX}/nope:1`]) {
      const err = await errorOf(fx.ops.describeTaskDefinition({ taskDefinition: ref }, fx.ctx));
      expect(err).toEqual({ type: "ClientException", message: "Unable to describe task definition." });
    }
  });
});

describe("upstream fallback", () => {
  const remote = {
    taskDefinitionArn: "arn:aws:ecs:us-east-1:999999999999:task-definition/remote:7",
    family: "remote",
    revision: 7,
    status: "ACTIVE",
    registeredAt: 1700000000.25,
    containerDefinitions: [{ name: "c", image: "busybox", memory: 64, essential: true }],
  };

  function fakeUpstream(): Upstream & { calls: Array<{ operation: string; input: unknown }> } {
    const calls: Array<{ operation: string; input: unknown }> = [];
    return {
      url: "http://127.0.0.1:1",
      calls,
      async call(operation, input) {
        calls.push({ operation, input });
        const ref = (input as { taskDefinition: string }).taskDefinition;
        if (ref === "remote" || ref === "remote:7") return { taskDefinition: remote, tags: [{ key: "from", value: "upstream" }] };
        throw new ClientException("Unable to describe task definition.");
      },
    };
  }

  it("fetches unknown definitions from the upstream and keeps them under their own ARN", async () => {
    const upstream = fakeUpstream();
    fx = makeFixture({ upstream });
    const td = await resolveTaskDefinition(fx.deps, fx.stores.taskDefinitions, "remote");
    expect(td.taskDefinitionArn).toBe(remote.taskDefinitionArn);
    expect(td.revision).toBe(7);
    expect(td.registeredAt).toEqual(new Date(1700000000250));
    expect(upstream.calls).toEqual([{ operation: "DescribeTaskDefinition", input: { taskDefinition: "remote" } }]);
    // Cached by ARN, not registered locally.
    expect(fx.stores.taskDefinitions.resolve(remote.taskDefinitionArn)?.family).toBe("remote");
    expect(fx.stores.taskDefinitions.resolve("remote")).toBeUndefined();
    expect(fx.stores.taskDefinitions.lastRevision("remote")).toBe(0);
    expect((await fx.ops.listTaskDefinitions({}, fx.ctx)).taskDefinitionArns).toEqual([]);
  });

  it("prefers local definitions and passes include TAGS through", async () => {
    const upstream = fakeUpstream();
    fx = makeFixture({ upstream });
    await fx.ops.registerTaskDefinition(request(), fx.ctx);
    const local = await resolveTaskDefinition(fx.deps, fx.stores.taskDefinitions, "web");
    expect(local.taskDefinitionArn).toBe(`${ARN_PREFIX}/web:1`);
    expect(upstream.calls).toEqual([]);
    const described = await fx.ops.describeTaskDefinition({ taskDefinition: "remote:7", include: ["TAGS"] }, fx.ctx);
    expect(described.tags).toEqual([{ key: "from", value: "upstream" }]);
    expect(upstream.calls.at(-1)?.input).toEqual({ taskDefinition: "remote:7", include: ["TAGS"] });
  });

  it("passes the upstream's error on", async () => {
    fx = makeFixture({ upstream: fakeUpstream() });
    const err = await errorOf(resolveTaskDefinition(fx.deps, fx.stores.taskDefinitions, "missing"));
    expect(err).toEqual({ type: "ClientException", message: "Unable to describe task definition." });
  });
});

describe("ListTaskDefinitions / ListTaskDefinitionFamilies", () => {
  async function seed(): Promise<void> {
    for (const family of ["beta", "alpha", "alpha", "gamma", "alpha-two"]) {
      await fx.ops.registerTaskDefinition(request({ family }), fx.ctx);
    }
  }

  it("lists ACTIVE revisions sorted by family then revision, ASC or DESC", async () => {
    fx = makeFixture();
    await seed();
    await fx.ops.deregisterTaskDefinition({ taskDefinition: "gamma:1" }, fx.ctx);
    const asc = await fx.ops.listTaskDefinitions({}, fx.ctx);
    expect(asc.taskDefinitionArns).toEqual(["alpha:1", "alpha:2", "alpha-two:1", "beta:1"].map((r) => `${ARN_PREFIX}/${r}`));
    const desc = await fx.ops.listTaskDefinitions({ sort: "DESC" }, fx.ctx);
    expect(desc.taskDefinitionArns).toEqual([...(asc.taskDefinitionArns ?? [])].reverse());
    const inactive = await fx.ops.listTaskDefinitions({ status: "INACTIVE" }, fx.ctx);
    expect(inactive.taskDefinitionArns).toEqual([`${ARN_PREFIX}/gamma:1`]);
  });

  it("treats familyPrefix as the exact family name", async () => {
    fx = makeFixture();
    await seed();
    const out = await fx.ops.listTaskDefinitions({ familyPrefix: "alpha" }, fx.ctx);
    expect(out.taskDefinitionArns).toEqual([`${ARN_PREFIX}/alpha:1`, `${ARN_PREFIX}/alpha:2`]);
  });

  it("paginates with an opaque token and rejects a forged one", async () => {
    fx = makeFixture();
    await seed();
    const seen: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const page = await fx.ops.listTaskDefinitions({ maxResults: 2, sort: "DESC", ...(nextToken ? { nextToken } : {}) }, fx.ctx);
      seen.push(...(page.taskDefinitionArns ?? []));
      nextToken = page.nextToken;
      pages += 1;
    } while (nextToken !== undefined);
    expect(pages).toBe(3);
    expect(seen).toEqual((await fx.ops.listTaskDefinitions({ sort: "DESC" }, fx.ctx)).taskDefinitionArns);
    const err = await errorOf(fx.ops.listTaskDefinitions({ nextToken: "garbage" }, fx.ctx));
    expect(err.type).toBe("InvalidParameterException");
    const range = await errorOf(fx.ops.listTaskDefinitions({ maxResults: 101 }, fx.ctx));
    expect(range.type).toBe("InvalidParameterException");
  });

  it("lists families by prefix and status, with pagination", async () => {
    fx = makeFixture();
    await seed();
    await fx.ops.deregisterTaskDefinition({ taskDefinition: "gamma:1" }, fx.ctx);
    expect((await fx.ops.listTaskDefinitionFamilies({}, fx.ctx)).families).toEqual(["alpha", "alpha-two", "beta", "gamma"]);
    expect((await fx.ops.listTaskDefinitionFamilies({ familyPrefix: "alpha" }, fx.ctx)).families).toEqual(["alpha", "alpha-two"]);
    expect((await fx.ops.listTaskDefinitionFamilies({ status: "ACTIVE" }, fx.ctx)).families).toEqual(["alpha", "alpha-two", "beta"]);
    expect((await fx.ops.listTaskDefinitionFamilies({ status: "INACTIVE" }, fx.ctx)).families).toEqual(["gamma"]);
    const first = await fx.ops.listTaskDefinitionFamilies({ maxResults: 3 }, fx.ctx);
    expect(first.families).toEqual(["alpha", "alpha-two", "beta"]);
    const second = await fx.ops.listTaskDefinitionFamilies({ maxResults: 3, nextToken: first.nextToken! }, fx.ctx);
    expect(second).toEqual({ families: ["gamma"] });
  });
});

describe("DeregisterTaskDefinition / DeleteTaskDefinitions", () => {
  it("deregisters a revision with deregisteredAt and needs a revision", async () => {
    fx = makeFixture();
    await fx.ops.registerTaskDefinition(request(), fx.ctx);
    fx.advance(60_000);
    const out = await fx.ops.deregisterTaskDefinition({ taskDefinition: `${ARN_PREFIX}/web:1` }, fx.ctx);
    expect(out.taskDefinition).toMatchObject({ status: "INACTIVE", deregisteredAt: new Date(START.getTime() + 60_000) });
    expect(await errorOf(fx.ops.deregisterTaskDefinition({ taskDefinition: "web" }, fx.ctx))).toEqual({
      type: "ClientException",
      message: "Revision is missing.",
    });
    expect((await errorOf(fx.ops.deregisterTaskDefinition({ taskDefinition: "web:9" }, fx.ctx))).type).toBe("ClientException");
    // The family has no ACTIVE revision any more.
    expect((await errorOf(fx.ops.describeTaskDefinition({ taskDefinition: "web" }, fx.ctx))).type).toBe("ClientException");
  });

  it("deletes only INACTIVE revisions and reports failures for the rest", async () => {
    fx = makeFixture();
    await fx.ops.registerTaskDefinition(request(), fx.ctx);
    await fx.ops.registerTaskDefinition(request(), fx.ctx);
    await fx.ops.deregisterTaskDefinition({ taskDefinition: "web:1" }, fx.ctx);
    fx.advance(1000);
    const out = await fx.ops.deleteTaskDefinitions({ taskDefinitions: ["web:1", "web:2", "web", "web:42"] }, fx.ctx);
    expect(out.taskDefinitions?.map((t) => [t.revision, t.status, t.deleteRequestedAt])).toEqual([
      [1, "DELETE_IN_PROGRESS", new Date(START.getTime() + 1000)],
    ]);
    expect(out.failures).toEqual([
      { arn: `${ARN_PREFIX}/web:2`, reason: expect.stringMatching(/still in ACTIVE status/) },
      { arn: "web", reason: expect.stringMatching(/identifier is invalid/) },
      { arn: `${ARN_PREFIX}/web:42`, reason: expect.stringMatching(/does not exist/) },
    ]);
    const tooMany = await errorOf(fx.ops.deleteTaskDefinitions({ taskDefinitions: Array.from({ length: 11 }, (_, i) => `web:${i}`) }, fx.ctx));
    expect(tooMany.type).toBe("InvalidParameterException");
  });
});

describe("persistence", () => {
  it("keeps registrations and revision counters across a reopen", async () => {
    const dir = mkdtempSync(join(tmpdir(), "local-ecs-td-"));
    try {
      fx = makeFixture({ dataDir: dir });
      await fx.ops.registerTaskDefinition(request({ tags: [{ key: "a", value: "b" }] }), fx.ctx);
      await fx.ops.registerTaskDefinition(request(), fx.ctx);
      await fx.ops.deregisterTaskDefinition({ taskDefinition: "web:2" }, fx.ctx);
      await fx.ops.deleteTaskDefinitions({ taskDefinitions: ["web:2"] }, fx.ctx);
      fx.close();

      fx = makeFixture({ dataDir: dir });
      const td = await fx.ops.describeTaskDefinition({ taskDefinition: "web", include: ["TAGS"] }, fx.ctx);
      expect(td.taskDefinition?.revision).toBe(1);
      expect(td.taskDefinition?.registeredAt).toEqual(START);
      expect(td.tags).toEqual([{ key: "a", value: "b" }]);
      expect((await fx.ops.registerTaskDefinition(request(), fx.ctx)).taskDefinition?.revision).toBe(3);
    } finally {
      fx.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
