// Connects the agent endpoints to the task engine: the engine's hooks inject the agent's environment,
// secrets and credentials into task containers, and the agent reads live task state from the engine.
import type { Config } from "../config.ts";
import type { Logger } from "../logger.ts";
import type { TaskEngine } from "../engine/task-engine.ts";
import type { Agent } from "./agent.ts";
import type { EndpointContext } from "./agent-server.ts";
import type { AgentEndpoint } from "./endpoint-network.ts";

export interface AgentBridge {
  /** The agent server's lookup of a per-container metadata endpoint id. */
  resolveEndpoint(id: string): EndpointContext | undefined;
  dispose(): void;
}

export interface AgentBridgeOptions {
  agent: Agent;
  endpoint: AgentEndpoint;
  engine: TaskEngine;
  config: Config;
  logger: Logger;
}

export function connectAgentToEngine(_options: AgentBridgeOptions): AgentBridge {
  return { resolveEndpoint: () => undefined, dispose: () => {} };
}
