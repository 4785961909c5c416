import Docker from "dockerode";
import type {
  ContainerRuntime,
  ContainerSnapshot,
  EventHandlers,
  EventSubscription,
  ImageSnapshot,
  NetworkSnapshot,
  PullProgress,
  VolumeSpec,
} from "./container-runtime.ts";
import { RuntimeError, SubnetPoolExhaustedError } from "./container-runtime.ts";
import { normalizeInspect, parseEvent } from "./docker-snapshots.ts";
import { SubnetPool } from "./subnet-pool.ts";

export interface DockerRuntimeOptions {
  /** DOCKER_HOST: unix:///path or tcp://host:port; default /var/run/docker.sock. */
  dockerHost?: string | undefined;
  /** dockerode connection options (TLS, ssh), instead of `dockerHost`. */
  dockerOptions?: Docker.DockerOptions | undefined;
  /** Bound on ordinary API calls (inspect, create, remove …). */
  callTimeoutMs?: number;
  /** Bound on `start`, like the agent's ECS_CONTAINER_START_TIMEOUT (3 min on Linux). */
  startTimeoutMs?: number;
  /** Delay before re-opening a dropped events stream. */
  reconnectDelayMs?: number;
  /**
   * IPv4 range (a /16) that per-task networks take /24 subnets from. Docker's default pools hold only
   * ~30 bridge networks, far fewer than the tasks a CI run keeps alive; default 10.213.0.0/16.
   */
  taskSubnetPool?: string;
}

/** dockerode options from DOCKER_HOST. No `timeout` here: it would also cut the idle events stream. */
export function dockerConnectionOptions(dockerHost: string | undefined): Docker.DockerOptions {
  if (dockerHost === undefined || dockerHost === "") return { socketPath: "/var/run/docker.sock" };
  if (dockerHost.startsWith("unix://")) return { socketPath: dockerHost.slice("unix://".length) };
  const url = new URL(dockerHost.replace(/^tcp:/, "http:"));
  const https = url.protocol === "https:";
  return {
    host: url.hostname,
    port: url.port === "" ? (https ? 2376 : 2375) : Number(url.port),
    protocol: https ? "https" : "http",
  };
}

/** The dockerode implementation of ContainerRuntime. */
export class DockerRuntime implements ContainerRuntime {
  readonly docker: Docker;
  #callTimeoutMs: number;
  #startTimeoutMs: number;
  #reconnectDelayMs: number;

  constructor(options: DockerRuntimeOptions = {}) {
    this.docker = new Docker(options.dockerOptions ?? dockerConnectionOptions(options.dockerHost));
    this.#callTimeoutMs = options.callTimeoutMs ?? 30_000;
    this.#startTimeoutMs = options.startTimeoutMs ?? 180_000;
    this.#reconnectDelayMs = options.reconnectDelayMs ?? 1_000;
    this.#subnets = new SubnetPool(options.taskSubnetPool ?? "10.213.0.0/16");
  }

  #subnets: SubnetPool;

  #signal(ms = this.#callTimeoutMs): AbortSignal {
    return AbortSignal.timeout(ms);
  }

  async inspectImage(image: string): Promise<ImageSnapshot | undefined> {
    try {
      const info = await this.docker.getImage(image).inspect({ abortSignal: this.#signal() } as Docker.ImageInspectOptions);
      return { id: info.Id, repoDigests: info.RepoDigests ?? [], env: info.Config?.Env ?? [] };
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw wrap(err);
    }
  }

  async imageExists(image: string): Promise<boolean> {
    return (await this.inspectImage(image)) !== undefined;
  }

  async pullImage(image: string, onProgress?: (progress: PullProgress) => void): Promise<void> {
    let stream: NodeJS.ReadableStream;
    try {
      stream = (await this.docker.pull(image)) as NodeJS.ReadableStream;
    } catch (err) {
      throw wrap(err);
    }
    await new Promise<void>((resolve, reject) => {
      let failure: string | undefined;
      this.docker.modem.followProgress(
        stream,
        (err: Error | null) => {
          // A failed pull ends the stream with an `error` entry while err stays null.
          if (err !== null) reject(wrap(err));
          else if (failure !== undefined) reject(new RuntimeError(failure));
          else resolve();
        },
        (event: { status?: string; id?: string; progress?: string; error?: string; errorDetail?: { message?: string } }) => {
          if (event.error !== undefined || event.errorDetail !== undefined) {
            failure = event.errorDetail?.message ?? event.error ?? "pull failed";
            return;
          }
          const progress: PullProgress = {};
          if (event.status !== undefined) progress.status = event.status;
          if (event.id !== undefined) progress.id = event.id;
          if (event.progress !== undefined) progress.progress = event.progress;
          onProgress?.(progress);
        },
      );
    });
  }

  async createContainer(options: Docker.ContainerCreateOptions): Promise<string> {
    try {
      const container = await this.docker.createContainer({ ...options, abortSignal: this.#signal() });
      return container.id;
    } catch (err) {
      throw wrap(err);
    }
  }

  async startContainer(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).start({ abortSignal: this.#signal(this.#startTimeoutMs) });
    } catch (err) {
      if (statusOf(err) === 304) return;
      throw wrap(err);
    }
  }

  async stopContainer(id: string, timeoutSec: number): Promise<void> {
    try {
      await this.docker
        .getContainer(id)
        .stop({ t: timeoutSec, abortSignal: this.#signal(timeoutSec * 1000 + this.#callTimeoutMs) });
    } catch (err) {
      const status = statusOf(err);
      if (status === 304) return;
      throw wrap(err);
    }
  }

  async killContainer(id: string, signal = "SIGKILL"): Promise<void> {
    try {
      await this.docker.getContainer(id).kill({ signal, abortSignal: this.#signal() });
    } catch (err) {
      // 409: not running.
      if (statusOf(err) === 409 || statusOf(err) === 304) return;
      throw wrap(err);
    }
  }

  async removeContainer(id: string, options: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    try {
      await this.docker
        .getContainer(id)
        .remove({ force: options.force ?? false, v: options.volumes ?? false, abortSignal: this.#signal() });
    } catch (err) {
      const status = statusOf(err);
      // 404 gone; 409 removal already in progress.
      if (status === 404 || (status === 409 && /already in progress/i.test(messageOf(err)))) return;
      throw wrap(err);
    }
  }

  async inspectContainer(id: string): Promise<ContainerSnapshot | undefined> {
    try {
      const info = await this.docker.getContainer(id).inspect({ abortSignal: this.#signal() });
      return normalizeInspect(info);
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw wrap(err);
    }
  }

  async listContainers(labels: string[]): Promise<ContainerSnapshot[]> {
    let list: Docker.ContainerInfo[];
    try {
      list = await this.docker.listContainers({ all: true, filters: { label: labels }, abortSignal: this.#signal() });
    } catch (err) {
      throw wrap(err);
    }
    const out: ContainerSnapshot[] = [];
    for (const c of list) {
      const snap = await this.inspectContainer(c.Id);
      if (snap !== undefined) out.push(snap);
    }
    return out;
  }

  async createNetwork(name: string, labels: Record<string, string>): Promise<string> {
    // Walk the pool from where the last allocation ended; Docker refuses subnets that overlap a network
    // that already exists (ours from before a restart, or the user's), so those are simply skipped.
    for (let attempt = 0; attempt < this.#subnets.size; attempt++) {
      const subnet = this.#subnets.next();
      try {
        const net = await this.docker.createNetwork({
          Name: name,
          Driver: "bridge",
          CheckDuplicate: true,
          Labels: labels,
          IPAM: { Driver: "default", Config: [{ Subnet: subnet }] },
          abortSignal: this.#signal(),
        } as Docker.NetworkCreateOptions);
        return net.id;
      } catch (err) {
        if (/overlap/i.test(messageOf(err))) continue;
        throw wrap(err);
      }
    }
    throw new SubnetPoolExhaustedError(
      `no free /24 subnet left in TASK_SUBNET_POOL (${this.#subnets.cidr}): all ${this.#subnets.size} are taken by other Docker networks; ` +
        "remove unused ones (docker network prune) or set TASK_SUBNET_POOL to another range",
      this.#subnets.cidr,
    );
  }

  async disconnectNetwork(network: string, containerId: string): Promise<void> {
    try {
      await this.docker.getNetwork(network).disconnect({ Container: containerId, Force: true, abortSignal: this.#signal() } as object);
    } catch (err) {
      const status = statusOf(err);
      if (status === 404 || /is not connected/i.test(messageOf(err))) return;
      throw wrap(err);
    }
  }

  async removeNetwork(idOrName: string): Promise<void> {
    try {
      await this.docker.getNetwork(idOrName).remove({ abortSignal: this.#signal() });
    } catch (err) {
      if (statusOf(err) === 404) return;
      throw wrap(err);
    }
  }

  async connectNetwork(network: string, containerId: string, aliases?: string[]): Promise<void> {
    try {
      const body: Record<string, unknown> = { Container: containerId };
      if (aliases !== undefined && aliases.length > 0) body["EndpointConfig"] = { Aliases: aliases };
      await this.docker.getNetwork(network).connect({ ...body, abortSignal: this.#signal() } as Docker.NetworkConnectOptions);
    } catch (err) {
      throw wrap(err);
    }
  }

  async listNetworks(labels: string[]): Promise<Array<{ id: string; name: string; labels: Record<string, string> }>> {
    try {
      const nets = await this.docker.listNetworks({ filters: { label: labels }, abortSignal: this.#signal() } as Docker.NetworkListOptions);
      return nets.map((n) => ({ id: n.Id, name: n.Name, labels: n.Labels ?? {} }));
    } catch (err) {
      throw wrap(err);
    }
  }

  async inspectNetwork(idOrName: string): Promise<NetworkSnapshot | undefined> {
    try {
      const network = this.docker.getNetwork(idOrName) as unknown as { inspect(opts: object): Promise<Docker.NetworkInspectInfo> };
      const info = await network.inspect({ abortSignal: this.#signal() });
      const subnets = (info.IPAM?.Config ?? []).flatMap((c) => (c.Subnet === undefined ? [] : [c.Subnet]));
      return { id: info.Id, name: info.Name, labels: info.Labels ?? {}, containers: Object.keys(info.Containers ?? {}), subnets };
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw wrap(err);
    }
  }

  async createVolume(spec: VolumeSpec): Promise<void> {
    try {
      await this.docker.createVolume({
        Name: spec.name,
        Driver: spec.driver ?? "local",
        DriverOpts: spec.driverOpts ?? {},
        Labels: spec.labels ?? {},
        abortSignal: this.#signal(),
      });
    } catch (err) {
      throw wrap(err);
    }
  }

  async removeVolume(name: string): Promise<void> {
    try {
      await this.docker.getVolume(name).remove({ abortSignal: this.#signal() });
    } catch (err) {
      if (statusOf(err) === 404) return;
      throw wrap(err);
    }
  }

  async volumeExists(name: string): Promise<boolean> {
    try {
      await this.docker.getVolume(name).inspect({ abortSignal: this.#signal() });
      return true;
    } catch (err) {
      if (statusOf(err) === 404) return false;
      throw wrap(err);
    }
  }

  async logs(
    id: string,
    options: { follow: boolean; timestamps: boolean; since?: string | undefined; tail?: number | undefined; signal?: AbortSignal | undefined },
  ): Promise<{ tty: boolean; chunks: AsyncIterable<Buffer> }> {
    try {
      const container = this.docker.getContainer(id);
      const info = await container.inspect({ abortSignal: this.#signal() });
      const query: Record<string, unknown> = { follow: options.follow, stdout: true, stderr: true, timestamps: options.timestamps };
      if (options.since !== undefined) query["since"] = options.since;
      if (options.tail !== undefined) query["tail"] = options.tail;
      if (options.signal !== undefined) query["abortSignal"] = options.signal;
      // dockerode answers a Buffer when not following, a stream otherwise.
      const out = (await container.logs(query as unknown as Docker.ContainerLogsOptions & { follow: true })) as unknown as NodeJS.ReadableStream | Buffer;
      if (!Buffer.isBuffer(out) && options.signal !== undefined) {
        // Ends a followed stream for sure, whether or not the request itself still listens to the signal.
        const stream = out as NodeJS.ReadableStream & { destroy(): void };
        if (options.signal.aborted) stream.destroy();
        else options.signal.addEventListener("abort", () => stream.destroy(), { once: true });
      }
      const chunks: AsyncIterable<Buffer> = Buffer.isBuffer(out) ? once(out) : (out as AsyncIterable<Buffer>);
      return { tty: info.Config.Tty, chunks };
    } catch (err) {
      throw wrap(err);
    }
  }

  async stats(id: string): Promise<Record<string, unknown> | null> {
    try {
      return (await this.docker.getContainer(id).stats({ stream: false, abortSignal: this.#signal() } as { stream: false })) as unknown as Record<string, unknown>;
    } catch (err) {
      if (statusOf(err) === 404 || statusOf(err) === 409) return null;
      throw wrap(err);
    }
  }

  events(filter: { labels: string[] }, handlers: EventHandlers): EventSubscription {
    let closed = false;
    let controller: AbortController | undefined;
    let retry: NodeJS.Timeout | undefined;

    const connect = async (): Promise<void> => {
      if (closed) return;
      controller = new AbortController();
      let stream: NodeJS.ReadableStream;
      try {
        stream = (await this.docker.getEvents({
          filters: {
            type: ["container"],
            label: filter.labels,
            event: ["start", "die", "destroy", "oom", "health_status"],
          },
          abortSignal: controller.signal,
        })) as NodeJS.ReadableStream;
      } catch (err) {
        if (!closed) handlers.onError?.(wrap(err));
        schedule();
        return;
      }
      let buffer = "";
      let ended = false;
      const end = (err?: unknown): void => {
        if (ended) return;
        ended = true;
        if (closed) return;
        if (err !== undefined) handlers.onError?.(wrap(err));
        schedule();
      };
      stream.on("data", (chunk: Buffer | string) => {
        buffer += chunk.toString();
        // Events are newline-delimited JSON and chunks may split or join them.
        let nl: number;
        while ((nl = buffer.indexOf("\n")) >= 0) {
          const line = buffer.slice(0, nl).trim();
          buffer = buffer.slice(nl + 1);
          if (line === "") continue;
          const event = parseEvent(line);
          if (event !== undefined) {
            try {
              handlers.onEvent(event);
            } catch (err) {
              handlers.onError?.(wrap(err));
            }
          }
        }
      });
      stream.on("error", (err: unknown) => end(err));
      stream.on("end", () => end(new RuntimeError("docker events stream ended")));
      stream.on("close", () => end());
      handlers.onConnect?.();
    };

    const schedule = (): void => {
      if (closed || retry !== undefined) return;
      retry = setTimeout(() => {
        retry = undefined;
        void connect();
      }, this.#reconnectDelayMs);
    };

    void connect();
    return {
      close: () => {
        closed = true;
        if (retry !== undefined) clearTimeout(retry);
        controller?.abort();
      },
    };
  }
}

function statusOf(err: unknown): number | undefined {
  const s = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof s === "number" ? s : undefined;
}

function messageOf(err: unknown): string {
  const json = (err as { json?: { message?: string } } | null)?.json;
  if (json?.message !== undefined) return json.message;
  if (err instanceof Error) {
    // dockerode messages look like "(HTTP code 404) no such container - No such container: x "
    const m = /^\(HTTP code \d+\) [^-]*- (.*)$/s.exec(err.message);
    return (m?.[1] ?? err.message).trim();
  }
  return String(err);
}

function wrap(err: unknown): RuntimeError {
  if (err instanceof RuntimeError) return err;
  return new RuntimeError(messageOf(err), statusOf(err));
}

async function* once(buffer: Buffer): AsyncIterable<Buffer> {
  yield buffer;
}
