import type Dockerode from "dockerode";

/**
 * The Docker surface the task engine needs, kept small so the engine can be unit-tested against an
 * in-memory fake (test/support/fake-runtime.ts) and so every Docker quirk lives in one adapter
 * (docker-runtime.ts).
 */
export interface ContainerRuntime {
  /** Local image metadata, or undefined when the image is not present. */
  inspectImage(image: string): Promise<ImageSnapshot | undefined>;
  imageExists(image: string): Promise<boolean>;
  /** Resolves when the image is present; rejects with the registry's message when the pull failed. */
  pullImage(image: string, onProgress?: (progress: PullProgress) => void): Promise<void>;

  /** Returns the new container id. */
  createContainer(options: Dockerode.ContainerCreateOptions): Promise<string>;
  startContainer(id: string): Promise<void>;
  /** SIGTERM (or the image STOPSIGNAL), then SIGKILL after timeoutSec. Already stopped is not an error. */
  stopContainer(id: string, timeoutSec: number): Promise<void>;
  killContainer(id: string, signal?: string): Promise<void>;
  /** Missing is not an error. */
  removeContainer(id: string, options?: { force?: boolean; volumes?: boolean }): Promise<void>;
  /** undefined when the container does not exist. */
  inspectContainer(id: string): Promise<ContainerSnapshot | undefined>;
  /** Containers (running or not) carrying every label in `labels` ("key" or "key=value"). */
  listContainers(labels: string[]): Promise<ContainerSnapshot[]>;

  /** Returns the network id. */
  createNetwork(name: string, labels: Record<string, string>): Promise<string>;
  /** Missing is not an error. */
  removeNetwork(idOrName: string): Promise<void>;
  connectNetwork(network: string, containerId: string, aliases?: string[]): Promise<void>;
  /** Detaches a (stopped) container so its network can be removed; not attached is not an error. */
  disconnectNetwork(network: string, containerId: string): Promise<void>;
  listNetworks(labels: string[]): Promise<Array<{ id: string; name: string; labels: Record<string, string> }>>;
  /** undefined when the network does not exist; `containers` are the ids of attached containers. */
  inspectNetwork(idOrName: string): Promise<NetworkSnapshot | undefined>;

  createVolume(spec: VolumeSpec): Promise<void>;
  /** Missing is not an error. */
  removeVolume(name: string): Promise<void>;
  volumeExists(name: string): Promise<boolean>;

  /** A container's output as Docker sends it (multiplexed unless the container has a TTY). */
  logs(id: string, options: { follow: boolean; timestamps: boolean; since?: string | undefined; tail?: number | undefined; signal?: AbortSignal | undefined }): Promise<{ tty: boolean; chunks: AsyncIterable<Buffer> }>;
  /** One non-streaming stats sample; null when the container is not running. */
  stats(id: string): Promise<Record<string, unknown> | null>;

  /**
   * One long-lived subscription to container events carrying the given labels. Reconnects by itself
   * (calling onReconnect once the stream is back, so the caller can reconcile what it missed).
   */
  events(filter: { labels: string[] }, handlers: EventHandlers): EventSubscription;
}

export interface ImageSnapshot {
  /** sha256:… image id. */
  id: string;
  /** "repo@sha256:…" entries; empty for images built or imported locally. */
  repoDigests: string[];
  /** The image's ENV ("KEY=value"). */
  env?: string[];
}

export interface PullProgress {
  status?: string;
  id?: string;
  progress?: string;
}

export type HealthState = "starting" | "healthy" | "unhealthy";

export interface PortBindingSnapshot {
  containerPort: number;
  protocol: "tcp" | "udp";
  hostIp: string;
  hostPort: number;
}

export interface ContainerSnapshot {
  id: string;
  /** Without the leading "/". */
  name: string;
  image: string;
  /** sha256:… id of the image the container runs. */
  imageId: string;
  labels: Record<string, string>;
  state: {
    /** created | running | paused | restarting | removing | exited | dead */
    status: string;
    running: boolean;
    exitCode: number;
    startedAt: Date | undefined;
    finishedAt: Date | undefined;
    oomKilled: boolean;
    health: HealthState | undefined;
    error: string | undefined;
  };
  /** Network name → IPv4 address ("" when none). */
  networks: Record<string, { ipAddress: string; networkId: string }>;
  /** Published ports, deduplicated over 0.0.0.0/:: (only populated once the container runs). */
  ports: PortBindingSnapshot[];
}

export interface NetworkSnapshot {
  id: string;
  name: string;
  labels: Record<string, string>;
  /** Ids of the containers with an endpoint on the network. */
  containers: string[];
  /** IPv4 subnets of the network (CIDR), when known. */
  subnets?: string[];
}

export interface VolumeSpec {
  name: string;
  driver?: string;
  driverOpts?: Record<string, string>;
  labels?: Record<string, string>;
}

export interface RuntimeEvent {
  /** container | network | volume | image … */
  type: string;
  /** start | die | destroy | oom | health_status … (health_status carries the state separately). */
  action: string;
  id: string;
  attributes: Record<string, string>;
  time: Date;
  /** For die. */
  exitCode?: number;
  /** For health_status. */
  health?: HealthState;
}

export interface EventHandlers {
  onEvent(event: RuntimeEvent): void;
  onError?(error: Error): void;
  /** Called after every (re)connection of the stream, including the first. */
  onConnect?(): void;
}

export interface EventSubscription {
  close(): void;
}

/** Errors the adapter raises with a Docker-like status, e.g. 404 for a missing object. */
export class RuntimeError extends Error {
  readonly statusCode: number | undefined;
  constructor(message: string, statusCode?: number) {
    super(message);
    this.name = "RuntimeError";
    this.statusCode = statusCode;
  }
}

/** createNetwork found no free subnet in the task subnet pool (TASK_SUBNET_POOL): every one is taken. */
export class SubnetPoolExhaustedError extends RuntimeError {
  /** The pool's range, e.g. 10.213.0.0/16: only networks in it free a subnet for the next try. */
  readonly cidr: string;
  constructor(message: string, cidr: string) {
    super(message);
    this.name = "SubnetPoolExhaustedError";
    this.cidr = cidr;
  }
}

/** Whether an IPv4 subnet lies within a range (both in CIDR notation); false for anything else. */
export function subnetWithin(subnet: string, range: string): boolean {
  const parse = (cidr: string): { base: number; bits: number } | undefined => {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
    if (m === null) return undefined;
    const base = ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
    return { base, bits: Number(m[5]) };
  };
  const s = parse(subnet);
  const r = parse(range);
  if (s === undefined || r === undefined || s.bits < r.bits) return false;
  const mask = r.bits === 0 ? 0 : (~0 << (32 - r.bits)) >>> 0;
  return ((s.base & mask) >>> 0) === ((r.base & mask) >>> 0);
}
