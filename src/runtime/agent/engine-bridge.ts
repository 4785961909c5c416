// Connects the agent endpoints to the task engine: the engine's hooks inject the agent's environment,
// secrets and credentials into task containers, and the agent reads live task state from the engine.
//
// Isolation rests on ids only (as on real ECS): every container gets its own random endpoint id and a
// task role's credentials id is only ever put into that task's containers. Ids are persisted (never the
// secret values) so that containers re-adopted after a restart keep working; the same goes for the
// endpoint address and token the containers were given (see `#keepOldEndpoints`).
//
// awslogs shipping is resumed the same way: the bridge records every container it ships and how far
// CloudWatch Logs has accepted its output, and when it starts again it follows each recorded container
// from there (no engine hook fires for a container that kept running across the restart).
import { randomBytes, randomUUID } from "node:crypto";
import type { DatabaseSync } from "node:sqlite";
import type { KeyValuePair, LogConfiguration, Tag, Task, TaskDefinition } from "../../../generated/shapes.ts";
import { regionOf } from "../arns.ts";
import { systemClock, type TimeSource } from "../clock.ts";
import type { Config } from "../config.ts";
import type { Logger } from "../logger.ts";
import type { TaskEngine } from "../engine/task-engine.ts";
import type { BeforeCreateContext, ContainerCreateExtras, TaskProvisionExtras, TaskRuntimeState } from "../engine/engine-types.ts";
import type { ObservedContainer } from "../backend/task-backend.ts";
import type { Agent } from "./agent.ts";
import type { EndpointContext } from "./agent-server.ts";
import { containerEnv, type AgentEndpoint } from "./agent-endpoint.ts";
import { EndpointIdStore } from "./endpoint-id-store.ts";
import { buildTaskSnapshot, type ContainerNotes } from "./metadata-snapshot.ts";

export interface AgentBridge {
  /** The agent server's lookup of a per-container metadata endpoint id. */
  resolveEndpoint(id: string): EndpointContext | undefined;
  /** Settles once endpoints that re-adopted containers were given before a restart are served again. */
  readonly ready: Promise<void>;
  /**
   * Settles once awslogs shipping was started again for the containers shipped before a restart (after
   * `ready`; never rejects). Shipping itself goes on in the background.
   */
  readonly resumed: Promise<void>;
  dispose(): void;
}

/** The parts of the agent the bridge drives. */
export type BridgeAgent = Pick<Agent, "registry" | "secrets" | "awslogs" | "protection" | "server">;
/** The parts of the engine the bridge reads (in-memory state only) and hooks into. */
export type BridgeEngine = Pick<TaskEngine, "use" | "get" | "runtimeState" | "runtimeFacts">;

export interface AgentBridgeOptions {
  agent: BridgeAgent;
  /** Without `mode`, containers join the endpoint network as in-container mode needs. */
  endpoint: Pick<AgentEndpoint, "baseUrl" | "listen" | "authorizationToken" | "network" | "env"> & Partial<Pick<AgentEndpoint, "mode">>;
  engine: BridgeEngine;
  config: Pick<Config, "region" | "dataDir"> & Partial<Pick<Config, "taskAwsEndpointUrl">>;
  logger: Logger;
  /** Where endpoint and credentials ids survive a restart (the server's database). */
  db: DatabaseSync;
  /** Task tags for taskWithTags (the server's TagStore). */
  tags: { get(arn: string): Tag[] };
  clock?: TimeSource | undefined;
  newId?: (() => string) | undefined;
  /**
   * Tasks on another host's engine reach the agent at `baseUrl` (AGENT_ADVERTISE_URL) with FULL_URI and a
   * token: the bridge listens there on every address, and such tasks never join the local endpoint network.
   */
  advertised?: { baseUrl: string; appliesTo(task: Task): boolean } | undefined;
  /**
   * Resolves once the engine has re-adopted its tasks after a restart: shipping resumes only then (the
   * containers' output is read through the engine, which knows no task before). Default: at once.
   */
  resumeAfter?: Promise<void> | undefined;
}

interface EndpointEntry {
  taskArn: string;
  containerName: string;
}

const TOKEN_KEY = "authorization-token";
/** The token of the advertised (AGENT_ADVERTISE_URL) listener; kept so re-adopted remote containers stay authorised. */
const ADVERTISED_TOKEN_KEY = "advertised-authorization-token";

export function connectAgentToEngine(options: AgentBridgeOptions): AgentBridge {
  return new EngineBridge(options);
}

class EngineBridge implements AgentBridge {
  readonly ready: Promise<void>;
  readonly resumed: Promise<void>;
  readonly #agent: BridgeAgent;
  readonly #endpoint: AgentBridgeOptions["endpoint"];
  readonly #engine: BridgeEngine;
  readonly #config: AgentBridgeOptions["config"];
  readonly #logger: Logger;
  readonly #store: EndpointIdStore;
  readonly #tags: AgentBridgeOptions["tags"];
  readonly #clock: TimeSource;
  readonly #newId: () => string;
  /** The FULL_URI token containers get: kept across restarts so re-adopted containers stay authorised. */
  readonly #token: string | undefined;
  readonly #byId = new Map<string, EndpointEntry>();
  /** taskArn → container name → endpoint id. */
  readonly #byTask = new Map<string, Map<string, string>>();
  /** taskArn → container name → what the engine does not record. */
  readonly #notes = new Map<string, Map<string, ContainerNotes>>();
  /** taskArn → container name → resolved logConfiguration.secretOptions (memory only, never stored). */
  readonly #secretLogOptions = new Map<string, Map<string, Record<string, string>>>();
  readonly #unhook: () => void;
  readonly #advertised: { baseUrl: string; appliesTo(task: Task): boolean; token: string } | undefined;
  #disposed = false;

  constructor(options: AgentBridgeOptions) {
    this.#agent = options.agent;
    this.#endpoint = options.endpoint;
    this.#engine = options.engine;
    this.#config = options.config;
    this.#logger = options.logger.child({ component: "agent-bridge" });
    this.#store = new EndpointIdStore(options.db);
    this.#tags = options.tags;
    this.#clock = options.clock ?? systemClock;
    this.#newId = options.newId ?? randomUUID;
    this.#token = this.#stableToken();
    this.#restore();
    this.#advertised = options.advertised === undefined ? undefined : { ...options.advertised, token: this.#stableAdvertisedToken() };
    this.ready = Promise.all([this.#keepOldEndpoints(), this.#listenAdvertised()]).then(() => {});
    // Not part of `ready`: secret log options may need AWS calls, which must not hold up the server start.
    this.resumed = Promise.all([this.ready, options.resumeAfter])
      .then(() => this.#resumeShipping())
      .catch((err: unknown) => {
        this.#logger.warn("agent.awslogs.resume_failed", { error: err });
      });
    this.#unhook = this.#engine.use({
      beforeProvision: (task, td) => this.#beforeProvision(task, td),
      beforeCreate: (ctx) => this.#beforeCreate(ctx),
      onContainerStarted: (task, name, snap) => this.#onContainerStarted(task, name, snap),
      onTaskStopped: (task) => this.#onTaskStopped(task),
      onTasksPurged: (arns) => this.#forget(arns),
    });
  }

  resolveEndpoint(id: string): EndpointContext | undefined {
    const entry = this.#disposed ? undefined : this.#byId.get(id);
    if (entry === undefined) return undefined;
    const { taskArn, containerName } = entry;
    return {
      taskArn,
      containerName,
      snapshot: () => {
        if (this.#disposed) return undefined;
        const task = this.#engine.get(taskArn);
        const state = this.#engine.runtimeState(taskArn);
        const facts = this.#engine.runtimeFacts(taskArn);
        if (task === undefined || state === undefined || facts === undefined) return undefined;
        return buildTaskSnapshot({ task, state, facts, tags: this.#tags?.get(taskArn), notes: this.#notes.get(taskArn) });
      },
    };
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#unhook();
  }

  // ---------------------------------------------------------------- engine hooks

  async #beforeProvision(task: Task, td: TaskDefinition): Promise<TaskProvisionExtras | undefined> {
    const taskArn = task.taskArn ?? "";
    const roles = this.#roles(task, td);
    this.#agent.registry.registerTask({ taskArn, taskRoleArn: roles.taskRoleArn, executionRoleArn: roles.executionRoleArn });
    this.#store.putCredentials(this.#agent.registry.idsForTask(taskArn));
    // Only in-container mode does a container hold 169.254.170.2, on the endpoint network: there, bridge
    // task containers and the awsvpc pause container must join it. In the host modes the host owns the
    // address (or the gateway), so containers on any network reach it through their default route, as
    // host-mode containers always did; joining would only cost a second endpoint per container.
    if (this.#endpoint.mode !== undefined && this.#endpoint.mode !== "in-container") return undefined;
    // The endpoint network is on this server's engine; a task on another host's engine cannot join it.
    if (this.#advertised?.appliesTo(task) === true) return undefined;
    return { networks: [{ name: this.#endpoint.network.name }] };
  }

  async #beforeCreate(ctx: BeforeCreateContext): Promise<ContainerCreateExtras> {
    const taskArn = ctx.task.taskArn ?? "";
    const name = ctx.containerName;
    const roles = this.#roles(ctx.task, ctx.taskDefinition);
    const region = regionOf(taskArn) ?? this.#config.region;
    const existingEnv: Record<string, string> = {};
    const addPairs = (pairs: readonly KeyValuePair[] | undefined): void => {
      for (const p of pairs ?? []) if (p.name !== undefined && p.name !== "") existingEnv[p.name] = p.value ?? "";
    };
    addPairs(ctx.definition.environment);
    addPairs(ctx.override?.environment);

    // One id per container of a task; a retried create (e.g. across a restart) keeps it.
    const endpointId = this.#byTask.get(taskArn)?.get(name) ?? this.#newId();
    const taskCredentialsId = this.#agent.registry.idsForTask(taskArn).find((b) => b.kind === "task")?.id;
    const envInput = {
      endpointId,
      taskCredentialsId: roles.taskRoleArn === undefined ? undefined : taskCredentialsId,
      region,
      launchType: ctx.task.launchType,
      existingEnv,
    };
    const advertised = this.#advertised?.appliesTo(ctx.task) === true ? this.#advertised : undefined;
    const env =
      advertised === undefined
        ? this.#endpoint.env(envInput)
        : containerEnv(envInput, { baseUrl: advertised.baseUrl, token: advertised.token, taskAwsEndpointUrl: this.#config.taskAwsEndpointUrl });
    if (advertised === undefined && env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] !== undefined && this.#token !== undefined) {
      env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = this.#token;
    }
    const createdAt = this.#clock.now();
    this.#remember({ id: endpointId, taskArn, containerName: name }, { createdAt });
    this.#store.putEndpoint({
      id: endpointId,
      taskArn,
      containerName: name,
      baseUrl: advertised?.baseUrl ?? this.#endpoint.baseUrl,
      createdAt: createdAt.getTime(),
      imageId: undefined,
    });

    // Throws SecretResolutionError ("ResourceInitializationError: …"): the engine fails the container.
    const resolved = await this.#agent.secrets.resolveContainer(ctx.definition, {
      taskArn,
      executionRoleArn: roles.executionRoleArn,
      region,
    });
    if (Object.keys(resolved.logOptions).length > 0) nested(this.#secretLogOptions, taskArn).set(name, resolved.logOptions);
    const extras: ContainerCreateExtras = { env };
    if (Object.keys(resolved.environment).length > 0) extras.secretEnv = resolved.environment;
    return extras;
  }

  #onContainerStarted(task: Task, name: string, observed: ObservedContainer): void {
    const taskArn = task.taskArn ?? "";
    if (observed.imageId !== "") {
      nested(this.#notes, taskArn).set(name, { ...this.#notes.get(taskArn)?.get(name), imageId: observed.imageId });
      const id = this.#byTask.get(taskArn)?.get(name);
      if (id !== undefined) this.#store.setImageId(id, observed.imageId);
    }
    const state = this.#engine.runtimeState(taskArn);
    const lc = state === undefined ? undefined : awslogsConfiguration(state, name);
    if (state === undefined || lc === undefined) return;
    this.#ship(state, { dockerId: observed.runtimeId, taskArn, containerName: name }, { ...lc.options, ...this.#secretLogOptions.get(taskArn)?.get(name) });
  }

  /** Ships one container's output, from where an earlier run of the server left off if it shipped it too. */
  #ship(state: TaskRuntimeState, target: { dockerId: string; taskArn: string; containerName: string }, logOptions: Record<string, string>): void {
    const { dockerId, taskArn, containerName } = target;
    try {
      this.#store.addShipment(target);
      const after = this.#store.shipment(dockerId)?.cursor;
      const handle = this.#agent.awslogs.start({
        dockerId,
        containerName,
        taskArn,
        executionRoleArn: executionRoleOf(state),
        logOptions,
        ...(after === undefined ? {} : { after }),
        onSent: (cursor) => this.#store.setShipmentCursor(dockerId, cursor),
      });
      void Promise.resolve(handle.done)
        .then((outcome) => {
          // All of it shipped (or the container is gone): nothing left to resume after a restart.
          if (outcome === "ended" || outcome === "gone") this.#store.deleteShipment(dockerId);
        })
        .catch((err: unknown) => this.#logger.warn("agent.awslogs.record_not_cleared", { taskArn, container: containerName, error: err }));
    } catch (err) {
      // A bad awslogs configuration must not fail the task (Docker would have refused it at create).
      this.#logger.warn("agent.awslogs.not_started", { taskArn, container: containerName, error: err });
    }
  }

  /** Starts shipping again for every recorded container of a task the engine still knows. */
  async #resumeShipping(): Promise<void> {
    let resumed = 0;
    for (const r of this.#store.shipments()) {
      if (this.#disposed) return;
      const state = this.#engine.get(r.taskArn) === undefined ? undefined : this.#engine.runtimeState(r.taskArn);
      const lc = state === undefined ? undefined : awslogsConfiguration(state, r.containerName);
      if (state === undefined || lc === undefined) {
        this.#store.deleteShipment(r.dockerId);
        continue;
      }
      let secretOptions: Record<string, string> = {};
      if ((lc.secretOptions ?? []).length > 0) {
        // Resolved secret values are never persisted: fetch them again, as at container creation.
        try {
          const resolved = await this.#agent.secrets.resolveContainer(
            { name: r.containerName, logConfiguration: { secretOptions: lc.secretOptions } },
            { taskArn: r.taskArn, executionRoleArn: executionRoleOf(state), region: regionOf(r.taskArn) ?? this.#config.region },
          );
          secretOptions = resolved.logOptions;
        } catch (err) {
          this.#logger.warn("agent.awslogs.not_resumed", { taskArn: r.taskArn, container: r.containerName, error: err });
          continue;
        }
        // Shut down meanwhile: starting now would outlive the agent's stopAll.
        if (this.#disposed) return;
      }
      this.#ship(state, r, { ...lc.options, ...secretOptions });
      resumed++;
    }
    if (resumed > 0) this.#logger.info("agent.awslogs.resumed", { containers: resumed });
  }

  #onTaskStopped(task: Task): void {
    const taskArn = task.taskArn ?? "";
    // Credentials die with the task (→ 400 InvalidIdInRequest); metadata keeps answering until purge.
    this.#agent.registry.unregisterTask(taskArn);
    this.#store.deleteCredentials([taskArn]);
    this.#agent.protection.delete(taskArn);
    this.#secretLogOptions.delete(taskArn);
  }

  #forget(taskArns: readonly string[]): void {
    for (const arn of taskArns) {
      for (const id of this.#byTask.get(arn)?.values() ?? []) this.#byId.delete(id);
      this.#byTask.delete(arn);
      this.#notes.delete(arn);
      this.#secretLogOptions.delete(arn);
      this.#agent.registry.unregisterTask(arn);
    }
    this.#store.deleteEndpoints(taskArns);
    this.#store.deleteCredentials(taskArns);
    this.#store.deleteTaskShipments(taskArns);
  }

  // ---------------------------------------------------------------- helpers

  #roles(task: Task, td: TaskDefinition): { taskRoleArn: string | undefined; executionRoleArn: string | undefined } {
    // The engine's runtime state holds the RunTask overrides as given; the task echoes them too.
    const overrides = this.#engine.runtimeState(task.taskArn ?? "")?.overrides ?? task.overrides;
    const pick = (...values: Array<string | undefined>): string | undefined => values.find((v) => v !== undefined && v !== "");
    return {
      taskRoleArn: pick(overrides?.taskRoleArn, td.taskRoleArn),
      executionRoleArn: pick(overrides?.executionRoleArn, td.executionRoleArn),
    };
  }

  #remember(entry: EndpointEntry & { id: string }, notes: ContainerNotes): void {
    this.#byId.set(entry.id, { taskArn: entry.taskArn, containerName: entry.containerName });
    nested(this.#byTask, entry.taskArn).set(entry.containerName, entry.id);
    nested(this.#notes, entry.taskArn).set(entry.containerName, { ...this.#notes.get(entry.taskArn)?.get(entry.containerName), ...notes });
  }

  /** Reloads the ids of tasks the engine still knows; drops those of tasks that are gone. */
  #restore(): void {
    const gone = new Set<string>();
    for (const r of this.#store.endpoints()) {
      if (this.#engine.get(r.taskArn) === undefined) {
        gone.add(r.taskArn);
        continue;
      }
      const notes: ContainerNotes = {};
      if (r.createdAt !== undefined) notes.createdAt = new Date(r.createdAt);
      if (r.imageId !== undefined) notes.imageId = r.imageId;
      this.#remember({ id: r.id, taskArn: r.taskArn, containerName: r.containerName }, notes);
    }
    this.#store.deleteEndpoints([...gone]);
    const stopped = new Set<string>();
    let restored = 0;
    for (const b of this.#store.credentials()) {
      const task = this.#engine.get(b.taskArn);
      if (task === undefined || task.lastStatus === "STOPPED") {
        stopped.add(b.taskArn);
        continue;
      }
      if (this.#agent.registry.restore(b)) restored++;
    }
    this.#store.deleteCredentials([...stopped]);
    if (this.#byId.size > 0 || restored > 0) {
      this.#logger.info("agent.bridge.restored", { endpointIds: this.#byId.size, credentialsIds: restored });
    }
  }

  /**
   * FULL_URI modes put a token into containers. The endpoint makes a new one on every start, so the first
   * one is persisted and reused: containers re-adopted after a restart still send the old one.
   */
  #stableToken(): string | undefined {
    const current = this.#endpoint.authorizationToken;
    if (current === undefined) return undefined;
    const kept = this.#store.meta(TOKEN_KEY);
    if (kept === undefined) {
      this.#store.setMeta(TOKEN_KEY, current);
      return current;
    }
    this.#agent.server.setAuthorizationToken(kept);
    return kept;
  }

  #stableAdvertisedToken(): string {
    const kept = this.#store.meta(ADVERTISED_TOKEN_KEY);
    if (kept !== undefined) return kept;
    const token = randomBytes(24).toString("base64url");
    this.#store.setMeta(ADVERTISED_TOKEN_KEY, token);
    return token;
  }

  /** Serves the agent at AGENT_ADVERTISE_URL's port on every address, asking its own token for credentials. */
  async #listenAdvertised(): Promise<void> {
    const advertised = this.#advertised;
    if (advertised === undefined) return;
    const port = Number(new URL(advertised.baseUrl).port);
    try {
      await this.#agent.server.listen(port, "0.0.0.0", advertised.token);
      this.#logger.info("agent.bridge.advertised_endpoint", { baseUrl: advertised.baseUrl });
    } catch (err) {
      this.#logger.warn("agent.bridge.advertised_endpoint_unavailable", {
        baseUrl: advertised.baseUrl,
        error: err,
        message: "containers on other hosts' engines cannot reach their credentials and metadata",
      });
    }
  }

  /**
   * Containers keep the endpoint URL they were created with. When this start got another address (e.g. a
   * different free port in the *-port modes), also listen on the old ones that live containers still use.
   */
  async #keepOldEndpoints(): Promise<void> {
    const current = this.#endpoint.baseUrl;
    const live = new Set(this.#store.endpoints().map((r) => r.baseUrl));
    live.delete(current);
    // The advertised address has a listener of its own (with its token).
    if (this.#advertised !== undefined) live.delete(this.#advertised.baseUrl);
    for (const baseUrl of live) {
      let port: number;
      let host: string;
      try {
        const url = new URL(baseUrl);
        port = url.port === "" ? 80 : Number(url.port);
        // A wildcard listener (in-container mode) covers every address; otherwise bind the old one.
        host = this.#endpoint.listen.address === "0.0.0.0" ? "0.0.0.0" : url.hostname;
      } catch {
        continue;
      }
      try {
        await this.#agent.server.listen(port, host);
        this.#logger.info("agent.bridge.old_endpoint_served", { baseUrl });
      } catch (err) {
        this.#logger.warn("agent.bridge.old_endpoint_unavailable", {
          baseUrl,
          error: err,
          message: "containers re-adopted from before the restart cannot reach their metadata endpoint at this address",
        });
      }
    }
  }
}

function awslogsConfiguration(state: TaskRuntimeState, containerName: string): LogConfiguration | undefined {
  const lc = state.taskDefinition.containerDefinitions?.find((d) => d.name === containerName)?.logConfiguration;
  return lc?.logDriver === "awslogs" ? lc : undefined;
}

function executionRoleOf(state: TaskRuntimeState): string | undefined {
  return state.overrides.executionRoleArn ?? state.taskDefinition.executionRoleArn;
}

function nested<V>(map: Map<string, Map<string, V>>, key: string): Map<string, V> {
  let inner = map.get(key);
  if (inner === undefined) {
    inner = new Map();
    map.set(key, inner);
  }
  return inner;
}
