import { fromHttp } from "@aws-sdk/credential-providers";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgentServer, type AgentServer, type EndpointContext, type RoleCredentialsSource } from "../../../src/runtime/agent/agent-server.ts";
import { createAgentAwsClients, type AgentAwsClients } from "../../../src/runtime/agent/aws-clients.ts";
import { CredentialsRegistry } from "../../../src/runtime/agent/credentials-registry.ts";
import { RoleCredentialsProvider } from "../../../src/runtime/agent/role-credentials.ts";
import { MemoryTaskProtectionStore } from "../../../src/runtime/agent/task-protection-store.ts";
import { silentLogger } from "../../../src/runtime/logger.ts";
import { startMoto, type MotoServer } from "../../support/moto.ts";
import { snapshot, TASK_ARN } from "./fixtures.ts";
import { motoConfig } from "./helpers.ts";

const ROLE = "arn:aws:iam::111122223333:role/task-role";
const ENDPOINT_ID = "6b0a5d5e-0b9e-4c35-9a7a-3a4bb1f4b1c1";

let moto: MotoServer;
let clients: AgentAwsClients;
let registry: CredentialsRegistry;
let server: AgentServer;
let base: string;
let credsId: string;
const snap = snapshot();
const endpoints = new Map<string, EndpointContext>([[ENDPOINT_ID, { taskArn: TASK_ARN, containerName: "curl", snapshot: () => snap }]]);
const statsCalls: string[] = [];
let rx = 1000;

beforeAll(async () => {
  moto = await startMoto();
  clients = createAgentAwsClients(motoConfig(moto), {});
  const provider = new RoleCredentialsProvider({ clients, logger: silentLogger });
  registry = new CredentialsRegistry({ onRegister: (b) => provider.prefetch(b.roleArn, b.taskArn) });
  credsId = registry.registerTask({ taskArn: TASK_ARN, taskRoleArn: ROLE }).taskCredentialsId!;
  server = createAgentServer({
    resolveEndpoint: (id) => endpoints.get(id),
    registry,
    credentials: provider,
    protection: new MemoryTaskProtectionStore(),
    logger: silentLogger,
    stats: async (taskArn, containerName) => {
      statsCalls.push(`${taskArn}/${containerName}`);
      rx += 500;
      const id = snap.containers.find((c) => c.name === containerName)?.dockerId;
      return { read: new Date(Date.now() + statsCalls.length * 1000).toISOString(), id, networks: { eth0: { rx_bytes: rx, tx_bytes: 10 } } };
    },
  });
  const addr = await server.listen(0, "127.0.0.1");
  base = `http://127.0.0.1:${addr.port}`;
});
afterAll(async () => {
  await server?.close();
  clients?.destroy();
  await moto?.stop();
});

async function get(path: string, init: RequestInit = {}): Promise<{ status: number; type: string | null; body: unknown }> {
  const res = await fetch(base + path, { redirect: "manual", ...init });
  const text = await res.text();
  return { status: res.status, type: res.headers.get("content-type"), body: text === "" ? undefined : JSON.parse(text) };
}

describe("credentials endpoint", () => {
  it("serves credentials the JS SDK's HTTP container provider accepts, for the task role", async () => {
    const provider = fromHttp({ awsContainerCredentialsFullUri: `${base}/v2/credentials/${credsId}` });
    const creds = await provider();
    expect(creds.accessKeyId).toMatch(/^ASIA/);
    expect(creds.sessionToken).toBeTruthy();
    expect(creds.expiration!.getTime()).toBeGreaterThan(Date.now());
    // The vended keys work against STS and are the role's.
    const sts = new STSClient({ region: "us-east-1", endpoint: moto.endpoint, credentials: provider });
    const who = await sts.send(new GetCallerIdentityCommand({}));
    expect(who.Arn).toContain("assumed-role/task-role/");
    sts.destroy();
  });

  it("answers the agent's JSON body with RoleArn and an RFC3339 Expiration, on v2 and v1", async () => {
    const v2 = await get(`/v2/credentials/${credsId}`);
    expect(v2.status).toBe(200);
    expect(v2.type).toBe("application/json");
    expect(Object.keys(v2.body as object)).toEqual(["RoleArn", "AccessKeyId", "SecretAccessKey", "Token", "Expiration"]);
    expect((v2.body as { RoleArn: string }).RoleArn).toBe(ROLE);
    expect((v2.body as { Expiration: string }).Expiration).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const v1 = await get(`/v1/credentials?id=${credsId}`);
    expect(v1.status).toBe(200);
    expect(v1.body).toEqual(v2.body);
  });

  it("answers 400 NoIdInRequest / InvalidIdInRequest exactly like the agent", async () => {
    expect(await get("/v2/credentials/")).toMatchObject({
      status: 400,
      body: { code: "NoIdInRequest", message: "CredentialsV2Request: No Credential ID in the request", HTTPErrorCode: 400 },
    });
    expect(await get("/v1/credentials")).toMatchObject({
      status: 400,
      body: { code: "NoIdInRequest", message: "CredentialsV1Request: No Credential ID in the request", HTTPErrorCode: 400 },
    });
    expect(await get("/v2/credentials/not-a-real-id")).toMatchObject({
      status: 400,
      body: { code: "InvalidIdInRequest", message: "CredentialsV2Request: Credentials not found", HTTPErrorCode: 400 },
    });
  });

  it("answers 503 CredentialsUninitialized while the role's credentials are not available yet", async () => {
    const pending: RoleCredentialsSource = { get: () => new Promise(() => {}), peek: () => undefined };
    const reg = new CredentialsRegistry();
    const id = reg.register(TASK_ARN, ROLE, "task");
    const slow = createAgentServer({ resolveEndpoint: () => undefined, registry: reg, credentials: pending, protection: new MemoryTaskProtectionStore(), logger: silentLogger, credentialsWaitMs: 20 });
    const addr = await slow.listen(0, "127.0.0.1");
    try {
      const res = await fetch(`http://127.0.0.1:${addr.port}/v2/credentials/${id}`);
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ code: "CredentialsUninitialized", message: "CredentialsV2Request: Credentials uninitialized for ID", HTTPErrorCode: 503 });
    } finally {
      await slow.close();
    }
  });

  it("requires the Authorization token when one is set (FULL_URI mode)", async () => {
    server.setAuthorizationToken("s3cret-token");
    try {
      expect((await get(`/v2/credentials/${credsId}`)).status).toBe(401);
      expect((await get(`/v2/credentials/${credsId}`, { headers: { Authorization: "wrong" } })).status).toBe(401);
      const creds = await fromHttp({ awsContainerCredentialsFullUri: `${base}/v2/credentials/${credsId}`, awsContainerAuthorizationToken: "s3cret-token" })();
      expect(creds.accessKeyId).toMatch(/^ASIA/);
      // Metadata needs no token: clients never send one there.
      expect((await get(`/v4/${ENDPOINT_ID}`)).status).toBe(200);
    } finally {
      server.setAuthorizationToken(undefined);
    }
  });

  it("stops resolving a task's ids once it is unregistered", async () => {
    const id = registry.register("arn:aws:ecs:us-east-1:1:task/c/gone", ROLE, "task");
    registry.unregisterTask("arn:aws:ecs:us-east-1:1:task/c/gone");
    expect((await get(`/v2/credentials/${id}`)).status).toBe(400);
  });
});

describe("metadata endpoints", () => {
  it("serves container, task and taskWithTags for v4 and v3", async () => {
    const c4 = await get(`/v4/${ENDPOINT_ID}`);
    expect(c4.status).toBe(200);
    expect(c4.body).toMatchObject({ Name: "curl", ContainerARN: expect.stringContaining(":container/"), LogDriver: "awslogs" });
    const c3 = await get(`/v3/${ENDPOINT_ID}`);
    expect(c3.body).toMatchObject({ Name: "curl" });
    expect(c3.body).not.toHaveProperty("ContainerARN");
    const t4 = await get(`/v4/${ENDPOINT_ID}/task`);
    expect(t4.body).toMatchObject({ TaskARN: TASK_ARN, FaultInjectionEnabled: false, Containers: [expect.objectContaining({ Name: "curl" })] });
    expect(t4.body).not.toHaveProperty("TaskTags");
    const tt = await get(`/v4/${ENDPOINT_ID}/taskWithTags/`);
    expect(tt.body).toMatchObject({ TaskTags: { team: "blue" } });
    const t3 = await get(`/v3/${ENDPOINT_ID}/task`);
    expect(t3.body).not.toHaveProperty("FaultInjectionEnabled");
  });

  it("answers unknown ids with the agent's JSON string bodies (v4 404, v3 400)", async () => {
    expect(await get("/v4/nope")).toEqual({
      status: 404,
      type: "application/json",
      body: "V4 container metadata handler: unable to get container ID from request: unable to get docker ID from v3 endpoint ID: nope",
    });
    expect(await get("/v4/nope/task")).toMatchObject({
      status: 404,
      body: "V4 task metadata handler: unable to get task arn from request: unable to get task Arn from v3 endpoint ID: nope",
    });
    expect(await get("/v3/nope")).toMatchObject({
      status: 400,
      body: "V3 container metadata handler: unable to get container ID from request: unable to get docker ID from v3 endpoint ID: nope",
    });
  });

  it("passes stats through, adding network_rate_stats for v4 only", async () => {
    const s4 = (await get(`/v4/${ENDPOINT_ID}/stats`)).body as Record<string, unknown>;
    expect(s4["id"]).toBe(snap.containers[0]!.dockerId);
    expect(s4["network_rate_stats"]).toEqual({ rx_bytes_per_sec: expect.any(Number), tx_bytes_per_sec: expect.any(Number) });
    const again = (await get(`/v4/${ENDPOINT_ID}/stats`)).body as { network_rate_stats: { rx_bytes_per_sec: number } };
    expect(again.network_rate_stats.rx_bytes_per_sec).toBeGreaterThan(0);
    const s3 = (await get(`/v3/${ENDPOINT_ID}/stats`)).body as Record<string, unknown>;
    expect(s3).not.toHaveProperty("network_rate_stats");
    const ts = (await get(`/v4/${ENDPOINT_ID}/task/stats`)).body as Record<string, unknown>;
    expect(Object.keys(ts)).toEqual([snap.containers[0]!.dockerId]);
  });

  it("redirects unclean paths like the agent", async () => {
    const res = await get(`//v4//${ENDPOINT_ID}`);
    expect(res.status).toBe(301);
  });
});

describe("task protection agent API", () => {
  const path = `/api/${ENDPOINT_ID}/task-protection/v1/state`;
  it("reports no protection, enables it with an expiry, and disables it", async () => {
    expect(await get(path)).toMatchObject({ status: 200, body: { protection: { ExpirationDate: null, ProtectionEnabled: false, TaskArn: TASK_ARN } } });
    const before = Date.now();
    const put = await get(path, { method: "PUT", body: JSON.stringify({ ProtectionEnabled: true, ExpiresInMinutes: 60 }), headers: { "content-type": "application/json" } });
    expect(put.status).toBe(200);
    const p = (put.body as { protection: { ExpirationDate: string; ProtectionEnabled: boolean } }).protection;
    expect(p.ProtectionEnabled).toBe(true);
    const exp = Date.parse(p.ExpirationDate);
    expect(exp).toBeGreaterThanOrEqual(before + 60 * 60_000 - 1000);
    expect(exp).toBeLessThanOrEqual(Date.now() + 60 * 60_000 + 1000);
    expect((await get(path)).body).toEqual(put.body);
    const off = await get(path, { method: "PUT", body: JSON.stringify({ ProtectionEnabled: false }) });
    expect(off.body).toEqual({ protection: { ExpirationDate: null, ProtectionEnabled: false, TaskArn: TASK_ARN } });
  });

  it("rejects bad requests and unknown ids", async () => {
    expect(await get(path, { method: "PUT", body: "{}" })).toMatchObject({ status: 400, body: { error: { Arn: TASK_ARN, Code: "InvalidParameterException" } } });
    expect(await get(path, { method: "PUT", body: "not json" })).toMatchObject({ status: 400 });
    expect(await get(path, { method: "PUT", body: JSON.stringify({ ProtectionEnabled: true, ExpiresInMinutes: 5000 }) })).toMatchObject({ status: 400 });
    expect((await get("/api/nope/task-protection/v1/state")).status).toBe(404);
  });
});
