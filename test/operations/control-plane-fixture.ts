// Wires the control-plane operations (task definitions, clusters, tags, account settings) onto one SQLite
// database with a fixed clock, the way the server does, plus a wire-level `call` that goes through the
// generated deserializer/validator/serializer like the protocol adapter.
import type { DatabaseSync } from "node:sqlite";
import type { EcsOperations, OperationName } from "../../generated/operations.ts";
import { operationSpecs } from "../../generated/router.ts";
import { formatValidationIssues } from "../../generated/validators.ts";
import type { OperationContext, OperationDeps } from "../../src/operations/context.ts";
import { accountSettingOperations } from "../../src/operations/account-settings.ts";
import { clusterOperations, type ClusterTaskCounts } from "../../src/operations/clusters.ts";
import { tagOperations } from "../../src/operations/tags.ts";
import { taskDefinitionOperations } from "../../src/operations/task-definitions.ts";
import { Arns } from "../../src/runtime/arns.ts";
import { loadConfig } from "../../src/runtime/config.ts";
import { openDatabase } from "../../src/runtime/database.ts";
import { ManualClock } from "../../src/runtime/clock.ts";
import { silentLogger } from "../../src/runtime/logger.ts";
import { AccountSettingStore } from "../../src/runtime/store/account-setting-store.ts";
import { ClusterStore } from "../../src/runtime/store/cluster-store.ts";
import { TagStore } from "../../src/runtime/store/tag-store.ts";
import { TaskDefinitionStore } from "../../src/runtime/store/task-definition-store.ts";
import type { Upstream } from "../../src/runtime/upstream.ts";

export const ACCOUNT = "123456789012";
export const REGION = "us-east-1";
export const START = new Date("2024-05-06T07:08:09.500Z");

export interface FixtureOptions {
  dataDir?: string;
  upstream?: Upstream;
  taskCounts?: (clusterArn: string) => ClusterTaskCounts;
  resourceExists?: (arn: string) => boolean;
}

export interface Fixture {
  db: DatabaseSync;
  deps: OperationDeps;
  ops: EcsOperations<OperationContext>;
  ctx: OperationContext;
  stores: {
    tags: TagStore;
    taskDefinitions: TaskDefinitionStore;
    clusters: ClusterStore;
    accountSettings: AccountSettingStore;
  };
  /** Moves the fixed clock forward. */
  advance(ms: number): void;
  /** Wire JSON in → wire JSON out, through the generated deserializer, validators and serializer. */
  call(operation: OperationName, input: unknown): Promise<Record<string, unknown>>;
  close(): void;
}

export function makeFixture(options: FixtureOptions = {}): Fixture {
  const dataDir = options.dataDir ?? ":memory:";
  const db = openDatabase(dataDir);
  const config = loadConfig({ AWS_ACCOUNT_ID: ACCOUNT, AWS_DEFAULT_REGION: REGION, DATA_DIR: dataDir });
  const arns = new Arns(REGION, ACCOUNT);
  const clock = new ManualClock(START);
  const deps: OperationDeps = {
    config,
    db,
    arns,
    clock,
    logger: silentLogger,
    upstream: options.upstream,
  };
  const tags = new TagStore(db);
  const accountSettings = new AccountSettingStore(db, ACCOUNT);
  const clusters = new ClusterStore(db, arns, () => accountSettings.clusterDefaults());
  const taskDefinitions = new TaskDefinitionStore(db, tags);
  const ops = {
    ...taskDefinitionOperations(deps, { taskDefinitions, tags }),
    ...clusterOperations(deps, { clusters, tags, taskCounts: options.taskCounts }),
    ...tagOperations(deps, { tags, clusters, taskDefinitions, resourceExists: options.resourceExists }),
    ...accountSettingOperations(deps, { accountSettings }),
  } as EcsOperations<OperationContext>;
  const ctx: OperationContext = { requestId: "test-request", region: REGION, accessKeyId: undefined };

  return {
    db,
    deps,
    ops,
    ctx,
    stores: { tags, taskDefinitions, clusters, accountSettings },
    advance: (ms) => {
      clock.advance(ms);
    },
    async call(operation, input) {
      // The per-operation spec types are correlated; this helper is generic over them on purpose.
      const spec = operationSpecs[operation] as unknown as {
        method: keyof EcsOperations;
        deserializeInput(json: unknown): unknown;
        validateInput(input: unknown): Parameters<typeof formatValidationIssues>[0];
        serializeOutput(output: unknown): unknown;
        validateOutput(output: unknown): Parameters<typeof formatValidationIssues>[0];
      };
      const typed = spec.deserializeInput(input);
      const issues = spec.validateInput(typed);
      if (issues.length > 0) throw new Error(formatValidationIssues(issues));
      const method = ops[spec.method] as ((input: unknown, ctx: OperationContext) => Promise<unknown>) | undefined;
      if (method === undefined) throw new Error(`no implementation for ${operation}`);
      const output = await method(typed, ctx);
      const outIssues = spec.validateOutput(output);
      if (outIssues.length > 0) throw new Error(`invalid output: ${formatValidationIssues(outIssues)}`);
      return spec.serializeOutput(output) as Record<string, unknown>;
    },
    close: () => {
      if (db.isOpen) db.close();
    },
  };
}

/** Asserts `promise` rejects with an error of the given modeled type; returns its message. */
export async function errorOf(promise: Promise<unknown>): Promise<{ type: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    const e = err as { type?: string; message: string };
    return { type: e.type ?? "NotAnEcsError", message: e.message };
  }
  throw new Error("expected the call to fail");
}
