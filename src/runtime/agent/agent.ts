// Wires the agent-side pieces together so the task engine needs a handful of calls: start the endpoint,
// register a task's credentials, resolve its secrets, inject env, ship awslogs, and forget the task.
import type { DatabaseSync } from "node:sqlite";
import type { Config } from "../config.ts";
import type { TimeSource } from "../clock.ts";
import type { Logger } from "../logger.ts";
import { createAgentServer, type AgentServer, type EndpointContext } from "./agent-server.ts";
import { AwsLogsShipper, type ContainerLogSource } from "./awslogs.ts";
import { createAgentAwsClients, type AgentAwsClients } from "./aws-clients.ts";
import { CredentialsRegistry } from "./credentials-registry.ts";
import type { AgentEndpoint, AgentEndpointRequest } from "./agent-endpoint.ts";
import { RoleCredentialsProvider } from "./role-credentials.ts";
import { SecretsResolver } from "./secrets.ts";
import { MemoryTaskProtectionStore, ObservedTaskProtectionStore, SqliteTaskProtectionStore, type TaskProtectionStore } from "./task-protection-store.ts";

export interface AgentOptions {
  config: Config;
  logger: Logger;
  /** Container output and stats (the task engine: whichever runtime a task runs on). */
  containers: ContainerLogSource & { stats(taskArn: string, containerName: string): Promise<Record<string, unknown> | null> };
  /** Makes 169.254.170.2 reachable from task containers and serves the agent server there. */
  startEndpoint(options: AgentEndpointRequest): Promise<AgentEndpoint>;
  /** The engine's lookup of a per-container metadata endpoint id. */
  resolveEndpoint(id: string): EndpointContext | undefined;
  protection?: TaskProtectionStore;
  /** The server's database: task protection is kept there (survives restarts) unless `protection` is given. */
  db?: DatabaseSync;
  clock?: TimeSource;
}

export interface Agent {
  readonly clients: AgentAwsClients;
  readonly credentials: RoleCredentialsProvider;
  readonly registry: CredentialsRegistry;
  readonly secrets: SecretsResolver;
  readonly awslogs: AwsLogsShipper;
  readonly protection: ObservedTaskProtectionStore;
  readonly server: AgentServer;
  /** Set once `start` has resolved. */
  readonly endpoint: AgentEndpoint | undefined;
  /** Creates/reuses ecs-local-network and starts serving at 169.254.170.2 (see endpoint-network.ts). */
  start(options?: Pick<AgentEndpointRequest, "mode" | "port" | "networkName" | "removeAddressOnTeardown" | "address">): Promise<AgentEndpoint>;
  /** For the start-up log: endpoints and which base credentials are in use. */
  describe(): string;
  stop(): Promise<void>;
}

export function createAgent(options: AgentOptions): Agent {
  const { config, logger } = options;
  const log = logger.child({ component: "agent" });
  const clients = createAgentAwsClients(config);
  const credentials = new RoleCredentialsProvider({ clients, logger: log, ...(options.clock ? { clock: options.clock } : {}) });
  const registry = new CredentialsRegistry({
    onRegister: (b) => credentials.prefetch(b.roleArn, b.taskArn),
    onUnregisterTask: (taskArn) => credentials.forgetTask(taskArn),
  });
  const protection = new ObservedTaskProtectionStore(
    options.protection ?? (options.db === undefined ? new MemoryTaskProtectionStore(options.clock) : new SqliteTaskProtectionStore(options.db, options.clock)),
  );
  const stats = (taskArn: string, containerName: string) => options.containers.stats(taskArn, containerName);
  const server = createAgentServer({ resolveEndpoint: options.resolveEndpoint, registry, credentials, stats, protection, logger: log });
  const awslogs = new AwsLogsShipper({ source: options.containers, clients, credentials, logger: log });
  let endpoint: AgentEndpoint | undefined;
  return {
    clients,
    credentials,
    registry,
    secrets: new SecretsResolver({ clients, credentials, logger: log }),
    awslogs,
    protection,
    server,
    get endpoint() {
      return endpoint;
    },
    async start(startOptions = {}) {
      endpoint = await options.startEndpoint({ server, logger: log, taskAwsEndpointUrl: config.taskAwsEndpointUrl, ...startOptions });
      return endpoint;
    },
    describe: () => clients.describe(),
    async stop() {
      await awslogs.stopAll(2000);
      await server.close();
      await endpoint?.teardown();
      clients.destroy();
    },
  };
}
