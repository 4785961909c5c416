// The task engine against the real Docker engine, with the offline busybox image.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ContainerDefinition, Task } from "../../../generated/shapes.ts";
import { openDatabase } from "../../../src/runtime/database.ts";
import { DockerRuntime } from "../../../src/runtime/backend/docker/docker-runtime.ts";
import type { TaskEngine } from "../../../src/runtime/engine/task-engine.ts";
import { containerLogs } from "../../support/docker.ts";
import { arns, container, isStatus, makeEngine, spec, taskDefinition } from "./engine-fixture.ts";

const IMAGE = "local-ecs-api-test/busybox:latest";
const CLUSTER = `enginetest-${process.pid}-${Date.now().toString(36)}`;
const CLUSTER_ARN = arns.cluster(CLUSTER);
const FAMILY = `enginetest${process.pid}`;
const T = 20_000;

/** Runs until SIGTERM, then exits 0 (busybox sh as PID 1 ignores SIGTERM otherwise). */
const IDLE = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1 & wait $!; done"];

const runtime = new DockerRuntime({ dockerHost: process.env["DOCKER_HOST"] });
const dataDir = mkdtempSync(join(tmpdir(), "engine-docker-"));
const engines: TaskEngine[] = [];
let engine: TaskEngine;

function newEngine(): TaskEngine {
  const made = makeEngine(runtime, { db: openDatabase(dataDir), cleanupDelayMs: 0 });
  engines.push(made.engine);
  return made.engine;
}

function run(containers: ContainerDefinition[], extra: Parameters<typeof taskDefinition>[1] = {}, e = engine, runExtra: Parameters<typeof spec>[1] = {}): Task {
  return e.runTask(spec(taskDefinition(containers, extra, FAMILY), { clusterArn: CLUSTER_ARN, clusterName: CLUSTER, ...runExtra }));
}

beforeAll(async () => {
  if (!(await runtime.imageExists(IMAGE))) throw new Error(`${IMAGE} is missing: run test/images/build.sh`);
  engine = newEngine();
  await engine.start();
});

afterAll(async () => {
  for (const e of engines) await e.close();
  const label = `com.amazonaws.ecs.cluster=${CLUSTER}`;
  for (const c of await runtime.listContainers([label])) await runtime.removeContainer(c.id, { force: true });
  for (const n of await runtime.listNetworks([label])) await runtime.removeNetwork(n.id);
  rmSync(dataDir, { recursive: true, force: true });
});

describe.concurrent("TaskEngine on Docker", () => {
  it("runs one container to STOPPED with its exit code", async () => {
    const task = run([{ name: "app", image: IMAGE, command: ["sh", "-c", "sleep 1; exit 3"] }]);
    const down = await engine.waitFor(task.taskArn!, isStatus("STOPPED"), T);
    expect(down).toMatchObject({ stopCode: "EssentialContainerExited", stoppedReason: "Essential container in task exited" });
    expect(container(down, "app")).toMatchObject({ lastStatus: "STOPPED", exitCode: 3, runtimeId: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(container(down, "app").imageDigest).toMatch(/^sha256:/);
    expect(down.startedAt).toBeInstanceOf(Date);
  });

  it("a non-essential exit leaves the task running; an essential exit stops the rest", async () => {
    const task = run([
      { name: "main", image: IMAGE, command: IDLE },
      { name: "side", image: IMAGE, essential: false, command: ["sh", "-c", "exit 0"] },
      { name: "finisher", image: IMAGE, command: ["sh", "-c", "sleep 4; exit 4"] },
    ]);
    const sideDone = await engine.waitFor(task.taskArn!, (t) => t.lastStatus === "RUNNING" && container(t, "side").lastStatus === "STOPPED", T);
    expect(sideDone.desiredStatus).toBe("RUNNING");
    const down = await engine.waitFor(task.taskArn!, isStatus("STOPPED"), T);
    expect(container(down, "finisher").exitCode).toBe(4);
    expect(container(down, "main").exitCode).toBe(0);
    expect(down.stopCode).toBe("EssentialContainerExited");
  });

  it("honours dependsOn SUCCESS and HEALTHY, and reports health", async () => {
    const task = run([
      { name: "init", image: IMAGE, essential: false, command: ["sh", "-c", "sleep 1; exit 0"] },
      {
        name: "db",
        image: IMAGE,
        command: IDLE,
        healthCheck: { command: ["CMD-SHELL", "true"], interval: 1, timeout: 2, retries: 1 },
      },
      {
        name: "app",
        image: IMAGE,
        command: IDLE,
        dependsOn: [
          { containerName: "init", condition: "SUCCESS" },
          { containerName: "db", condition: "HEALTHY" },
        ],
      },
    ]);
    const up = await engine.waitFor(task.taskArn!, isStatus("RUNNING"), T);
    expect(container(up, "init")).toMatchObject({ lastStatus: "STOPPED", exitCode: 0 });
    expect(container(up, "db").healthStatus).toBe("HEALTHY");
    expect(up.healthStatus).toBe("HEALTHY");
    const app = await runtime.inspectContainer(container(up, "app").runtimeId!);
    const init = await runtime.inspectContainer(container(up, "init").runtimeId!);
    expect(app!.state.startedAt!.getTime()).toBeGreaterThanOrEqual(init!.state.finishedAt!.getTime());
    engine.stopTask(task.taskArn!);
    await engine.waitFor(task.taskArn!, isStatus("STOPPED"), T);
  });

  it("a dependency that outlives its startTimeout blocks the dependent (143)", async () => {
    const task = run([
      { name: "slow", image: IMAGE, essential: false, startTimeout: 2, command: IDLE },
      { name: "app", image: IMAGE, command: IDLE, dependsOn: [{ containerName: "slow", condition: "COMPLETE" }] },
    ]);
    const down = await engine.waitFor(task.taskArn!, isStatus("STOPPED"), T);
    expect(container(down, "app")).toMatchObject({ exitCode: 143, reason: expect.stringMatching(/^CannotStartContainerError: .*timed out/) });
    expect(down.stopCode).toBe("TaskFailedToStart");
    expect(container(down, "app").runtimeId).toBeUndefined();
  });

  it("reports UNHEALTHY from a failing health check and keeps running", async () => {
    const task = run([
      { name: "app", image: IMAGE, command: IDLE, healthCheck: { command: ["CMD-SHELL", "exit 1"], interval: 1, timeout: 2, retries: 1 } },
    ]);
    const sick = await engine.waitFor(task.taskArn!, (t) => t.healthStatus === "UNHEALTHY", T);
    expect(sick.lastStatus).toBe("RUNNING");
    expect(container(sick, "app").healthStatus).toBe("UNHEALTHY");
    engine.stopTask(task.taskArn!);
    await engine.waitFor(task.taskArn!, isStatus("STOPPED"), T);
  });

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

  it("StopTask on a container ignoring SIGTERM kills it after stopTimeout (137)", async () => {
    const task = run([{ name: "stubborn", image: IMAGE, stopTimeout: 2, command: ["sleep", "300"] }]);
    await engine.waitFor(task.taskArn!, isStatus("RUNNING"), T);
    const stopping = engine.stopTask(task.taskArn!, "bye")!;
    expect(stopping).toMatchObject({ desiredStatus: "STOPPED", stopCode: "UserInitiated", stoppedReason: "bye" });
    const down = await engine.waitFor(task.taskArn!, isStatus("STOPPED"), T);
    // 137 = SIGKILL after the stop timeout: busybox sleep as PID 1 ignores SIGTERM.
    expect(container(down, "stubborn").exitCode).toBe(137);
  });

  it("an image that does not exist fails the task to start", async () => {
    const task = run([{ name: "app", image: "local-ecs-api-test/does-not-exist:latest" }]);
    const down = await engine.waitFor(task.taskArn!, isStatus("STOPPED"), T);
    expect(down.stopCode).toBe("TaskFailedToStart");
    expect(down.stoppedReason).toMatch(/^CannotPullContainerError: /);
    expect(container(down, "app").reason).toMatch(/^CannotPullContainerError: /);
  });

  it("docker rm -f behind our back stops the task with a reason", async () => {
    const task = run([{ name: "app", image: IMAGE, command: IDLE }]);
    const up = await engine.waitFor(task.taskArn!, isStatus("RUNNING"), T);
    await runtime.removeContainer(container(up, "app").runtimeId!, { force: true });
    const down = await engine.waitFor(task.taskArn!, isStatus("STOPPED"), T);
    expect(down.stoppedReason).toMatch(/\S/);
    expect(down.stopCode).toBe("EssentialContainerExited");
    expect(container(down, "app").lastStatus).toBe("STOPPED");
  });
});

describe("TaskEngine on Docker: restart", () => {
  it("a new engine on the same database re-adopts a running task and records its later exit", async () => {
    const first = newEngine();
    await first.start();
    const task = run([{ name: "app", image: IMAGE, command: ["sh", "-c", "sleep 4; exit 7"] }], {}, first);
    await first.waitFor(task.taskArn!, isStatus("RUNNING"), T);
    await first.close();

    const second = newEngine();
    await second.start();
    expect(second.get(task.taskArn!)?.lastStatus).toBe("RUNNING");
    const down = await second.waitFor(task.taskArn!, isStatus("STOPPED"), T);
    expect(container(down, "app").exitCode).toBe(7);
    expect(down.stopCode).toBe("EssentialContainerExited");
  });
});

describe("TaskEngine on Docker: pooled task networks", () => {
  it("a recycled network carries nothing of its previous task, and tasks never resolve each other's names", async () => {
    // No spares: the only idle network a task can get is the one the stopped task gave back.
    const made = makeEngine(runtime, { db: openDatabase(":memory:"), extra: { networkPool: { owner: `pooltest-${process.pid}`, spare: 0, maxIdlePerCluster: 1 } } });
    const e = made.engine;
    engines.push(e);
    await e.start();
    const a = run([{ name: "alpha", image: IMAGE, stopTimeout: 1, command: IDLE }], {}, e);
    const c = run([{ name: "gamma", image: IMAGE, stopTimeout: 1, command: IDLE }], {}, e);
    await e.waitFor(a.taskArn!, isStatus("RUNNING"), T);
    await e.waitFor(c.taskArn!, isStatus("RUNNING"), T);
    const netA = e.runtimeState(a.taskArn!)!.networkName!;
    expect(netA).toMatch(/^ecs-task-net-/);
    expect(e.runtimeState(c.taskArn!)!.networkName).not.toBe(netA);
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
    expect(e.runtimeState(b.taskArn!)!.networkName).toBe(netA);
    expect(container(probed, "probe").exitCode).toBe(0);
    const logs = (await containerLogs(container(probed, "probe").runtimeId!)).trim().split("\n");
    expect(logs).toEqual(["resolve alpha failed", "resolve gamma failed", "resolve sib ok"]);

    for (const t of [b, c]) e.stopTask(t.taskArn!);
    await e.waitFor(b.taskArn!, isStatus("STOPPED"), T);
    await e.waitFor(c.taskArn!, isStatus("STOPPED"), T);
  });
});
