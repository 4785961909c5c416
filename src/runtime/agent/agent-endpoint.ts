// What task containers are told about the agent endpoints (169.254.170.2): how the endpoint was made
// reachable (the runtime decides: see the Docker backend's endpoint-network.ts) and the variables every
// container gets.
import type { AddressInfo } from "node:net";
import type { Logger } from "../logger.ts";
import type { AgentServer } from "./agent-server.ts";

export type EndpointMode = "in-container" | "host-link-local" | "host-link-local-port" | "host-gateway";

export interface EndpointNetwork {
  id: string;
  name: string;
  created: boolean;
  /** Host interface of the bridge (br-<12 hex> unless the network names one). */
  bridgeName: string;
  gateway: string;
}

export interface ContainerEnvInput {
  /** The per-container metadata endpoint id (a UUID; the same for v3 and v4). */
  endpointId: string;
  /** Only when the task has a task role. */
  taskCredentialsId?: string | undefined;
  /** The task's region. */
  region: string;
  launchType?: string | undefined;
  /** Env already set for the container (task definition, overrides, env files, image ENV): never overridden. */
  existingEnv?: Readonly<Record<string, string>> | undefined;
}

export interface AgentEndpoint {
  mode: EndpointMode;
  /** How containers reach the server, e.g. http://169.254.170.2 or http://169.254.170.2:41234. */
  baseUrl: string;
  /** Where the server listens. */
  listen: AddressInfo;
  /** Set in FULL_URI modes: containers send it in Authorization. */
  authorizationToken: string | undefined;
  network: EndpointNetwork;
  /** The env vars the agent injects into one container. */
  env(input: ContainerEnvInput): Record<string, string>;
  /**
   * Removes 169.254.170.2 from the bridge if we added it and no other process still serves on it (a
   * stale address would later steal the traffic of a containerised local-ecs-api); the network stays.
   */
  teardown(): Promise<void>;
}

/** What the agent asks of whatever makes its endpoint reachable from task containers. */
export interface AgentEndpointRequest {
  server: AgentServer;
  logger: Logger;
  networkName?: string;
  /** Injected as AWS_ENDPOINT_URL when set (TASK_AWS_ENDPOINT_URL). */
  taskAwsEndpointUrl?: string | undefined;
  /** Forces a mode (tests); otherwise detected. */
  mode?: "in-container" | "host" | "host-gateway";
  /** Port for the 169.254.170.2 modes (default 80). */
  port?: number;
  /**
   * The address the host modes serve (default 169.254.170.2). Tests use another free address of the
   * endpoint network, so they never disturb a server on this host that serves 169.254.170.2.
   */
  address?: string;
  /**
   * Remove 169.254.170.2 from the bridge on teardown if we added it and nothing else listens on it
   * (default true). Left behind, the address would shadow a later containerised local-ecs-api.
   */
  removeAddressOnTeardown?: boolean;
}

/** The env vars of spec 2.5 for one container; keys the container already sets win. */
export function containerEnv(
  input: ContainerEnvInput,
  endpoint: { baseUrl: string; token: string | undefined; taskAwsEndpointUrl?: string | undefined },
): Record<string, string> {
  const existing = input.existingEnv ?? {};
  const out: Record<string, string> = {
    ECS_CONTAINER_METADATA_URI: `${endpoint.baseUrl}/v3/${input.endpointId}`,
    ECS_CONTAINER_METADATA_URI_V4: `${endpoint.baseUrl}/v4/${input.endpointId}`,
    ECS_AGENT_URI: `${endpoint.baseUrl}/api/${input.endpointId}`,
  };
  if (input.taskCredentialsId !== undefined) {
    if (endpoint.token === undefined) {
      out["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] = `/v2/credentials/${input.taskCredentialsId}`;
    } else {
      out["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = `${endpoint.baseUrl}/v2/credentials/${input.taskCredentialsId}`;
      out["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = endpoint.token;
    }
  }
  if (existing["AWS_REGION"] === undefined && existing["AWS_DEFAULT_REGION"] === undefined) {
    out["AWS_REGION"] = input.region;
    out["AWS_DEFAULT_REGION"] = input.region;
  }
  out["AWS_EXECUTION_ENV"] = input.launchType === "FARGATE" ? "AWS_ECS_FARGATE" : "AWS_ECS_EC2";
  if (endpoint.taskAwsEndpointUrl !== undefined && existing["AWS_ENDPOINT_URL"] === undefined) {
    out["AWS_ENDPOINT_URL"] = endpoint.taskAwsEndpointUrl;
  }
  for (const key of Object.keys(out)) if (existing[key] !== undefined) delete out[key];
  return out;
}
