import { ECSClient } from "@aws-sdk/client-ecs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { OperationDeps } from "../../src/operations/context.ts";
import { createOperations, openControlPlaneStores } from "../../src/operations/index.ts";
import { wireServices, type ServicesWiring } from "../../src/operations/service-wiring.ts";
import { taskOperations, taskView } from "../../src/operations/tasks.ts";
import { Arns } from "../../src/runtime/arns.ts";
import { systemClock, type Clock } from "../../src/runtime/clock.ts";
import { loadConfig } from "../../src/runtime/config.ts";
import { openDatabase } from "../../src/runtime/database.ts";
import { TaskEngine } from "../../src/runtime/engine/task-engine.ts";
import { silentLogger, type Logger } from "../../src/runtime/logger.ts";
import { createProtocolHandler } from "../../src/runtime/protocol.ts";
import { TaskStore } from "../../src/runtime/store/task-store.ts";
import type { EventPublisher } from "../../src/runtime/events/event-publisher.ts";
import { FakeBackend } from "../support/fake-backend.ts";
import type { TargetGroups } from "../../src/runtime/services/aws/target-groups.ts";
import type { CloudMap } from "../../src/runtime/services/aws/cloud-map.ts";

export const REGION = "us-east-1";
export const ACCOUNT = "123456789012";

export interface ServiceTestServer {
  url: string;
  ecs: ECSClient;
  fake: FakeBackend;
  engine: TaskEngine;
  services: ServicesWiring;
  /** Stops the HTTP server, the scheduler and the engine (containers stay in the fake backend). */
  close(): Promise<void>;
}

/**
 * The real protocol adapter (responses validated against the model) over the real operations, task
 * engine and service scheduler — wired like the server — on the in-memory fake task backend, so
 * services run in milliseconds and without Docker. `dataDir` and `fake` may be reused by a second
 * instance to play a restart.
 */
export async function startServiceServer(
  options: {
    clock?: Clock;
    fake?: FakeBackend;
    dataDir?: string;
    images?: string[];
    logger?: Logger;
    events?: EventPublisher;
    /** ELBv2 / Cloud Map stand-ins (the SDK clients talk to moto in the e2e tests). */
    targetGroups?: TargetGroups;
    cloudMap?: CloudMap;
  } = {},
): Promise<ServiceTestServer> {
  const dataDir = options.dataDir ?? ":memory:";
  const db = openDatabase(dataDir);
  const config = { ...loadConfig({ AWS_ACCOUNT_ID: ACCOUNT, AWS_DEFAULT_REGION: REGION, DATA_DIR: dataDir }) };
  const clock: Clock = options.clock ?? systemClock;
  const arns = new Arns(REGION, ACCOUNT);
  const logger = options.logger ?? silentLogger;
  const deps: OperationDeps = { config, db, arns, clock, logger, upstream: undefined };
  const stores = openControlPlaneStores(deps);
  const fake = options.fake ?? new FakeBackend();
  for (const image of options.images ?? ["busybox", "busybox:latest"]) fake.images.add(image);
  const engine = new TaskEngine({ backend: fake, store: new TaskStore(db), config, arns, clock, logger: silentLogger, defaultStopTimeoutSec: 1 });
  const services = wireServices(deps, stores, engine, {
    hostId: "test-host",
    useHooks: (hooks) => engine.use(hooks),
    targetGroups: options.targetGroups,
    cloudMap: options.cloudMap,
    ...(options.events === undefined ? {} : { events: options.events }),
  });
  await engine.start();
  services.start();
  const operations = createOperations(deps, stores, {
    tasks: taskView(engine),
    services: services.view,
    operations: [taskOperations(deps, { engine, clusters: stores.clusters, taskDefinitions: stores.taskDefinitions, tags: stores.tags }), ...services.operations],
  });
  const handler = createProtocolHandler({ operations, proxy: undefined, logger, region: REGION, maxBodyBytes: 1 << 20, validateOutputs: true });
  const http: Server = createServer(handler);
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const ecs = new ECSClient({ endpoint: url, region: REGION, credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "secret" }, maxAttempts: 1 });
  return {
    url,
    ecs,
    fake,
    engine,
    services,
    async close() {
      ecs.destroy();
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
      services.close();
      await engine.close();
      db.close();
    },
  };
}
