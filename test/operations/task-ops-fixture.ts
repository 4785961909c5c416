import { taskOperations, taskView } from "../../src/operations/tasks.ts";
import { systemClock, type Clock } from "../../src/runtime/clock.ts";
import type { Config } from "../../src/runtime/config.ts";
import { TaskEngine } from "../../src/runtime/engine/task-engine.ts";
import { silentLogger } from "../../src/runtime/logger.ts";
import { TaskStore } from "../../src/runtime/store/task-store.ts";
import { FakeBackend } from "../support/fake-backend.ts";
import { makeFixture, type Fixture } from "./control-plane-fixture.ts";

export interface TaskOpsFixture {
  fx: Fixture;
  engine: TaskEngine;
  fake: FakeBackend;
  /** The engine's task store (tests plant tasks the engine never made). */
  store: TaskStore;
  close(): Promise<void>;
}

/**
 * The control plane plus the task operations on a started engine over the in-memory fake backend, wired
 * as the server wires them (cluster counts and task tags come from the engine).
 */
export async function makeTaskOpsFixture(
  options: { images: string[]; clock?: Clock; config?: Partial<Config> },
): Promise<TaskOpsFixture> {
  let view: ReturnType<typeof taskView> | undefined;
  const fx = makeFixture({ taskCounts: (arn) => view!.taskCounts(arn), resourceExists: (arn) => view!.taskExists(arn) });
  const fake = new FakeBackend();
  for (const image of options.images) fake.images.add(image);
  const store = new TaskStore(fx.db);
  const engine = new TaskEngine({
    backend: fake,
    store,
    config: { ...fx.deps.config, ...options.config },
    arns: fx.deps.arns,
    clock: options.clock ?? systemClock,
    logger: silentLogger,
    defaultStopTimeoutSec: 1,
  });
  await engine.start();
  view = taskView(engine);
  Object.assign(fx.ops, taskOperations(fx.deps, { engine, clusters: fx.stores.clusters, taskDefinitions: fx.stores.taskDefinitions, tags: fx.stores.tags }));
  return {
    fx,
    engine,
    fake,
    store,
    async close() {
      await engine.close();
      fx.close();
    },
  };
}
