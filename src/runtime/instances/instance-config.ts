// CONTAINER_INSTANCES: which Docker engines are the container instances of which clusters. Pure: parses
// the compact environment form and the YAML file form into one list of specs; reading the file is the
// caller's business (loadConfig stays a pure function of the environment).
import { createRequire } from "node:module";
import type * as Yaml from "yaml";

/** yaml is loaded only for a CONTAINER_INSTANCES file: a static import loads it (~70 ms) at every start. */
const loadYaml = (): typeof Yaml => createRequire(import.meta.url)("yaml") as typeof Yaml;

/** How to reach one Docker-compatible engine (Docker, or Podman's Docker-compatible socket). */
export interface EngineEndpoint {
  /** Normalised: `unix:///path`, `tcp://host:port`, `ssh://user@host[:port]`. */
  url: string;
  /** Client TLS for `tcp://` (DOCKER_TLS_VERIFY / DOCKER_CERT_PATH style). */
  tls?: { ca?: string | undefined; cert?: string | undefined; key?: string | undefined; verify: boolean } | undefined;
  /**
   * The range task networks on this engine take /24s from (TASK_SUBNET_POOL otherwise). Engines on one
   * host need distinct ranges: the host routes each subnet to one bridge.
   */
  taskSubnetPool?: string | undefined;
}

/** One configured container instance: an engine serving one cluster (or every used cluster). */
export interface InstanceSpec {
  /**
   * Identity inside the configuration (cluster pattern, engine URL, occurrence): ARNs and EC2 instance
   * ids derive from it, so they survive restarts as long as the configuration does not change.
   */
  key: string;
  /** A cluster name, or "*" for every cluster that is used. */
  cluster: string;
  engine: EngineEndpoint;
  /** Override what the engine reports: CPU units (cores × 1024) and MiB. */
  cpu?: number | undefined;
  memory?: number | undefined;
  availabilityZone?: string | undefined;
  instanceType?: string | undefined;
  capacityProvider?: string | undefined;
  /** Custom attributes set at registration (like ECS_INSTANCE_ATTRIBUTES on a real agent). */
  attributes?: Record<string, string> | undefined;
}

/** What the environment says; a file is read and parsed by the server at start-up. */
export type ContainerInstancesSetting =
  | { kind: "default" }
  | { kind: "list"; instances: InstanceSpec[] }
  | { kind: "file"; path: string };

export class InstanceConfigError extends Error {}

const DEFAULT_SOCKET = "unix:///var/run/docker.sock";
const CLUSTER = /^(\*|[A-Za-z0-9_-]{1,255})$/;
const NUMERIC_OPTIONS = new Set(["cpu", "memory"]);
const STRING_OPTIONS = new Set(["az", "availabilityZone", "instanceType", "capacityProvider"]);
const TLS_OPTIONS = new Set(["tls", "tlsverify", "ca", "cert", "key"]);

/** DOCKER_HOST as given (`/path`, `unix://…`, `tcp://…`, `ssh://…`) → a normalised URL. */
export function normaliseEngineUrl(raw: string | undefined): string {
  const value = (raw ?? "").trim();
  if (value === "") return DEFAULT_SOCKET;
  if (value.startsWith("/")) return `unix://${value}`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InstanceConfigError(`"${value}" is not a Docker engine address (unix:///path, tcp://host:port or ssh://user@host)`);
  }
  switch (url.protocol) {
    case "unix:":
      if (url.pathname === "") throw new InstanceConfigError(`"${value}" names no socket path`);
      return `unix://${url.pathname}`;
    case "tcp:":
    case "http:":
    case "https:":
      if (url.hostname === "") throw new InstanceConfigError(`"${value}" names no host`);
      return `tcp://${url.hostname}:${url.port === "" ? (url.protocol === "https:" ? "2376" : "2375") : url.port}`;
    case "ssh:":
      if (url.hostname === "") throw new InstanceConfigError(`"${value}" names no host`);
      return `ssh://${url.username === "" ? "" : `${url.username}@`}${url.hostname}${url.port === "" ? "" : `:${url.port}`}`;
    default:
      throw new InstanceConfigError(`"${value}": unsupported scheme ${url.protocol} (use unix://, tcp:// or ssh://)`);
  }
}

/**
 * The environment value: unset → the local engine serves every cluster; `cluster=url[,cluster=url…]`
 * (cluster may be `*`; the URL may carry `?cpu=&memory=&az=&instanceType=&capacityProvider=&taskSubnetPool=` and, for
 * tcp, `tls=1&ca=&cert=&key=`); anything without `=` is the path of a YAML file.
 */
export function parseContainerInstancesEnv(raw: string | undefined): ContainerInstancesSetting {
  const value = raw?.trim() ?? "";
  if (value === "") return { kind: "default" };
  if (!value.includes("=")) return { kind: "file", path: value };
  const entries = value.split(",").map((s) => s.trim()).filter((s) => s !== "");
  const drafts = entries.map((entry) => {
    const eq = entry.indexOf("=");
    if (eq <= 0) throw new InstanceConfigError(`CONTAINER_INSTANCES entry "${entry}" must be cluster=engine-url`);
    return compactEntry(entry.slice(0, eq).trim(), entry.slice(eq + 1).trim());
  });
  return { kind: "list", instances: withKeys(drafts) };
}

/** The YAML file form: `instances: [{cluster|clusters, engine, cpu, memory, availabilityZone, …}]`. */
export function parseContainerInstancesYaml(text: string, source = "CONTAINER_INSTANCES file"): InstanceSpec[] {
  let doc: unknown;
  try {
    doc = loadYaml().parse(text);
  } catch (err) {
    throw new InstanceConfigError(`${source}: not valid YAML (${(err as Error).message})`);
  }
  const list = isRecord(doc) ? doc["instances"] : doc;
  if (!Array.isArray(list) || list.length === 0) {
    throw new InstanceConfigError(`${source}: expected "instances:" with at least one entry`);
  }
  const drafts: Omit<InstanceSpec, "key">[] = [];
  list.forEach((item, i) => {
    const where = `${source}: instances[${i}]`;
    if (!isRecord(item)) throw new InstanceConfigError(`${where} must be a mapping`);
    const clusters = item["clusters"] ?? item["cluster"] ?? "*";
    const names = Array.isArray(clusters) ? clusters : [clusters];
    const engineRaw = item["engine"] ?? item["url"];
    if (engineRaw !== undefined && typeof engineRaw !== "string") throw new InstanceConfigError(`${where}.engine must be a string`);
    const engine: EngineEndpoint = { url: wrap(where, () => normaliseEngineUrl(engineRaw)) };
    const taskSubnetPool = optionalString(item["taskSubnetPool"], `${where}.taskSubnetPool`);
    if (taskSubnetPool !== undefined) engine.taskSubnetPool = taskSubnetPool;
    const tls = item["tls"];
    if (tls !== undefined) {
      if (!isRecord(tls)) throw new InstanceConfigError(`${where}.tls must be a mapping of ca, cert, key, verify`);
      engine.tls = {
        ca: optionalString(tls["ca"], `${where}.tls.ca`),
        cert: optionalString(tls["cert"], `${where}.tls.cert`),
        key: optionalString(tls["key"], `${where}.tls.key`),
        verify: tls["verify"] !== false,
      };
    }
    const attributes = item["attributes"];
    if (attributes !== undefined && !isRecord(attributes)) throw new InstanceConfigError(`${where}.attributes must be a mapping`);
    for (const name of names) {
      if (typeof name !== "string" || !CLUSTER.test(name)) throw new InstanceConfigError(`${where}: invalid cluster name ${JSON.stringify(name)}`);
      drafts.push({
        cluster: name,
        engine,
        cpu: optionalCount(item["cpu"], `${where}.cpu`),
        memory: optionalCount(item["memory"], `${where}.memory`),
        availabilityZone: optionalString(item["availabilityZone"], `${where}.availabilityZone`),
        instanceType: optionalString(item["instanceType"], `${where}.instanceType`),
        capacityProvider: optionalString(item["capacityProvider"], `${where}.capacityProvider`),
        attributes: attributes === undefined ? undefined : Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, String(v)])),
      });
    }
  });
  return withKeys(drafts);
}

/** The specs in force: the setting, or (default) the local engine as an instance of every used cluster. */
export function defaultInstanceSpecs(dockerHost: string | undefined): InstanceSpec[] {
  return withKeys([{ cluster: "*", engine: { url: normaliseEngineUrl(dockerHost) } }]);
}

function compactEntry(cluster: string, target: string): Omit<InstanceSpec, "key"> {
  if (!CLUSTER.test(cluster)) throw new InstanceConfigError(`CONTAINER_INSTANCES: invalid cluster name "${cluster}"`);
  const q = target.indexOf("?");
  const base = q < 0 ? target : target.slice(0, q);
  const params = new URLSearchParams(q < 0 ? "" : target.slice(q + 1));
  const spec: Omit<InstanceSpec, "key"> = { cluster, engine: { url: wrap("CONTAINER_INSTANCES", () => normaliseEngineUrl(base)) } };
  const tls: NonNullable<EngineEndpoint["tls"]> = { verify: true };
  let useTls = false;
  for (const [name, value] of params) {
    if (NUMERIC_OPTIONS.has(name)) {
      spec[name as "cpu" | "memory"] = optionalCount(Number(value), `CONTAINER_INSTANCES ${name}`);
    } else if (STRING_OPTIONS.has(name)) {
      const key = name === "az" ? "availabilityZone" : (name as "availabilityZone" | "instanceType" | "capacityProvider");
      spec[key] = value;
    } else if (name === "taskSubnetPool") {
      spec.engine = { ...spec.engine, taskSubnetPool: value };
    } else if (TLS_OPTIONS.has(name)) {
      useTls = true;
      if (name === "tlsverify" || name === "tls") tls.verify = value !== "0" && value !== "false";
      else tls[name as "ca" | "cert" | "key"] = value;
    } else {
      throw new InstanceConfigError(
        `CONTAINER_INSTANCES: unknown option "${name}" (known: cpu, memory, az, instanceType, capacityProvider, taskSubnetPool, tls, ca, cert, key)`,
      );
    }
  }
  if (useTls) spec.engine = { ...spec.engine, tls };
  return spec;
}

/** Keys: cluster + engine URL + how many identical pairs came before (several instances on one engine). */
function withKeys(drafts: Omit<InstanceSpec, "key">[]): InstanceSpec[] {
  const seen = new Map<string, number>();
  return drafts.map((d) => {
    const base = `${d.cluster}=${d.engine.url}`;
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    return { ...d, key: n === 0 ? base : `${base}#${n}` };
  });
}

function wrap<T>(where: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof InstanceConfigError) throw new InstanceConfigError(`${where}: ${err.message}`);
    throw err;
  }
}

function optionalString(value: unknown, where: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string" || value === "") throw new InstanceConfigError(`${where} must be a non-empty string`);
  return value;
}

function optionalCount(value: unknown, where: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
    throw new InstanceConfigError(`${where} must be a positive integer`);
  }
  return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
