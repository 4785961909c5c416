import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../../../src/runtime/logger.ts";
import { POOL_OWNER_LABEL, TaskNetworkPool, type TaskNetworkPoolOptions } from "../../../../src/runtime/backend/docker/task-network-pool.ts";
import type { TaskEngine } from "../../../../src/runtime/engine/task-engine.ts";
import { FakeRuntime } from "../../../support/fake-runtime.ts";
import { CLUSTER_ARN, container, dockerBackend, isStatus, makeEngine, spec, taskDefinition } from "../../engine/engine-fixture.ts";

const IMAGE = "example/app:1";
const T = 5_000;
const CLUSTER_LABEL = "com.amazonaws.ecs.cluster";

function pool(fake: FakeRuntime, options: Partial<TaskNetworkPoolOptions> = {}): TaskNetworkPool {
  return new TaskNetworkPool(fake, silentLogger, { owner: "me", ...options });
}

const creates = (fake: FakeRuntime): string[] => fake.calls.filter((c) => c.startsWith("network-create"));
const removes = (fake: FakeRuntime): string[] => fake.calls.filter((c) => c.startsWith("network-remove"));

describe("TaskNetworkPool", () => {
  it("creates a labelled network when none is idle, then hands out the spares it replenished", async () => {
    const fake = new FakeRuntime();
    const p = pool(fake, { spare: 2 });
    const first = await p.acquire("c1");
    expect(first).toMatch(/^ecs-task-net-[0-9a-f]{12}$/);
    expect(fake.networks.get(first)?.labels).toEqual({ "local-ecs-api.managed": "true", [CLUSTER_LABEL]: "c1", [POOL_OWNER_LABEL]: "me" });
    await p.replenish("c1");
    expect(p.stats().idle).toEqual({ c1: 2 });
    expect(creates(fake)).toHaveLength(3);

    const second = await p.acquire("c1");
    const third = await p.acquire("c1");
    expect(new Set([first, second, third]).size).toBe(3);
    expect(creates(fake)).toHaveLength(3);
    // Spares belong to their cluster.
    await p.acquire("c2");
    expect(creates(fake)).toHaveLength(4);
    expect(p.stats()).toMatchObject({ created: 4, reused: 2 });
  });

  it("recycles an empty network up to the caps and removes the rest", async () => {
    const fake = new FakeRuntime();
    const p = pool(fake, { spare: 1, maxIdlePerCluster: 2, maxIdle: 3 });
    const nets = await Promise.all([1, 2, 3, 4, 5].map(() => p.acquire("c1")));
    for (const n of nets.slice(0, 3)) await p.release("c1", n);
    expect(p.stats().idle).toEqual({ c1: 2 });
    expect(removes(fake)).toEqual([`network-remove ${nets[2]}`]);
    const other = await p.acquire("c2");
    await p.release("c2", other);
    expect(p.stats().idle).toEqual({ c1: 2, c2: 1 });
    // The overall cap (3) is reached: c3 is under its own cap, yet its network is removed.
    const third = await p.acquire("c3");
    await p.release("c3", third);
    expect(p.stats().idle).toEqual({ c1: 2, c2: 1 });
    expect(fake.networks.has(third)).toBe(false);
    expect(p.stats()).toMatchObject({ recycled: 3, removed: 2 });
  });

  it("never recycles a network with a container on it, another owner's, or another cluster's", async () => {
    const fake = new FakeRuntime();
    fake.images.add(IMAGE);
    const p = pool(fake);
    const busy = await p.acquire("c1");
    const id = await fake.createContainer({ Image: IMAGE, HostConfig: { NetworkMode: busy }, Labels: {} });
    await p.release("c1", busy);
    expect(fake.networks.has(busy)).toBe(false);
    expect(fake.containers.get(id)?.networks).toEqual({});

    await fake.createNetwork("foreign", { [POOL_OWNER_LABEL]: "someone-else", [CLUSTER_LABEL]: "c1" });
    await fake.createNetwork("ecs-task-0123", { [CLUSTER_LABEL]: "c1" });
    const mine = await p.acquire("c1");
    await p.release("c1", "foreign");
    await p.release("c1", "ecs-task-0123");
    await p.release("c2", mine);
    expect(fake.networks.size).toBe(0);
    expect(p.stats().idle).toEqual({});
    // Gone already: nothing to do.
    await expect(p.release("c1", "never-existed")).resolves.toBeUndefined();
  });

  it("a network with a running container cannot be released (the caller keeps it for clean-up)", async () => {
    const fake = new FakeRuntime();
    fake.images.add(IMAGE);
    const p = pool(fake);
    const net = await p.acquire("c1");
    const id = await fake.createContainer({ Image: IMAGE, HostConfig: { NetworkMode: net }, Labels: {} });
    await fake.startContainer(id);
    await expect(p.release("c1", net)).rejects.toThrow(/active endpoints/);
    expect(p.stats().idle).toEqual({});
  });

  it("adopts its own idle leftovers at start-up, removes busy ones, leaves in-use and foreign networks alone", async () => {
    const fake = new FakeRuntime();
    fake.images.add(IMAGE);
    const before = pool(fake, { spare: 0 });
    const [idle, used, stale] = await Promise.all([before.acquire("c1"), before.acquire("c1"), before.acquire("c1")]);
    await fake.createContainer({ Image: IMAGE, HostConfig: { NetworkMode: stale! }, Labels: {} });
    await fake.createNetwork("foreign", { [POOL_OWNER_LABEL]: "someone-else", [CLUSTER_LABEL]: "c1" });

    const after = pool(fake, { spare: 0 });
    // A task of the new instance got a network while adoption was still listing: left alone too.
    const fresh = await after.acquire("c1");
    await after.adopt((name) => name === used);
    expect(after.stats().idle).toEqual({ c1: 1 });
    expect([...fake.networks.keys()].sort()).toEqual([idle!, used!, fresh, "foreign"].sort());
    expect(await after.acquire("c1")).toBe(idle);
  });

  it("close removes the idle networks, waits for replenishment, and later releases remove", async () => {
    const fake = new FakeRuntime();
    const p = pool(fake, { spare: 2 });
    const out = await p.acquire("c1");
    const filling = p.replenish("c1");
    await p.close();
    await filling;
    expect([...fake.networks.keys()]).toEqual([out]);
    await p.release("c1", out);
    expect(fake.networks.size).toBe(0);
    await p.replenish("c1");
    expect(fake.networks.size).toBe(0);
  });
});

describe("TaskEngine with the network pool (fake runtime)", () => {
  let engines: TaskEngine[] = [];
  afterEach(async () => {
    for (const e of engines) await e.close();
    engines = [];
  });

  async function setup(options: Parameters<typeof makeEngine>[1] & { pool?: TaskNetworkPoolOptions } = {}, fake = new FakeRuntime()) {
    fake.images.add(IMAGE);
    const made = makeEngine(dockerBackend(fake, options.pool === undefined ? {} : { networkPool: options.pool }), options);
    engines.push(made.engine);
    await made.engine.start();
    return { fake, ...made };
  }

  const networkOf = (fake: FakeRuntime, taskArn: string, name = "app"): string => fake.find(name, taskArn)?.options.HostConfig?.NetworkMode ?? "";

  it("a task started after one reached RUNNING takes a spare network; a stopped task's network is recycled", async () => {
    const { fake, engine } = await setup({ pool: { owner: "t1", spare: 1, maxIdlePerCluster: 2 } });
    const td = taskDefinition([{ name: "app", image: IMAGE }]);
    const a = engine.runTask(spec(td));
    await engine.waitFor(a.taskArn!, isStatus("RUNNING"), T);
    // The spare is made after RUNNING, in the background.
    await until(() => creates(fake).length === 2);

    const b = engine.runTask(spec(td));
    await engine.waitFor(b.taskArn!, isStatus("RUNNING"), T);
    expect(creates(fake)).toHaveLength(2);
    expect(networkOf(fake, b.taskArn!)).not.toBe(networkOf(fake, a.taskArn!));
    await until(() => creates(fake).length === 3); // b's RUNNING topped the pool up again

    const netA = networkOf(fake, a.taskArn!);
    engine.stopTask(a.taskArn!);
    const stopped = await engine.waitFor(a.taskArn!, isStatus("STOPPED"), T);
    expect(container(stopped, "app").lastStatus).toBe("STOPPED");
    // Disconnected from the stopped container, kept for the next task.
    expect(fake.find("app", a.taskArn)!.networks).toEqual({});
    expect(await fake.inspectNetwork(netA)).toMatchObject({ containers: [] });

    const next: string[] = [];
    for (let i = 0; i < 2; i++) {
      const t = engine.runTask(spec(td));
      await engine.waitFor(t.taskArn!, isStatus("RUNNING"), T);
      next.push(networkOf(fake, t.taskArn!));
    }
    expect(next).toContain(netA);
    expect(next).not.toContain(networkOf(fake, b.taskArn!));
  });

  it("container clean-up does not remove a network that went back to the pool", async () => {
    const { fake, engine } = await setup({ cleanupDelayMs: 0, pool: { owner: "t2", spare: 0 } });
    const td = taskDefinition([{ name: "app", image: IMAGE }]);
    const a = engine.runTask(spec(td));
    await engine.waitFor(a.taskArn!, isStatus("RUNNING"), T);
    const netA = networkOf(fake, a.taskArn!);
    engine.stopTask(a.taskArn!);
    await engine.waitFor(a.taskArn!, isStatus("STOPPED"), T);
    await until(() => fake.find("app", a.taskArn) === undefined);
    expect(fake.networks.has(netA)).toBe(true);

    const b = engine.runTask(spec(td));
    await engine.waitFor(b.taskArn!, isStatus("RUNNING"), T);
    expect(networkOf(fake, b.taskArn!)).toBe(netA);
    expect(creates(fake)).toHaveLength(1);
    expect(engine.runtimeFacts(b.taskArn!)?.networkName).toBe(netA);
  });

  it("close removes idle networks; a restarted engine of the same owner takes back what was left", async () => {
    const fake = new FakeRuntime();
    const { engine, db } = await setup({ pool: { owner: "t3", spare: 2 } }, fake);
    const td = taskDefinition([{ name: "app", image: IMAGE }]);
    const a = engine.runTask(spec(td));
    await engine.waitFor(a.taskArn!, isStatus("RUNNING"), T);
    await until(() => creates(fake).length === 3);
    const netA = networkOf(fake, a.taskArn!);
    await engine.close();
    engines = engines.filter((e) => e !== engine);
    // The running task's network stays; the two spares are gone.
    expect([...fake.networks.keys()]).toEqual([netA]);

    // A crash leaves an idle network behind; the next engine (same owner) adopts it.
    await fake.createNetwork("ecs-task-net-leftover", { "local-ecs-api.managed": "true", [CLUSTER_LABEL]: "default", [POOL_OWNER_LABEL]: "t3" });
    const again = await setup({ db, pool: { owner: "t3", spare: 0 } }, fake);
    await until(() => fake.calls.length > 0 && again.engine.runtimeState(a.taskArn!) !== undefined);
    const b = again.engine.runTask(spec(td));
    await again.engine.waitFor(b.taskArn!, isStatus("RUNNING"), T);
    expect(networkOf(fake, b.taskArn!)).toBe("ecs-task-net-leftover");
    // The re-adopted task keeps its network.
    expect(again.engine.runtimeFacts(a.taskArn!)?.networkName).toBe(netA);
    expect(fake.networks.has(netA)).toBe(true);
  });

  it("awsvpc tasks use pooled networks too, and release them after the pause container is gone", async () => {
    const { fake, engine } = await setup({ pool: { owner: "t4", spare: 0 } });
    const td = taskDefinition([{ name: "app", image: IMAGE }], { networkMode: "awsvpc" });
    const a = engine.runTask(spec(td, { clusterArn: CLUSTER_ARN, networkConfiguration: { awsvpcConfiguration: { subnets: ["s"] } } }));
    await engine.waitFor(a.taskArn!, isStatus("RUNNING"), T);
    const net = engine.runtimeFacts(a.taskArn!)?.networkName ?? "";
    expect(net).toMatch(/^ecs-task-net-/);
    engine.stopTask(a.taskArn!);
    await engine.waitFor(a.taskArn!, isStatus("STOPPED"), T);
    expect(await fake.inspectNetwork(net)).toMatchObject({ containers: [] });
  });
});

/** Deadline-bounded poll for background work the engine does not signal. */
async function until(check: () => boolean, timeoutMs = T): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setImmediate(r));
  }
}
