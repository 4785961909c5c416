// Builds a TaskEngine over a backend (the ECS-level fake, or the Docker backend on a fake or real Docker)
// on an in-memory or on-disk database.
import type { DatabaseSync } from "node:sqlite";
import type { ContainerDefinition, Task, TaskDefinition } from "../../../generated/shapes.ts";
import { Arns } from "../../../src/runtime/arns.ts";
import { systemClock, type Clock } from "../../../src/runtime/clock.ts";
import type { ContainerRuntime } from "../../../src/runtime/backend/docker/container-runtime.ts";
import { DockerBackend, type DockerBackendOptions } from "../../../src/runtime/backend/docker/docker-backend.ts";
import type { TaskBackend } from "../../../src/runtime/backend/task-backend.ts";
import { openDatabase } from "../../../src/runtime/database.ts";
import { TaskEngine, type RunTaskSpec, type TaskEngineOptions } from "../../../src/runtime/engine/task-engine.ts";
import { silentLogger } from "../../../src/runtime/logger.ts";
import { TaskStore } from "../../../src/runtime/store/task-store.ts";

export const REGION = "us-east-1";
export const ACCOUNT = "123456789012";
export const arns = new Arns(REGION, ACCOUNT);
export const CLUSTER_ARN = arns.cluster("default");

export interface EngineFixtureOptions {
  db?: DatabaseSync;
  clock?: Clock;
  retentionMs?: number;
  cleanupDelayMs?: number;
  extra?: Partial<TaskEngineOptions>;
}

export function makeEngine(backend: TaskBackend, options: EngineFixtureOptions = {}): { engine: TaskEngine; db: DatabaseSync; store: TaskStore } {
  const db = options.db ?? openDatabase(":memory:");
  const store = new TaskStore(db);
  const engine = new TaskEngine({
    backend,
    store,
    config: {
      region: REGION,
      stoppedTaskRetentionMs: options.retentionMs ?? 3_600_000,
      containerCleanupDelayMs: options.cleanupDelayMs ?? 3_600_000,
    },
    arns,
    clock: options.clock ?? systemClock,
    logger: silentLogger,
    defaultStopTimeoutSec: 2,
    ...options.extra,
  });
  return { engine, db, store };
}

let revision = 1;

/** The Docker backend on `runtime` (a FakeRuntime or real Docker), as the server builds it. */
export function dockerBackend(runtime: ContainerRuntime, extra: Partial<DockerBackendOptions> = {}, owner = "test-owner"): DockerBackend {
  return new DockerBackend({ runtime, logger: silentLogger, defaultStopTimeoutSec: 2, networkPool: { owner }, ...extra });
}

export function taskDefinition(
  containers: ContainerDefinition[],
  extra: Partial<TaskDefinition> = {},
  family = "fam",
): TaskDefinition {
  const rev = revision++;
  return {
    family,
    revision: rev,
    taskDefinitionArn: arns.taskDefinition(family, rev),
    networkMode: "bridge",
    status: "ACTIVE",
    containerDefinitions: containers,
    ...extra,
  };
}

export function spec(td: TaskDefinition, extra: Partial<RunTaskSpec> = {}): RunTaskSpec {
  return { clusterArn: CLUSTER_ARN, clusterName: "default", taskDefinition: td, ...extra };
}

export function container(task: Task, name: string): NonNullable<Task["containers"]>[number] {
  const c = task.containers?.find((x) => x.name === name);
  if (c === undefined) throw new Error(`no container ${name}`);
  return c;
}

export const isStatus =
  (status: string) =>
  (t: Task): boolean =>
    t.lastStatus === status;
