import { fromContainerMetadata, fromHttp } from "@aws-sdk/credential-providers";
import Docker from "dockerode";
import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgentServer, type AgentServer, type EndpointContext } from "../../../../src/runtime/agent/agent-server.ts";
import { createAgentAwsClients, type AgentAwsClients } from "../../../../src/runtime/agent/aws-clients.ts";
import { CredentialsRegistry } from "../../../../src/runtime/agent/credentials-registry.ts";
import { containerEnv, type AgentEndpoint } from "../../../../src/runtime/agent/agent-endpoint.ts";
import {
  ENDPOINT_DYNAMIC_RANGE,
  ENDPOINT_GATEWAY,
  ENDPOINT_IP,
  ENDPOINT_NETWORK_NAME,
  ENDPOINT_SUBNET,
  ensureEndpointNetwork,
  hasLocalAddress,
  someoneListensOn,
  startAgentEndpoint,
} from "../../../../src/runtime/backend/docker/endpoint-network.ts";
import { RoleCredentialsProvider } from "../../../../src/runtime/agent/role-credentials.ts";
import { MemoryTaskProtectionStore } from "../../../../src/runtime/agent/task-protection-store.ts";
import { silentLogger } from "../../../../src/runtime/logger.ts";
import { startMoto, type MotoServer } from "../../../support/moto.ts";
import { snapshot, TASK_ARN } from "../../agent/fixtures.ts";
import { motoConfig } from "../../agent/helpers.ts";

const IMAGE = "local-ecs-api-test/busybox:latest";
const PREFIX = `agenttest-endpoint-${randomBytes(3).toString("hex")}`;
const ROLE = "arn:aws:iam::111122223333:role/endpoint-role";
const docker = new Docker();
const created: string[] = [];
const endpointId = randomUUID();
const snap = snapshot();
const contexts = new Map<string, EndpointContext>([[endpointId, { taskArn: TASK_ARN, containerName: "curl", snapshot: () => snap }]]);

let moto: MotoServer;
let clients: AgentAwsClients;
let registry: CredentialsRegistry;
let credsId: string;

/** Credentials are fetched ahead, as the engine does at registration: busybox nc hangs up once its stdin ends. */
async function newServer(): Promise<AgentServer> {
  const provider = new RoleCredentialsProvider({ clients, logger: silentLogger });
  await provider.get(ROLE, TASK_ARN);
  return createAgentServer({ resolveEndpoint: (id) => contexts.get(id), registry, credentials: provider, protection: new MemoryTaskProtectionStore(), logger: silentLogger });
}

beforeAll(async () => {
  moto = await startMoto();
  clients = createAgentAwsClients(motoConfig(moto), {});
  registry = new CredentialsRegistry();
  credsId = registry.register(TASK_ARN, ROLE, "task");
});
afterAll(async () => {
  await Promise.all(created.map((id) => docker.getContainer(id).remove({ force: true }).catch(() => {})));
  clients?.destroy();
  await moto?.stop();
});

/** Runs busybox with the injected env and an HTTP GET written with nc (busybox wget crashes in this image). */
async function httpFromContainer(name: string, network: string | undefined, env: Record<string, string>, url: string, extraHeader = ""): Promise<string> {
  const u = new URL(url);
  const script = `printf 'GET %s HTTP/1.0\\r\\nHost: %s\\r\\n${extraHeader}\\r\\n' "$P" "$H" | nc -w 5 "$H" "$PORT"`;
  const c = await docker.createContainer({
    name: `${PREFIX}-${name}`,
    Image: IMAGE,
    Cmd: ["sh", "-c", script],
    Env: [...Object.entries(env).map(([k, v]) => `${k}=${v}`), `H=${u.hostname}`, `PORT=${u.port || "80"}`, `P=${u.pathname}${u.search}`],
    HostConfig: { ...(network !== undefined ? { NetworkMode: network } : {}), LogConfig: { Type: "json-file", Config: {} } },
  });
  created.push(c.id);
  await c.start();
  const result = await c.wait();
  const logs = (await c.logs({ stdout: true, stderr: true })) as unknown as Buffer;
  const text = demux(logs);
  if (result.StatusCode !== 0) throw new Error(`container exited ${result.StatusCode}: ${text}`);
  return text.slice(text.indexOf("\r\n\r\n") + 4);
}

function demux(buf: Buffer): string {
  let out = "";
  for (let i = 0; i + 8 <= buf.length; ) {
    const size = buf.readUInt32BE(i + 4);
    out += buf.subarray(i + 8, i + 8 + size).toString("utf8");
    i += 8 + size;
  }
  return out;
}

describe("ensureEndpointNetwork", () => {
  it("creates or reuses ecs-local-network with the link-local subnet, keeping .2 out of the dynamic range", async () => {
    const net = await ensureEndpointNetwork(docker);
    expect(net.name).toBe(ENDPOINT_NETWORK_NAME);
    expect(net.bridgeName).toMatch(/^br-[0-9a-f]{12}$|./);
    const info = await docker.getNetwork(ENDPOINT_NETWORK_NAME).inspect();
    expect(info.Driver).toBe("bridge");
    expect(info.IPAM?.Config?.[0]).toMatchObject({ Subnet: ENDPOINT_SUBNET, Gateway: ENDPOINT_GATEWAY });
    if (net.created) expect(info.IPAM?.Config?.[0]?.IPRange).toBe(ENDPOINT_DYNAMIC_RANGE);
    const again = await ensureEndpointNetwork(docker);
    expect(again).toMatchObject({ id: net.id, created: false });
  });
});

describe("host mode: 169.254.170.2 on the bridge", () => {
  let server: AgentServer;
  let endpoint: AgentEndpoint;
  let hadAddress = false;
  beforeAll(async () => {
    hadAddress = await hasLocalAddress(ENDPOINT_IP);
    server = await newServer();
    endpoint = await startAgentEndpoint({ docker, server, logger: silentLogger, mode: "host" });
  });
  afterAll(async () => {
    await server?.close();
    await endpoint?.teardown();
  });

  it("serves at 169.254.170.2 (port 80 unless it is taken)", () => {
    expect(["host-link-local", "host-link-local-port"]).toContain(endpoint.mode);
    expect(endpoint.listen.address).toBe(ENDPOINT_IP);
    if (endpoint.mode === "host-link-local") expect(endpoint.baseUrl).toBe("http://169.254.170.2");
  });

  it("gives a busybox container on ecs-local-network its credentials and metadata", async () => {
    const env = endpoint.env({ endpointId, taskCredentialsId: credsId, region: "us-east-1" });
    const credsUrl = env["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] !== undefined ? `http://169.254.170.2${env["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"]}` : env["AWS_CONTAINER_CREDENTIALS_FULL_URI"]!;
    const header = env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] !== undefined ? `Authorization: ${env["AWS_CONTAINER_AUTHORIZATION_TOKEN"]}\\r\\n` : "";
    const body = JSON.parse(await httpFromContainer("creds", ENDPOINT_NETWORK_NAME, env, credsUrl, header)) as Record<string, string>;
    expect(body["RoleArn"]).toBe(ROLE);
    expect(body["AccessKeyId"]).toMatch(/^ASIA/);
    const meta = JSON.parse(await httpFromContainer("meta", ENDPOINT_NETWORK_NAME, env, `${env["ECS_CONTAINER_METADATA_URI_V4"]}/task`)) as Record<string, unknown>;
    expect(meta["TaskARN"]).toBe(TASK_ARN);
  });

  it("is reachable from a container on the default bridge network too (through the host)", async () => {
    const env = endpoint.env({ endpointId, region: "us-east-1" });
    const meta = JSON.parse(await httpFromContainer("bridge", undefined, env, env["ECS_CONTAINER_METADATA_URI_V4"]!)) as Record<string, unknown>;
    expect(meta["Name"]).toBe("curl");
  });

  it("lets the SDK's container credential providers load the credentials via the relative URI", async () => {
    if (endpoint.mode !== "host-link-local") return; // RELATIVE_URI implies port 80
    const creds = await fromHttp({ awsContainerCredentialsRelativeUri: `/v2/credentials/${credsId}` })();
    expect(creds.accessKeyId).toMatch(/^ASIA/);
    const saved = process.env["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"];
    process.env["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] = `/v2/credentials/${credsId}`;
    try {
      const legacy = await fromContainerMetadata({ timeout: 2000 })();
      expect(legacy.accessKeyId).toMatch(/^ASIA/);
    } finally {
      if (saved === undefined) delete process.env["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"];
      else process.env["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] = saved;
    }
  });

  it("on teardown, keeps the address only while another process serves on it", async () => {
    expect(await hasLocalAddress(ENDPOINT_IP)).toBe(true);
    await server.close();
    await endpoint.teardown();
    // Other test files may run servers on this host at the same time: whoever still listens keeps it.
    if (!hadAddress && !(await someoneListensOn(ENDPOINT_IP))) expect(await hasLocalAddress(ENDPOINT_IP)).toBe(false);
  });
});

describe("host-gateway fallback", () => {
  it("serves on the gateway with FULL_URI and a required token", async () => {
    const server = await newServer();
    const endpoint = await startAgentEndpoint({ docker, server, logger: silentLogger, mode: "host-gateway" });
    try {
      expect(endpoint.mode).toBe("host-gateway");
      expect(endpoint.baseUrl).toMatch(/^http:\/\/169\.254\.170\.1:\d+$/);
      const env = endpoint.env({ endpointId, taskCredentialsId: credsId, region: "us-east-1" });
      expect(env["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"]).toBeUndefined();
      const token = env["AWS_CONTAINER_AUTHORIZATION_TOKEN"]!;
      const body = JSON.parse(await httpFromContainer("gw", ENDPOINT_NETWORK_NAME, env, env["AWS_CONTAINER_CREDENTIALS_FULL_URI"]!, `Authorization: ${token}\\r\\n`)) as Record<string, string>;
      expect(body["RoleArn"]).toBe(ROLE);
      const denied = JSON.parse(await httpFromContainer("gw-denied", ENDPOINT_NETWORK_NAME, env, env["AWS_CONTAINER_CREDENTIALS_FULL_URI"]!)) as Record<string, unknown>;
      expect(denied["HTTPErrorCode"]).toBe(401);
    } finally {
      await server.close();
      await endpoint.teardown();
    }
  });
});

describe("containerEnv", () => {
  const ep = { baseUrl: "http://169.254.170.2", token: undefined };
  it("injects the agent's variables", () => {
    expect(containerEnv({ endpointId: "e1", taskCredentialsId: "c1", region: "eu-west-1" }, ep)).toEqual({
      ECS_CONTAINER_METADATA_URI: "http://169.254.170.2/v3/e1",
      ECS_CONTAINER_METADATA_URI_V4: "http://169.254.170.2/v4/e1",
      ECS_AGENT_URI: "http://169.254.170.2/api/e1",
      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: "/v2/credentials/c1",
      AWS_REGION: "eu-west-1",
      AWS_DEFAULT_REGION: "eu-west-1",
      AWS_EXECUTION_ENV: "AWS_ECS_EC2",
    });
  });

  it("skips the region when the task sets either variable, and never overrides the task's env", () => {
    const env = containerEnv({ endpointId: "e1", region: "eu-west-1", launchType: "FARGATE", existingEnv: { AWS_DEFAULT_REGION: "us-west-2", AWS_EXECUTION_ENV: "mine" } }, ep);
    expect(env).not.toHaveProperty("AWS_REGION");
    expect(env).not.toHaveProperty("AWS_DEFAULT_REGION");
    expect(env).not.toHaveProperty("AWS_EXECUTION_ENV");
    expect(env).not.toHaveProperty("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    expect(containerEnv({ endpointId: "e", region: "r", launchType: "FARGATE" }, ep)["AWS_EXECUTION_ENV"]).toBe("AWS_ECS_FARGATE");
  });

  it("uses FULL_URI plus token in token modes and adds AWS_ENDPOINT_URL when configured", () => {
    const env = containerEnv({ endpointId: "e", taskCredentialsId: "c", region: "r" }, { baseUrl: "http://169.254.170.1:4000", token: "t", taskAwsEndpointUrl: "http://moto:5000" });
    expect(env).toMatchObject({
      AWS_CONTAINER_CREDENTIALS_FULL_URI: "http://169.254.170.1:4000/v2/credentials/c",
      AWS_CONTAINER_AUTHORIZATION_TOKEN: "t",
      ECS_CONTAINER_METADATA_URI_V4: "http://169.254.170.1:4000/v4/e",
      AWS_ENDPOINT_URL: "http://moto:5000",
    });
    expect(env).not.toHaveProperty("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
  });
});
