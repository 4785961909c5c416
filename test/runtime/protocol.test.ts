import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, TARGET, type TestServer } from "../support/server.ts";

const validTaskDefinition = {
  family: "web",
  containerDefinitions: [{ name: "app", image: "busybox", memory: 128, essential: true }],
};

describe("awsJson1_1 protocol adapter", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.close();
  });

  async function expectError(res: { status: number; json: any; headers: Headers }, type: string, status = 400, message?: RegExp) {
    expect(res.status).toBe(status);
    expect(res.json.__type).toBe(type);
    expect(typeof res.json.message).toBe("string");
    if (message !== undefined) expect(res.json.message).toMatch(message);
    expect(res.headers.get("x-amzn-requestid")).toMatch(/^[0-9a-f-]{36}$/);
  }

  async function familiesCount(): Promise<number> {
    const res = await t.call("ListTaskDefinitionFamilies", {});
    expect(res.status).toBe(200);
    return res.json.families.length;
  }

  it("answers GET /health", async () => {
    const res = await fetch(`${t.url}/health`);
    expect(res.status).toBe(200);
    expect((await res.json()) as any).toEqual({ status: "ok" });
  });

  it("answers a valid call with the awsJson content type and a request id", async () => {
    const res = await t.call("ListClusters", {});
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/x-amz-json-1.1");
    expect(res.headers.get("x-amzn-requestid")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("accepts application/json as the content type", async () => {
    const res = await t.call("ListClusters", {}, { "content-type": "application/json" });
    expect(res.status).toBe(200);
  });

  it("rejects malformed JSON with SerializationException", async () => {
    await expectError(await t.call("RegisterTaskDefinition", '{"family": "x",'), "SerializationException", 400, /JSON/);
  });

  it("rejects a JSON array or string body with SerializationException", async () => {
    await expectError(await t.call("RegisterTaskDefinition", "[1,2]"), "SerializationException", 400, /object/);
    await expectError(await t.call("RegisterTaskDefinition", '"hello"'), "SerializationException", 400, /object/);
  });

  it("rejects a missing X-Amz-Target with UnknownOperationException", async () => {
    const res = await fetch(t.url, { method: "POST", headers: { "content-type": "application/x-amz-json-1.1" }, body: "{}" });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).__type).toBe("UnknownOperationException");
  });

  it("rejects an unknown operation with UnknownOperationException naming it", async () => {
    await expectError(await t.call("LaunchRockets", {}), "UnknownOperationException", 400, /LaunchRockets/);
    const res = await fetch(t.url, { method: "POST", headers: { "x-amz-target": "Foo.Bar" }, body: "{}" });
    expect(((await res.json()) as any).__type).toBe("UnknownOperationException");
  });

  it("rejects wrong member types with SerializationException naming the member path", async () => {
    const res = await t.call("RegisterTaskDefinition", {
      family: "web",
      containerDefinitions: [{ name: "app", image: "busybox", portMappings: [{ containerPort: 80 }, { containerPort: "eighty" }] }],
    });
    await expectError(res, "SerializationException", 400, /containerDefinitions\[0\]\.portMappings\[1\]\.containerPort/);
  });

  it("rejects a missing required member naming it", async () => {
    await expectError(await t.call("RegisterTaskDefinition", { family: "web" }), "InvalidParameterException", 400, /containerDefinitions/);
    await expectError(await t.call("DescribeTaskDefinition", {}), "InvalidParameterException", 400, /taskDefinition/);
  });

  it("rejects out-of-range numbers naming the member", async () => {
    await expectError(await t.call("ListClusters", { maxResults: 1000 }), "InvalidParameterException", 400, /maxResults/);
  });

  it("rejects unknown enum values naming the member and the allowed set", async () => {
    const res = await t.call("RegisterTaskDefinition", { ...validTaskDefinition, networkMode: "warp" });
    await expectError(res, "InvalidParameterException", 400, /networkMode.*bridge/);
  });

  it("rejects over-long strings", async () => {
    const res = await t.call("TagResource", {
      resourceArn: "arn:aws:ecs:us-east-1:000000000000:cluster/default",
      tags: [{ key: "k".repeat(129), value: "v" }],
    });
    await expectError(res, "InvalidParameterException", 400, /key/);
  });

  it("rejects a 5 MiB body with a 413-class AWS error and keeps serving", async () => {
    const big = JSON.stringify({ family: "x".repeat(5 * 1024 * 1024) });
    const res = await t.call("RegisterTaskDefinition", big);
    expect(res.status).toBe(413);
    expect(res.json.__type).toBe("RequestEntityTooLargeException");
    expect((await t.call("ListClusters", {})).status).toBe(200);
  });

  it("rejects bad task definitions and leaves the store unchanged", async () => {
    const before = await familiesCount();
    await expectError(await t.call("RegisterTaskDefinition", { family: "bad", containerDefinitions: [] }), "ClientException");
    await expectError(
      await t.call("RegisterTaskDefinition", {
        family: "bad",
        containerDefinitions: [
          { name: "a", image: "busybox", memory: 64 },
          { name: "a", image: "busybox", memory: 64 },
        ],
      }),
      "ClientException",
      400,
      /a/,
    );
    await expectError(
      await t.call("RegisterTaskDefinition", {
        family: "bad",
        containerDefinitions: [
          { name: "a", image: "busybox", memory: 64, dependsOn: [{ containerName: "b", condition: "START" }] },
          { name: "b", image: "busybox", memory: 64, dependsOn: [{ containerName: "a", condition: "START" }] },
        ],
      }),
      "ClientException",
      400,
      /circular/i,
    );
    expect(await familiesCount()).toBe(before);
  });

  it("answers an operation it does not emulate with a clear error when no upstream is set", async () => {
    const res = await t.call("CreateService", { serviceName: "s", taskDefinition: "web" });
    await expectError(res, "UnsupportedFeatureException", 400, /CreateService.*not emulated.*ECS_ENDPOINT_URL/);
  });

  it("answers non-POST requests with an AWS-shaped error", async () => {
    const res = await fetch(`${t.url}/`, { method: "GET" });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).__type).toBe("UnknownOperationException");
  });

  it("routes by the full target prefix only", async () => {
    const res = await fetch(t.url, { method: "POST", headers: { "x-amz-target": `X${TARGET}.ListClusters` }, body: "{}" });
    expect(((await res.json()) as any).__type).toBe("UnknownOperationException");
  });
});
