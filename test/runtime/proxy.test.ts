import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Sha256 } from "@aws-crypto/sha256-js";
import { CreateClusterCommand, DescribeTaskDefinitionCommand, ECSClient, ListServicesCommand, RegisterTaskDefinitionCommand } from "@aws-sdk/client-ecs";
import { SignatureV4 } from "@smithy/signature-v4";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startMoto, type MotoServer } from "../support/moto.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

// The proxy signs with the server's own credentials from the default chain, as a user's deployment would.
process.env["AWS_ACCESS_KEY_ID"] = "AKIDSERVER";
process.env["AWS_SECRET_ACCESS_KEY"] = "server-secret";

describe("upstream proxy against a real moto_server", () => {
  let moto: MotoServer;
  let t: TestServer;
  beforeAll(async () => {
    moto = await startMoto();
    t = await startTestServer({ env: { ECS_ENDPOINT_URL: moto.endpoint } });
  });
  afterAll(async () => {
    await t?.close();
    await moto?.stop();
  });

  it("finds a task definition registered upstream through DescribeTaskDefinition", async () => {
    const upstream = new ECSClient({ endpoint: moto.endpoint, region: "us-east-1", credentials: moto.credentials });
    await upstream.send(
      new RegisterTaskDefinitionCommand({ family: "upstream-only", containerDefinitions: [{ name: "app", image: "busybox", memory: 64 }] }),
    );
    upstream.destroy();
    const { taskDefinition } = await t.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: "upstream-only" }));
    expect(taskDefinition?.family).toBe("upstream-only");
    expect(taskDefinition?.revision).toBe(1);
    expect(taskDefinition?.containerDefinitions?.[0]?.name).toBe("app");
  });

  it("answers an operation we do not emulate with moto's answer", async () => {
    // CreateCluster is emulated locally, so create the cluster in moto directly; ListServices is proxied.
    const upstream = new ECSClient({ endpoint: moto.endpoint, region: "us-east-1", credentials: moto.credentials });
    await upstream.send(new CreateClusterCommand({ clusterName: "upstream-cluster" }));
    upstream.destroy();
    const res = await t.ecs.send(new ListServicesCommand({ cluster: "upstream-cluster" }));
    expect(res.serviceArns).toEqual([]);
  });
});

describe("upstream proxy against a recording fake", () => {
  let fake: Server;
  let fakeUrl: string;
  let seen: Array<{ headers: IncomingMessage["headers"]; body: string; valid: boolean }> = [];
  let answer: { status: number; body: string; headers: Record<string, string> } = { status: 200, body: "{}", headers: {} };

  beforeAll(async () => {
    fake = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = Buffer.concat(chunks).toString();
      seen.push({ headers: req.headers, body, valid: await signatureIsValid(req, body) });
      res.writeHead(answer.status, { "content-type": "application/x-amz-json-1.1", ...answer.headers });
      res.end(answer.body);
    });
    await new Promise<void>((r) => fake.listen(0, "127.0.0.1", () => r()));
    fakeUrl = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    fake.closeAllConnections();
    await new Promise((r) => fake.close(r));
  });
  afterEach(() => {
    seen = [];
  });

  /** Recomputes the SigV4 signature with the server's credentials and compares. */
  async function signatureIsValid(req: IncomingMessage, body: string): Promise<boolean> {
    const auth = String(req.headers["authorization"] ?? "");
    const amzDate = String(req.headers["x-amz-date"] ?? "");
    const region = /Credential=[^/]+\/\d{8}\/([^/]+)\/ecs\//.exec(auth)?.[1];
    if (region === undefined || amzDate === "") return false;
    const signer = new SignatureV4({
      service: "ecs",
      region,
      credentials: { accessKeyId: "AKIDSERVER", secretAccessKey: "server-secret" },
      sha256: Sha256,
      applyChecksum: false,
    });
    const signedHeaders = /SignedHeaders=([^,]+)/.exec(auth)?.[1]?.split(";") ?? [];
    const headers: Record<string, string> = {};
    for (const h of signedHeaders) headers[h] = String(req.headers[h]);
    const signingDate = new Date(amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, "$1-$2-$3T$4:$5:$6Z"));
    const expected = await signer.sign(
      { method: "POST", protocol: "http:", hostname: "127.0.0.1", path: "/", query: {}, headers, body },
      { signingDate },
    );
    return expected.headers["authorization"] === auth;
  }

  it("re-signs the forwarded bytes with the server's credentials and the caller's region", async () => {
    const t = await startTestServer({ env: { ECS_ENDPOINT_URL: fakeUrl } });
    try {
      answer = { status: 200, body: '{"serviceArns":["arn:aws:ecs:eu-west-3:1:service/c/s"]}', headers: { "x-amzn-requestid": "upstream-req-1" } };
      const caller = new ECSClient({ endpoint: t.url, region: "eu-west-3", credentials: { accessKeyId: "AKIDCALLER", secretAccessKey: "x" }, maxAttempts: 1 });
      const res = await caller.send(new ListServicesCommand({ cluster: "c" }));
      caller.destroy();
      expect(res.serviceArns).toEqual(["arn:aws:ecs:eu-west-3:1:service/c/s"]);
      expect(res.$metadata.requestId).toBe("upstream-req-1");
      expect(seen).toHaveLength(1);
      expect(seen[0]!.headers["x-amz-target"]).toBe("AmazonEC2ContainerServiceV20141113.ListServices");
      expect(String(seen[0]!.headers["authorization"])).toContain("Credential=AKIDSERVER/");
      expect(String(seen[0]!.headers["authorization"])).toContain("/eu-west-3/ecs/aws4_request");
      expect(JSON.parse(seen[0]!.body)).toEqual({ cluster: "c" });
      expect(seen[0]!.valid).toBe(true);
    } finally {
      await t.close();
    }
  });

  it("signs for ECS_ENDPOINT_AWS_REGION when it is set", async () => {
    const t = await startTestServer({ env: { ECS_ENDPOINT_URL: fakeUrl, ECS_ENDPOINT_AWS_REGION: "ap-south-1" } });
    try {
      answer = { status: 200, body: "{}", headers: {} };
      await t.call("ListServices", {});
      expect(String(seen[0]!.headers["authorization"])).toContain("/ap-south-1/ecs/aws4_request");
      expect(seen[0]!.valid).toBe(true);
    } finally {
      await t.close();
    }
  });

  it("passes the upstream's status, body, content type and request id back unchanged", async () => {
    const t = await startTestServer({ env: { ECS_ENDPOINT_URL: fakeUrl } });
    try {
      answer = {
        status: 400,
        body: '{"__type":"ServiceNotFoundException","message":"Service not found."}',
        headers: { "x-amzn-requestid": "upstream-req-2" },
      };
      const res = await t.call("DescribeServices", { services: ["nope"] });
      expect(res.status).toBe(400);
      expect(res.json).toEqual({ __type: "ServiceNotFoundException", message: "Service not found." });
      expect(res.headers.get("x-amzn-requestid")).toBe("upstream-req-2");
      expect(res.headers.get("content-type")).toBe("application/x-amz-json-1.1");
    } finally {
      await t.close();
    }
  });

  it("answers a clear error within the timeout when the upstream is down or stalls", async () => {
    const stall = createServer(() => {
      // never answers
    });
    await new Promise<void>((r) => stall.listen(0, "127.0.0.1", () => r()));
    const stallUrl = `http://127.0.0.1:${(stall.address() as AddressInfo).port}`;
    const down = await startTestServer({ env: { ECS_ENDPOINT_URL: "http://127.0.0.1:1" } });
    const slow = await startTestServer({ env: { ECS_ENDPOINT_URL: stallUrl, UPSTREAM_TIMEOUT: "500ms" } });
    try {
      const a = await down.call("ListServices", {});
      expect(a.status).toBe(500);
      expect(a.json.__type).toBe("ServerException");
      expect(a.json.message).toMatch(/127\.0\.0\.1:1.*ListServices/);
      const b = await slow.call("ListServices", {});
      expect(b.status).toBe(500);
      expect(b.json.__type).toBe("ServerException");
      expect(b.json.message).toMatch(/did not answer ListServices within 500 ms/);
    } finally {
      await down.close();
      await slow.close();
      stall.closeAllConnections();
      await new Promise((r) => stall.close(r));
    }
  });
});
