import { afterEach, describe, expect, it } from "vitest";
import type { Task } from "../../../generated/shapes.ts";
import { openDatabase } from "../../../src/runtime/database.ts";
import type { TaskEngine } from "../../../src/runtime/engine/task-engine.ts";
import { FakeRuntime } from "../../support/fake-runtime.ts";
import { container, isStatus, makeEngine, spec, taskDefinition } from "./engine-fixture.ts";

const IMAGE = "example/app:1";
const T = 5_000;

let engines: TaskEngine[] = [];
afterEach(async () => {
  for (const e of engines) await e.close();
  engines = [];
});

async function setup(options: Parameters<typeof makeEngine>[1] = {}) {
  const fake = new FakeRuntime();
  fake.images.add(IMAGE);
  const made = makeEngine(fake, options);
  engines.push(made.engine);
  await made.engine.start();
  return { fake, ...made };
}

const running = (name: string) => (t: Task) => container(t, name).lastStatus === "RUNNING";

describe("TaskEngine (fake runtime)", () => {
  it("runs a one-container task PENDING → RUNNING → STOPPED with the exit code", async () => {
    const { fake, engine } = await setup();
    const seen: string[] = [];
    engine.subscribe((t) => {
      if (seen.at(-1) !== t.lastStatus) seen.push(t.lastStatus ?? "");
    });
    const task = engine.runTask(spec(taskDefinition([{ name: "app", image: IMAGE, cpu: 128, memory: 64 }])));
    expect(task).toMatchObject({ lastStatus: "PENDING", desiredStatus: "RUNNING", version: 1, group: "family:fam", launchType: "EC2" });
    expect(task.overrides).toEqual({ containerOverrides: [{ name: "app" }], inferenceAcceleratorOverrides: [] });
    expect(container(task, "app")).toMatchObject({ lastStatus: "PENDING", cpu: "128", memory: "64", healthStatus: "UNKNOWN" });

    const up = await engine.waitFor(task.taskArn!, isStatus("RUNNING"), T);
    expect(up.startedAt).toBeInstanceOf(Date);
    expect(up.pullStartedAt).toBeInstanceOf(Date);
    expect(up.pullStoppedAt).toBeInstanceOf(Date);
    const c = fake.find("app", task.taskArn)!;
    expect(container(up, "app")).toMatchObject({ lastStatus: "RUNNING", runtimeId: c.id, imageDigest: expect.stringMatching(/^sha256:/) });
    expect(c.labels["local-ecs-api.managed"]).toBe("true");
    const network = c.options.HostConfig?.NetworkMode ?? "";
    expect(network).toMatch(/^ecs-task-net-[0-9a-f]{12}$/);
    expect(fake.networks.get(network)?.labels).toMatchObject({ "com.amazonaws.ecs.cluster": "default", "local-ecs-api.managed": "true" });

    fake.exit(c.id, 3);
    const down = await engine.waitFor(task.taskArn!, isStatus("STOPPED"), T);
    expect(down).toMatchObject({ desiredStatus: "STOPPED", stopCode: "EssentialContainerExited", stoppedReason: "Essential container in task exited" });
    expect(container(down, "app")).toMatchObject({ lastStatus: "STOPPED", exitCode: 3 });
    expect(down.executionStoppedAt).toBeInstanceOf(Date);
    expect(down.stoppingAt).toBeInstanceOf(Date);
    expect(down.stoppedAt).toBeInstanceOf(Date);
    expect(down.version).toBeGreaterThan(up.version!);
    expect(seen).toEqual(["PENDING", "RUNNING", "STOPPING", "STOPPED"]);
    // The network went back to the pool with nothing of the task left on it.
    expect(fake.networks.has(network)).toBe(true);
    expect(await fake.inspectNetwork(network)).toMatchObject({ containers: [] });
  });

  it("without the network pool: one ecs-task-<id> network per task, removed when it stops", async () => {
    const { fake, engine } = await setup({ extra: { networkPool: false } });
    const task = engine.runTask(spec(taskDefinition([{ name: "app", image: IMAGE }])));
    await engine.waitFor(task.taskArn!, isStatus("RUNNING"), T);
    const c = fake.find("app", task.taskArn)!;
    expect(c.options.HostConfig?.NetworkMode).toBe(`ecs-task-${task.taskArn!.split("/").pop()}`);
    fake.exit(c.id, 0);
    await engine.waitFor(task.taskArn!, isStatus("STOPPED"), T);
    expect(fake.networks.size).toBe(0);
    expect(fake.calls.filter((x) => x.startsWith("network-"))).toEqual([`network-create ecs-task-${task.taskArn!.split("/").pop()}`, `network-remove ecs-task-${task.taskArn!.split("/").pop()}`]);
  });

  it("a non-essential exit changes nothing; an essential exit stops the others", async () => {
    const { fake, engine } = await setup();
    const td = taskDefinition([
      { name: "main", image: IMAGE },
      { name: "side", image: IMAGE, essential: false },
      { name: "other", image: IMAGE, essential: false },
    ]);
    const task = engine.runTask(spec(td));
    await engine.waitFor(task.taskArn!, isStatus("RUNNING"), T);
    fake.exit(fake.find("side", task.taskArn)!.id, 0);
    const afterSide = await engine.waitFor(task.taskArn!, (t) => container(t, "side").lastStatus === "STOPPED", T);
    expect(afterSide).toMatchObject({ lastStatus: "RUNNING", desiredStatus: "RUNNING" });

    fake.exit(fake.find("main", task.taskArn)!.id, 0);
    const down = await engine.waitFor(task.taskArn!, isStatus("STOPPED"), T);
    expect(down.stopCode).toBe("EssentialContainerExited");
    expect(container(down, "other")).toMatchObject({ lastStatus: "STOPPED", exitCode: 143 });
    expect(fake.calls).toContain("stop other t=2");
  });

  it("StopTask: UserInitiated, reverse dependency order, stopTimeout honoured, idempotent", async () => {
    const { fake, engine } = await setup();
    const td = taskDefinition([
      { name: "db", image: IMAGE, stopTimeout: 7 },
      { name: "app", image: IMAGE, links: ["db:database"] },
      { name: "proxy", image: IMAGE, dependsOn: [{ containerName: "app", condition: "START" }] },
    ]);
    const task = engine.runTask(spec(td));
    await engine.waitFor(task.taskArn!, isStatus("RUNNING"), T);
    expect(fake.calls.filter((c) => c.startsWith("start"))).toEqual(["start db", "start app", "start proxy"]);
    fake.find("db", task.taskArn)!.ignoresSigterm = true;

    const stopped = engine.stopTask(task.taskArn!, "testing stop")!;
    expect(stopped).toMatchObject({ desiredStatus: "STOPPED", stopCode: "UserInitiated", stoppedReason: "testing stop" });
    expect(stopped.stoppingAt).toBeInstanceOf(Date);
    const down = await engine.waitFor(task.taskArn!, isStatus("STOPPED"), T);
    expect(fake.calls.filter((c) => c.startsWith("stop"))).toEqual(["stop proxy t=2", "stop app t=2", "stop db t=7"]);
    expect(container(down, "db").exitCode).toBe(137);
    expect(down.stoppedReason).toBe("testing stop");

    const again = engine.stopTask(task.taskArn!, "other reason")!;
    expect(again).toBe(engine.get(task.taskArn!));
    expect(again.stoppedReason).toBe("testing stop");
  });

  it("StopTask without a reason says 'Task stopped by user'", async () => {
    const { engine } = await setup();
    const task = engine.runTask(spec(taskDefinition([{ name: "app", image: IMAGE }])));
    await engine.waitFor(task.taskArn!, isStatus("RUNNING"), T);
    expect(engine.stopTask(task.taskArn!)?.stoppedReason).toBe("Task stopped by user");
    await engine.waitFor(task.taskArn!, isStatus("STOPPED"), T);
  });

  it("a pull failure stops the task with TaskFailedToStart", async () => {
    const { fake, engine } = await setup();
    fake.pullFailures.set("nowhere/img:1", "pull access denied for nowhere/img, repository does not exist");
    const task = engine.runTask(spec(taskDefinition([{ name: "app", image: "nowhere/img:1" }])));
    const down = await engine.waitFor(task.taskArn!, isStatus("STOPPED"), T);
    expect(down).toMatchObject({ stopCode: "TaskFailedToStart", stoppedReason: expect.stringMatching(/^CannotPullContainerError: .*repository does not exist/) });
    expect(container(down, "app").reason).toMatch(/^CannotPullContainerError: /);
    expect(container(down, "app").exitCode).toBeUndefined();
    expect(down.pullStartedAt).toBeInstanceOf(Date);
  });

  it("create and start failures name their error", async () => {
    const { fake, engine } = await setup();
    fake.createFailures.set("a", "invalid mount config");
    const t1 = engine.runTask(spec(taskDefinition([{ name: "a", image: IMAGE }])));
    const d1 = await engine.waitFor(t1.taskArn!, isStatus("STOPPED"), T);
    expect(d1.stoppedReason).toBe("CannotCreateContainerError: invalid mount config");
    fake.startFailures.set("b", 'exec: "nope": executable file not found in $PATH');
    const t2 = engine.runTask(spec(taskDefinition([{ name: "b", image: IMAGE }])));
    const d2 = await engine.waitFor(t2.taskArn!, isStatus("STOPPED"), T);
    expect(d2).toMatchObject({ stopCode: "TaskFailedToStart", stoppedReason: expect.stringMatching(/^CannotStartContainerError: exec/) });
  });

  it("dependsOn SUCCESS waits for exit 0, and a failed init blocks the app with 143", async () => {
    const { fake, engine } = await setup();
    const td = (): ReturnType<typeof taskDefinition> =>
      taskDefinition([
        { name: "init", image: IMAGE, essential: false },
        { name: "app", image: IMAGE, dependsOn: [{ containerName: "init", condition: "SUCCESS" }] },
      ]);
    fake.onStart = (c) => {
      if (c.labels["com.amazonaws.ecs.container-name"] === "init") setImmediate(() => fake.exit(c.id, c.labels["exit"] === "1" ? 1 : 0));
    };
    const ok = engine.runTask(spec(td()));
    const up = await engine.waitFor(ok.taskArn!, isStatus("RUNNING"), T);
    expect(container(up, "init")).toMatchObject({ lastStatus: "STOPPED", exitCode: 0 });
    expect(fake.calls.indexOf("create app")).toBeGreaterThan(fake.calls.indexOf("start init"));

    fake.onStart = (c) => {
      if (c.labels["com.amazonaws.ecs.container-name"] === "init") setImmediate(() => fake.exit(c.id, 1));
    };
    const bad = engine.runTask(spec(td()));
    const down = await engine.waitFor(bad.taskArn!, isStatus("STOPPED"), T);
    expect(container(down, "app")).toMatchObject({ exitCode: 143, reason: expect.stringMatching(/^CannotStartContainerError: dependency graph: .*did not exit successfully/) });
    expect(down.stopCode).toBe("TaskFailedToStart");
    expect(fake.find("app", bad.taskArn)).toBeUndefined();
  });

  it("dependsOn HEALTHY starts the dependent once healthy; health is reported", async () => {
    const { fake, engine } = await setup();
    const td = taskDefinition([
      { name: "db", image: IMAGE, healthCheck: { command: ["CMD-SHELL", "true"] } },
      { name: "app", image: IMAGE, dependsOn: [{ containerName: "db", condition: "HEALTHY" }] },
    ]);
    const task = engine.runTask(spec(td));
    await engine.waitFor(task.taskArn!, running("db"), T);
    expect(fake.find("app", task.taskArn)).toBeUndefined();
    fake.setHealth(fake.find("db", task.taskArn)!.id, "healthy");
    const up = await engine.waitFor(task.taskArn!, isStatus("RUNNING"), T);
    expect(up.healthStatus).toBe("HEALTHY");
    expect(container(up, "db").healthStatus).toBe("HEALTHY");
    expect(container(up, "app").healthStatus).toBe("UNKNOWN");
    fake.setHealth(fake.find("db", task.taskArn)!.id, "unhealthy");
    const sick = await engine.waitFor(task.taskArn!, (t) => t.healthStatus === "UNHEALTHY", T);
    expect(sick.lastStatus).toBe("RUNNING");
  });

  it("dependency startTimeout turns into a terminal CannotStartContainerError", async () => {
    const { fake, engine } = await setup();
    const td = taskDefinition([
      { name: "slow", image: IMAGE, essential: false, startTimeout: 1 },
      { name: "app", image: IMAGE, dependsOn: [{ containerName: "slow", condition: "COMPLETE" }] },
    ]);
    const task = engine.runTask(spec(td));
    const down = await engine.waitFor(task.taskArn!, isStatus("STOPPED"), T);
    expect(container(down, "app")).toMatchObject({ exitCode: 143, reason: expect.stringMatching(/timed out/) });
    expect(container(down, "slow")).toMatchObject({ lastStatus: "STOPPED", exitCode: 143 });
    expect(fake.find("app", task.taskArn)).toBeUndefined();
  });

  it("reports dynamic host ports and applies overrides", async () => {
    const { fake, engine } = await setup();
    const td = taskDefinition([
      { name: "web", image: IMAGE, portMappings: [{ containerPort: 80 }], command: ["old"], environment: [{ name: "A", value: "1" }] },
    ]);
    const task = engine.runTask(
      spec(td, { overrides: { containerOverrides: [{ name: "web", command: ["new"], environment: [{ name: "B", value: "2" }], memory: 32 }] } }),
    );
    expect(task.overrides?.containerOverrides).toEqual([{ name: "web", command: ["new"], environment: [{ name: "B", value: "2" }], memory: 32 }]);
    expect(container(task, "web").memory).toBe("32");
    const up = await engine.waitFor(task.taskArn!, isStatus("RUNNING"), T);
    expect(container(up, "web").networkBindings).toEqual([{ bindIP: "0.0.0.0", containerPort: 80, hostPort: 49153, protocol: "tcp" }]);
    const c = fake.find("web", task.taskArn)!;
    expect(c.options.Cmd).toEqual(["new"]);
    expect(c.options.Env).toEqual(expect.arrayContaining(["A=1", "B=2"]));
  });

  it("awsvpc walks PROVISIONING … STOPPED with an ENI attachment and a pause container", async () => {
    const { fake, engine } = await setup();
    const seen: string[] = [];
    engine.subscribe((t) => {
      if (seen.at(-1) !== t.lastStatus) seen.push(t.lastStatus ?? "");
    });
    const td = taskDefinition([{ name: "web", image: IMAGE, portMappings: [{ containerPort: 8080 }] }], { networkMode: "awsvpc", requiresCompatibilities: ["FARGATE"] });
    const task = engine.runTask(spec(td, { networkConfiguration: { awsvpcConfiguration: { subnets: ["subnet-123"] } } }));
    expect(task).toMatchObject({ lastStatus: "PROVISIONING", launchType: "FARGATE", platformVersion: "1.4.0", platformFamily: "Linux" });
    expect(task.attachments?.[0]).toMatchObject({ type: "ElasticNetworkInterface", status: "PRECREATED" });
    const up = await engine.waitFor(task.taskArn!, isStatus("RUNNING"), T);
    const eni = up.attachments![0]!;
    expect(eni.status).toBe("ATTACHED");
    const ip = eni.details?.find((d) => d.name === "privateIPv4Address")?.value;
    expect(ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(eni.details?.find((d) => d.name === "subnetId")?.value).toBe("subnet-123");
    expect(container(up, "web").networkInterfaces).toEqual([{ attachmentId: eni.id, privateIpv4Address: ip }]);
    const pause = fake.find("~internal~ecs~pause", task.taskArn)!;
    expect(pause.options.Entrypoint).toEqual(["sleep"]);
    expect(fake.find("web", task.taskArn)!.options.HostConfig?.NetworkMode).toBe(`container:${pause.id}`);
    expect(container(up, "web").networkBindings).toEqual([{ bindIP: "0.0.0.0", containerPort: 8080, hostPort: expect.any(Number), protocol: "tcp" }]);

    engine.stopTask(task.taskArn!);
    const down = await engine.waitFor(task.taskArn!, isStatus("STOPPED"), T);
    expect(down.attachments![0]!.status).toBe("DELETED");
    expect(seen).toEqual(["PROVISIONING", "PENDING", "ACTIVATING", "RUNNING", "DEACTIVATING", "STOPPING", "DEPROVISIONING", "STOPPED"]);
    expect(fake.find("~internal~ecs~pause", task.taskArn)).toBeUndefined();
  });

  it("hooks add env and see container starts and task stops", async () => {
    const { fake, engine } = await setup();
    const started: string[] = [];
    const stopped: string[] = [];
    engine.use({
      beforeCreate: async (ctx) => ({ env: { ECS_CONTAINER_METADATA_URI_V4: `http://169.254.170.2/v4/${ctx.containerName}` } }),
      onContainerStarted: (_t, name) => started.push(name),
      onTaskStopped: (t) => stopped.push(t.taskArn!),
    });
    const task = engine.runTask(spec(taskDefinition([{ name: "app", image: IMAGE }])));
    await engine.waitFor(task.taskArn!, isStatus("RUNNING"), T);
    expect(fake.find("app", task.taskArn)!.options.Env).toContain("ECS_CONTAINER_METADATA_URI_V4=http://169.254.170.2/v4/app");
    expect(started).toEqual(["app"]);
    engine.stopTask(task.taskArn!);
    await engine.waitFor(task.taskArn!, isStatus("STOPPED"), T);
    expect(stopped).toEqual([task.taskArn]);
  });

  it("a failing beforeCreate hook fails the task to start", async () => {
    const { engine } = await setup();
    engine.use({
      beforeCreate: async () => {
        throw new Error("unable to pull secrets or registry auth: AccessDenied");
      },
    });
    const task = engine.runTask(spec(taskDefinition([{ name: "app", image: IMAGE }])));
    const down = await engine.waitFor(task.taskArn!, isStatus("STOPPED"), T);
    expect(down).toMatchObject({ stopCode: "TaskFailedToStart", stoppedReason: "ResourceInitializationError: unable to pull secrets or registry auth: AccessDenied" });
  });

  it("a container removed behind our back stops the task with a reason", async () => {
    const { fake, engine } = await setup();
    const task = engine.runTask(spec(taskDefinition([{ name: "app", image: IMAGE }])));
    await engine.waitFor(task.taskArn!, isStatus("RUNNING"), T);
    fake.vanish(fake.find("app", task.taskArn)!.id);
    const down = await engine.waitFor(task.taskArn!, isStatus("STOPPED"), T);
    expect(down.stopCode).toBe("EssentialContainerExited");
    expect(container(down, "app").lastStatus).toBe("STOPPED");
    expect(down.stoppedReason).toMatch(/exited/);
  });

  it("a new engine on the same database re-adopts running tasks and records exits missed while away", async () => {
    const fake = new FakeRuntime();
    fake.images.add(IMAGE);
    const db = openDatabase(":memory:");
    const first = makeEngine(fake, { db });
    await first.engine.start();
    const td = taskDefinition([
      { name: "a", image: IMAGE },
      { name: "b", image: IMAGE, essential: false },
      { name: "c", image: IMAGE, essential: false },
    ]);
    const task = first.engine.runTask(spec(td));
    await first.engine.waitFor(task.taskArn!, isStatus("RUNNING"), T);
    await first.engine.close();

    // While nobody listens: b exits, c is removed.
    fake.exit(fake.find("b", task.taskArn)!.id, 5, { silent: true });
    fake.vanish(fake.find("c", task.taskArn)!.id, { silent: true });

    const second = makeEngine(fake, { db });
    engines.push(second.engine);
    await second.engine.start();
    const now = second.engine.get(task.taskArn!)!;
    expect(now.lastStatus).toBe("RUNNING");
    expect(container(now, "b")).toMatchObject({ lastStatus: "STOPPED", exitCode: 5 });
    expect(container(now, "c")).toMatchObject({ lastStatus: "STOPPED", reason: expect.stringMatching(/^ContainerVanishedError/) });

    fake.exit(fake.find("a", task.taskArn)!.id, 0);
    const down = await second.engine.waitFor(task.taskArn!, isStatus("STOPPED"), T);
    expect(container(down, "a").exitCode).toBe(0);
  });

  it("reconciles after an events reconnect", async () => {
    const { fake, engine } = await setup();
    const task = engine.runTask(spec(taskDefinition([{ name: "app", image: IMAGE }])));
    await engine.waitFor(task.taskArn!, isStatus("RUNNING"), T);
    fake.eventsConnected = false;
    fake.exit(fake.find("app", task.taskArn)!.id, 9);
    fake.eventsConnected = true;
    fake.reconnect();
    const down = await engine.waitFor(task.taskArn!, isStatus("STOPPED"), T);
    expect(container(down, "app").exitCode).toBe(9);
  });

  it("cleans up containers after the delay and purges stopped tasks after retention", async () => {
    let offsetMs = 0;
    const clock = { now: () => new Date(Date.now() + offsetMs) };
    const { fake, engine, store } = await setup({ cleanupDelayMs: 0, retentionMs: 60_000, extra: { clock } });
    const purged: string[][] = [];
    engine.use({ onTasksPurged: (arns) => purged.push(arns) });
    const task = engine.runTask(spec(taskDefinition([{ name: "app", image: IMAGE }], { volumes: [{ name: "scratch" }] })));
    await engine.waitFor(task.taskArn!, isStatus("RUNNING"), T);
    expect(fake.volumes.size).toBe(1);
    engine.stopTask(task.taskArn!);
    await engine.waitFor(task.taskArn!, isStatus("STOPPED"), T);
    await expect.poll(() => fake.containers.size, { timeout: T }).toBe(0);
    await expect.poll(() => fake.volumes.size, { timeout: T }).toBe(0);
    expect(engine.purge()).toEqual([]);
    offsetMs = 61_000;
    expect(engine.purge()).toEqual([task.taskArn]);
    expect(store.get(task.taskArn!)).toBeUndefined();
    expect(purged).toEqual([[task.taskArn]]);
  });

  it("persists every change to SQLite (a fresh store reads the same task)", async () => {
    const { engine, db } = await setup();
    const task = engine.runTask(spec(taskDefinition([{ name: "app", image: IMAGE }]), { startedBy: "me" }));
    const up = await engine.waitFor(task.taskArn!, isStatus("RUNNING"), T);
    const { TaskStore } = await import("../../../src/runtime/store/task-store.ts");
    const again = new TaskStore(db).get(task.taskArn!);
    expect(again).toEqual(up);
  });
});
