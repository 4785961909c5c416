import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { operationExamples } from "../../generated/examples.ts";
import { ACCOUNT, REGION, errorOf, makeFixture, type Fixture } from "./control-plane-fixture.ts";

const arn = (name: string): string => `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${name}`;

let fx: Fixture;
afterEach(() => fx?.close());

describe("CreateCluster", () => {
  it("creates an ACTIVE cluster with the real default fields", async () => {
    fx = makeFixture();
    const out = await fx.ops.createCluster({ clusterName: "dev" }, fx.ctx);
    expect(out.cluster).toEqual({
      clusterArn: arn("dev"),
      clusterName: "dev",
      status: "ACTIVE",
      registeredContainerInstancesCount: 0,
      runningTasksCount: 0,
      pendingTasksCount: 0,
      activeServicesCount: 0,
      statistics: [],
      tags: [],
      settings: [{ name: "containerInsights", value: "disabled" }],
      capacityProviders: [],
      defaultCapacityProviderStrategy: [],
    });
  });

  it("creates `default` without a name and is idempotent for an ACTIVE cluster", async () => {
    fx = makeFixture();
    expect((await fx.ops.createCluster({}, fx.ctx)).cluster?.clusterArn).toBe(arn("default"));
    await fx.ops.createCluster({ clusterName: "dev", tags: [{ key: "a", value: "1" }] }, fx.ctx);
    const again = await fx.ops.createCluster({ clusterName: "dev", settings: [{ name: "containerInsights", value: "enabled" }] }, fx.ctx);
    expect(again.cluster?.settings).toEqual([{ name: "containerInsights", value: "disabled" }]);
    expect(again.cluster?.tags).toEqual([{ key: "a", value: "1" }]);
    expect((await fx.ops.listClusters({}, fx.ctx)).clusterArns).toEqual([arn("default"), arn("dev")]);
  });

  it("takes settings, tags, capacity providers and strategy (defaults filled)", async () => {
    fx = makeFixture();
    const out = await fx.ops.createCluster(
      {
        clusterName: "cp",
        settings: [{ name: "containerInsights", value: "enhanced" }],
        tags: [{ key: "team", value: "dev" }],
        capacityProviders: ["FARGATE", "FARGATE_SPOT"],
        defaultCapacityProviderStrategy: [{ capacityProvider: "FARGATE", weight: 1 }],
      },
      fx.ctx,
    );
    expect(out.cluster).toMatchObject({
      settings: [{ name: "containerInsights", value: "enhanced" }],
      tags: [{ key: "team", value: "dev" }],
      capacityProviders: ["FARGATE", "FARGATE_SPOT"],
      defaultCapacityProviderStrategy: [{ capacityProvider: "FARGATE", weight: 1, base: 0 }],
    });
  });

  it("follows the account's containerInsights default", async () => {
    fx = makeFixture();
    await fx.ops.putAccountSettingDefault({ name: "containerInsights", value: "enabled" }, fx.ctx);
    const out = await fx.ops.createCluster({ clusterName: "x" }, fx.ctx);
    expect(out.cluster?.settings).toEqual([{ name: "containerInsights", value: "enabled" }]);
  });

  it.each([
    [{ clusterName: "bad name" }, /Invalid cluster name 'bad name'/],
    [{ clusterName: "x", settings: [{ name: "containerInsights" as const, value: "maybe" }] }, /containerInsights/],
    [{ clusterName: "x", tags: [{ key: "AWS:x", value: "y" }] }, /'aws:' prefix is reserved/],
    [
      { clusterName: "x", capacityProviders: ["FARGATE"], defaultCapacityProviderStrategy: [{ capacityProvider: "FARGATE_SPOT" }] },
      /not associated with the cluster/,
    ],
  ])("rejects %j with InvalidParameterException", async (input, message) => {
    fx = makeFixture();
    const err = await errorOf(fx.ops.createCluster(input, fx.ctx));
    expect(err.type).toBe("InvalidParameterException");
    expect(err.message).toMatch(message);
    expect(fx.stores.clusters.get("x")).toBeUndefined();
  });

  it("matches the model example through the wire layer", async () => {
    fx = makeFixture();
    const example = operationExamples.find((e) => e.operation === "CreateCluster")!;
    const out = await fx.call("CreateCluster", example.input);
    const expected = (example.output as { cluster: Record<string, unknown> }).cluster;
    const actual = out["cluster"] as Record<string, unknown>;
    for (const [key, value] of Object.entries(expected)) {
      expect(actual[key], key).toEqual(key === "clusterArn" ? arn("my_cluster") : value);
    }
  });
});

describe("DescribeClusters", () => {
  it("describes the default cluster when none is named, creating it on first use", async () => {
    fx = makeFixture();
    expect(fx.stores.clusters.get("default")).toBeUndefined();
    const out = await fx.ops.describeClusters({}, fx.ctx);
    expect(out.failures).toEqual([]);
    expect(out.clusters?.map((c) => [c.clusterName, c.status])).toEqual([["default", "ACTIVE"]]);
  });

  it("reports unknown clusters as MISSING failures", async () => {
    fx = makeFixture();
    await fx.ops.createCluster({ clusterName: "dev" }, fx.ctx);
    const out = await fx.ops.describeClusters({ clusters: ["dev", "nope", arn("gone")] }, fx.ctx);
    expect(out.clusters?.map((c) => c.clusterName)).toEqual(["dev"]);
    expect(out.failures).toEqual([
      { arn: arn("nope"), reason: "MISSING" },
      { arn: arn("gone"), reason: "MISSING" },
    ]);
  });

  it("adds tags, settings and statistics only when included, with task counts from the engine", async () => {
    fx = makeFixture({
      taskCounts: (clusterArn) =>
        clusterArn === arn("dev")
          ? { running: 3, pending: 1, byLaunchType: { EC2: { running: 2, pending: 1 }, FARGATE: { running: 1, pending: 0 } } }
          : { running: 0, pending: 0 },
    });
    await fx.ops.createCluster({ clusterName: "dev", tags: [{ key: "k", value: "v" }] }, fx.ctx);
    const plain = (await fx.ops.describeClusters({ clusters: ["dev"] }, fx.ctx)).clusters?.[0];
    expect(plain).toMatchObject({ runningTasksCount: 3, pendingTasksCount: 1, tags: [], settings: [], statistics: [] });
    const rich = (
      await fx.ops.describeClusters({ clusters: [arn("dev")], include: ["TAGS", "SETTINGS", "STATISTICS", "ATTACHMENTS"] }, fx.ctx)
    ).clusters?.[0];
    expect(rich?.tags).toEqual([{ key: "k", value: "v" }]);
    expect(rich?.settings).toEqual([{ name: "containerInsights", value: "disabled" }]);
    expect(rich?.attachments).toEqual([]);
    expect(rich?.statistics).toEqual(
      expect.arrayContaining([
        { name: "runningEC2TasksCount", value: "2" },
        { name: "pendingEC2TasksCount", value: "1" },
        { name: "runningFargateTasksCount", value: "1" },
      ]),
    );
  });

  it("still shows a deleted cluster as INACTIVE", async () => {
    fx = makeFixture();
    await fx.ops.createCluster({ clusterName: "dev" }, fx.ctx);
    await fx.ops.deleteCluster({ cluster: "dev" }, fx.ctx);
    const out = await fx.ops.describeClusters({ clusters: ["dev"] }, fx.ctx);
    expect(out.clusters?.[0]?.status).toBe("INACTIVE");
  });
});

describe("ListClusters", () => {
  it("lists ACTIVE clusters with pagination", async () => {
    fx = makeFixture();
    for (const name of ["c", "a", "e", "b", "d"]) await fx.ops.createCluster({ clusterName: name }, fx.ctx);
    await fx.ops.deleteCluster({ cluster: "e" }, fx.ctx);
    const first = await fx.ops.listClusters({ maxResults: 3 }, fx.ctx);
    expect(first.clusterArns).toEqual([arn("a"), arn("b"), arn("c")]);
    const second = await fx.ops.listClusters({ maxResults: 3, nextToken: first.nextToken! }, fx.ctx);
    expect(second).toEqual({ clusterArns: [arn("d")] });
    expect((await errorOf(fx.ops.listClusters({ nextToken: "x" }, fx.ctx))).type).toBe("InvalidParameterException");
    expect((await errorOf(fx.ops.listClusters({ maxResults: 0 }, fx.ctx))).type).toBe("InvalidParameterException");
  });
});

describe("DeleteCluster", () => {
  it("marks the cluster INACTIVE and removes its tags", async () => {
    fx = makeFixture();
    await fx.ops.createCluster({ clusterName: "dev", tags: [{ key: "k", value: "v" }] }, fx.ctx);
    const out = await fx.ops.deleteCluster({ cluster: arn("dev") }, fx.ctx);
    expect(out.cluster).toMatchObject({ clusterName: "dev", status: "INACTIVE", runningTasksCount: 0 });
    expect(fx.stores.tags.get(arn("dev"))).toEqual([]);
    expect(await errorOf(fx.ops.deleteCluster({ cluster: "dev" }, fx.ctx))).toEqual({
      type: "ClusterNotFoundException",
      message: "Cluster not found.",
    });
    expect((await errorOf(fx.ops.updateClusterSettings({ cluster: "dev", settings: [] }, fx.ctx))).type).toBe(
      "ClusterNotFoundException",
    );
  });

  it("refuses while tasks are active", async () => {
    fx = makeFixture({ taskCounts: () => ({ running: 1, pending: 0 }) });
    await fx.ops.createCluster({ clusterName: "busy" }, fx.ctx);
    const err = await errorOf(fx.ops.deleteCluster({ cluster: "busy" }, fx.ctx));
    expect(err).toEqual({ type: "ClusterContainsTasksException", message: "The Cluster cannot be deleted while Tasks are active." });
    expect(fx.stores.clusters.get("busy")?.status).toBe("ACTIVE");
  });

  it("can re-create a deleted cluster", async () => {
    fx = makeFixture();
    await fx.ops.createCluster({ clusterName: "dev" }, fx.ctx);
    await fx.ops.deleteCluster({ cluster: "dev" }, fx.ctx);
    const out = await fx.ops.createCluster({ clusterName: "dev" }, fx.ctx);
    expect(out.cluster?.status).toBe("ACTIVE");
  });

  it("answers ClusterNotFoundException for an unknown cluster", async () => {
    fx = makeFixture();
    expect((await errorOf(fx.ops.deleteCluster({ cluster: "nope" }, fx.ctx))).type).toBe("ClusterNotFoundException");
  });
});

describe("UpdateCluster / UpdateClusterSettings / PutClusterCapacityProviders", () => {
  it("merges settings and replaces configuration and Service Connect defaults", async () => {
    fx = makeFixture();
    await fx.ops.createCluster({ clusterName: "dev" }, fx.ctx);
    const settings = await fx.ops.updateClusterSettings(
      { cluster: "dev", settings: [{ name: "containerInsights", value: "enabled" }] },
      fx.ctx,
    );
    expect(settings.cluster?.settings).toEqual([{ name: "containerInsights", value: "enabled" }]);
    const updated = await fx.ops.updateCluster(
      {
        cluster: "dev",
        configuration: { executeCommandConfiguration: { logging: "DEFAULT" } },
        serviceConnectDefaults: { namespace: "test" },
      },
      fx.ctx,
    );
    expect(updated.cluster).toMatchObject({
      settings: [{ name: "containerInsights", value: "enabled" }],
      configuration: { executeCommandConfiguration: { logging: "DEFAULT" } },
      serviceConnectDefaults: { namespace: "test" },
    });
    const described = await fx.ops.describeClusters({ clusters: ["dev"], include: ["CONFIGURATIONS"] }, fx.ctx);
    expect(described.clusters?.[0]?.configuration).toEqual({ executeCommandConfiguration: { logging: "DEFAULT" } });
  });

  it("updates the default cluster on first use and rejects unknown clusters", async () => {
    fx = makeFixture();
    const out = await fx.ops.updateClusterSettings({ cluster: "default", settings: [{ name: "containerInsights", value: "enabled" }] }, fx.ctx);
    expect(out.cluster?.clusterArn).toBe(arn("default"));
    expect(await errorOf(fx.ops.updateCluster({ cluster: "nope" }, fx.ctx))).toEqual({
      type: "ClusterNotFoundException",
      message: "Cluster not found.",
    });
  });

  it("replaces capacity providers and validates the strategy", async () => {
    fx = makeFixture();
    await fx.ops.createCluster({ clusterName: "MyCluster" }, fx.ctx);
    const out = await fx.ops.putClusterCapacityProviders(
      {
        cluster: "MyCluster",
        capacityProviders: ["MyCapacityProvider1", "MyCapacityProvider2"],
        defaultCapacityProviderStrategy: [
          { capacityProvider: "MyCapacityProvider1", weight: 1 },
          { capacityProvider: "MyCapacityProvider2", weight: 1 },
        ],
      },
      fx.ctx,
    );
    expect(out.cluster?.defaultCapacityProviderStrategy).toEqual([
      { capacityProvider: "MyCapacityProvider1", weight: 1, base: 0 },
      { capacityProvider: "MyCapacityProvider2", weight: 1, base: 0 },
    ]);
    const twoBases = await errorOf(
      fx.ops.putClusterCapacityProviders(
        {
          cluster: "MyCluster",
          capacityProviders: ["A", "B"],
          defaultCapacityProviderStrategy: [
            { capacityProvider: "A", base: 1 },
            { capacityProvider: "B", base: 2 },
          ],
        },
        fx.ctx,
      ),
    );
    expect(twoBases.type).toBe("InvalidParameterException");
    expect(fx.stores.clusters.get("MyCluster")?.capacityProviders).toEqual(["MyCapacityProvider1", "MyCapacityProvider2"]);
  });
});

describe("persistence", () => {
  it("keeps clusters and their tags across a reopen", async () => {
    const dir = mkdtempSync(join(tmpdir(), "local-ecs-cluster-"));
    try {
      fx = makeFixture({ dataDir: dir });
      await fx.ops.createCluster({ clusterName: "dev", tags: [{ key: "k", value: "v" }] }, fx.ctx);
      fx.close();
      fx = makeFixture({ dataDir: dir });
      const out = await fx.ops.describeClusters({ clusters: ["dev"], include: ["TAGS"] }, fx.ctx);
      expect(out.clusters?.[0]).toMatchObject({ clusterName: "dev", status: "ACTIVE", tags: [{ key: "k", value: "v" }] });
    } finally {
      fx.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the default cluster", () => {
  it("stays INACTIVE in DescribeClusters once deleted, and comes back on a mutating first use", async () => {
    fx = makeFixture();
    await fx.ops.deleteCluster({ cluster: "default" }, fx.ctx);
    const described = await fx.ops.describeClusters({}, fx.ctx);
    expect(described.clusters?.map((c) => c.status)).toEqual(["INACTIVE"]);
    const updated = await fx.ops.updateClusterSettings({ cluster: "default", settings: [] }, fx.ctx);
    expect(updated.cluster?.status).toBe("ACTIVE");
  });
});
