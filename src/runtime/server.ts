import { createServer as createHttpServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { operationNames, type EcsOperations, type OperationName } from "../../generated/operations.ts";
import { operationHandler, operationSpecs } from "../../generated/router.ts";
import type { OperationContext, OperationDeps } from "../operations/context.ts";
import { createOperations, openControlPlaneStores } from "../operations/index.ts";
import { Arns } from "./arns.ts";
import { systemClock, type Clock } from "./clock.ts";
import { loadConfig, type Config } from "./config.ts";
import { openDatabase } from "./database.ts";
import { createLogger, type Logger } from "./logger.ts";
import { createProtocolHandler } from "./protocol.ts";
import { taskOperations, taskView } from "../operations/tasks.ts";
import { createAgent } from "./agent/agent.ts";
import { connectAgentToEngine, type AgentBridge } from "./agent/engine-bridge.ts";
import { taskProtectionOperations } from "../operations/task-protection.ts";
import { DockerRuntime } from "./docker-runtime.ts";
import { TaskEngine } from "./engine/task-engine.ts";
import { TaskStore } from "./store/task-store.ts";
import { composeWriterHooks } from "./compose/compose-writer.ts";
import type { TaskView } from "../operations/index.ts";

export interface ServerOptions {
  config?: Config;
  logger?: Logger;
  clock?: Clock;
  /**
   * false: control plane only, no Docker engine is contacted (RunTask and friends then go to the
   * upstream or answer that they are not emulated). Default true.
   */
  docker?: boolean;
  /** Validate every response against the model before sending it (for tests). */
  validateResponses?: boolean;
}

export interface LocalEcsApi {
  readonly config: Config;
  /** The operations answered locally (the rest go to the upstream or answer "not emulated"). */
  readonly localOperations: readonly OperationName[];
  /** Binds config.host:config.port (port 0 picks a free one). */
  listen(): Promise<{ url: string; port: number }>;
  close(): Promise<void>;
}

async function dockerVersion(runtime: DockerRuntime, config: Config): Promise<Record<string, unknown>> {
  try {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("no answer within 10 s")), 10_000);
    });
    const v = await Promise.race([runtime.docker.version(), timeout]).finally(() => clearTimeout(timer));
    return { version: v.Version, apiVersion: v.ApiVersion, host: config.dockerHost ?? "unix:///var/run/docker.sock" };
  } catch (err) {
    const where = config.dockerHost ?? "/var/run/docker.sock";
    throw new StartupError(
      `cannot reach the Docker engine at ${where} (${(err as Error).message}). Start dockerd, or mount the socket into the container (-v /var/run/docker.sock:/var/run/docker.sock), or set DOCKER_HOST.`,
    );
  }
}

/** A start-up problem the user can fix (e.g. no Docker engine); printed as one line, not a stack. */
export class StartupError extends Error {}

/** Builds the whole emulator; tests start it in-process on port 0. */
export async function createServer(options: ServerOptions = {}): Promise<LocalEcsApi> {
  const config = options.config ?? loadConfig();
  const logger = options.logger ?? createLogger(config.logLevel);
  const clock = options.clock ?? systemClock;
  const db = openDatabase(config.dataDir);
  const arns = new Arns(config.region, config.accountId);
  // The proxy's HTTP client, signer and credential chain load only when an upstream is configured.
  const proxy =
    config.ecsEndpointUrl === undefined
      ? undefined
      : (await import("./proxy.ts")).createProxy({
          url: config.ecsEndpointUrl,
          region: config.ecsEndpointRegion,
          defaultRegion: config.region,
          timeoutMs: config.upstreamTimeoutMs,
          logger,
        });
  const deps: OperationDeps = { config, db, arns, clock, logger, upstream: proxy };
  const stores = openControlPlaneStores(deps);
  const cleanups: Array<() => Promise<void> | void> = [];
  const extraOperations: Partial<EcsOperations<OperationContext>>[] = [];

  let tasks: TaskView | undefined;
  if (options.docker !== false) {
    const runtime = new DockerRuntime({ dockerHost: config.dockerHost, taskSubnetPool: config.taskSubnetPool });
    const engineVersion = await dockerVersion(runtime, config);
    logger.info("docker.connected", engineVersion);
    const engine = new TaskEngine({ runtime, store: new TaskStore(db), config, arns, clock, logger: logger.child({ component: "engine" }) });
    engine.use(composeWriterHooks({ composeDest: config.composeDest, externalNetworks: config.externalNetworks, logger }));
    let bridge: AgentBridge | undefined;
    const agent = createAgent({ config, docker: runtime.docker, logger, clock, db, resolveEndpoint: (id) => bridge?.resolveEndpoint(id) });
    const endpoint = await agent.start();
    logger.info("agent.endpoint", { mode: endpoint.mode, baseUrl: endpoint.baseUrl, network: endpoint.network.name, credentials: agent.describe() });
    bridge = connectAgentToEngine({ agent, endpoint, engine, config, logger, db, tags: stores.tags });
    await bridge.ready;
    await engine.start();
    cleanups.push(async () => {
      await engine.close();
      bridge?.dispose();
      await agent.stop();
    });
    tasks = taskView(engine);
    extraOperations.push(
      taskOperations(deps, { engine, clusters: stores.clusters, taskDefinitions: stores.taskDefinitions, tags: stores.tags }),
      taskProtectionOperations(deps, { engine, protection: agent.protection, clusters: stores.clusters }),
    );
  }

  const operations = createOperations(deps, stores, { operations: extraOperations, ...(tasks === undefined ? {} : { tasks }) });
  const handler = createProtocolHandler({
    operations,
    proxy,
    logger,
    region: config.region,
    maxBodyBytes: config.maxBodyBytes,
    validateOutputs: options.validateResponses ?? false,
  });

  const http: Server = createHttpServer({ keepAliveTimeout: 65_000, requestTimeout: 60_000, headersTimeout: 20_000 }, handler);
  // A slow client only ties up its own socket; the timeouts above bound how long it can.
  http.on("clientError", (_err, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n");
    else socket.destroy();
  });

  logger.info("server.configured", {
    dataDir: config.dataDir,
    region: config.region,
    accountId: config.accountId,
    upstream: config.ecsEndpointUrl ?? null,
    docker: options.docker !== false,
  });

  let closed = false;
  return {
    config,
    localOperations: operationNames.filter((name) => operationHandler(operations, operationSpecs[name]) !== undefined),
    listen() {
      return new Promise((resolve, reject) => {
        http.once("error", (err: NodeJS.ErrnoException) => {
          reject(
            err.code === "EADDRINUSE"
              ? new StartupError(`port ${config.port} on ${config.host} is already in use; set PORT to another port`)
              : err,
          );
        });
        http.listen(config.port, config.host, () => {
          const { port } = http.address() as AddressInfo;
          const host = config.host.includes(":") ? `[${config.host}]` : config.host;
          resolve({ url: `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`, port });
        });
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
      for (const cleanup of cleanups.reverse()) await cleanup();
      await proxy?.close();
      db.close();
    },
  };
}
