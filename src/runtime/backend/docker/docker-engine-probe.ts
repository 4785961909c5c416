// The one Docker (dockerode) implementation of EngineProbe: `info()`/`version()` for the facts an agent
// registers, `ping()` plus a held-open events stream for "the agent is connected". Works for a local
// socket, tcp:// with TLS, ssh:// and Podman's Docker-compatible socket.
import { readFileSync } from "node:fs";
import Docker from "dockerode";
import type { EngineEndpoint } from "../../instances/instance-config.ts";
import type { EngineFacts, EngineProbe } from "../../instances/engine-probe.ts";

export interface DockerEngineProbeOptions {
  /** Bound on each info/version/ping call. */
  callTimeoutMs?: number;
  /** First delay before reconnecting after the engine went away; doubles up to `maxRetryMs`. */
  retryMs?: number;
  maxRetryMs?: number;
  /**
   * While connected, a ping this often catches a peer that vanished without closing the connection (a
   * remote host that lost its network); a closed socket is noticed at once through the events stream.
   */
  heartbeatMs?: number;
}

/** dockerode connection options for an endpoint (unix socket, tcp with optional TLS, ssh). */
export function dockerOptionsFor(endpoint: EngineEndpoint): Docker.DockerOptions {
  const url = new URL(endpoint.url);
  if (url.protocol === "unix:") return { socketPath: url.pathname };
  if (url.protocol === "ssh:") {
    const options: Docker.DockerOptions = { protocol: "ssh", host: url.hostname };
    if (url.port !== "") options.port = Number(url.port);
    if (url.username !== "") options.username = decodeURIComponent(url.username);
    return options;
  }
  const tls = endpoint.tls;
  const options: Docker.DockerOptions = {
    host: url.hostname,
    port: Number(url.port),
    protocol: tls === undefined ? "http" : "https",
  };
  if (tls !== undefined) {
    if (tls.ca !== undefined) options.ca = readFileSync(tls.ca);
    if (tls.cert !== undefined) options.cert = readFileSync(tls.cert);
    if (tls.key !== undefined) options.key = readFileSync(tls.key);
    // Without verification the engine's certificate is accepted as is (DOCKER_TLS_VERIFY unset).
    if (!tls.verify) (options as Record<string, unknown>)["rejectUnauthorized"] = false;
  }
  return options;
}

/** dockerode accepts `{ abortSignal }` on these calls; its type definitions do not say so. */
interface SignalledCalls {
  info(opts: { abortSignal: AbortSignal }): Promise<Record<string, unknown>>;
  version(opts: { abortSignal: AbortSignal }): Promise<Record<string, unknown>>;
  ping(opts: { abortSignal: AbortSignal }): Promise<unknown>;
}

export class DockerEngineProbe implements EngineProbe {
  readonly url: string;
  readonly #docker: Docker;
  readonly #calls: SignalledCalls;
  readonly #callTimeoutMs: number;
  readonly #retryMs: number;
  readonly #maxRetryMs: number;
  readonly #heartbeatMs: number;

  constructor(endpoint: EngineEndpoint, options: DockerEngineProbeOptions = {}) {
    this.url = endpoint.url;
    this.#docker = new Docker(dockerOptionsFor(endpoint));
    this.#calls = this.#docker as unknown as SignalledCalls;
    this.#callTimeoutMs = options.callTimeoutMs ?? 10_000;
    this.#retryMs = options.retryMs ?? 500;
    this.#maxRetryMs = options.maxRetryMs ?? 10_000;
    this.#heartbeatMs = options.heartbeatMs ?? 30_000;
  }

  async facts(): Promise<EngineFacts> {
    const signal = AbortSignal.timeout(this.#callTimeoutMs);
    const [info, version] = await Promise.all([
      this.#calls.info({ abortSignal: signal }),
      this.#calls.version({ abortSignal: signal }),
    ]);
    const plugins = (info["Plugins"] ?? {}) as { Log?: unknown; Volume?: unknown };
    const components = Array.isArray(version["Components"]) ? (version["Components"] as Array<{ Name?: unknown }>) : [];
    const podman = components.some((c) => typeof c.Name === "string" && /podman/i.test(c.Name));
    return {
      cpus: Number(info["NCPU"] ?? 1),
      memoryBytes: Number(info["MemTotal"] ?? 0),
      serverVersion: String(version["Version"] ?? info["ServerVersion"] ?? "unknown"),
      apiVersion: String(version["ApiVersion"] ?? "1.41"),
      minApiVersion: String(version["MinAPIVersion"] ?? "1.12"),
      osType: String(info["OSType"] ?? version["Os"] ?? "linux"),
      architecture: String(info["Architecture"] ?? version["Arch"] ?? "x86_64"),
      loggingDrivers: strings(plugins.Log),
      volumeDrivers: strings(plugins.Volume),
      product: podman ? "podman" : "docker",
    };
  }

  watch(listener: (connected: boolean) => void): () => void {
    let stopped = false;
    let connected: boolean | undefined;
    let delay = this.#retryMs;
    let retry: NodeJS.Timeout | undefined;
    let heartbeat: NodeJS.Timeout | undefined;
    let stream: (NodeJS.ReadableStream & { destroy?: () => void }) | undefined;
    const controller = new AbortController();

    const report = (value: boolean): void => {
      if (stopped || connected === value) return;
      connected = value;
      listener(value);
    };
    const schedule = (): void => {
      if (stopped) return;
      clearInterval(heartbeat);
      heartbeat = undefined;
      report(false);
      retry = setTimeout(() => void connect(), delay);
      retry.unref();
      delay = Math.min(delay * 2, this.#maxRetryMs);
    };
    const connect = async (): Promise<void> => {
      if (stopped) return;
      try {
        await this.#calls.ping({ abortSignal: AbortSignal.any([controller.signal, AbortSignal.timeout(this.#callTimeoutMs)]) });
        // Daemon events are rare: the stream stays quiet and only tells us when the engine goes away.
        stream = (await this.#docker.getEvents({ filters: { type: ["daemon"] }, abortSignal: controller.signal })) as typeof stream;
      } catch {
        schedule();
        return;
      }
      if (stopped) return;
      let ended = false;
      const end = (): void => {
        if (ended) return;
        ended = true;
        schedule();
      };
      stream!.on("end", end);
      stream!.on("close", end);
      stream!.on("error", end);
      stream!.on("data", () => {});
      delay = this.#retryMs;
      report(true);
      heartbeat = setInterval(() => {
        this.#calls.ping({ abortSignal: AbortSignal.timeout(this.#callTimeoutMs) }).catch(() => stream?.destroy?.());
      }, this.#heartbeatMs);
      heartbeat.unref();
    };
    void connect();
    return () => {
      stopped = true;
      clearTimeout(retry);
      clearInterval(heartbeat);
      controller.abort();
      stream?.destroy?.();
    };
  }
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}
