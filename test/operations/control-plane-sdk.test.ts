import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  CreateClusterCommand,
  DeleteAccountSettingCommand,
  DeleteClusterCommand,
  DeleteTaskDefinitionsCommand,
  DeregisterTaskDefinitionCommand,
  DescribeClustersCommand,
  DescribeTaskDefinitionCommand,
  ListAccountSettingsCommand,
  ListClustersCommand,
  ListTagsForResourceCommand,
  ListTaskDefinitionFamiliesCommand,
  ListTaskDefinitionsCommand,
  PutAccountSettingCommand,
  PutAccountSettingDefaultCommand,
  PutClusterCapacityProvidersCommand,
  RegisterTaskDefinitionCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateClusterCommand,
  UpdateClusterSettingsCommand,
  ClientException,
  ClusterNotFoundException,
} from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { operationExamples } from "../../generated/examples.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

const run = promisify(execFile);
const ARN_PREFIX = "arn:aws:ecs:us-east-1:000000000000";

function webDefinition(family = "web") {
  return {
    family,
    containerDefinitions: [
      { name: "app", image: "nginx:latest", memory: 128, portMappings: [{ containerPort: 80 }] },
      { name: "log", image: "busybox", memory: 32, essential: false },
    ],
    tags: [{ key: "team", value: "blue" }],
  };
}

describe("control plane through the real @aws-sdk/client-ecs", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.close();
  });

  it("registers revisions, describes them by family, family:revision and ARN", async () => {
    const one = await t.ecs.send(new RegisterTaskDefinitionCommand(webDefinition()));
    const two = await t.ecs.send(new RegisterTaskDefinitionCommand(webDefinition()));
    expect(one.taskDefinition?.revision).toBe(1);
    expect(two.taskDefinition?.revision).toBe(2);
    expect(two.taskDefinition?.taskDefinitionArn).toBe(`${ARN_PREFIX}:task-definition/web:2`);
    expect(two.taskDefinition?.status).toBe("ACTIVE");
    expect(two.taskDefinition?.registeredAt).toBeInstanceOf(Date);
    expect(two.taskDefinition?.containerDefinitions?.map((c) => c.name)).toEqual(["app", "log"]);
    expect(two.tags).toEqual([{ key: "team", value: "blue" }]);

    const latest = await t.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: "web" }));
    expect(latest.taskDefinition?.revision).toBe(2);
    const first = await t.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: "web:1" }));
    expect(first.taskDefinition?.revision).toBe(1);
    const byArn = await t.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: `${ARN_PREFIX}:task-definition/web:1`, include: ["TAGS"] }));
    expect(byArn.taskDefinition?.revision).toBe(1);
    expect(byArn.tags).toEqual([{ key: "team", value: "blue" }]);
    await expect(t.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: "nope" }))).rejects.toBeInstanceOf(ClientException);
  });

  it("normalises task cpu and memory units", async () => {
    const res = await t.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "sized",
        cpu: "1 vCPU",
        memory: "2GB",
        containerDefinitions: [{ name: "app", image: "busybox" }],
      }),
    );
    expect(res.taskDefinition?.cpu).toBe("1024");
    expect(res.taskDefinition?.memory).toBe("2048");
  });

  it("paginates ListTaskDefinitions and lists families", async () => {
    await t.ecs.send(new RegisterTaskDefinitionCommand(webDefinition("pager")));
    const page1 = await t.ecs.send(new ListTaskDefinitionsCommand({ maxResults: 1 }));
    expect(page1.taskDefinitionArns).toHaveLength(1);
    expect(page1.nextToken).toBeTruthy();
    const page2 = await t.ecs.send(new ListTaskDefinitionsCommand({ maxResults: 1, nextToken: page1.nextToken }));
    expect(page2.taskDefinitionArns).toHaveLength(1);
    expect(page2.taskDefinitionArns?.[0]).not.toBe(page1.taskDefinitionArns?.[0]);
    const web = await t.ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: "web", sort: "DESC" }));
    expect(web.taskDefinitionArns).toEqual([`${ARN_PREFIX}:task-definition/web:2`, `${ARN_PREFIX}:task-definition/web:1`]);
    const families = await t.ecs.send(new ListTaskDefinitionFamiliesCommand({}));
    expect(families.families).toEqual(expect.arrayContaining(["web", "pager"]));
  });

  it("deregisters and deletes a revision", async () => {
    await t.ecs.send(new RegisterTaskDefinitionCommand(webDefinition("gone")));
    const dereg = await t.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: "gone:1" }));
    expect(dereg.taskDefinition?.status).toBe("INACTIVE");
    expect(dereg.taskDefinition?.deregisteredAt).toBeInstanceOf(Date);
    const active = await t.ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: "gone" }));
    expect(active.taskDefinitionArns).toEqual([]);
    const del = await t.ecs.send(new DeleteTaskDefinitionsCommand({ taskDefinitions: ["gone:1"] }));
    expect(del.taskDefinitions?.[0]?.status).toBe("DELETE_IN_PROGRESS");
    expect(del.failures).toEqual([]);
  });

  it("creates, describes, updates, lists and deletes clusters", async () => {
    const created = await t.ecs.send(new CreateClusterCommand({ clusterName: "blue", tags: [{ key: "env", value: "dev" }] }));
    expect(created.cluster?.clusterArn).toBe(`${ARN_PREFIX}:cluster/blue`);
    expect(created.cluster?.status).toBe("ACTIVE");
    const described = await t.ecs.send(new DescribeClustersCommand({ clusters: ["blue", "missing"], include: ["TAGS", "SETTINGS"] }));
    expect(described.clusters?.[0]?.tags).toEqual([{ key: "env", value: "dev" }]);
    expect(described.clusters?.[0]?.runningTasksCount).toBe(0);
    expect(described.failures).toEqual([{ arn: `${ARN_PREFIX}:cluster/missing`, reason: "MISSING" }]);
    const def = await t.ecs.send(new DescribeClustersCommand({}));
    expect(def.clusters?.[0]?.clusterName).toBe("default");

    const settings = await t.ecs.send(new UpdateClusterSettingsCommand({ cluster: "blue", settings: [{ name: "containerInsights", value: "enabled" }] }));
    expect(settings.cluster?.settings).toEqual([{ name: "containerInsights", value: "enabled" }]);
    const updated = await t.ecs.send(new UpdateClusterCommand({ cluster: "blue", configuration: { executeCommandConfiguration: { logging: "DEFAULT" } } }));
    expect(updated.cluster?.configuration?.executeCommandConfiguration?.logging).toBe("DEFAULT");
    const cps = await t.ecs.send(new PutClusterCapacityProvidersCommand({ cluster: "blue", capacityProviders: ["FARGATE"], defaultCapacityProviderStrategy: [{ capacityProvider: "FARGATE", weight: 1 }] }));
    expect(cps.cluster?.capacityProviders).toEqual(["FARGATE"]);

    const list = await t.ecs.send(new ListClustersCommand({}));
    expect(list.clusterArns).toEqual(expect.arrayContaining([`${ARN_PREFIX}:cluster/blue`, `${ARN_PREFIX}:cluster/default`]));
    const deleted = await t.ecs.send(new DeleteClusterCommand({ cluster: "blue" }));
    expect(deleted.cluster?.status).toBe("INACTIVE");
    await expect(t.ecs.send(new UpdateClusterSettingsCommand({ cluster: "nowhere", settings: [{ name: "containerInsights", value: "enabled" }] }))).rejects.toBeInstanceOf(
      ClusterNotFoundException,
    );
  });

  it("tags and untags clusters and task definitions", async () => {
    const arn = `${ARN_PREFIX}:task-definition/web:1`;
    await t.ecs.send(new TagResourceCommand({ resourceArn: arn, tags: [{ key: "a", value: "1" }, { key: "b", value: "2" }] }));
    await t.ecs.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: ["b"] }));
    const tags = await t.ecs.send(new ListTagsForResourceCommand({ resourceArn: arn }));
    expect(tags.tags).toEqual(expect.arrayContaining([{ key: "team", value: "blue" }, { key: "a", value: "1" }]));
    expect(tags.tags?.some((tag) => tag.key === "b")).toBe(false);
    await expect(t.ecs.send(new TagResourceCommand({ resourceArn: arn, tags: [{ key: "aws:reserved", value: "x" }] }))).rejects.toThrow(/aws:/);
  });

  it("puts, lists and deletes account settings", async () => {
    const put = await t.ecs.send(new PutAccountSettingCommand({ name: "containerInsights", value: "enabled" }));
    expect(put.setting?.value).toBe("enabled");
    await t.ecs.send(new PutAccountSettingDefaultCommand({ name: "awsvpcTrunking", value: "enabled" }));
    const listed = await t.ecs.send(new ListAccountSettingsCommand({ name: "containerInsights" }));
    expect(listed.settings?.[0]?.value).toBe("enabled");
    await t.ecs.send(new DeleteAccountSettingCommand({ name: "containerInsights" }));
    const effective = await t.ecs.send(new ListAccountSettingsCommand({ effectiveSettings: true }));
    expect(effective.settings?.length).toBeGreaterThan(3);
  });
});

describe("model examples", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.close();
  });

  it("accepts every example input of every locally implemented operation, answering model-valid responses", async () => {
    const rejected: string[] = [];
    let local = 0;
    for (const example of operationExamples) {
      const res = await t.call(example.operation, example.input);
      const type: string | undefined = res.json?.__type;
      if (type === "UnsupportedFeatureException" && /not emulated/.test(res.json.message)) continue;
      local++;
      // Semantic answers (e.g. an example naming a task definition that does not exist here) are fine;
      // what must never happen is the example being refused as malformed, or an invalid response.
      if (res.status >= 500 || type === "SerializationException" || (type === "InvalidParameterException" && /validation error/.test(res.json.message))) {
        rejected.push(`${example.operation} "${example.title}": ${res.status} ${JSON.stringify(res.json)}`);
      }
    }
    expect(rejected).toEqual([]);
    expect(local).toBeGreaterThan(15);
  });
});

describe("persistence", () => {
  it("keeps everything across a restart on the same DATA_DIR", async () => {
    const dir = mkdtempSync(join(tmpdir(), "local-ecs-api-data-"));
    try {
      const first = await startTestServer({ env: { DATA_DIR: dir } });
      await first.ecs.send(new RegisterTaskDefinitionCommand(webDefinition("kept")));
      await first.ecs.send(new CreateClusterCommand({ clusterName: "kept-cluster", tags: [{ key: "k", value: "v" }] }));
      await first.ecs.send(new PutAccountSettingCommand({ name: "containerInsights", value: "enabled" }));
      await first.close();

      const second = await startTestServer({ env: { DATA_DIR: dir } });
      try {
        const td = await second.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: "kept", include: ["TAGS"] }));
        expect(td.taskDefinition?.revision).toBe(1);
        expect(td.tags).toEqual([{ key: "team", value: "blue" }]);
        const next = await second.ecs.send(new RegisterTaskDefinitionCommand(webDefinition("kept")));
        expect(next.taskDefinition?.revision).toBe(2);
        const clusters = await second.ecs.send(new DescribeClustersCommand({ clusters: ["kept-cluster"], include: ["TAGS"] }));
        expect(clusters.clusters?.[0]?.tags).toEqual([{ key: "k", value: "v" }]);
        const setting = await second.ecs.send(new ListAccountSettingsCommand({ name: "containerInsights" }));
        expect(setting.settings?.[0]?.value).toBe("enabled");
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("AWS CLI v2 (/usr/bin/aws)", () => {
  let t: TestServer;
  let dir: string;
  beforeAll(async () => {
    t = await startTestServer();
    dir = mkdtempSync(join(tmpdir(), "local-ecs-api-cli-"));
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function aws(...args: string[]): Promise<any> {
    const { stdout } = await run("/usr/bin/aws", ["--endpoint-url", t.url, "--region", "us-east-1", "--output", "json", ...args], {
      env: { ...process.env, AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test", AWS_PAGER: "", AWS_MAX_ATTEMPTS: "1" },
    });
    return stdout.trim() === "" ? {} : JSON.parse(stdout);
  }

  it("registers a task definition from --cli-input-json, lists it and describes clusters", async () => {
    const file = join(dir, "td.json");
    writeFileSync(file, JSON.stringify(webDefinition("cli")));
    const registered = await aws("ecs", "register-task-definition", "--cli-input-json", `file://${file}`);
    expect(registered.taskDefinition.taskDefinitionArn).toBe(`${ARN_PREFIX}:task-definition/cli:1`);
    const listed = await aws("ecs", "list-task-definitions");
    expect(listed.taskDefinitionArns).toContain(`${ARN_PREFIX}:task-definition/cli:1`);
    const described = await aws("ecs", "describe-task-definition", "--task-definition", "cli");
    expect(described.taskDefinition.containerDefinitions[0].name).toBe("app");
    const clusters = await aws("ecs", "describe-clusters");
    expect(clusters.clusters[0].clusterName).toBe("default");
    const list = await aws("ecs", "list-clusters");
    expect(list.clusterArns).toContain(`${ARN_PREFIX}:cluster/default`);
  });
});
