// ECS resources are regional: the region comes from the request's SigV4 credential scope (the configured
// one for unsigned calls), every region has its own clusters, task definitions and account settings, and
// an ARN of another partition, region or account names nothing here. Real clients: the JS SDK, boto3.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import {
  CreateClusterCommand,
  DeleteClusterCommand,
  DescribeClustersCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ListAccountSettingsCommand,
  ListClustersCommand,
  ListTagsForResourceCommand,
  ListTaskDefinitionsCommand,
  PutAccountSettingDefaultCommand,
  RegisterTaskDefinitionCommand,
  TagResourceCommand,
  UpdateClusterCommand,
  UpdateClusterSettingsCommand,
} from "@aws-sdk/client-ecs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.ts";

const run = promisify(execFile);
const ACCOUNT = "123456789012";

let t: TestServer;
const clients = new Map<string, ECSClient>();
/** A signed client for `region` (the region travels in the SigV4 credential scope). */
function ecsIn(region: string): ECSClient {
  let c = clients.get(region);
  if (c === undefined) {
    c = new ECSClient({ endpoint: t.url, region, credentials: { accessKeyId: "AKIDREGION", secretAccessKey: "secret" }, maxAttempts: 1 });
    clients.set(region, c);
  }
  return c;
}

async function failure(promise: Promise<unknown>): Promise<{ name: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    return { name: (err as Error).name, message: (err as Error).message };
  }
  throw new Error("expected the call to fail");
}

beforeAll(async () => {
  t = await startTestServer({ env: { AWS_ACCOUNT_ID: ACCOUNT, AWS_DEFAULT_REGION: "us-east-1" } });
});
afterAll(async () => {
  for (const c of clients.values()) c.destroy();
  await t?.close();
});

describe("the caller's region", () => {
  it("puts ARNs in the region the request is signed for, and keeps each region's clusters apart", async () => {
    const created = await ecsIn("us-east-2").send(new CreateClusterCommand({ clusterName: "regional" }));
    expect(created.cluster?.clusterArn).toBe(`arn:aws:ecs:us-east-2:${ACCOUNT}:cluster/regional`);

    const east1 = await ecsIn("us-east-1").send(new ListClustersCommand({}));
    expect(east1.clusterArns ?? []).not.toContain(created.cluster?.clusterArn);
    expect((await ecsIn("us-east-2").send(new ListClustersCommand({}))).clusterArns).toContain(created.cluster?.clusterArn);

    // The same name in us-east-1 is another cluster, which does not exist yet.
    const missing = await ecsIn("us-east-1").send(new DescribeClustersCommand({ clusters: ["regional"] }));
    expect(missing.failures).toEqual([{ arn: `arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/regional`, reason: "MISSING" }]);
    const other = await ecsIn("us-east-1").send(new CreateClusterCommand({ clusterName: "regional" }));
    expect(other.cluster?.clusterArn).toBe(`arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/regional`);
    await ecsIn("us-east-1").send(new DeleteClusterCommand({ cluster: "regional" }));
    const stillThere = await ecsIn("us-east-2").send(new DescribeClustersCommand({ clusters: ["regional"] }));
    expect(stillThere.clusters?.[0]?.status).toBe("ACTIVE");
  });

  it("gives every region its own default cluster", async () => {
    const west = await ecsIn("eu-west-3").send(new DescribeClustersCommand({}));
    expect(west.clusters?.[0]?.clusterArn).toBe(`arn:aws:ecs:eu-west-3:${ACCOUNT}:cluster/default`);
  });

  it("counts task definition revisions per region", async () => {
    const containerDefinitions = [{ name: "c", image: "busybox", memory: 16 }];
    await ecsIn("us-east-1").send(new RegisterTaskDefinitionCommand({ family: "per-region", containerDefinitions }));
    const second = await ecsIn("us-east-1").send(new RegisterTaskDefinitionCommand({ family: "per-region", containerDefinitions }));
    expect(second.taskDefinition?.taskDefinitionArn).toBe(`arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/per-region:2`);
    const west = await ecsIn("us-west-2").send(new RegisterTaskDefinitionCommand({ family: "per-region", containerDefinitions }));
    expect(west.taskDefinition?.taskDefinitionArn).toBe(`arn:aws:ecs:us-west-2:${ACCOUNT}:task-definition/per-region:1`);
    const listed = await ecsIn("us-west-2").send(new ListTaskDefinitionsCommand({ familyPrefix: "per-region" }));
    expect(listed.taskDefinitionArns).toEqual([west.taskDefinition?.taskDefinitionArn]);
    // Another region's ARN is not found here.
    const err = await failure(ecsIn("us-west-2").send(new DescribeTaskDefinitionCommand({ taskDefinition: second.taskDefinition!.taskDefinitionArn! })));
    expect(err).toEqual({ name: "ClientException", message: "Unable to describe task definition." });
  });

  it("keeps account settings per region, and new clusters follow their region's default", async () => {
    await ecsIn("ap-south-1").send(new PutAccountSettingDefaultCommand({ name: "containerInsights", value: "enabled" }));
    const here = await ecsIn("ap-south-1").send(new ListAccountSettingsCommand({ name: "containerInsights", effectiveSettings: true }));
    const there = await ecsIn("us-east-1").send(new ListAccountSettingsCommand({ name: "containerInsights", effectiveSettings: true }));
    expect([here.settings?.[0]?.value, there.settings?.[0]?.value]).toEqual(["enabled", "disabled"]);
    const c = await ecsIn("ap-south-1").send(new CreateClusterCommand({ clusterName: "insights" }));
    expect(c.cluster?.settings).toEqual([{ name: "containerInsights", value: "enabled" }]);
  });

  it("uses the configured region for unsigned calls", async () => {
    const res = await t.call("CreateCluster", { clusterName: "unsigned" });
    expect(res.json.cluster.clusterArn).toBe(`arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/unsigned`);
  });

  it("boto3 in ap-southeast-2 gets ap-southeast-2 ARNs", async () => {
    const script = `
import boto3, sys
ecs = boto3.client("ecs", endpoint_url=sys.argv[1], region_name="ap-southeast-2", aws_access_key_id="t", aws_secret_access_key="t")
print(ecs.create_cluster(clusterName="boto")["cluster"]["clusterArn"])
print(len(boto3.client("ecs", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t").describe_clusters(clusters=["boto"])["failures"]))
`;
    const { stdout } = await run("python3", ["-c", script, t.url]);
    expect(stdout.trim().split("\n")).toEqual([`arn:aws:ecs:ap-southeast-2:${ACCOUNT}:cluster/boto`, "1"]);
  });
});

describe("ARNs of other partitions, regions and accounts", () => {
  const foreign = [
    `arn:aws-cn:ecs:us-east-1:${ACCOUNT}:cluster/default`,
    `arn:aws:ecs:us-west-2:${ACCOUNT}:cluster/default`,
    "arn:aws:ecs:us-east-1:111111111111:cluster/default",
  ];

  it("DescribeClusters reports them MISSING, echoing the caller's ARN, next to the local default", async () => {
    const out = await ecsIn("us-east-1").send(new DescribeClustersCommand({ clusters: ["default", ...foreign] }));
    expect(out.clusters?.map((c) => c.clusterArn)).toEqual([`arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/default`]);
    expect(out.failures).toEqual(foreign.map((arn) => ({ arn, reason: "MISSING" })));
  });

  it("every other operation taking a cluster answers ClusterNotFoundException", async () => {
    for (const arn of foreign) {
      expect(await failure(ecsIn("us-east-1").send(new UpdateClusterSettingsCommand({ cluster: arn, settings: [] })))).toEqual({
        name: "ClusterNotFoundException",
        message: "Cluster not found.",
      });
      expect((await failure(ecsIn("us-east-1").send(new UpdateClusterCommand({ cluster: arn, settings: [] })))).name).toBe("ClusterNotFoundException");
      expect((await failure(ecsIn("us-east-1").send(new TagResourceCommand({ resourceArn: arn, tags: [{ key: "k", value: "v" }] })))).name).toBe(
        "ClusterNotFoundException",
      );
    }
  });

  it("an ARN of another service or resource type is an InvalidParameterException, never a minted cluster ARN", async () => {
    const lambda = await failure(
      ecsIn("us-east-1").send(new DescribeClustersCommand({ clusters: [`arn:aws:lambda:us-east-1:${ACCOUNT}:function:f`] })),
    );
    expect(lambda.name).toBe("InvalidParameterException");
    expect(lambda.message).toContain("Invalid identifier");
    const service = await failure(ecsIn("us-east-1").send(new DeleteClusterCommand({ cluster: `arn:aws:ecs:us-east-1:${ACCOUNT}:service/default/web` })));
    expect(service.name).toBe("InvalidParameterException");
    // What Terraform and Pulumi users meet when an ARN is pasted behind the "cluster/" prefix.
    const nested = await failure(
      ecsIn("us-east-1").send(new DescribeClustersCommand({ clusters: [`arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/x`] })),
    );
    expect(nested).toEqual({ name: "InvalidParameterException", message: "Invalid identifier: Unexpected number of separators" });
    const malformed = await failure(ecsIn("us-east-1").send(new DescribeClustersCommand({ clusters: ["arn:aws:sts::162854405951"] })));
    expect(malformed).toEqual({
      name: "ClientException",
      message: "com.amazon.arn.ARNSyntaxException: Fifth colon (namespace/relative-id delimiter) not found: arn:aws:sts::162854405951",
    });
  });

  it("finds a cluster by the ARN of its own region", async () => {
    await ecsIn("us-west-1").send(new CreateClusterCommand({ clusterName: "byarn", tags: [{ key: "a", value: "1" }] }));
    const arn = `arn:aws:ecs:us-west-1:${ACCOUNT}:cluster/byarn`;
    const out = await ecsIn("us-west-1").send(new DescribeClustersCommand({ clusters: [arn] }));
    expect(out.clusters?.[0]?.clusterName).toBe("byarn");
    expect((await ecsIn("us-west-1").send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags).toEqual([{ key: "a", value: "1" }]);
    expect((await failure(ecsIn("us-east-1").send(new ListTagsForResourceCommand({ resourceArn: arn })))).name).toBe("ClusterNotFoundException");
  });
});
