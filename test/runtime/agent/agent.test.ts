import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgent, type Agent, type AgentOptions } from "../../../src/runtime/agent/agent.ts";
import { startAgentEndpoint } from "../../../src/runtime/backend/docker/endpoint-network.ts";
import { MemoryTaskProtectionStore } from "../../../src/runtime/agent/task-protection-store.ts";
import { openDatabase } from "../../../src/runtime/database.ts";
import { silentLogger } from "../../../src/runtime/logger.ts";
import { startMoto, type MotoServer } from "../../support/moto.ts";
import { snapshot, TASK_ARN } from "./fixtures.ts";
import { motoConfig, until } from "./helpers.ts";

let moto: MotoServer;
/** The agent's view of the runtime: container output/stats, and how 169.254.170.2 is made reachable. */
const runtimeParts = (): Pick<AgentOptions, "containers" | "startEndpoint"> => {
  const docker = new Docker();
  // No task runs in these tests: container output and stats are never asked for.
  return { containers: { logs: async function* () {}, stats: async () => null }, startEndpoint: (opts) => startAgentEndpoint({ ...opts, docker }) };
};
let agent: Agent;
const snap = snapshot();

beforeAll(async () => {
  moto = await startMoto();
  agent = createAgent({
    config: motoConfig(moto, { TASK_AWS_ENDPOINT_URL: "http://moto.local:5000" }),
    ...runtimeParts(),
    logger: silentLogger,
    resolveEndpoint: (id) => (id === "e-1" ? { taskArn: TASK_ARN, containerName: "curl", snapshot: () => snap } : undefined),
  });
});
afterAll(async () => {
  await agent?.stop();
  await moto?.stop();
});

describe("createAgent", () => {
  it("wires registration, prefetch, env injection and the endpoint together", async () => {
    // The gateway mode keeps this file independent of the 169.254.170.2:80 tests running beside it.
    const endpoint = await agent.start({ mode: "host-gateway" });
    expect(agent.endpoint).toBe(endpoint);
    expect(agent.describe()).toContain(`sts=${moto.endpoint}`);
    const ids = agent.registry.registerTask({ taskArn: TASK_ARN, taskRoleArn: "arn:aws:iam::1:role/t", executionRoleArn: "arn:aws:iam::1:role/x" });
    await until("prefetched task credentials", () => agent.credentials.peek("arn:aws:iam::1:role/t", TASK_ARN));
    await until("prefetched execution credentials", () => agent.credentials.peek("arn:aws:iam::1:role/x", TASK_ARN));
    const env = endpoint.env({ endpointId: "e-1", taskCredentialsId: ids.taskCredentialsId, region: "us-east-1" });
    expect(env["AWS_ENDPOINT_URL"]).toBe("http://moto.local:5000");
    const res = await fetch(env["AWS_CONTAINER_CREDENTIALS_FULL_URI"]!, { headers: { Authorization: env["AWS_CONTAINER_AUTHORIZATION_TOKEN"]! } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { RoleArn: string }).RoleArn).toBe("arn:aws:iam::1:role/t");
    agent.registry.unregisterTask(TASK_ARN);
    expect(agent.credentials.peek("arn:aws:iam::1:role/t", TASK_ARN)).toBeUndefined();
  });

  it("expires task protection on its own", () => {
    let now = Date.parse("2024-01-01T00:00:00Z");
    const store = new MemoryTaskProtectionStore({ now: () => new Date(now) });
    expect(store.update(TASK_ARN, true, 1)).toMatchObject({ protectionEnabled: true, expirationDate: new Date(now + 60_000) });
    now += 59_000;
    expect(store.get(TASK_ARN).protectionEnabled).toBe(true);
    now += 1000;
    expect(store.get(TASK_ARN)).toEqual({ taskArn: TASK_ARN, protectionEnabled: false, expirationDate: undefined });
    expect(() => store.update(TASK_ARN, true, 0)).toThrow(/between 1 and 2880/);
    expect(store.update(TASK_ARN, true).expirationDate).toEqual(new Date(now + 120 * 60_000));
  });

  it("keeps task protection in the database it is given, so a new agent on it still sees it", async () => {
    const db = openDatabase(":memory:");
    const make = () => createAgent({ config: motoConfig(moto), ...runtimeParts(), logger: silentLogger, db, resolveEndpoint: () => undefined });
    const first = make();
    const set = first.protection.update(TASK_ARN, true, 15);
    await first.stop();
    const second = make();
    try {
      expect(second.protection.get(TASK_ARN)).toEqual(set);
    } finally {
      await second.stop();
      db.close();
    }
  });
});
