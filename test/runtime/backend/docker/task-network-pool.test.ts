import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../../../src/runtime/logger.ts";
import { POOL_OWNER_LABEL, TaskNetworkPool, type TaskNetworkPoolOptions } from "../../../../src/runtime/backend/docker/task-network-pool.ts";
import { POOL_LEASE_LABEL, type Liveness, type OwnerLease } from "../../../../src/runtime/backend/docker/task-network-lease.ts";
import { SubnetPoolExhaustedError } from "../../../../src/runtime/backend/docker/container-runtime.ts";
import type { TaskEngine } from "../../../../src/runtime/engine/task-engine.ts";
import { FakeRuntime } from "../../../support/fake-runtime.ts";
import { CLUSTER_ARN, container, dockerBackend, isStatus, makeEngine, spec, taskDefinition } from "../../engine/engine-fixture.ts";

const IMAGE = "example/app:1";
const T = 5_000;
const CLUSTER_LABEL = "com.amazonaws.ecs.cluster";

/** Leases decided by the test: `live` says which holders still run. */
function lease(own: string, live: Record<string, Liveness> = {}): OwnerLease {
  return { own: async () => own, liveness: async (l) => (l === own ? "alive" : (live[l] ?? "unknown")) };
}

function pool(fake: FakeRuntime, options: Partial<TaskNetworkPoolOptions> = {}): TaskNetworkPool {
  return new TaskNetworkPool(fake, silentLogger, { owner: "me", lease: lease("lease:me"), ...options });
}

/** A Docker engine whose task subnet pool holds `size` networks. */
class SmallSubnetPool extends FakeRuntime {
  readonly #size: number;
  constructor(size: number) {
    super();
    this.#size = size;
  }
  override async createNetwork(name: string, labels: Record<string, string>): Promise<string> {
    if (this.networks.size >= this.#size) throw new SubnetPoolExhaustedError(`no free /24 subnet left in TASK_SUBNET_POOL (10.214.4.0/22): all ${this.#size} are taken`, "10.214.4.0/22");
    return super.createNetwork(name, labels);
  }
}

const creates = (fake: FakeRuntime): string[] => fake.calls.filter((c) => c.startsWith("network-create"));
const removes = (fake: FakeRuntime): string[] => fake.calls.filter((c) => c.startsWith("network-remove"));

describe("TaskNetworkPool", () => {
  it("creates a labelled network when none is idle, then hands out the spares it replenished", async () => {
    const fake = new FakeRuntime();
    const p = pool(fake, { spare: 2 });
    const first = await p.acquire("c1");
    expect(first).toMatch(/^ecs-task-net-[0-9a-f]{12}$/);
    expect(fake.networks.get(first)?.labels).toEqual({
      "local-ecs-api.managed": "true",
      [CLUSTER_LABEL]: "c1",
      [POOL_OWNER_LABEL]: "me",
      [POOL_LEASE_LABEL]: "lease:me",
    });
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

  it("at start-up removes what an earlier run of its owner left idle, never in-use or live networks", async () => {
    const fake = new FakeRuntime();
    fake.images.add(IMAGE);
    const before = pool(fake, { spare: 0, lease: lease("lease:before") });
    const [idle, used, running] = await Promise.all([1, 2, 3].map(() => before.acquire("c1")));
    await fake.startContainer(await fake.createContainer({ Image: IMAGE, HostConfig: { NetworkMode: running! }, Labels: {} }));
    await fake.createNetwork("foreign-live", { [POOL_OWNER_LABEL]: "someone-else", [CLUSTER_LABEL]: "c1", [POOL_LEASE_LABEL]: "lease:live" });

    const after = pool(fake, { spare: 0, lease: lease("lease:after", { "lease:before": "dead", "lease:live": "alive" }) });
    // A task of the new instance got a network while adoption was still listing: left alone too.
    const fresh = await after.acquire("c1");
    await after.adopt((name) => name === used);
    expect(after.stats().idle).toEqual({});
    expect([...fake.networks.keys()].sort()).toEqual([used!, running!, fresh, "foreign-live"].sort());
    expect(fake.networks.has(idle!)).toBe(false);
    // The in-use one carries the dead lease: when its task ends it is removed, not pooled.
    await after.release("c1", used!);
    expect(fake.networks.has(used!)).toBe(false);
    expect(after.stats().idle).toEqual({});
  });

  it("reclaims other servers' idle networks whose holder is dead, leaving live and unknown holders alone", async () => {
    const fake = new FakeRuntime();
    fake.images.add(IMAGE);
    const net = (name: string, holder: string | undefined) =>
      fake.createNetwork(name, { [POOL_OWNER_LABEL]: `owner-of-${name}`, [CLUSTER_LABEL]: "c1", ...(holder === undefined ? {} : { [POOL_LEASE_LABEL]: holder }) });
    await net("dead-idle", "lease:dead");
    await net("dead-busy", "lease:dead");
    await fake.startContainer(await fake.createContainer({ Image: IMAGE, HostConfig: { NetworkMode: "dead-busy" }, Labels: {} }));
    await net("live", "lease:live");
    await net("unknown", "lease:elsewhere");
    await net("legacy", undefined);
    await fake.createNetwork("not-pooled", { [CLUSTER_LABEL]: "c1" });

    const p = pool(fake, { lease: lease("lease:me", { "lease:dead": "dead", "lease:live": "alive" }) });
    await p.adopt(() => false);
    expect([...fake.networks.keys()].sort()).toEqual(["dead-busy", "legacy", "live", "not-pooled", "unknown"]);
    expect(p.stats().reclaimed).toBe(1);
    // Versions without a lease only lose their idle networks when the subnet pool is full, and only those
    // in its range: elsewhere they would free nothing (and may be a live older server's spares).
    await net("legacy-elsewhere", undefined);
    fake.networks.get("legacy")!.subnets = ["10.213.7.0/24"];
    fake.networks.get("legacy-elsewhere")!.subnets = ["172.18.0.0/16"];
    expect(await p.reclaim({ legacyWithin: "10.213.0.0/16" })).toBe(1);
    expect(fake.networks.has("legacy")).toBe(false);
    expect(fake.networks.has("legacy-elsewhere")).toBe(true);
  });

  it("a full subnet pool reclaims dead holders' networks, then borrows an idle network, then fails naming TASK_SUBNET_POOL", async () => {
    const fake = new SmallSubnetPool(3);
    const dead = lease("lease:dead");
    const killed = pool(fake, { owner: "killed", spare: 0, lease: dead });
    await Promise.all([killed.acquire("c1"), killed.acquire("c1")]);

    const p = pool(fake, { spare: 1, lease: lease("lease:me", { "lease:dead": "dead" }) });
    const a = await p.acquire("c1");
    // Full (3): the two networks of the dead server go.
    const b = await p.acquire("c2");
    expect(p.stats().reclaimed).toBe(2);
    await p.replenish("c2");
    expect(p.stats().idle).toEqual({ c2: 1 });
    // Full again, nothing left to reclaim: c3 borrows c2's spare.
    const c = await p.acquire("c3");
    expect(p.stats().idle).toEqual({});
    expect(new Set([a, b, c]).size).toBe(3);
    await expect(p.acquire("c4")).rejects.toThrow(/TASK_SUBNET_POOL/);
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

  it("close removes idle networks; a restarted engine of the same owner removes what was left", async () => {
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

    // A crash leaves an idle network behind; the next engine (same owner) removes it: another server may
    // be reclaiming it at the same moment, so it is never handed out again.
    await fake.createNetwork("ecs-task-net-leftover", { "local-ecs-api.managed": "true", [CLUSTER_LABEL]: "default", [POOL_OWNER_LABEL]: "t3" });
    const again = await setup({ db, pool: { owner: "t3", spare: 0 } }, fake);
    await until(() => !fake.networks.has("ecs-task-net-leftover"));
    const b = again.engine.runTask(spec(td));
    await again.engine.waitFor(b.taskArn!, isStatus("RUNNING"), T);
    expect(networkOf(fake, b.taskArn!)).toMatch(/^ecs-task-net-[0-9a-f]{12}$/);
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
