// One Docker engine as the server uses it: the task backend that runs tasks on it, its version for the
// start-up check, and the way task containers reach the agent endpoints at 169.254.170.2. The only place
// that hands dockerode around; everything above sees a TaskBackend.
import type { Logger } from "../../logger.ts";
import { DockerBackend, type DockerBackendOptions } from "./docker-backend.ts";
import { DockerExecBackend } from "./docker-exec-backend.ts";
import { DockerRuntime, type DockerRuntimeOptions } from "./docker-runtime.ts";
import type { AgentEndpoint, AgentEndpointRequest } from "../../agent/agent-endpoint.ts";
import { startAgentEndpoint } from "./endpoint-network.ts";
import { RuntimeAvailability } from "./runtime-availability.ts";

export interface DockerHostOptions extends Omit<DockerBackendOptions, "runtime" | "logger"> {
  connection: DockerRuntimeOptions;
  logger: Logger;
}

export class DockerHost {
  readonly backend: DockerBackend;
  readonly #runtime: DockerRuntime;

  constructor(options: DockerHostOptions) {
    const { connection, ...backendOptions } = options;
    this.#runtime = new DockerRuntime(connection);
    const exec = new DockerExecBackend(this.#runtime.docker, options.logger.child({ component: "exec" }));
    this.backend = new DockerBackend({ ...backendOptions, runtime: this.#runtime, exec });
  }

  /** The engine's version; rejects when it does not answer within `timeoutMs`. */
  async version(timeoutMs = 10_000): Promise<{ version: string; apiVersion: string }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
    });
    const v = await Promise.race([this.#runtime.docker.version(), timeout]).finally(() => clearTimeout(timer));
    return { version: v.Version, apiVersion: v.ApiVersion };
  }

  /** Follows whether the engine answers (from an events subscription of its own, never by probing per request). */
  availability(): RuntimeAvailability {
    return new RuntimeAvailability(this.#runtime);
  }

  /** Makes 169.254.170.2 reachable from task containers (see endpoint-network.ts) and serves the agent there. */
  startAgentEndpoint(options: AgentEndpointRequest): Promise<AgentEndpoint> {
    return startAgentEndpoint({ ...options, docker: this.#runtime.docker });
  }
}
