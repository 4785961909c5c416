// What the control plane needs to know about the container runtime behind a container instance — the
// questions the ECS agent answers at registration (cores, memory, versions, OS, architecture, which
// logging/volume drivers exist) and whether it is still there. The Docker implementation lives in
// backend/docker/docker-engine-probe.ts; a Podman socket speaks the same API. instances/ never touches Docker.

export interface EngineFacts {
  /** Logical CPUs the engine can use. */
  cpus: number;
  memoryBytes: number;
  /** Engine version, e.g. "20.10.24". */
  serverVersion: string;
  /** Highest / lowest remote API version the engine speaks, e.g. "1.41" / "1.12". */
  apiVersion: string;
  minApiVersion: string;
  /** "linux" or "windows". */
  osType: string;
  /** As the engine reports it: "x86_64", "aarch64" … */
  architecture: string;
  loggingDrivers: string[];
  volumeDrivers: string[];
  /** "docker", or "podman" when the engine says so. */
  product: string;
}

export interface EngineProbe {
  /** The engine's normalised address (for logs and keys). */
  readonly url: string;
  /** Asks the engine now (info + version); rejects when it does not answer. */
  facts(): Promise<EngineFacts>;
  /**
   * Follows the engine's availability like the agent's connection to ECS: `listener(true)` once it
   * answers, `listener(false)` when the connection drops; reconnects on its own. Returns a stop function.
   */
  watch(listener: (connected: boolean) => void): () => void;
}

export type EngineProbeFactory = (endpoint: import("./instance-config.ts").EngineEndpoint) => EngineProbe;
