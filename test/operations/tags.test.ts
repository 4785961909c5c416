import { afterEach, describe, expect, it } from "vitest";
import { ResourceNotFoundException } from "../../generated/errors.ts";
import type { Tag } from "../../generated/shapes.ts";
import { assertValidTags } from "../../src/operations/tags.ts";
import type { Upstream } from "../../src/runtime/upstream.ts";
import { ACCOUNT, REGION, errorOf, makeFixture, type Fixture } from "./control-plane-fixture.ts";

const clusterArn = (name: string): string => `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${name}`;
const tdArn = (ref: string): string => `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/${ref}`;
const taskArn = `arn:aws:ecs:${REGION}:${ACCOUNT}:task/dev/0123456789abcdef0123456789abcdef`;

const many = (n: number, prefix = "k"): Tag[] => Array.from({ length: n }, (_, i) => ({ key: `${prefix}${i}`, value: String(i) }));

let fx: Fixture;
afterEach(() => fx?.close());

describe("TagResource / UntagResource / ListTagsForResource", () => {
  it("tags, overwrites, untags and lists a cluster (model example)", async () => {
    fx = makeFixture();
    await fx.ops.createCluster({ clusterName: "dev" }, fx.ctx);
    await fx.ops.tagResource({ resourceArn: clusterArn("dev"), tags: [{ key: "team", value: "dev" }, { key: "env", value: "x" }] }, fx.ctx);
    await fx.ops.tagResource({ resourceArn: clusterArn("dev"), tags: [{ key: "env", value: "prod" }] }, fx.ctx);
    expect(await fx.ops.listTagsForResource({ resourceArn: clusterArn("dev") }, fx.ctx)).toEqual({
      tags: [
        { key: "team", value: "dev" },
        { key: "env", value: "prod" },
      ],
    });
    await fx.ops.untagResource({ resourceArn: clusterArn("dev"), tagKeys: ["team", "missing"] }, fx.ctx);
    expect((await fx.call("ListTagsForResource", { resourceArn: clusterArn("dev") }))["tags"]).toEqual([{ key: "env", value: "prod" }]);
  });

  it("tags task definitions by revision ARN", async () => {
    fx = makeFixture();
    await fx.ops.registerTaskDefinition({ family: "web", containerDefinitions: [{ name: "a", image: "i", memory: 8 }] }, fx.ctx);
    await fx.ops.tagResource({ resourceArn: tdArn("web:1"), tags: [{ key: "a", value: "" }] }, fx.ctx);
    expect((await fx.ops.listTagsForResource({ resourceArn: tdArn("web:1") }, fx.ctx)).tags).toEqual([{ key: "a", value: "" }]);
    const err = await errorOf(fx.ops.tagResource({ resourceArn: tdArn("web:2"), tags: [{ key: "a" }] }, fx.ctx));
    expect(err.type).toBe("ResourceNotFoundException");
    const list = await errorOf(fx.ops.listTagsForResource({ resourceArn: tdArn("web:2") }, fx.ctx));
    expect(list.type).toBe("InvalidParameterException");
  });

  it("tags tasks the engine says exist", async () => {
    fx = makeFixture({ resourceExists: (arn) => arn === taskArn });
    await fx.ops.tagResource({ resourceArn: taskArn, tags: [{ key: "run", value: "1" }] }, fx.ctx);
    expect((await fx.ops.listTagsForResource({ resourceArn: taskArn }, fx.ctx)).tags).toEqual([{ key: "run", value: "1" }]);
    const other = await errorOf(fx.ops.tagResource({ resourceArn: `${taskArn.slice(0, -1)}0`, tags: [{ key: "a" }] }, fx.ctx));
    expect(other.type).toBe("ResourceNotFoundException");
  });

  it("answers ClusterNotFoundException for unknown clusters and InvalidParameterException for bad ARNs", async () => {
    fx = makeFixture();
    expect(await errorOf(fx.ops.tagResource({ resourceArn: clusterArn("nope"), tags: [{ key: "a" }] }, fx.ctx))).toEqual({
      type: "ClusterNotFoundException",
      message: "Cluster not found.",
    });
    expect((await errorOf(fx.ops.listTagsForResource({ resourceArn: "not-an-arn" }, fx.ctx))).type).toBe("InvalidParameterException");
    await fx.ops.createCluster({ clusterName: "old" }, fx.ctx);
    await fx.ops.deleteCluster({ cluster: "old" }, fx.ctx);
    expect((await errorOf(fx.ops.tagResource({ resourceArn: clusterArn("old"), tags: [{ key: "a" }] }, fx.ctx))).type).toBe(
      "InvalidParameterException",
    );
  });

  it("enforces the 50-tag limit on the merged set and leaves the tags unchanged", async () => {
    fx = makeFixture();
    await fx.ops.createCluster({ clusterName: "dev", tags: many(45) }, fx.ctx);
    const err = await errorOf(fx.ops.tagResource({ resourceArn: clusterArn("dev"), tags: many(6, "x") }, fx.ctx));
    expect(err.type).toBe("InvalidParameterException");
    expect(err.message).toMatch(/at most 50 tags; this request would leave it with 51/);
    expect(fx.stores.tags.count(clusterArn("dev"))).toBe(45);
    // Overwriting existing keys does not count twice.
    await fx.ops.tagResource({ resourceArn: clusterArn("dev"), tags: [...many(45), ...many(5, "y")] }, fx.ctx);
    expect(fx.stores.tags.count(clusterArn("dev"))).toBe(50);
  });

  it("rejects reserved keys on tag and untag", async () => {
    fx = makeFixture();
    await fx.ops.createCluster({ clusterName: "dev" }, fx.ctx);
    const tag = await errorOf(fx.ops.tagResource({ resourceArn: clusterArn("dev"), tags: [{ key: "aws:cloudformation:stack", value: "x" }] }, fx.ctx));
    expect(tag).toMatchObject({ type: "InvalidParameterException", message: expect.stringMatching(/aws:cloudformation:stack/) });
    const untag = await errorOf(fx.ops.untagResource({ resourceArn: clusterArn("dev"), tagKeys: ["aws:x"] }, fx.ctx));
    expect(untag.type).toBe("InvalidParameterException");
  });

  it("forwards resources it does not hold to the upstream", async () => {
    const calls: Array<[string, unknown]> = [];
    const upstream: Upstream = {
      url: "http://127.0.0.1:1",
      async call(operation, input) {
        calls.push([operation, input]);
        if (operation === "ListTagsForResource") return { tags: [{ key: "svc", value: "1" }] };
        return {};
      },
    };
    fx = makeFixture({ upstream });
    const serviceArn = `arn:aws:ecs:${REGION}:${ACCOUNT}:service/dev/web`;
    await fx.ops.tagResource({ resourceArn: serviceArn, tags: [{ key: "svc", value: "1" }] }, fx.ctx);
    expect((await fx.ops.listTagsForResource({ resourceArn: serviceArn }, fx.ctx)).tags).toEqual([{ key: "svc", value: "1" }]);
    expect(calls.map(([op]) => op)).toEqual(["TagResource", "ListTagsForResource"]);
    expect(fx.stores.tags.get(serviceArn)).toEqual([]);
  });

  it("without an upstream, unknown resource types are not found", async () => {
    fx = makeFixture();
    const err = await errorOf(fx.ops.untagResource({ resourceArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:service/dev/web`, tagKeys: ["a"] }, fx.ctx));
    expect(err.type).toBe(new ResourceNotFoundException("").type);
  });
});

describe("assertValidTags", () => {
  it("accepts boundary lengths and rejects beyond them", () => {
    expect(() => assertValidTags([{ key: "k".repeat(128), value: "v".repeat(256) }])).not.toThrow();
    expect(() => assertValidTags([{ key: "k".repeat(129) }])).toThrow(/at most 128 characters/);
    expect(() => assertValidTags([{ key: "k", value: "v".repeat(257) }])).toThrow(/at most 256 characters/);
    expect(() => assertValidTags([{ value: "v" }])).toThrow(/must not be null or empty/);
    expect(() => assertValidTags(many(50))).not.toThrow();
    expect(() => assertValidTags(many(51))).toThrow(/at most 50 tags/);
  });
});
