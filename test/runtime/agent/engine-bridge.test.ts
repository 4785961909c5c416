// The agent bridge over the real task engine and Docker backend on the fake Docker runtime: injected env, credentials ids,
// secrets, awslogs, live metadata snapshots from engine state, and re-adoption after a restart.
import type { DatabaseSync } from "node:sqlite";
import { afterEach, describe, expect, it } from "vitest";
import type { ContainerDefinition, Task, TaskDefinition } from "../../../generated/shapes.ts";
import { connectAgentToEngine, type AgentBridge, type BridgeAgent } from "../../../src/runtime/agent/engine-bridge.ts";
import { CredentialsRegistry } from "../../../src/runtime/agent/credentials-registry.ts";
import { containerEnv, type ContainerEnvInput, type EndpointMode } from "../../../src/runtime/agent/agent-endpoint.ts";
import { buildContainerResponse, buildTaskResponse } from "../../../src/runtime/agent/metadata.ts";
import { SecretResolutionError, type ContainerSecretsSource, type SecretContext } from "../../../src/runtime/agent/secrets.ts";
import type { ShipContainerLogsInput, ShippingOutcome } from "../../../src/runtime/agent/awslogs.ts";
import { MemoryTaskProtectionStore } from "../../../src/runtime/agent/task-protection-store.ts";
import { openDatabase } from "../../../src/runtime/database.ts";
import { TagStore } from "../../../src/runtime/store/tag-store.ts";
import type { TaskEngine } from "../../../src/runtime/engine/task-engine.ts";
import { silentLogger } from "../../../src/runtime/logger.ts";
import { FakeRuntime } from "../../support/fake-runtime.ts";
import { container, dockerBackend, isStatus, makeEngine, spec, taskDefinition } from "../engine/engine-fixture.ts";
import { until } from "./helpers.ts";

const IMAGE = "example/app:1";
const NETWORK = "ecs-local-network";
const T = 5_000;
const TASK_ROLE = "arn:aws:iam::123456789012:role/task";
const EXEC_ROLE = "arn:aws:iam::123456789012:role/exec";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

interface Harness {
  fake: FakeRuntime;
  engine: TaskEngine;
  bridge: AgentBridge;
  registry: CredentialsRegistry;
  protection: MemoryTaskProtectionStore;
  secretCalls: Array<{ def: ContainerSecretsSource; ctx: SecretContext }>;
  shipped: ShipContainerLogsInput[];
  listened: Array<{ port: number; host: string }>;
  tokens: Array<string | undefined>;
  db: DatabaseSync;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Secrets as a map valueFrom → value; a valueFrom that is absent fails like the real resolver. */
function setup(
  options: {
    db?: DatabaseSync;
    fake?: FakeRuntime;
    baseUrl?: string;
    token?: string;
    secrets?: Record<string, string>;
    retentionMs?: number;
    mode?: EndpointMode;
    /** How the fake awslogs shipping ends (default: never, as for a container that keeps running). */
    shipOutcome?: ShippingOutcome;
    resumeAfter?: Promise<void>;
  } = {},
): Harness {
  const fake = options.fake ?? new FakeRuntime();
  fake.images.add(IMAGE);
  if (!fake.networks.has(NETWORK)) fake.networks.set(NETWORK, { id: "endpoint-net", labels: {} });
  const db = options.db ?? openDatabase(":memory:");
  const { engine } = makeEngine(dockerBackend(fake), { db, ...(options.retentionMs === undefined ? {} : { retentionMs: options.retentionMs }) });
  const registry = new CredentialsRegistry();
  const protection = new MemoryTaskProtectionStore();
  const secretCalls: Harness["secretCalls"] = [];
  const shipped: ShipContainerLogsInput[] = [];
  const listened: Harness["listened"] = [];
  const tokens: Harness["tokens"] = [];
  const values = options.secrets ?? {};
  const agent = {
    registry,
    protection,
    secrets: {
      async resolveContainer(def: ContainerSecretsSource, ctx: SecretContext) {
        secretCalls.push({ def, ctx });
        const pick = (list: ContainerSecretsSource["secrets"]) =>
          Object.fromEntries(
            (list ?? []).map((s) => {
              const v = values[s.valueFrom];
              if (v === undefined) throw new SecretResolutionError(`invalid parameters: ${s.valueFrom}`, [s.valueFrom]);
              return [s.name, v];
            }),
          );
        return { environment: pick(def.secrets), logOptions: pick(def.logConfiguration?.secretOptions) };
      },
    },
    awslogs: {
      start(input: ShipContainerLogsInput) {
        shipped.push(input);
        const done = options.shipOutcome === undefined ? new Promise<ShippingOutcome>(() => {}) : Promise.resolve(options.shipOutcome);
        return { target: { group: "", stream: "", region: undefined, createGroup: false }, done };
      },
    },
    server: {
      async listen(port: number, host: string) {
        listened.push({ port, host });
        return { port, address: host, family: "IPv4" };
      },
      setAuthorizationToken(token: string | undefined) {
        tokens.push(token);
      },
    },
  } as unknown as BridgeAgent;
  const baseUrl = options.baseUrl ?? "http://169.254.170.2";
  const token = options.token;
  const bridge = connectAgentToEngine({
    agent,
    endpoint: {
      baseUrl,
      listen: { address: "169.254.170.2", port: Number(new URL(baseUrl).port || 80), family: "IPv4" },
      authorizationToken: token,
      network: { id: "endpoint-net", name: NETWORK, created: false, bridgeName: "br-x", gateway: "169.254.170.1" },
      env: (input: ContainerEnvInput) => containerEnv(input, { baseUrl, token }),
      ...(options.mode === undefined ? {} : { mode: options.mode }),
    },
    engine,
    config: { region: "us-east-1", dataDir: ":memory:" },
    logger: silentLogger,
    db,
    tags: new TagStore(db),
    resumeAfter: options.resumeAfter,
  });
  cleanups.push(async () => {
    await engine.close();
    bridge.dispose();
  });
  return { fake, engine, bridge, registry, protection, secretCalls, shipped, listened, tokens, db };
}

function envOf(h: Harness, task: Task, name: string): Record<string, string> {
  const c = h.fake.find(name, task.taskArn);
  if (c === undefined) throw new Error(`no container ${name}`);
  return Object.fromEntries((c.options.Env ?? []).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
}

function endpointIdOf(h: Harness, task: Task, name: string): string {
  return envOf(h, task, name)["ECS_CONTAINER_METADATA_URI_V4"]!.split("/").at(-1)!;
}

async function start(h: Harness, containers: ContainerDefinition[], extra: Partial<TaskDefinition> = {}, runExtra: Parameters<typeof spec>[1] = {}): Promise<Task> {
  await h.engine.start();
  const task = h.engine.runTask(spec(taskDefinition(containers, extra), runExtra));
  return h.engine.waitFor(task.taskArn!, isStatus("RUNNING"), T);
}

const IDLE: ContainerDefinition = { name: "app", image: IMAGE, memory: 64 };

describe("agent bridge over the task engine", () => {
  it("injects per-container endpoint ids, the task role's credentials URI and the region; joins the endpoint network", async () => {
    const h = setup();
    const task = await start(h, [IDLE, { name: "side", image: IMAGE, essential: false, environment: [{ name: "AWS_REGION", value: "eu-west-1" }] }], {
      taskRoleArn: TASK_ROLE,
      executionRoleArn: EXEC_ROLE,
    });
    const app = envOf(h, task, "app");
    const side = envOf(h, task, "side");
    const appId = endpointIdOf(h, task, "app");
    expect(appId).toMatch(UUID);
    expect(endpointIdOf(h, task, "side")).not.toBe(appId);
    expect(app).toMatchObject({
      ECS_CONTAINER_METADATA_URI: `http://169.254.170.2/v3/${appId}`,
      ECS_CONTAINER_METADATA_URI_V4: `http://169.254.170.2/v4/${appId}`,
      ECS_AGENT_URI: `http://169.254.170.2/api/${appId}`,
      AWS_REGION: "us-east-1",
      AWS_DEFAULT_REGION: "us-east-1",
      AWS_EXECUTION_ENV: "AWS_ECS_EC2",
    });
    // The task's own AWS_REGION wins and the agent then sets neither region variable.
    expect(side["AWS_REGION"]).toBe("eu-west-1");
    expect(side["AWS_DEFAULT_REGION"]).toBeUndefined();

    const credsId = app["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"]!.replace("/v2/credentials/", "");
    expect(side["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"]).toBe(`/v2/credentials/${credsId}`);
    expect(h.registry.lookup(credsId)).toMatchObject({ taskArn: task.taskArn, roleArn: TASK_ROLE, kind: "task" });
    // The execution role has its own id that no container sees.
    const exec = h.registry.idsForTask(task.taskArn!).find((b) => b.kind === "execution");
    expect(exec?.roleArn).toBe(EXEC_ROLE);
    expect(Object.values(app)).not.toContain(`/v2/credentials/${exec?.id}`);

    expect(Object.keys(h.fake.find("app", task.taskArn)!.networks)).toContain(NETWORK);
    expect(h.secretCalls[0]?.ctx).toEqual({ taskArn: task.taskArn, executionRoleArn: EXEC_ROLE, region: "us-east-1" });
  });

  it("joins the endpoint network only in in-container mode: in the host modes the host answers 169.254.170.2", async () => {
    for (const mode of ["in-container", "host-link-local", "host-link-local-port", "host-gateway"] as const) {
      const h = setup({ mode });
      const bridged = await start(h, [IDLE], { taskRoleArn: TASK_ROLE });
      const vpc = await start(h, [IDLE], { networkMode: "awsvpc" }, { networkConfiguration: { awsvpcConfiguration: { subnets: ["subnet-1"] } } });
      const pauseId = h.engine.runtimeFacts(vpc.taskArn!)!.holder!.runtimeId!;
      const joined = mode === "in-container";
      expect(Object.keys(h.fake.find("app", bridged.taskArn)!.networks).includes(NETWORK), mode).toBe(joined);
      expect(Object.keys(h.fake.containers.get(pauseId)!.networks).includes(NETWORK), mode).toBe(joined);
      expect(h.fake.calls.some((c) => c.startsWith(`network-connect ${NETWORK}`)), mode).toBe(joined);
      // Credentials are registered whatever the mode.
      expect(envOf(h, bridged, "app")["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"]).toMatch(/^\/v2\/credentials\//);
    }
  });

  it("gives no credentials URI without a task role, and takes the role from the RunTask override", async () => {
    const h = setup();
    const plain = await start(h, [IDLE]);
    expect(envOf(h, plain, "app")["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"]).toBeUndefined();
    expect(h.registry.idsForTask(plain.taskArn!)).toEqual([]);

    const overridden = h.engine.runTask(spec(taskDefinition([IDLE]), { overrides: { taskRoleArn: TASK_ROLE } }));
    await h.engine.waitFor(overridden.taskArn!, isStatus("RUNNING"), T);
    const id = envOf(h, overridden, "app")["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"]!.replace("/v2/credentials/", "");
    expect(h.registry.lookup(id)?.roleArn).toBe(TASK_ROLE);
  });

  it("injects resolved secrets; an unresolvable one stops the task TaskFailedToStart with the agent's reason", async () => {
    const h = setup({ secrets: { "/db/password": "s3cret" } });
    const ok = await start(h, [{ ...IDLE, secrets: [{ name: "DB_PASSWORD", valueFrom: "/db/password" }] }], { executionRoleArn: EXEC_ROLE });
    expect(envOf(h, ok, "app")["DB_PASSWORD"]).toBe("s3cret");

    const bad = h.engine.runTask(spec(taskDefinition([{ ...IDLE, secrets: [{ name: "X", valueFrom: "/missing" }] }], { executionRoleArn: EXEC_ROLE })));
    const stopped = await h.engine.waitFor(bad.taskArn!, isStatus("STOPPED"), T);
    expect(stopped.stopCode).toBe("TaskFailedToStart");
    expect(stopped.stoppedReason).toMatch(/^ResourceInitializationError: unable to pull secrets or registry auth: .*\/missing/);
    expect(h.fake.find("app", bad.taskArn)).toBeUndefined();
  });

  it("ships awslogs containers with the resolved secretOptions and the execution role", async () => {
    const h = setup({ secrets: { "/logs/key": "k" } });
    const task = await start(
      h,
      [
        {
          ...IDLE,
          logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": "g", "awslogs-stream-prefix": "p" }, secretOptions: [{ name: "extra", valueFrom: "/logs/key" }] },
        },
        { name: "plain", image: IMAGE, essential: false },
      ],
      { executionRoleArn: EXEC_ROLE },
    );
    expect(h.shipped).toEqual([
      {
        dockerId: container(task, "app").runtimeId,
        containerName: "app",
        taskArn: task.taskArn,
        executionRoleArn: EXEC_ROLE,
        logOptions: { "awslogs-group": "g", "awslogs-stream-prefix": "p", extra: "k" },
        onSent: expect.any(Function),
      },
    ]);
  });

  it("serves a live snapshot from engine state, still answers after the stop, and forgets the task on purge", async () => {
    const h = setup({ retentionMs: 0 });
    const task = await start(
      h,
      [
        { ...IDLE, cpu: 100, dockerLabels: { team: "a" }, logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": "g", "awslogs-stream-prefix": "p" } } },
        { name: "side", image: IMAGE, essential: false, healthCheck: { command: ["CMD", "true"] } },
      ],
      { taskRoleArn: TASK_ROLE },
    );
    const arn = task.taskArn!;
    const id = endpointIdOf(h, task, "app");
    const ctx = h.bridge.resolveEndpoint(id)!;
    expect(ctx).toMatchObject({ taskArn: arn, containerName: "app" });

    h.fake.exit(container(task, "side").runtimeId!, 3);
    await h.engine.waitFor(arn, (t) => container(t, "side").lastStatus === "STOPPED", T);
    const snap = ctx.snapshot()!;
    const json = buildTaskResponse(snap, "v4", true);
    expect(json).toMatchObject({ TaskARN: arn, KnownStatus: "RUNNING", DesiredStatus: "RUNNING", Cluster: "default", TaskTags: {} });
    const byName = Object.fromEntries((json["Containers"] as Array<Record<string, any>>).map((c) => [c["Name"], c]));
    expect(byName["side"]).toMatchObject({ KnownStatus: "STOPPED", DesiredStatus: "RUNNING", ExitCode: 3, Health: {}, Limits: { CPU: 2, Memory: 0 } });
    const app = byName["app"]!;
    expect(app).toMatchObject({
      DockerId: container(task, "app").runtimeId,
      DockerName: h.fake.find("app", arn)!.name,
      Image: IMAGE,
      ImageID: expect.stringMatching(/^sha256:/),
      KnownStatus: "RUNNING",
      Limits: { CPU: 100, Memory: 64 },
      Type: "NORMAL",
      ContainerARN: container(task, "app").containerArn,
      LogDriver: "awslogs",
      LogOptions: { "awslogs-group": "g", "awslogs-stream": `p/app/${arn.split("/").at(-1)}` },
      Labels: { team: "a", "com.amazonaws.ecs.container-name": "app", "com.amazonaws.ecs.task-arn": arn, "com.amazonaws.ecs.cluster": "default" },
    });
    expect(app["CreatedAt"]).toEqual(expect.any(String));
    expect(app["StartedAt"]).toEqual(expect.any(String));
    expect(app["Networks"][0]).toMatchObject({ NetworkMode: expect.stringMatching(/^ecs-task-/) });
    expect(buildContainerResponse(snap, snap.containers.find((c) => c.name === "app")!, "v4")).toMatchObject({ Name: "app" });

    const credsId = envOf(h, task, "app")["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"]!.replace("/v2/credentials/", "");
    h.protection.update(arn, true, 60);
    h.engine.stopTask(arn);
    await h.engine.waitFor(arn, isStatus("STOPPED"), T);
    expect(buildTaskResponse(h.bridge.resolveEndpoint(id)!.snapshot()!, "v4")).toMatchObject({ KnownStatus: "STOPPED", DesiredStatus: "STOPPED" });
    expect(h.registry.lookup(credsId)).toBeUndefined();
    expect(h.protection.get(arn).protectionEnabled).toBe(false);

    // Retention 0: purged as soon as the clock has moved past stoppedAt.
    const purged = await until("purge", () => {
      const p = h.engine.purge();
      return p.length > 0 ? p : undefined;
    }, T);
    expect(purged).toContain(arn);
    expect(h.bridge.resolveEndpoint(id)).toBeUndefined();
  });

  it("lists the awsvpc pause container as CNI_PAUSE and reports the task's ENI address", async () => {
    const h = setup();
    const task = await start(h, [IDLE], { networkMode: "awsvpc" }, { networkConfiguration: { awsvpcConfiguration: { subnets: ["subnet-1"] } } });
    const snap = h.bridge.resolveEndpoint(endpointIdOf(h, task, "app"))!.snapshot()!;
    const json = buildTaskResponse(snap, "v4");
    const pause = (json["Containers"] as Array<Record<string, any>>).find((c) => c["Type"] === "CNI_PAUSE");
    expect(pause).toMatchObject({ Name: "~internal~ecs~pause", KnownStatus: "RESOURCES_PROVISIONED", Limits: { CPU: 0, Memory: 0 } });
    const app = (json["Containers"] as Array<Record<string, any>>).find((c) => c["Name"] === "app")!;
    expect(app["Networks"]).toEqual([{ NetworkMode: "awsvpc", IPv4Addresses: pause!["Networks"][0].IPv4Addresses }]);
    // The pause container carries the endpoint network for the whole task.
    const pauseId = pause!["DockerId"] as string;
    expect(Object.keys(h.fake.containers.get(pauseId)!.networks)).toContain(NETWORK);
  });

  it("after a restart, re-adopted containers keep their endpoint ids, credentials ids, address and token", async () => {
    const db = openDatabase(":memory:");
    const fake = new FakeRuntime();
    const first = setup({ db, fake, baseUrl: "http://169.254.170.2:40001", token: "first-token" });
    const task = await start(first, [IDLE], { taskRoleArn: TASK_ROLE });
    const env = envOf(first, task, "app");
    const id = endpointIdOf(first, task, "app");
    const credsId = env["AWS_CONTAINER_CREDENTIALS_FULL_URI"]!.split("/").at(-1)!;
    expect(env["AWS_CONTAINER_AUTHORIZATION_TOKEN"]).toBe("first-token");
    await cleanups.pop()!();

    const second = setup({ db, fake, baseUrl: "http://169.254.170.2:40002", token: "second-token" });
    await second.engine.start();
    await second.bridge.ready;
    expect(second.bridge.resolveEndpoint(id)?.snapshot()?.task.taskArn).toBe(task.taskArn);
    expect(second.registry.lookup(credsId)).toMatchObject({ taskArn: task.taskArn, roleArn: TASK_ROLE, kind: "task" });
    expect(second.listened).toEqual([{ port: 40001, host: "169.254.170.2" }]);
    expect(second.tokens).toEqual(["first-token"]);

    // New tasks get the new address but the kept token, so one token check serves every container.
    const next = second.engine.runTask(spec(taskDefinition([IDLE], { taskRoleArn: TASK_ROLE })));
    await second.engine.waitFor(next.taskArn!, isStatus("RUNNING"), T);
    expect(envOf(second, next, "app")).toMatchObject({
      AWS_CONTAINER_AUTHORIZATION_TOKEN: "first-token",
      ECS_CONTAINER_METADATA_URI_V4: expect.stringMatching(/^http:\/\/169\.254\.170\.2:40002\/v4\//),
    });
  });

  it("drops persisted ids of tasks that are gone or stopped when it starts", async () => {
    const db = openDatabase(":memory:");
    const fake = new FakeRuntime();
    const first = setup({ db, fake });
    const task = await start(first, [IDLE], { taskRoleArn: TASK_ROLE });
    const id = endpointIdOf(first, task, "app");
    first.engine.stopTask(task.taskArn!);
    await first.engine.waitFor(task.taskArn!, isStatus("STOPPED"), T);
    await cleanups.pop()!();

    const second = setup({ db, fake });
    // Stopped but not purged: metadata answers, credentials do not.
    expect(second.bridge.resolveEndpoint(id)).toBeDefined();
    expect(second.registry.idsForTask(task.taskArn!)).toEqual([]);
    db.prepare("DELETE FROM tasks").run();
    await cleanups.pop()!();
    const third = setup({ db, fake });
    expect(third.bridge.resolveEndpoint(id)).toBeUndefined();
    expect(db.prepare("SELECT COUNT(*) AS n FROM agent_endpoint_ids").get()?.["n"]).toBe(0);
  });

  it("after a restart, resumes awslogs shipping of re-adopted containers from the persisted cursor", async () => {
    const db = openDatabase(":memory:");
    const fake = new FakeRuntime();
    const secrets = { "/logs/key": "k" };
    const logged: ContainerDefinition = {
      ...IDLE,
      logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": "g" }, secretOptions: [{ name: "extra", valueFrom: "/logs/key" }] },
    };
    const first = setup({ db, fake, secrets });
    const task = await start(first, [logged, { name: "quiet", image: IMAGE, essential: false }], { executionRoleArn: EXEC_ROLE });
    const dockerId = container(task, "app").runtimeId!;
    expect(first.shipped.map((s) => s.dockerId)).toEqual([dockerId]);
    expect(first.shipped[0]?.after).toBeUndefined();
    first.shipped[0]!.onSent!({ timestamp: 1_700_000_000_123, nanos: 456_789, part: 0 });
    first.shipped[0]!.onSent!({ timestamp: 1_700_000_000_500, nanos: 1, part: 1 });
    // A record of a task the engine no longer knows is dropped, not resumed.
    db.prepare("INSERT INTO agent_log_shipments (docker_id, task_arn, container_name) VALUES ('old', 'arn:aws:ecs:us-east-1:1:task/default/gone', 'app')").run();
    await cleanups.pop()!();

    const second = setup({ db, fake, secrets });
    await second.bridge.resumed;
    expect(second.shipped).toEqual([
      {
        dockerId,
        containerName: "app",
        taskArn: task.taskArn,
        executionRoleArn: EXEC_ROLE,
        logOptions: { "awslogs-group": "g", extra: "k" },
        after: { timestamp: 1_700_000_000_500, nanos: 1, part: 1 },
        onSent: expect.any(Function),
      },
    ]);
    // Only the secret log option is fetched again, with the execution role.
    expect(second.secretCalls).toEqual([
      { def: { name: "app", logConfiguration: { secretOptions: [{ name: "extra", valueFrom: "/logs/key" }] } }, ctx: { taskArn: task.taskArn, executionRoleArn: EXEC_ROLE, region: "us-east-1" } },
    ]);
    const rows = db.prepare("SELECT docker_id FROM agent_log_shipments").all().map((r) => r["docker_id"]);
    expect(rows).toEqual([dockerId]);
  });

  it("after a restart, resumes shipping only once the engine has re-adopted the containers it reads", async () => {
    const db = openDatabase(":memory:");
    const fake = new FakeRuntime();
    const first = setup({ db, fake });
    const task = await start(first, [{ ...IDLE, logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": "g" } } }]);
    await cleanups.pop()!();

    let adopted: () => void = () => {};
    const second = setup({ db, fake, resumeAfter: new Promise<void>((resolve) => (adopted = resolve)) });
    await second.bridge.ready;
    await new Promise((r) => setImmediate(r));
    expect(second.shipped).toEqual([]);
    await second.engine.start();
    adopted();
    await second.bridge.resumed;
    expect(second.shipped.map((s) => s.dockerId)).toEqual([container(task, "app").runtimeId]);
  });

  it("forgets a container's shipping once all of its output was sent", async () => {
    const h = setup({ shipOutcome: "ended" });
    await start(h, [{ ...IDLE, logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": "g" } } }]);
    expect(h.shipped).toHaveLength(1);
    await until("the shipping record dropped", () => (h.db.prepare("SELECT COUNT(*) AS n FROM agent_log_shipments").get()?.["n"] === 0 ? true : undefined), T);
    const again = setup({ db: h.db, fake: h.fake });
    await again.bridge.resumed;
    expect(again.shipped).toEqual([]);
  });
});
