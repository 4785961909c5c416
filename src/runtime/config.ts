// Configuration comes only from the environment, so the original project's users can switch over
// without renaming anything. Every knob is documented in the README's configuration table.
import { InstanceConfigError, parseContainerInstancesEnv, type ContainerInstancesSetting } from "./instances/instance-config.ts";

export interface Config {
  port: number;
  host: string;
  /** Folder of the SQLite file, or ":memory:" for no persistence. */
  dataDir: string;
  accountId: string;
  region: string;
  logLevel: LogLevel;
  maxBodyBytes: number;

  /** Upstream ECS for operations we do not emulate and for task definitions we do not hold. */
  ecsEndpointUrl: string | undefined;
  ecsEndpointRegion: string | undefined;
  upstreamTimeoutMs: number;

  externalNetworks: string[];
  composeDest: string;
  dockerHost: string | undefined;
  /** A /16 that per-task bridge networks take /24 subnets from. */
  taskSubnetPool: string;

  iamEndpoint: string | undefined;
  stsEndpoint: string | undefined;
  secretsManagerEndpoint: string | undefined;
  ssmEndpoint: string | undefined;
  logsEndpoint: string | undefined;
  /** Injected into task containers as AWS_ENDPOINT_URL when set. */
  taskAwsEndpointUrl: string | undefined;

  /** Base credentials the agent side uses to assume task and execution roles. */
  agentCredentials: {
    accessKeyId: string | undefined;
    secretAccessKey: string | undefined;
    profile: string | undefined;
    credsHostPath: string | undefined;
    credsVolumeName: string;
  };

  stoppedTaskRetentionMs: number;
  containerCleanupDelayMs: number;

  /** The web console under /console/ on the API's port (CONSOLE=false turns it off). */
  console: boolean;
  /** EventBridge endpoint ECS events are delivered to with PutEvents; undefined = events off. */
  eventsEndpointUrl: string | undefined;
  /**
   * AGENT_ADVERTISE_URL: where containers on another host's engine (CONTAINER_INSTANCES) reach this server's
   * agent endpoints (credentials, metadata); it also listens there. Unset: they use 169.254.170.2 as local ones.
   */
  agentAdvertiseUrl: string | undefined;
  /** Event bus name or ARN the events are put on. */
  eventsBusName: string;
  /** ELBv2 endpoint service tasks are registered in as targets; undefined = load balancers recorded only. */
  elbv2EndpointUrl: string | undefined;
  /** Cloud Map endpoint service tasks are registered in as instances; undefined = registries recorded only. */
  serviceDiscoveryEndpointUrl: string | undefined;
  /** CONTAINER_INSTANCES: the Docker engines that are the clusters' container instances. */
  containerInstances: ContainerInstancesSetting;
}

/** The region of unsigned calls and of rows written before resources were regional, unless configured. */
export const DEFAULT_REGION = "us-east-1";

export type LogLevel = "debug" | "info" | "warn" | "error";
const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

export type Env = Readonly<Record<string, string | undefined>>;

export function loadConfig(env: Env = process.env): Config {
  const str = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v === undefined || v === "" ? undefined : v;
  };
  const level = (str("LOG_LEVEL") ?? "info").toLowerCase();
  if (!LOG_LEVELS.includes(level as LogLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}; got "${level}"`);
  }
  return {
    port: integer(str("PORT"), 8000, "PORT"),
    host: str("HOST") ?? "127.0.0.1",
    dataDir: str("DATA_DIR") ?? "./data",
    accountId: str("AWS_ACCOUNT_ID") ?? "000000000000",
    region: str("AWS_DEFAULT_REGION") ?? str("AWS_REGION") ?? DEFAULT_REGION,
    logLevel: level as LogLevel,
    maxBodyBytes: integer(str("MAX_BODY_BYTES"), 1024 * 1024, "MAX_BODY_BYTES"),
    ecsEndpointUrl: str("ECS_ENDPOINT_URL"),
    ecsEndpointRegion: str("ECS_ENDPOINT_AWS_REGION"),
    upstreamTimeoutMs: duration(str("UPSTREAM_TIMEOUT"), 15_000, "UPSTREAM_TIMEOUT"),
    externalNetworks: (str("ECS_EXTERNAL_NETWORKS") ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== ""),
    composeDest: str("COMPOSE_DEST") ?? "/tmp",
    dockerHost: str("DOCKER_HOST"),
    taskSubnetPool: str("TASK_SUBNET_POOL") ?? "10.213.0.0/16",
    iamEndpoint: str("IAM_ENDPOINT"),
    stsEndpoint: str("STS_ENDPOINT"),
    secretsManagerEndpoint: str("SECRET_MANAGER_ENDPOINT_URL"),
    ssmEndpoint: str("SSM_ENDPOINT_URL"),
    logsEndpoint: str("LOGS_ENDPOINT_URL"),
    taskAwsEndpointUrl: str("TASK_AWS_ENDPOINT_URL"),
    agentCredentials: {
      accessKeyId: str("ECS_ENDPOINT_AWS_ACCESS_KEY_ID"),
      secretAccessKey: str("ECS_ENDPOINT_AWS_SECRET_ACCESS_KEY"),
      profile: str("ECS_ENDPOINT_AWS_PROFILE"),
      credsHostPath: str("AWS_CREDS_HOST_PATH"),
      credsVolumeName: str("ECS_AWS_CREDS_VOLUME_NAME") ?? "ecs-local-aws-creds-volume",
    },
    stoppedTaskRetentionMs: duration(str("STOPPED_TASK_RETENTION"), 3_600_000, "STOPPED_TASK_RETENTION"),
    containerCleanupDelayMs: duration(str("CONTAINER_CLEANUP_DELAY"), 3_600_000, "CONTAINER_CLEANUP_DELAY"),
    console: boolean(str("CONSOLE"), true, "CONSOLE"),
    eventsEndpointUrl: httpUrl(str("EVENTS_ENDPOINT_URL"), "EVENTS_ENDPOINT_URL"),
    agentAdvertiseUrl: advertisedUrl(str("AGENT_ADVERTISE_URL")),
    eventsBusName: str("EVENTS_BUS_NAME") ?? "default",
    elbv2EndpointUrl: httpUrl(str("ELBV2_ENDPOINT_URL"), "ELBV2_ENDPOINT_URL"),
    serviceDiscoveryEndpointUrl: httpUrl(str("SERVICE_DISCOVERY_ENDPOINT_URL"), "SERVICE_DISCOVERY_ENDPOINT_URL"),
    containerInstances: containerInstances(str("CONTAINER_INSTANCES")),
  };
}

export class ConfigError extends Error {}

function containerInstances(raw: string | undefined): ContainerInstancesSetting {
  try {
    return parseContainerInstancesEnv(raw);
  } catch (err) {
    if (err instanceof InstanceConfigError) throw new ConfigError(err.message);
    throw err;
  }
}

function integer(raw: string | undefined, fallback: number, name: string): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new ConfigError(`${name} must be a non-negative integer; got "${raw}"`);
  return n;
}

function httpUrl(raw: string | undefined, name: string): string | undefined {
  if (raw === undefined) return undefined;
  let protocol = "";
  try {
    protocol = new URL(raw).protocol;
  } catch {
    // reported below
  }
  if (protocol !== "http:" && protocol !== "https:") throw new ConfigError(`${name} must be an http(s) URL such as http://localhost:4566; got "${raw}"`);
  return raw;
}

/** An http URL with an explicit port (the agent listens on it), without a path. */
function advertisedUrl(raw: string | undefined): string | undefined {
  const value = httpUrl(raw, "AGENT_ADVERTISE_URL");
  if (value === undefined) return undefined;
  const url = new URL(value);
  if (url.protocol !== "http:" || url.port === "" || (url.pathname !== "/" && url.pathname !== "")) {
    throw new ConfigError(`AGENT_ADVERTISE_URL must be http://<address other hosts reach>:<port>, without a path; got "${raw}"`);
  }
  return `http://${url.host}`;
}

function boolean(raw: string | undefined, fallback: boolean, name: string): boolean {
  if (raw === undefined) return fallback;
  const v = raw.toLowerCase();
  if (["true", "1", "yes", "on"].includes(v)) return true;
  if (["false", "0", "no", "off"].includes(v)) return false;
  throw new ConfigError(`${name} must be true or false; got "${raw}"`);
}

/** Accepts "90" (seconds), "500ms", "30s", "15m", "1h". */
export function duration(raw: string | undefined, fallbackMs: number, name: string): number {
  if (raw === undefined) return fallbackMs;
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/.exec(raw);
  if (m === null) throw new ConfigError(`${name} must be a duration such as 30s, 15m or 1h; got "${raw}"`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? "s") as "ms" | "s" | "m" | "h"];
  return Math.round(Number(m[1]) * unit);
}
