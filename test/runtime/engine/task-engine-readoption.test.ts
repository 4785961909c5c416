// A restarted engine never acts on a task before it has re-adopted it and observed it on the runtime: a
// StopTask that arrives earlier (the server answers while its Docker side comes up, or while Docker is
// away) is recorded, as ECS records it for an instance whose agent is disconnected, and carried out once
// the first reconcile has seen what really runs. Fake backend, manual clock.
import { afterEach, describe, expect, it } from "vitest";
import type { Task } from "../../../generated/shapes.ts";
import type { BackendTask, ObservedState } from "../../../src/runtime/backend/task-backend.ts";
import { ManualClock } from "../../../src/runtime/clock.ts";
import type { TaskEngine } from "../../../src/runtime/engine/task-engine.ts";
import { FakeBackend } from "../../support/fake-backend.ts";
import { container, isStatus, makeEngine, spec, taskDefinition } from "./engine-fixture.ts";

const IMAGE = "example/app:1";
const T = 5_000;

/** The fake backend, with every observation written to `calls` and, while `held`, kept waiting. */
class HeldObservations extends FakeBackend {
  #held: Promise<void> | undefined;
  #release: () => void = () => {};
  #observing: Array<() => void> = [];

  hold(): void {
    this.#held = new Promise((resolve) => (this.#release = resolve));
  }

  release(): void {
    this.#held = undefined;
    this.#release();
  }

  /** Resolves when the next observation begins. */
  nextObservation(): Promise<void> {
    return new Promise((resolve) => this.#observing.push(resolve));
  }

  override async observe(task: BackendTask, containers: ReadonlyArray<{ name: string; runtimeId: string | undefined }>): Promise<Record<string, ObservedState>> {
    this.calls.push(`observe ${containers.map((c) => c.name).join(",")}`);
    for (const signal of this.#observing.splice(0)) signal();
    if (this.#held !== undefined) await this.#held;
    return super.observe(task, containers);
  }
}

let engines: TaskEngine[] = [];
afterEach(async () => {
  for (const e of engines) await e.close();
  engines = [];
});

/** A task RUNNING on a first engine, which is then closed (its container keeps running), as a restart does. */
async function runningThenClosed() {
  const fake = new HeldObservations();
  fake.images.add(IMAGE);
  const clock = new ManualClock(Date.now());
  const first = makeEngine(fake, { clock });
  engines.push(first.engine);
  await first.engine.start();
  const task = first.engine.runTask(spec(taskDefinition([{ name: "app", image: IMAGE }])));
  const up = await first.engine.waitFor(task.taskArn!, isStatus("RUNNING"), T);
  await first.engine.close();
  fake.calls.length = 0;
  const next = makeEngine(fake, { clock, db: first.db });
  engines.push(next.engine);
  return { fake, up, engine: next.engine, db: first.db, clock };
}

const stops = (calls: readonly string[]): string[] => calls.filter((c) => c.startsWith("stop "));

describe("TaskEngine: nothing is done to a task before it is re-adopted and observed", () => {
  it("a StopTask before start() is recorded (desired STOPPED), and carried out after the first reconcile", async () => {
    const { fake, up, engine } = await runningThenClosed();

    const answered = engine.stopTask(up.taskArn!, "stopped while the Docker side came up");
    expect(answered).toMatchObject({ desiredStatus: "STOPPED", lastStatus: "RUNNING", stopCode: "UserInitiated", stoppedReason: "stopped while the Docker side came up" });
    expect(engine.get(up.taskArn!)?.desiredStatus).toBe("STOPPED");
    expect(fake.calls).toEqual([]);
    // Asked again, it is the same recorded stop (a task already desired STOPPED is returned unchanged).
    expect(engine.stopTask(up.taskArn!, "again")?.stoppedReason).toBe("stopped while the Docker side came up");

    await engine.start();
    const down = await engine.waitFor(up.taskArn!, isStatus("STOPPED"), T);
    expect(down).toMatchObject({ stopCode: "UserInitiated", stoppedReason: "stopped while the Docker side came up" });
    expect(container(down, "app").exitCode).toBe(143);
    // Observed first, then stopped.
    expect(fake.calls.indexOf("observe app")).toBeGreaterThanOrEqual(0);
    expect(fake.calls.indexOf("observe app")).toBeLessThan(fake.calls.findIndex((c) => c.startsWith("stop app")));
  });

  it("a re-adopted task is not acted on while its first observation is under way; the stop follows it", async () => {
    const { fake, up, engine } = await runningThenClosed();
    fake.hold();
    const observing = fake.nextObservation();
    const starting = engine.start();
    await observing;

    try {
      const answered = engine.stopTask(up.taskArn!, "during the reconcile");
      expect(answered).toMatchObject({ desiredStatus: "STOPPED", lastStatus: "RUNNING" });
      expect(stops(fake.calls)).toEqual([]);
    } finally {
      fake.release();
    }
    await starting;
    const down = await engine.waitFor(up.taskArn!, isStatus("STOPPED"), T);
    expect(down).toMatchObject({ stopCode: "UserInitiated", stoppedReason: "during the reconcile" });
    expect(fake.calls.indexOf("observe app")).toBeLessThan(fake.calls.findIndex((c) => c.startsWith("stop app")));
  });

  it("a stop recorded before start() keeps the truth the reconcile finds: the container exited while the server was away", async () => {
    const { fake, up, engine } = await runningThenClosed();
    fake.eventsConnected = false;
    fake.exit(container(up, "app").runtimeId!, 7);
    fake.eventsConnected = true;

    engine.stopTask(up.taskArn!, "too late");
    await engine.start();
    const down = await engine.waitFor(up.taskArn!, isStatus("STOPPED"), T);
    expect(down).toMatchObject({ stopCode: "UserInitiated", stoppedReason: "too late" });
    expect(container(down, "app")).toMatchObject({ lastStatus: "STOPPED", exitCode: 7 });
    // Nothing left to stop: the container had exited.
    expect(stops(fake.calls)).toEqual([]);
  });

  it("unknown tasks, and tasks already stopped, are left alone before start()", async () => {
    const { fake, up, engine, db, clock } = await runningThenClosed();
    expect(engine.stopTask(`${up.taskArn!.slice(0, -4)}0000`)).toBeUndefined();
    await engine.start();
    engine.stopTask(up.taskArn!, "first");
    const down: Task = await engine.waitFor(up.taskArn!, isStatus("STOPPED"), T);
    await engine.close();
    fake.calls.length = 0;
    const again = makeEngine(fake, { db, clock });
    engines.push(again.engine);
    expect(again.engine.stopTask(down.taskArn!, "second")).toEqual(down);
    expect(fake.calls).toEqual([]);
  });
});
