// The task operations plug into createOperations the way the server wires them.
import { afterEach, expect, it } from "vitest";
import { createOperations, openControlPlaneStores } from "../../src/operations/index.ts";
import type { OperationDeps } from "../../src/operations/context.ts";
import { taskOperations, taskView } from "../../src/operations/tasks.ts";
import { Arns } from "../../src/runtime/arns.ts";
import { systemClock } from "../../src/runtime/clock.ts";
import { loadConfig } from "../../src/runtime/config.ts";
import { openDatabase } from "../../src/runtime/database.ts";
import { TaskEngine } from "../../src/runtime/engine/task-engine.ts";
import { silentLogger } from "../../src/runtime/logger.ts";
import { TaskStore } from "../../src/runtime/store/task-store.ts";
import { FakeBackend } from "../support/fake-backend.ts";

let engine: TaskEngine | undefined;
afterEach(async () => {
  await engine?.close();
});

it("RunTask through createOperations counts the task in DescribeClusters and blocks DeleteCluster", async () => {
  const config = loadConfig({ DATA_DIR: ":memory:" });
  const deps: OperationDeps = {
    config,
    db: openDatabase(":memory:"),
    arns: new Arns(config.region, config.accountId),
    clock: systemClock,
    logger: silentLogger,
    upstream: undefined,
  };
  const stores = openControlPlaneStores(deps);
  const fake = new FakeBackend();
  fake.images.add("img:1");
  engine = new TaskEngine({ backend: fake, store: new TaskStore(deps.db), config, arns: deps.arns, clock: deps.clock, logger: deps.logger });
  await engine.start();
  const ops = createOperations(deps, stores, {
    tasks: taskView(engine),
    operations: [taskOperations(deps, { engine, clusters: stores.clusters, taskDefinitions: stores.taskDefinitions, tags: stores.tags })],
  });
  const ctx = { requestId: "r", region: config.region, accessKeyId: undefined };
  await ops.createCluster!({ clusterName: "c1" }, ctx);
  await ops.registerTaskDefinition!({ family: "f", containerDefinitions: [{ name: "a", image: "img:1", memory: 16 }] }, ctx);
  const run = await ops.runTask!({ cluster: "c1", taskDefinition: "f" }, ctx);
  const arn = run.tasks![0]!.taskArn!;
  await engine.waitFor(arn, (t) => t.lastStatus === "RUNNING", 5000);
  const d = await ops.describeClusters!({ clusters: ["c1"] }, ctx);
  expect(d.clusters![0]).toMatchObject({ runningTasksCount: 1, pendingTasksCount: 0 });
  await expect(ops.deleteCluster!({ cluster: "c1" }, ctx)).rejects.toMatchObject({ type: "ClusterContainsTasksException" });
  await ops.tagResource!({ resourceArn: arn, tags: [{ key: "k", value: "v" }] }, ctx);
  expect((await ops.listTagsForResource!({ resourceArn: arn }, ctx)).tags).toEqual([{ key: "k", value: "v" }]);
});
