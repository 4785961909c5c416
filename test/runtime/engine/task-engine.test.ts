// The task engine over the in-memory fake backend, with a manual clock: the shared behaviour suite, plus
// what only the engine decides (hooks, reconciliation, clean-up, retention, persistence).
import type { DatabaseSync } from "node:sqlite";
import { afterEach, describe, expect, it } from "vitest";
import type { ContainerDefinition, Task } from "../../../generated/shapes.ts";
import { ManualClock } from "../../../src/runtime/clock.ts";
import { openDatabase } from "../../../src/runtime/database.ts";
import type { TaskEngine } from "../../../src/runtime/engine/task-engine.ts";
import { TaskStore } from "../../../src/runtime/store/task-store.ts";
import { FakeBackend } from "../../support/fake-backend.ts";
import { describeEngineBehaviour, type AppOptions, type EngineEnv } from "./engine-behaviour.ts";
import { container, isStatus, makeEngine, spec, taskDefinition, type EngineFixtureOptions } from "./engine-fixture.ts";

const IMAGE = "example/app:1";
const T = 5_000;

let engines: TaskEngine[] = [];
afterEach(async () => {
  for (const e of engines) await e.close();
  engines = [];
});

async function setup(options: EngineFixtureOptions & { fake?: FakeBackend } = {}) {
  const fake = options.fake ?? new FakeBackend();
  fake.images.add(IMAGE);
  const clock = (options.clock as ManualClock | undefined) ?? new ManualClock(Date.now());
  const made = makeEngine(fake, { ...options, clock });
  engines.push(made.engine);
  await made.engine.start();
  return { fake, clock, ...made };
}

function runtimeIdOf(task: Task, name: string): string {
  const id = container(task, name).runtimeId;
  if (id === undefined) throw new Error(`${name} has no runtime id yet`);
  return id;
}

function fakeEnv(fake: FakeBackend, engine: TaskEngine, clock: ManualClock, db: DatabaseSync): EngineEnv {
  fake.onStart = (c) => {
    const labels = c.plan.definition.dockerLabels ?? {};
    if (labels["test.ignores-sigterm"] === "true") c.ignoresSigterm = true;
  };
  return {
    engine,
    app(name: string, extra: Partial<ContainerDefinition> = {}, options: AppOptions = {}): ContainerDefinition {
      const def: ContainerDefinition = { name, image: IMAGE, ...extra };
      if (options.ignoresSigterm === true) def.dockerLabels = { "test.ignores-sigterm": "true" };
      if (options.healthCheck === true) def.healthCheck = { command: ["CMD-SHELL", "test -f /healthy"] };
      return def;
    },
    run: (containers, tdExtra = {}, specExtra = {}) => engine.runTask(spec(taskDefinition(containers, tdExtra), specExtra)),
    exit: async (task, name, code) => fake.exit(runtimeIdOf(task, name), code),
    healthy: async (task, name) => fake.setHealth(runtimeIdOf(task, name), "healthy"),
    vanish: async (task, name) => fake.vanish(runtimeIdOf(task, name)),
    missingImage: "nowhere/img:1",
    advance: (ms) => clock.advance(ms),
    async restart(meanwhile) {
      await engine.close();
      const wasConnected = fake.eventsConnected;
      fake.eventsConnected = false;
      await meanwhile?.();
      fake.eventsConnected = wasConnected;
      const next = makeEngine(fake, { db, clock });
      engines.push(next.engine);
      await next.engine.start();
      return fakeEnv(fake, next.engine, clock, db);
    },
  };
}

describeEngineBehaviour("TaskEngine behaviour (fake backend)", {
  timeoutMs: T,
  async setup() {
    const fake = new FakeBackend();
    fake.pullFailures.set("nowhere/img:1", "pull access denied for nowhere/img, repository does not exist");
    const { engine, clock, db } = await setup({ fake });
    return fakeEnv(fake, engine, clock, db);
  },
  async teardown() {},
});

describe("TaskEngine (fake backend)", () => {
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

  it("a task that cannot be provisioned stops TaskFailedToStart with ResourceInitializationError", async () => {
    const { fake, engine } = await setup();
    const td = taskDefinition([{ name: "app", image: IMAGE }]);
    const task = engine.runTask(spec(td));
    fake.provisionFailures.set(task.taskArn!, "no free /24 subnet left");
    const down = await engine.waitFor(task.taskArn!, isStatus("STOPPED"), T);
    expect(down).toMatchObject({ stopCode: "TaskFailedToStart", stoppedReason: "ResourceInitializationError: no free /24 subnet left" });
    expect(fake.calls).not.toContain("create app");
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
    expect(fake.find("app", task.taskArn)!.plan.env).toEqual({ ECS_CONTAINER_METADATA_URI_V4: "http://169.254.170.2/v4/app" });
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

  it("reconciles after the event stream reconnects", async () => {
    const { fake, engine } = await setup();
    const task = engine.runTask(spec(taskDefinition([{ name: "app", image: IMAGE }])));
    const up = await engine.waitFor(task.taskArn!, isStatus("RUNNING"), T);
    fake.eventsConnected = false;
    fake.exit(runtimeIdOf(up, "app"), 9);
    fake.eventsConnected = true;
    fake.reconnect();
    const down = await engine.waitFor(task.taskArn!, isStatus("STOPPED"), T);
    expect(container(down, "app").exitCode).toBe(9);
  });

  it("cleans up a stopped task's containers after the delay and purges it after retention, on the clock", async () => {
    const { fake, engine, store, clock } = await setup({ cleanupDelayMs: 30_000, retentionMs: 60_000, extra: { purgeIntervalMs: 3_600_000 } });
    const purged: string[][] = [];
    engine.use({ onTasksPurged: (arns) => purged.push(arns) });
    const task = engine.runTask(spec(taskDefinition([{ name: "app", image: IMAGE }])));
    await engine.waitFor(task.taskArn!, isStatus("RUNNING"), T);
    engine.stopTask(task.taskArn!);
    await engine.waitFor(task.taskArn!, isStatus("STOPPED"), T);
    expect(fake.cleanedUp.has(task.taskArn!)).toBe(false);
    clock.advance(29_000);
    expect(fake.cleanedUp.has(task.taskArn!)).toBe(false);
    clock.advance(1_001);
    await expect.poll(() => fake.cleanedUp.has(task.taskArn!), { timeout: T }).toBe(true);
    expect(engine.runtimeState(task.taskArn!)?.cleanedUp).toBe(true);
    expect(engine.purge()).toEqual([]);
    clock.advance(31_000);
    expect(engine.purge()).toEqual([task.taskArn]);
    expect(store.get(task.taskArn!)).toBeUndefined();
    expect(purged).toEqual([[task.taskArn]]);
  });

  it("persists every change to SQLite (a fresh store reads the same task)", async () => {
    const { engine, db } = await setup();
    const task = engine.runTask(spec(taskDefinition([{ name: "app", image: IMAGE }]), { startedBy: "me" }));
    const up = await engine.waitFor(task.taskArn!, isStatus("RUNNING"), T);
    expect(new TaskStore(db).get(task.taskArn!)).toEqual(up);
  });

  it("resumes a task persisted by the previous version (runtime state v1)", async () => {
    const db = openDatabase(":memory:");
    const first = await setup({ db });
    const task = first.engine.runTask(spec(taskDefinition([{ name: "app", image: IMAGE }])));
    const up = await first.engine.waitFor(task.taskArn!, isStatus("RUNNING"), T);
    await first.engine.close();
    // Rewrite the stored state the way v1 kept it: Docker fields at the top level, dockerName.
    const store = new TaskStore(db);
    const v2 = store.runtime(task.taskArn!) as { containers: Array<Record<string, unknown>>; backend: Record<string, unknown> };
    const { backend, containers, ...rest } = v2 as unknown as Record<string, unknown> & typeof v2;
    const v1 = { ...rest, v: 1, ...backend, volumes: [], volumeBindings: {}, extraNetworks: [], containers: containers.map(({ runtimeName, ...c }) => ({ ...c, dockerName: runtimeName })) };
    store.put(up, v1);
    const second = await setup({ db, fake: first.fake });
    expect(second.engine.runtimeState(task.taskArn!)).toMatchObject({ v: 2, containers: [{ name: "app", runtimeName: container(up, "app").runtimeId === undefined ? "" : expect.any(String) }] });
    first.fake.exit(runtimeIdOf(up, "app"), 4);
    const down = await second.engine.waitFor(task.taskArn!, isStatus("STOPPED"), T);
    expect(container(down, "app").exitCode).toBe(4);
  });
});
