// GetTaskProtection / UpdateTaskProtection over real engine tasks (fake container runtime), sharing one
// store with the agent's ECS_AGENT_URI/task-protection/v1/state endpoint.
import { afterEach, describe, expect, it } from "vitest";
import { ClusterNotFoundException, InvalidParameterException } from "../../generated/errors.ts";
import type { EcsOperations } from "../../generated/operations.ts";
import type { OperationContext } from "../../src/operations/context.ts";
import { taskProtectionOperations } from "../../src/operations/task-protection.ts";
import { createAgentServer, type AgentServer } from "../../src/runtime/agent/agent-server.ts";
import { CredentialsRegistry } from "../../src/runtime/agent/credentials-registry.ts";
import { MemoryTaskProtectionStore } from "../../src/runtime/agent/task-protection-store.ts";
import type { TimeSource } from "../../src/runtime/clock.ts";
import { silentLogger } from "../../src/runtime/logger.ts";
import { ClusterStore } from "../../src/runtime/store/cluster-store.ts";
import { FakeBackend } from "../support/fake-backend.ts";
import { arns, isStatus, makeEngine, spec, taskDefinition } from "../runtime/engine/engine-fixture.ts";

const IMAGE = "example/app:1";
const NOW = new Date("2024-05-06T07:08:09.000Z");
const ctx: OperationContext = { requestId: "r", region: "us-east-1", accessKeyId: undefined };

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

type Ops = Required<Pick<EcsOperations<OperationContext>, "getTaskProtection" | "updateTaskProtection">>;

async function setup() {
  const fake = new FakeBackend();
  fake.images.add(IMAGE);
  const { engine, db } = makeEngine(fake);
  await engine.start();
  cleanups.push(() => engine.close());
  const clock: TimeSource = { now: () => NOW };
  const protection = new MemoryTaskProtectionStore(clock);
  const clusters = new ClusterStore(db, arns);
  clusters.save(clusters.newCluster("other"));
  const ops = taskProtectionOperations({ arns }, { engine, protection, clusters }) as Ops;
  const run = async (clusterName = "default"): Promise<string> => {
    const task = engine.runTask(spec(taskDefinition([{ name: "app", image: IMAGE, memory: 32 }]), { clusterName, clusterArn: arns.cluster(clusterName) }));
    await engine.waitFor(task.taskArn!, isStatus("RUNNING"), 5000);
    return task.taskArn!;
  };
  return { engine, ops, protection, run };
}

async function agentEndpoint(taskArn: string, protection: MemoryTaskProtectionStore): Promise<{ url: string; server: AgentServer }> {
  const server = createAgentServer({
    resolveEndpoint: (id) => (id === "e1" ? { taskArn, containerName: "app", snapshot: () => undefined } : undefined),
    registry: new CredentialsRegistry(),
    credentials: { get: async () => Promise.reject(new Error("unused")), peek: () => undefined },
    protection,
    logger: silentLogger,
  });
  const addr = await server.listen(0, "127.0.0.1");
  cleanups.push(() => server.close());
  return { url: `http://127.0.0.1:${addr.port}/api/e1/task-protection/v1/state`, server };
}

describe("task protection operations", () => {
  it("enables protection for 120 minutes by default, by task id or ARN, and Get reports it", async () => {
    const { ops, run } = await setup();
    const arn = await run();
    const id = arn.split("/").at(-1)!;
    const updated = await ops.updateTaskProtection({ cluster: "default", tasks: [id], protectionEnabled: true }, ctx);
    expect(updated).toEqual({
      protectedTasks: [{ taskArn: arn, protectionEnabled: true, expirationDate: new Date(NOW.getTime() + 120 * 60_000) }],
      failures: [],
    });
    const got = await ops.getTaskProtection({ cluster: arns.cluster("default"), tasks: [arn, id] }, ctx);
    expect(got).toEqual({ protectedTasks: updated.protectedTasks, failures: [] });
  });

  it("honours expiresInMinutes up to 2880 and rejects values outside 1..2880", async () => {
    const { ops, run } = await setup();
    const arn = await run();
    const out = await ops.updateTaskProtection({ cluster: "default", tasks: [arn], protectionEnabled: true, expiresInMinutes: 2880 }, ctx);
    expect(out.protectedTasks?.[0]?.expirationDate).toEqual(new Date(NOW.getTime() + 2880 * 60_000));
    for (const bad of [0, 2881, 1.5]) {
      await expect(ops.updateTaskProtection({ cluster: "default", tasks: [arn], protectionEnabled: true, expiresInMinutes: bad }, ctx)).rejects.toBeInstanceOf(
        InvalidParameterException,
      );
    }
    // Disabling ignores expiresInMinutes and clears the expiration.
    const off = await ops.updateTaskProtection({ cluster: "default", tasks: [arn], protectionEnabled: false, expiresInMinutes: 9999 }, ctx);
    expect(off.protectedTasks).toEqual([{ taskArn: arn, protectionEnabled: false }]);
  });

  it("reports unknown tasks and tasks of another cluster as MISSING, stopped tasks as TASK_NOT_VALID", async () => {
    const { engine, ops, run } = await setup();
    const mine = await run();
    const elsewhere = await run("other");
    const stopped = await run();
    engine.stopTask(stopped);
    await engine.waitFor(stopped, isStatus("STOPPED"), 5000);
    const unknown = arns.task("default", "0".repeat(32));

    const out = await ops.updateTaskProtection({ cluster: "default", tasks: [mine, elsewhere, stopped, unknown], protectionEnabled: true }, ctx);
    expect(out.protectedTasks?.map((t) => t.taskArn)).toEqual([mine]);
    expect(out.failures).toEqual([
      { arn: elsewhere, reason: "MISSING" },
      { arn: stopped, reason: "TASK_NOT_VALID", detail: expect.any(String) },
      { arn: unknown, reason: "MISSING" },
    ]);
    const got = await ops.getTaskProtection({ cluster: "default", tasks: [unknown, stopped] }, ctx);
    expect(got).toEqual({ protectedTasks: [{ taskArn: stopped, protectionEnabled: false }], failures: [{ arn: unknown, reason: "MISSING" }] });
  });

  it("throws ClusterNotFoundException for an unknown cluster and InvalidParameterException for empty or too many tasks", async () => {
    const { ops, run } = await setup();
    const arn = await run();
    await expect(ops.getTaskProtection({ cluster: "nope", tasks: [arn] }, ctx)).rejects.toBeInstanceOf(ClusterNotFoundException);
    await expect(ops.updateTaskProtection({ cluster: "default", tasks: [], protectionEnabled: true }, ctx)).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(
      ops.updateTaskProtection({ cluster: "default", tasks: Array.from({ length: 11 }, () => arn), protectionEnabled: true }, ctx),
    ).rejects.toBeInstanceOf(InvalidParameterException);
  });

  it("agrees with the agent endpoint in both directions", async () => {
    const { ops, protection, run } = await setup();
    const arn = await run();
    const { url } = await agentEndpoint(arn, protection);

    await ops.updateTaskProtection({ cluster: "default", tasks: [arn], protectionEnabled: true, expiresInMinutes: 30 }, ctx);
    const seen = (await (await fetch(url)).json()) as { protection: Record<string, unknown> };
    expect(seen.protection).toMatchObject({ ProtectionEnabled: true, TaskArn: arn });
    expect(new Date(String(seen.protection["ExpirationDate"]))).toEqual(new Date(NOW.getTime() + 30 * 60_000));

    const put = await fetch(url, { method: "PUT", body: JSON.stringify({ ProtectionEnabled: false }) });
    expect(put.status).toBe(200);
    expect((await ops.getTaskProtection({ cluster: "default", tasks: [arn] }, ctx)).protectedTasks).toEqual([{ taskArn: arn, protectionEnabled: false }]);
  });
});

