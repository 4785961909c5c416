// The task engine on the real Docker engine through the Docker backend, with the offline busybox image:
// the shared behaviour suite (the same as on the fake backend), plus what only real Docker can show
// (published ports reachable from the host, links, shared awsvpc namespaces, isolation of pooled networks).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ContainerDefinition, Task } from "../../../generated/shapes.ts";
import { DockerRuntime } from "../../../src/runtime/backend/docker/docker-runtime.ts";
import { openDatabase } from "../../../src/runtime/database.ts";
import type { TaskEngine } from "../../../src/runtime/engine/task-engine.ts";
import { containerLogs, docker } from "../../support/docker.ts";
import { OffsetClock } from "../../support/offset-clock.ts";
import { describeEngineBehaviour, type AppOptions, type EngineEnv } from "./engine-behaviour.ts";
import { arns, container, dockerBackend, isStatus, makeEngine, spec, taskDefinition } from "./engine-fixture.ts";

const IMAGE = "local-ecs-api-test/busybox:latest";
const CLUSTER = `enginetest-${process.pid}-${Date.now().toString(36)}`;
const CLUSTER_ARN = arns.cluster(CLUSTER);
const FAMILY = `enginetest${process.pid}`;
const T = 30_000;

/** Runs until SIGTERM, then exits 0 (busybox sh as PID 1 ignores SIGTERM otherwise). */
const IDLE = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1 & wait $!; done"];

const runtime = new DockerRuntime({ dockerHost: process.env["DOCKER_HOST"] });
const dataDirs: string[] = [];
const engines: TaskEngine[] = [];
let engine: TaskEngine;

function run(containers: ContainerDefinition[], extra: Parameters<typeof taskDefinition>[1] = {}, e = engine, runExtra: Parameters<typeof spec>[1] = {}): Task {
  return e.runTask(spec(taskDefinition(containers, extra, FAMILY), { clusterArn: CLUSTER_ARN, clusterName: CLUSTER, ...runExtra }));
}

/**
 * A container the test drives from outside: it exits with the code written to /exit (docker exec), turns
 * healthy once /healthy exists, and exits 143 on SIGTERM unless it ignores it (then SIGKILL: 137).
 */
function app(name: string, extra: Partial<ContainerDefinition> = {}, options: AppOptions = {}): ContainerDefinition {
  const trap = options.ignoresSigterm === true ? "" : "trap 'exit 143' TERM; ";
  const def: ContainerDefinition = {
    name,
    image: IMAGE,
    command: ["sh", "-c", `${trap}while [ ! -f /exit ]; do sleep 0.1; done; exit $(cat /exit)`],
    ...extra,
  };
  if (options.healthCheck === true) def.healthCheck = { command: ["CMD-SHELL", "test -f /healthy"], interval: 1, timeout: 2, retries: 1 };
  return def;
}

function idOf(task: Task, name: string): string {
  const id = container(task, name).runtimeId;
  if (id === undefined) throw new Error(`${name} has no container yet`);
  return id;
}

function dockerEnv(e: TaskEngine, clock: OffsetClock, dataDir: string): EngineEnv {
  return {
    engine: e,
    app,
    run: (containers, tdExtra = {}, specExtra = {}) => run(containers, tdExtra, e, specExtra),
    exit: async (task, name, code) => void (await docker("exec", idOf(task, name), "sh", "-c", `echo ${code} > /exit`)),
    healthy: async (task, name) => void (await docker("exec", idOf(task, name), "touch", "/healthy")),
    vanish: async (task, name) => void (await docker("rm", "-f", idOf(task, name))),
    missingImage: "local-ecs-api-test/does-not-exist:latest",
    advance: (ms) => clock.advance(ms),
    async restart(meanwhile) {
      await e.close();
      await meanwhile?.();
      const next = newEngine(dataDir, clock);
      await next.start();
      return dockerEnv(next, clock, dataDir);
    },
  };
}

function newEngine(dataDir: string, clock: OffsetClock): TaskEngine {
  // One pool owner per data dir, as servers have: engines of different data dirs never share networks.
  const made = makeEngine(dockerBackend(runtime, {}, `enginetest-${basename(dataDir)}`), { db: openDatabase(dataDir), clock, cleanupDelayMs: 0 });
  engines.push(made.engine);
  return made.engine;
}

beforeAll(async () => {
  if (!(await runtime.imageExists(IMAGE))) throw new Error(`${IMAGE} is missing: run test/images/build.sh`);
  const dataDir = mkdtempSync(join(tmpdir(), "engine-docker-"));
  dataDirs.push(dataDir);
  engine = newEngine(dataDir, new OffsetClock());
  await engine.start();
});

afterAll(async () => {
  for (const e of engines) await e.close();
  const label = `com.amazonaws.ecs.cluster=${CLUSTER}`;
  for (const c of await runtime.listContainers([label])) await runtime.removeContainer(c.id, { force: true });
  for (const n of await runtime.listNetworks([label])) await runtime.removeNetwork(n.id);
  for (const d of dataDirs) rmSync(d, { recursive: true, force: true });
});

describeEngineBehaviour("TaskEngine behaviour (Docker backend, real Docker)", {
  timeoutMs: T,
  concurrent: true,
  async setup() {
    const dataDir = mkdtempSync(join(tmpdir(), "engine-docker-"));
    dataDirs.push(dataDir);
    const clock = new OffsetClock();
    const e = newEngine(dataDir, clock);
    await e.start();
    return dockerEnv(e, clock, dataDir);
  },
  async teardown() {},
});

describe.concurrent("TaskEngine on Docker", () => {
  it("publishes a dynamic host port reachable from the host (bridge) and links by name", async () => {
    const task = run([
      { name: "web", image: IMAGE, stopTimeout: 1, command: ["sh", "-c", "echo hello > /tmp/index.html; exec httpd -f -p 8080 -h /tmp"], portMappings: [{ containerPort: 8080, hostPort: 0 }] },
      { name: "client", image: IMAGE, essential: false, links: ["web:website"], command: ["sh", "-c", "sleep 1; wget -q -O - http://website:8080/index.html && wget -q -O - http://web:8080/index.html"] },
    ]);
    const up = await engine.waitFor(task.taskArn!, (t) => t.lastStatus === "RUNNING" && container(t, "client").lastStatus === "STOPPED", T);
    expect(container(up, "client").exitCode).toBe(0);
    const binding = container(up, "web").networkBindings?.[0];
    expect(binding).toMatchObject({ bindIP: "0.0.0.0", containerPort: 8080, protocol: "tcp" });
    expect(container(up, "web").networkBindings).toHaveLength(1);
    const res = await fetch(`http://127.0.0.1:${binding!.hostPort}/index.html`);
    expect((await res.text()).trim()).toBe("hello");
    engine.stopTask(task.taskArn!);
    await engine.waitFor(task.taskArn!, isStatus("STOPPED"), T);
  });

  it("awsvpc: containers share the pause container's network and ports", async () => {
    const task = run(
      [
        { name: "web", image: IMAGE, stopTimeout: 1, command: ["sh", "-c", "echo vpc > /tmp/index.html; exec httpd -f -p 8081 -h /tmp"], portMappings: [{ containerPort: 8081 }] },
        { name: "probe", image: IMAGE, essential: false, command: ["sh", "-c", "sleep 1; wget -q -O - http://127.0.0.1:8081/index.html"] },
      ],
      { networkMode: "awsvpc" },
      engine,
      { networkConfiguration: { awsvpcConfiguration: { subnets: ["subnet-1"] } } },
    );
    expect(task.lastStatus).toBe("PROVISIONING");
    const up = await engine.waitFor(task.taskArn!, (t) => t.lastStatus === "RUNNING" && container(t, "probe").lastStatus === "STOPPED", T);
    expect(container(up, "probe").exitCode).toBe(0);
    const ip = container(up, "web").networkInterfaces?.[0]?.privateIpv4Address;
    expect(ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const hostPort = container(up, "web").networkBindings?.[0]?.hostPort;
    const res = await fetch(`http://127.0.0.1:${hostPort}/index.html`);
    expect((await res.text()).trim()).toBe("vpc");
    engine.stopTask(task.taskArn!);
    const down = await engine.waitFor(task.taskArn!, isStatus("STOPPED"), T);
    expect(down.attachments?.[0]?.status).toBe("DELETED");
  });

});

describe("TaskEngine on Docker: pooled task networks", () => {
  it("a recycled network carries nothing of its previous task, and tasks never resolve each other's names", async () => {
    // No spares: the only idle network a task can get is the one the stopped task gave back.
    const made = makeEngine(dockerBackend(runtime, { networkPool: { owner: `pooltest-${process.pid}`, spare: 0, maxIdlePerCluster: 1 } }), { db: openDatabase(":memory:") });
    const e = made.engine;
    engines.push(e);
    await e.start();
    const a = run([{ name: "alpha", image: IMAGE, stopTimeout: 1, command: IDLE }], {}, e);
    const c = run([{ name: "gamma", image: IMAGE, stopTimeout: 1, command: IDLE }], {}, e);
    await e.waitFor(a.taskArn!, isStatus("RUNNING"), T);
    await e.waitFor(c.taskArn!, isStatus("RUNNING"), T);
    const netA = e.runtimeFacts(a.taskArn!)!.networkName!;
    expect(netA).toMatch(/^ecs-task-net-/);
    expect(e.runtimeFacts(c.taskArn!)!.networkName).not.toBe(netA);
    e.stopTask(a.taskArn!);
    await e.waitFor(a.taskArn!, isStatus("STOPPED"), T);
    // Back in the pool, empty, and still labelled with the cluster.
    const info = await runtime.inspectNetwork(netA);
    expect(info).toMatchObject({ containers: [], labels: { "com.amazonaws.ecs.cluster": CLUSTER } });

    const probe = ["sh", "-c", 'for n in alpha gamma sib; do if nslookup "$n" >/dev/null 2>&1; then echo "resolve $n ok"; else echo "resolve $n failed"; fi; done'];
    const b = run(
      [
        { name: "sib", image: IMAGE, stopTimeout: 1, command: IDLE },
        { name: "probe", image: IMAGE, essential: false, command: probe, dependsOn: [{ containerName: "sib", condition: "START" }] },
      ],
      {},
      e,
    );
    const probed = await e.waitFor(b.taskArn!, (t) => container(t, "probe").lastStatus === "STOPPED", T);
    expect(e.runtimeFacts(b.taskArn!)!.networkName).toBe(netA);
    expect(container(probed, "probe").exitCode).toBe(0);
    const logs = (await containerLogs(container(probed, "probe").runtimeId!)).trim().split("\n");
    expect(logs).toEqual(["resolve alpha failed", "resolve gamma failed", "resolve sib ok"]);

    for (const t of [b, c]) e.stopTask(t.taskArn!);
    await e.waitFor(b.taskArn!, isStatus("STOPPED"), T);
    await e.waitFor(c.taskArn!, isStatus("STOPPED"), T);
  });
});
