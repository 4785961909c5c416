import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
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
import { taskOperations, taskView, type TaskCapacity } from "../operations/tasks.ts";
import { createAgent } from "./agent/agent.ts";
import { connectAgentToEngine, type AgentBridge } from "./agent/engine-bridge.ts";
import type { AgentEndpointRequest } from "./agent/agent-endpoint.ts";
import { taskProtectionOperations } from "../operations/task-protection.ts";
import { DockerHost } from "./backend/docker/docker-host.ts";
import { dockerOptionsFor } from "./backend/docker/docker-engine-probe.ts";
import { EngineRouter } from "./backend/engine-router.ts";
import { InstanceConfigError, normaliseEngineUrl, type InstanceSpec } from "./instances/instance-config.ts";
import { TaskEngine } from "./engine/task-engine.ts";
import { TaskStore } from "./store/task-store.ts";
import { composeWriterHooks } from "./backend/docker/compose/compose-writer.ts";
import type { Task } from "../../generated/shapes.ts";
import type { ServiceView, TaskView } from "../operations/index.ts";
import { wireServices } from "../operations/service-wiring.ts";
import type { WebConsole } from "./console/console-server.ts";
import type { ContainerLogs } from "./console/container-logs.ts";
import { eventsOff, type EventPublisher } from "./events/event-publisher.ts";
import type { EcsEvents } from "./events/start-events.ts";
import { openClusterCapacity, resolveInstanceSpecs, type ClusterCapacity } from "../operations/cluster-capacity.ts";
import { DockerEngineProbe } from "./backend/docker/docker-engine-probe.ts";
import type { EngineProbeFactory } from "./instances/engine-probe.ts";
import { DaemonScheduler } from "./daemons/daemon-scheduler.ts";
import { executeCommandOperations } from "../operations/execute-command.ts";
import { createExecService, type ExecService } from "./exec/exec-service.ts";
import { gatedOperations, StartupGate, STARTUP_WAIT_MS } from "./startup-gate.ts";

export interface ServerOptions {
  config?: Config;
  logger?: Logger;
  clock?: Clock;
  /**
   * false: control plane only, no Docker engine is contacted (RunTask and friends then go to the
   * upstream or answer that they are not emulated). Default true: the task operations are local, and
   * while the Docker engine does not answer (at start or later) RunTask answers as ECS does for a
   * cluster without container instances.
   */
  docker?: boolean;
  /** Validate every response against the model before sending it (for tests). */
  validateResponses?: boolean;
  /** How the agent endpoint is served (tests: another address than 169.254.170.2, see endpoint-network.ts). */
  agentEndpoint?: Pick<AgentEndpointRequest, "address">;
  /**
   * How container instances ask their engines about themselves; defaults to Docker when `docker` is not
   * false. Tests pass a fake to exercise the instance operations on a control-plane-only server.
   */
  instanceProbes?: EngineProbeFactory;
  /**
   * How long a request that depends on the Docker side waits for it while it comes up (see
   * startup-gate.ts); then it is answered as ECS does while an instance's agent is disconnected.
   */
  startupWaitMs?: number;
}

export interface LocalEcsApi {
  readonly config: Config;
  /** The operations answered locally (the rest go to the upstream or answer "not emulated"). */
  readonly localOperations: readonly OperationName[];
  /** Where ECS events are published (a no-op without EVENTS_ENDPOINT_URL). */
  readonly events: EventPublisher;
  /** Binds config.host:config.port (port 0 picks a free one). */
  listen(): Promise<{ url: string; port: number }>;
  close(): Promise<void>;
}

/** A start-up problem the user can fix (e.g. a port in use); printed as one line, not a stack. */
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

  // ECS events to EventBridge (EVENTS_ENDPOINT_URL); nothing of it is loaded when unset. Services and
  // container instances publish through `events`.
  let ecsEvents: EcsEvents | undefined;
  if (config.eventsEndpointUrl !== undefined) {
    const { startEcsEvents } = await import("./events/start-events.ts");
    ecsEvents = startEcsEvents({ endpoint: config.eventsEndpointUrl, busName: config.eventsBusName, db, clock, logger });
    const started = ecsEvents;
    cleanups.push(() => started.close());
  }
  const events: EventPublisher = ecsEvents ?? eventsOff;

  let tasks: TaskView | undefined;
  // Container instances: their placement reads the engine's tasks (once there is an engine).
  let taskEngine: TaskEngine | undefined;
  let containerLogs: ContainerLogs | undefined;
  let clusterCapacity: ClusterCapacity | undefined;
  let daemonScheduler: DaemonScheduler | undefined;
  const probeFor = options.instanceProbes ?? (options.docker === false ? undefined : (endpoint) => new DockerEngineProbe(endpoint));
  let specs: InstanceSpec[] = [];
  if (probeFor !== undefined) {
    try {
      specs = resolveInstanceSpecs(config);
    } catch (err) {
      if (err instanceof InstanceConfigError) throw new StartupError(err.message);
      throw err;
    }
    const opened = openClusterCapacity(deps, stores, { specs, probeFor, tasks: { list: (filter) => taskEngine?.list(filter) ?? [] } });
    // A control-plane-only server has no Docker side to come up behind: its instances are probed first.
    if (options.docker === false) await opened.ready();
    clusterCapacity = opened;
    cleanups.push(() => opened.close());
    extraOperations.push(opened.operations);
  }
  let exec: ExecService | undefined;
  let services: ServiceView | undefined;
  // The Docker side comes up after the server listens; requests that depend on it wait at this gate.
  let gate: StartupGate | undefined;
  if (options.docker !== false) {
    const store = new TaskStore(db);
    const engineLogger = logger.child({ component: "engine" });
    // The pool's networks belong to this data dir: a restart takes them back.
    const networkPool = { owner: store.instanceId() };
    const docker = new DockerHost({
      connection: { dockerHost: config.dockerHost, taskSubnetPool: config.taskSubnetPool },
      logger: engineLogger,
      externalNetworks: config.externalNetworks,
      networkPool,
    });
    // Each task runs on the engine of the container instance placement chose (CONTAINER_INSTANCES); the
    // local engine (DOCKER_HOST) is the default. Other engines' hosts are built when first needed.
    const localEngine = normaliseEngineUrl(config.dockerHost);
    const engineOf = (containerInstanceArn: string): string | undefined => clusterCapacity?.registry.get(containerInstanceArn)?.engineUrl;
    const router = new EngineRouter({
      defaultEngine: localEngine,
      engineOf,
      backendFor: (url) => {
        if (url === localEngine) return docker.backend;
        const endpoint = specs.find((spec) => spec.engine.url === url)?.engine ?? { url };
        return new DockerHost({
          connection: { dockerOptions: dockerOptionsFor(endpoint), taskSubnetPool: endpoint.taskSubnetPool ?? config.taskSubnetPool },
          logger: engineLogger.child({ engine: url }),
          networkPool,
        }).backend;
      },
    });
    const isRemote = (task: Task): boolean => {
      const arn = task.containerInstanceArn;
      const engineUrl = arn === undefined ? undefined : engineOf(arn);
      return engineUrl !== undefined && engineUrl !== localEngine;
    };
    const engine = new TaskEngine({ backend: router, store, config, arns, clock, logger: engineLogger });
    engine.use(composeWriterHooks({ composeDest: config.composeDest, externalNetworks: config.externalNetworks, logger }));
    ecsEvents?.followTasks(engine);
    taskEngine = engine;
    if (config.console) {
      const { EngineContainerLogs } = await import("./console/engine-container-logs.ts");
      containerLogs = new EngineContainerLogs(engine);
    }
    let bridge: AgentBridge | undefined;
    const agent = createAgent({
      config,
      logger,
      clock,
      db,
      containers: { logs: (c, options) => engine.logs(c.taskArn, c.containerName, options), stats: (taskArn, name) => engine.stats(taskArn, name) },
      startEndpoint: (opts) => docker.startAgentEndpoint(opts),
      resolveEndpoint: (id) => bridge?.resolveEndpoint(id),
    });

    // Without a Docker engine the control plane still serves (task definitions, clusters, tags,
    // settings); everything that needs Docker starts once it answers, and RunTask is refused until then.
    const availability = docker.availability();
    let started = false;
    let starting: Promise<void> | undefined;
    let closing = false;
    // Services are recorded without Docker too; their scheduler runs once the engine has re-adopted its tasks.
    const capacityForServices = clusterCapacity;
    const serviceWiring = wireServices(deps, stores, engine, {
      hostId: store.instanceId(),
      events,
      protection: agent.protection,
      useHooks: (hooks) => engine.use(hooks),
      ec2InstanceIdOf: (arn) => clusterCapacity?.registry.get(arn)?.ec2InstanceId,
      // Services are placed on the container instances like RunTask's tasks (one local instance without them).
      instances:
        capacityForServices === undefined
          ? undefined
          : {
              placer: capacityForServices.placer,
              activeInstances: (region, cluster) =>
                capacityForServices.registry.instances(region, cluster.clusterName ?? "", cluster.clusterArn ?? "").filter((r) => r.status === "ACTIVE").length,
              draining: (arn) => capacityForServices.registry.get(arn)?.status === "DRAINING",
              deregistered: (arn) => capacityForServices.registry.get(arn)?.status === "INACTIVE",
              onChange: (listener) => capacityForServices.registry.subscribe((change) => change.kind === "updated" && listener()),
            },
    });
    // Settles once the engine has re-adopted its tasks (exec recovery needs their containers).
    let engineStarted: () => void = () => {};
    const engineStart = new Promise<void>((resolve) => (engineStarted = resolve));
    const startDockerSide = async (): Promise<void> => {
      const endpoint = await agent.start(options.agentEndpoint);
      logger.info("agent.endpoint", { mode: endpoint.mode, baseUrl: endpoint.baseUrl, network: endpoint.network.name, credentials: agent.describe() });
      bridge = connectAgentToEngine({
        agent,
        endpoint,
        engine,
        config,
        logger,
        db,
        tags: stores.tags,
        // Log shipping resumes once the engine has re-adopted the tasks whose output it reads.
        resumeAfter: engineStart,
        // Containers on another host's engine reach the agent at AGENT_ADVERTISE_URL instead.
        ...(config.agentAdvertiseUrl === undefined ? {} : { advertised: { baseUrl: config.agentAdvertiseUrl, appliesTo: isRemote } }),
      });
      await bridge.ready;
      await engine.start();
      engineStarted();
      if (clusterCapacity !== undefined && daemonScheduler === undefined) {
        // Daemons: one task on each matching container instance, kept so as instances and tasks change.
        daemonScheduler = new DaemonScheduler({
          daemons: stores.daemons,
          definitions: stores.daemonTaskDefinitions,
          registry: clusterCapacity.registry,
          tasks: engine,
          tags: stores.tags,
          arns,
          clock,
          logger: logger.child({ component: "daemons" }),
        });
        daemonScheduler.start();
      }
      // After the engine has re-adopted its tasks, so the scheduler resumes from what really runs.
      serviceWiring.start();
      started = true;
    };
    const startedAt = Date.now();
    const dockerGate = new StartupGate({
      clock,
      boundMs: options.startupWaitMs ?? STARTUP_WAIT_MS,
      onBoundPassed: () =>
        logger.warn("docker.start_slow", {
          message: `the Docker side is not up after ${(options.startupWaitMs ?? STARTUP_WAIT_MS) / 1000} s: requests no longer wait for it (RunTask answers that no container instance is available) until it is`,
        }),
    });
    gate = dockerGate;
    const instancesReady = clusterCapacity?.ready() ?? Promise.resolve();
    const where = config.dockerHost ?? "/var/run/docker.sock";
    availability.onChange((up, error) => {
      if (!up) {
        logger.warn("docker.unreachable", {
          host: where,
          error: error?.message,
          message: `cannot reach the Docker engine at ${where}: serving the control plane only (RunTask answers that no container instance is available) until it answers. Start dockerd, or mount the socket into the container (-v /var/run/docker.sock:/var/run/docker.sock), or set DOCKER_HOST.`,
        });
        // An attempt under way settles the gate itself, when it succeeds or fails.
        if (!started && starting === undefined) dockerGate.unavailable();
        return;
      }
      void docker.version(5_000).then(
        (v) => logger.info("docker.connected", { ...v, host: where }),
        () => logger.info("docker.connected", { host: where }),
      );
      if (started || starting !== undefined || closing) return;
      dockerGate.starting();
      starting = Promise.all([startDockerSide(), instancesReady])
        .then(
          () => {
            dockerGate.ready();
            logger.info("server.ready", { ms: Date.now() - startedAt });
          },
          (err: unknown) => {
            logger.error("docker.start_failed", { error: err, message: "will try again when the Docker engine reconnects" });
            dockerGate.unavailable();
          },
        )
        .finally(() => (starting = undefined));
    });
    cleanups.push(async () => {
      closing = true;
      dockerGate.close();
      availability.close();
      await starting;
      serviceWiring.close();
      daemonScheduler?.close();
      await engine.close();
      bridge?.dispose();
      await agent.stop();
    });
    tasks = taskView(engine);
    exec = createExecService({ backend: engine.exec, tasks: engine, clock, logger, db, recoverAfter: engineStart });
    const capacity: TaskCapacity = { available: () => started && availability.up };
    extraOperations.push(
      executeCommandOperations(deps, { tasks: engine, clusters: stores.clusters, sessions: exec.sessions }),
      taskOperations(deps, {
        engine,
        clusters: stores.clusters,
        taskDefinitions: stores.taskDefinitions,
        tags: stores.tags,
        capacity,
        placer: clusterCapacity?.placer,
      }),
      taskProtectionOperations(deps, { engine, protection: agent.protection, clusters: stores.clusters }),
      ...serviceWiring.operations,
    );
    services = serviceWiring.view;
  }

  const operations = createOperations(deps, stores, {
    operations: extraOperations,
    ...(tasks === undefined ? {} : { tasks }),
    ...(clusterCapacity === undefined ? {} : { clusters: clusterCapacity.clusterOptions }),
    daemons: { tasks: { list: (filter) => taskEngine?.list(filter) ?? [] }, changed: () => daemonScheduler?.poke() },
    ...(services === undefined ? {} : { services }),
  });
  const handler = createProtocolHandler({
    operations: gate === undefined ? operations : gatedOperations(operations, gate),
    proxy,
    logger,
    region: config.region,
    maxBodyBytes: config.maxBodyBytes,
    validateOutputs: options.validateResponses ?? false,
    otherServices: exec === undefined ? [] : [exec.ssm],
  });

  const localOperations = operationNames.filter((name) => operationHandler(operations, operationSpecs[name]) !== undefined);
  let webConsole: WebConsole | undefined;
  if (config.console) {
    const { createConsole } = await import("./console/console-server.ts");
    const local = new Set<string>(localOperations);
    webConsole = createConsole({
      region: config.region,
      accountId: config.accountId,
      operationAvailable: (op) => local.has(op) || proxy !== undefined,
      tasks: taskEngine,
      logs: containerLogs,
      logger,
    });
  }
  const ui = webConsole;
  // The console answers /console/…; everything else is the ECS API.
  const serve = ui === undefined ? handler : (req: IncomingMessage, res: ServerResponse) => void (ui.handle(req, res) || handler(req, res));

  const http: Server = createHttpServer({ keepAliveTimeout: 65_000, requestTimeout: 60_000, headersTimeout: 20_000 }, serve);
  // ECS Exec's data channel: WebSocket upgrades on the same port.
  if (exec !== undefined) http.on("upgrade", exec.handleUpgrade);
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
    localOperations,
    events,
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
      // Exec sessions first: their upgraded sockets would hold http.close() open, and their processes
      // are killed while the engine and Docker are still there.
      await exec?.close();
      webConsole?.close();
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
