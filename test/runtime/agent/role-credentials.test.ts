import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgentAwsClients, resolveBaseCredentials, type BaseCredentials } from "../../../src/runtime/agent/aws-clients.ts";
import { CredentialsRegistry } from "../../../src/runtime/agent/credentials-registry.ts";
import { RoleCredentialsProvider, roleSessionName } from "../../../src/runtime/agent/role-credentials.ts";
import { loadConfig } from "../../../src/runtime/config.ts";
import { createLogger, silentLogger } from "../../../src/runtime/logger.ts";
import { startMoto, type MotoServer } from "../../support/moto.ts";
import { motoConfig, until } from "./helpers.ts";

const TASK = "arn:aws:ecs:us-east-1:123456789012:task/default/0123456789abcdef0123456789abcdef";
const ROLE = "arn:aws:iam::123456789012:role/task-role";
const noCredentials: BaseCredentials = {
  source: "default-chain",
  provider: async () => {
    throw new Error("no credentials anywhere");
  },
  description: "test: none",
};

let moto: MotoServer;
beforeAll(async () => {
  moto = await startMoto();
});
afterAll(async () => {
  await moto?.stop();
});

describe("RoleCredentialsProvider against moto", () => {
  it("assumes the role and caches per (role, task)", async () => {
    const clients = createAgentAwsClients(motoConfig(moto), {});
    const provider = new RoleCredentialsProvider({ clients, logger: silentLogger });
    const a = await provider.get(ROLE, TASK);
    expect(a.roleArn).toBe(ROLE);
    expect(a.accessKeyId).toMatch(/^ASIA/);
    expect(a.sessionToken.length).toBeGreaterThan(10);
    expect(a.placeholder).toBe(false);
    expect(a.expiration.getTime()).toBeGreaterThan(Date.now());
    expect(await provider.mode()).toBe("assume-role");
    const again = await provider.get(ROLE, TASK);
    expect(again).toBe(a);
    const otherTask = await provider.get(ROLE, TASK.replace(/f$/, "e"));
    expect(otherTask.accessKeyId).not.toBe(a.accessKeyId);
    clients.destroy();
  });

  it("refreshes in the background shortly before expiry, serving the valid credentials meanwhile", async () => {
    let now = Date.now();
    const clients = createAgentAwsClients(motoConfig(moto), {});
    const provider = new RoleCredentialsProvider({ clients, logger: silentLogger, clock: { now: () => new Date(now) } });
    const first = await provider.get(ROLE, TASK);
    // 3 minutes before expiry: inside the 5-minute refresh window, still valid.
    now = first.expiration.getTime() - 3 * 60_000;
    const served = await provider.get(ROLE, TASK);
    expect(served).toBe(first);
    const refreshed = await until("background refresh", () => {
      const p = provider.peek(ROLE, TASK);
      return p !== undefined && p !== first ? p : undefined;
    });
    expect(refreshed.accessKeyId).not.toBe(first.accessKeyId);
    clients.destroy();
  });

  it("forgets a task's credentials when the task is unregistered", async () => {
    const clients = createAgentAwsClients(motoConfig(moto), {});
    const provider = new RoleCredentialsProvider({ clients, logger: silentLogger });
    const registry = new CredentialsRegistry({
      onRegister: (b) => provider.prefetch(b.roleArn, b.taskArn),
      onUnregisterTask: (t) => provider.forgetTask(t),
    });
    const ids = registry.registerTask({ taskArn: TASK, taskRoleArn: ROLE, executionRoleArn: `${ROLE}-exec` });
    expect(ids.taskCredentialsId).toMatch(/^[0-9a-f-]{36}$/);
    expect(ids.executionCredentialsId).not.toBe(ids.taskCredentialsId);
    expect(registry.lookup(ids.taskCredentialsId!)).toMatchObject({ taskArn: TASK, roleArn: ROLE, kind: "task" });
    await until("prefetch", () => provider.peek(ROLE, TASK));
    registry.unregisterTask(TASK);
    expect(registry.lookup(ids.taskCredentialsId!)).toBeUndefined();
    expect(provider.peek(ROLE, TASK)).toBeUndefined();
    clients.destroy();
  });

  it("reports AssumeRole failures and keeps them for the engine", async () => {
    const config = loadConfig({ STS_ENDPOINT: "http://127.0.0.1:9", ECS_ENDPOINT_AWS_ACCESS_KEY_ID: "a", ECS_ENDPOINT_AWS_SECRET_ACCESS_KEY: "b" });
    const clients = createAgentAwsClients(config, {});
    const provider = new RoleCredentialsProvider({ clients, logger: silentLogger });
    await expect(provider.get(ROLE, TASK)).rejects.toThrow();
    expect(provider.lastError(ROLE, TASK)).toBeInstanceOf(Error);
    clients.destroy();
  });

  it("signs with dummy keys when an STS endpoint is configured but no base credentials exist", async () => {
    const clients = createAgentAwsClients(loadConfig({ STS_ENDPOINT: moto.endpoint }), {}, noCredentials);
    const provider = new RoleCredentialsProvider({ clients, logger: silentLogger });
    const creds = await provider.get(ROLE, TASK);
    expect(await provider.mode()).toBe("assume-role-unsigned");
    expect(creds.accessKeyId).toMatch(/^ASIA/);
    expect(creds.placeholder).toBe(false);
    expect(provider.placeholderReason).toBeUndefined();
    clients.destroy();
  });

  it("vends clearly fake credentials, logged once, when there is neither STS nor base credentials", async () => {
    const lines: string[] = [];
    const clients = createAgentAwsClients(loadConfig({}), {}, noCredentials);
    const provider = new RoleCredentialsProvider({ clients, logger: createLogger("info", (l) => lines.push(l)) });
    const a = await provider.get(ROLE, TASK);
    const b = await provider.get(`${ROLE}2`, TASK);
    expect(a.placeholder).toBe(true);
    expect(a.accessKeyId).toMatch(/^ASIALOCALECSFAKE[0-9A-F]{4}$/);
    expect(a.accessKeyId).toHaveLength(20);
    expect(b.roleArn).toBe(`${ROLE}2`);
    expect(provider.placeholderReason).toMatch(/no STS endpoint/);
    expect(lines.filter((l) => l.includes("agent.role_credentials.placeholder"))).toHaveLength(1);
    const exec = await provider.executionCredentials(TASK, undefined);
    expect(exec.accessKeyId).toMatch(/^ASIALOCALECSFAKE/);
    clients.destroy();
  });

  it("uses the base credentials for execution work when the task has no execution role", async () => {
    const clients = createAgentAwsClients(motoConfig(moto), {});
    const provider = new RoleCredentialsProvider({ clients, logger: silentLogger });
    const exec = await provider.executionCredentials(TASK, undefined);
    expect(exec.accessKeyId).toBe(moto.credentials.accessKeyId);
    const role = await provider.executionCredentials(TASK, ROLE);
    expect(role.accessKeyId).toMatch(/^ASIA/);
    clients.destroy();
  });
});

describe("role session names and base credential sources", () => {
  it("derives the session name from the task id within STS limits", () => {
    expect(roleSessionName(TASK)).toBe("0123456789abcdef0123456789abcdef");
    expect(roleSessionName("arn:aws:ecs:r:1:task/c/" + "x".repeat(80))).toHaveLength(64);
    expect(roleSessionName("arn:aws:ecs:r:1:task/c/a b#c")).toBe("a-b-c");
    expect(roleSessionName("arn:aws:ecs:r:1:task/c/a")).toBe("ecs-task-a");
  });

  it("describes the base credential source without leaking the secret", () => {
    const s = resolveBaseCredentials(loadConfig({ ECS_ENDPOINT_AWS_ACCESS_KEY_ID: "AKIAEXAMPLEKEY123456", ECS_ENDPOINT_AWS_SECRET_ACCESS_KEY: "sekrit" }));
    expect(s.source).toBe("static");
    expect(s.description).not.toContain("sekrit");
    expect(s.description).not.toContain("AKIAEXAMPLEKEY123456");
    const p = resolveBaseCredentials(loadConfig({ ECS_ENDPOINT_AWS_PROFILE: "dev", AWS_CREDS_HOST_PATH: "/creds" }));
    expect(p.source).toBe("profile");
    expect(p.description).toContain('profile "dev" from /creds');
    expect(resolveBaseCredentials(loadConfig({})).source).toBe("default-chain");
  });

  it("reads a profile from the shared credentials folder", async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const dir = mkdtempSync(join(tmpdir(), "agent-creds-"));
    try {
      writeFileSync(join(dir, "credentials"), "[dev]\naws_access_key_id = AKIAFROMFILE\naws_secret_access_key = fromfile\n");
      writeFileSync(join(dir, "config"), "[profile dev]\nregion = eu-west-1\n");
      const base = resolveBaseCredentials(loadConfig({ ECS_ENDPOINT_AWS_PROFILE: "dev", AWS_CREDS_HOST_PATH: dir }));
      const creds = await base.provider();
      expect(creds.accessKeyId).toBe("AKIAFROMFILE");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
