// Task definition → a readable docker-compose model (Compose Specification, no `version:` key, so that
// depends_on conditions, mem_limit and cpu_shares are accepted by docker-compose ≥ 1.27 and Compose v2).
// This is the original project's feature: the file documents and reproduces the task; the task engine
// does not run it. It follows `ecs-cli local create` (docs/ecs-behaviour.md 6) and, where ecs-cli
// dropped a field that compose can express, the agent's Docker mapping (2.5).
//
// Secrets never appear as values: each becomes `${<CONTAINER>_<NAME>}` resolved from the environment of
// whoever runs compose, plus a label `ecs-local.secret.<NAME>=<valueFrom>` saying where it comes from.

import type {
  ContainerDefinition,
  ContainerOverride,
  NetworkMode,
  PortMapping,
  TaskDefinition,
  TaskOverride,
  Volume,
} from "../../../../../generated/shapes.ts";
import {
  containerEnvironment,
  containerLabels,
  cpuShares,
  devicePermissions,
  ECS_LABELS,
  healthCheckWithDefaults,
  MIN_MEMORY_MIB,
  parseLink,
  DEFAULT_STOP_TIMEOUT_SECONDS,
} from "../docker-mapping.ts";

export interface ComposeProjectInput {
  taskDefinition: TaskDefinition;
  taskId?: string;
  taskArn?: string;
  clusterName?: string;
  overrides?: TaskOverride;
  /** Defaults to the task definition's networkMode, else bridge. */
  networkMode?: NetworkMode;
  /** Pre-existing Docker networks every service joins (ECS_EXTERNAL_NETWORKS); ignored for host/none. */
  externalNetworks: string[];
  /** Agent variables (metadata URIs, credentials URI, region…), same precedence as the task engine. */
  injectedEnv?: Record<string, string>;
  /** ECS container name → `container_name` to pin; services without an entry get compose's names. */
  containerNames?: Record<string, string>;
  /** Docker name of the per-task network; default: compose's `<project>_task`. */
  taskNetworkName?: string;
  /** Image of the awsvpc network-namespace holder service. */
  pauseImage?: string;
}

/** A compose model: plain data, ready for YAML. */
export interface ComposeProject {
  "x-local-ecs-api": ComposeMetadata;
  services: Record<string, ComposeService>;
  networks?: Record<string, ComposeNetwork>;
  volumes?: Record<string, ComposeVolume>;
}

export interface ComposeMetadata {
  taskArn?: string;
  taskId?: string;
  taskDefinitionArn?: string;
  family?: string;
  networkMode: NetworkMode;
}

export type ComposeService = Record<string, unknown>;
export type ComposeNetwork = { external?: boolean; name?: string; driver?: string; labels?: Record<string, string> };
export type ComposeVolume = {
  name?: string;
  external?: boolean;
  driver?: string;
  driver_opts?: Record<string, string>;
  labels?: Record<string, string>;
};

/** A task definition compose cannot represent (as opposed to a bug): callers report the message alone. */
export class ComposeConversionError extends Error {
  override name = "ComposeConversionError";
}

export const TASK_NETWORK_KEY = "task";
export const PAUSE_SERVICE_BASE = "ecs-local-pause";
/** A small image whose default command idles forever; override with `pauseImage`. */
export const DEFAULT_PAUSE_IMAGE = "registry.k8s.io/pause:3.9";
export const SECRET_LABEL_PREFIX = "ecs-local.secret.";

/**
 * ECS COMPLETE ("the dependency exited, any code") has no compose equivalent. service_completed_successfully
 * keeps the ordering (wait for the exit), at the price of compose refusing to start the dependent after a
 * non-zero exit, which ECS would allow; service_started would lose the ordering altogether.
 */
const DEPENDENCY_CONDITIONS = {
  START: "service_started",
  COMPLETE: "service_completed_successfully",
  SUCCESS: "service_completed_successfully",
  HEALTHY: "service_healthy",
} as const;

export function taskToComposeProject(input: ComposeProjectInput): ComposeProject {
  const td = input.taskDefinition;
  const defs = td.containerDefinitions ?? [];
  if (defs.length === 0) throw new ComposeConversionError("task definition must include at least one container definition");
  const mode: NetworkMode = input.networkMode ?? td.networkMode ?? "bridge";
  const volumesByName = new Map((td.volumes ?? []).filter((v) => v.name !== undefined).map((v) => [v.name as string, v]));

  const metadata: ComposeMetadata = { networkMode: mode };
  if (input.taskArn !== undefined) metadata.taskArn = input.taskArn;
  if (input.taskId !== undefined) metadata.taskId = input.taskId;
  if (td.taskDefinitionArn !== undefined) metadata.taskDefinitionArn = td.taskDefinitionArn;
  if (td.family !== undefined) metadata.family = td.family;
  // Services first for readers; the extension field with the task's identity goes last.
  const project = { services: {} } as ComposeProject;

  const joinsNetworks = mode === "bridge" || mode === "awsvpc";
  if (joinsNetworks) {
    const networks: Record<string, ComposeNetwork> = {};
    const taskNetwork: ComposeNetwork = { driver: "bridge" };
    if (input.taskNetworkName !== undefined) taskNetwork.name = input.taskNetworkName;
    if (input.taskArn !== undefined) taskNetwork.labels = { [ECS_LABELS.taskArn]: input.taskArn };
    networks[TASK_NETWORK_KEY] = taskNetwork;
    for (const ext of input.externalNetworks) networks[ext] = { external: true, name: ext };
    project.networks = escapeDeep(networks);
  }
  const serviceNetworks = [TASK_NETWORK_KEY, ...input.externalNetworks];

  let pauseService: string | undefined;
  if (mode === "awsvpc") {
    const names = new Set(defs.map((d) => d.name));
    pauseService = PAUSE_SERVICE_BASE;
    for (let i = 2; names.has(pauseService); i++) pauseService = `${PAUSE_SERVICE_BASE}-${i}`;
    const pause: ComposeService = { image: input.pauseImage ?? DEFAULT_PAUSE_IMAGE, networks: serviceNetworks };
    // In awsvpc every container shares the task's network namespace, so the ports live on its holder.
    const ports = defs.flatMap((d) => composePorts(d.portMappings ?? []));
    if (ports.length > 0) pause.ports = ports;
    pause.labels = { "ecs-local.role": "awsvpc-network-namespace", ...(input.taskArn !== undefined ? { [ECS_LABELS.taskArn]: input.taskArn } : {}) };
    if (td.ipcMode === "task") pause.ipc = "shareable";
    project.services[pauseService] = escapeDeep(pause);
  }

  for (const def of defs) {
    const name = def.name ?? "";
    const override = input.overrides?.containerOverrides?.find((o) => o.name === name);
    const service = serviceFor(def, override, input, mode, volumesByName, pauseService);
    if (joinsNetworks && mode === "bridge") service.networks = serviceNetworks;
    const escaped = escapeDeep(service);
    escaped.environment = environmentFor(def, override, input.injectedEnv);
    if (Object.keys(escaped.environment as object).length === 0) delete escaped.environment;
    project.services[name] = escaped;
  }

  const volumes = composeVolumes(td.volumes ?? [], input.taskArn);
  if (Object.keys(volumes).length > 0) project.volumes = escapeDeep(volumes);
  project["x-local-ecs-api"] = metadata;
  return project;
}

function serviceFor(
  def: ContainerDefinition,
  override: ContainerOverride | undefined,
  input: ComposeProjectInput,
  mode: NetworkMode,
  volumesByName: Map<string, Volume>,
  pauseService: string | undefined,
): ComposeService {
  const td = input.taskDefinition;
  const name = def.name ?? "";
  const s: ComposeService = { image: def.image ?? "" };
  const containerName = input.containerNames?.[name];
  if (containerName !== undefined) s.container_name = containerName;
  if (def.entryPoint !== undefined) s.entrypoint = [...def.entryPoint];
  const command = override?.command ?? def.command;
  if (command !== undefined) s.command = [...command];
  if (def.workingDirectory !== undefined) s.working_dir = def.workingDirectory;
  if (def.user !== undefined) s.user = def.user;

  switch (mode) {
    case "bridge": {
      const ports = composePorts(def.portMappings ?? []);
      if (ports.length > 0) s.ports = ports;
      if (def.links !== undefined && def.links.length > 0) {
        s.links = def.links.map((l) => {
          let link;
          try {
            link = parseLink(l);
          } catch (err) {
            throw new ComposeConversionError(`container ${name}: ${err instanceof Error ? err.message : String(err)}`);
          }
          return link.target === link.alias ? link.target : `${link.target}:${link.alias}`;
        });
      }
      break;
    }
    case "awsvpc":
      s.network_mode = `service:${pauseService ?? ""}`;
      break;
    case "host":
    case "none":
      s.network_mode = mode;
      break;
  }
  if (mode !== "awsvpc") {
    if (def.hostname !== undefined) s.hostname = def.hostname;
    if (def.dnsServers !== undefined) s.dns = [...def.dnsServers];
    if (def.dnsSearchDomains !== undefined) s.dns_search = [...def.dnsSearchDomains];
    if (def.extraHosts !== undefined) s.extra_hosts = def.extraHosts.map((h) => `${h.hostname}:${h.ipAddress}`);
  }

  const dependsOn: Record<string, { condition: string }> = {};
  if (pauseService !== undefined) dependsOn[pauseService] = { condition: "service_started" };
  for (const dep of def.dependsOn ?? []) dependsOn[dep.containerName] = { condition: DEPENDENCY_CONDITIONS[dep.condition] };
  if (Object.keys(dependsOn).length > 0) s.depends_on = dependsOn;

  if (def.healthCheck !== undefined) {
    const hc = healthCheckWithDefaults(def.healthCheck);
    const healthcheck: Record<string, unknown> = {
      test: hc.command,
      interval: `${hc.interval}s`,
      timeout: `${hc.timeout}s`,
      retries: hc.retries,
    };
    if (hc.startPeriod > 0) healthcheck.start_period = `${hc.startPeriod}s`;
    s.healthcheck = healthcheck;
  }

  const labels: Record<string, string> = containerLabels({
    definition: def,
    taskArn: input.taskArn ?? "",
    clusterName: input.clusterName ?? "",
    family: td.family ?? "",
    revision: td.revision ?? 0,
  });
  // Only claim what we know: a file converted from JSON has no task ARN or cluster, a register input no revision.
  if (input.taskArn === undefined) delete labels[ECS_LABELS.taskArn];
  if (input.clusterName === undefined) delete labels[ECS_LABELS.cluster];
  if (td.family === undefined) delete labels[ECS_LABELS.family];
  if (td.revision === undefined) delete labels[ECS_LABELS.version];
  for (const secret of def.secrets ?? []) labels[`${SECRET_LABEL_PREFIX}${secret.name}`] = secret.valueFrom;
  s.labels = labels;

  if (def.logConfiguration !== undefined) {
    const lc = def.logConfiguration;
    // awslogs/awsfirelens need AWS; like ecs-cli's override file, run them as json-file locally.
    if (lc.logDriver === "awslogs" || lc.logDriver === "awsfirelens") s.logging = { driver: "json-file" };
    else s.logging = { driver: lc.logDriver, ...(lc.options !== undefined ? { options: { ...lc.options } } : {}) };
  }

  if (def.ulimits !== undefined) s.ulimits = Object.fromEntries(def.ulimits.map((u) => [u.name, { soft: u.softLimit, hard: u.hardLimit }]));
  const lp = def.linuxParameters;
  if (lp?.capabilities?.add !== undefined) s.cap_add = [...lp.capabilities.add];
  if (lp?.capabilities?.drop !== undefined) s.cap_drop = [...lp.capabilities.drop];
  if (lp?.devices !== undefined) {
    s.devices = lp.devices.map((d) => `${d.hostPath}:${d.containerPath ?? d.hostPath}:${devicePermissions(d.permissions)}`);
  }
  if (lp?.tmpfs !== undefined) s.tmpfs = lp.tmpfs.map((t) => `${t.containerPath}:${[`size=${t.size}m`, ...(t.mountOptions ?? [])].join(",")}`);
  if (lp?.sharedMemorySize !== undefined) s.shm_size = `${lp.sharedMemorySize}m`;
  if (lp?.initProcessEnabled !== undefined) s.init = lp.initProcessEnabled;
  if (def.systemControls !== undefined) {
    s.sysctls = Object.fromEntries(def.systemControls.flatMap((c) => (c.namespace === undefined ? [] : [[c.namespace, c.value ?? ""]])));
  }
  if (def.dockerSecurityOptions !== undefined) s.security_opt = [...def.dockerSecurityOptions];
  if (def.interactive !== undefined) s.stdin_open = def.interactive;
  if (def.pseudoTerminal !== undefined) s.tty = def.pseudoTerminal;
  if (def.privileged !== undefined) s.privileged = def.privileged;
  if (def.readonlyRootFilesystem !== undefined) s.read_only = def.readonlyRootFilesystem;

  const cpu = override?.cpu ?? def.cpu;
  if (cpu !== undefined && cpu > 0) s.cpu_shares = cpuShares(cpu);
  const memory = override?.memory ?? def.memory;
  if (memory !== undefined) s.mem_limit = `${Math.max(memory, MIN_MEMORY_MIB)}m`;
  const reservation = override?.memoryReservation ?? def.memoryReservation;
  if (reservation !== undefined) s.mem_reservation = `${Math.max(reservation, MIN_MEMORY_MIB)}m`;
  s.stop_grace_period = `${def.stopTimeout !== undefined && def.stopTimeout > 0 ? def.stopTimeout : DEFAULT_STOP_TIMEOUT_SECONDS}s`;

  if (td.pidMode === "host") s.pid = "host";
  else if (td.pidMode === "task" && pauseService !== undefined) s.pid = `service:${pauseService}`;
  if (td.ipcMode === "host" || td.ipcMode === "none") s.ipc = td.ipcMode;
  else if (td.ipcMode === "task" && pauseService !== undefined) s.ipc = `service:${pauseService}`;

  const mounts = (def.mountPoints ?? []).map((mp) => composeMount(mp.sourceVolume ?? "", mp.containerPath ?? "", mp.readOnly === true, volumesByName, name));
  if (mounts.length > 0) s.volumes = mounts;
  if (def.volumesFrom !== undefined && def.volumesFrom.length > 0) {
    s.volumes_from = def.volumesFrom.map((v) => `${v.sourceContainer ?? ""}${v.readOnly === true ? ":ro" : ""}`);
  }
  return s;
}

/** The container's environment as a compose mapping, secrets as `${VAR}` placeholders, everything else `$`-escaped. */
function environmentFor(
  def: ContainerDefinition,
  override: ContainerOverride | undefined,
  injectedEnv: Record<string, string> | undefined,
): Record<string, string> {
  const placeholders = Object.fromEntries((def.secrets ?? []).map((s) => [s.name, `\${${secretVariable(def.name ?? "", s.name)}}`]));
  const env = containerEnvironment({ definition: def, override, secretEnv: placeholders, extraEnv: injectedEnv });
  const out: Record<string, string> = {};
  for (const [k, v] of env) out[k] = placeholders[k] === v ? v : escapeDollars(v);
  return out;
}

/** `${<CONTAINER>_<NAME>}` variable, reduced to what compose interpolation accepts. */
export function secretVariable(containerName: string, secretName: string): string {
  const variable = `${containerName.toUpperCase()}_${secretName}`.replace(/[^A-Za-z0-9_]/g, "_");
  return /^[0-9]/.test(variable) ? `_${variable}` : variable;
}

function composePorts(mappings: readonly PortMapping[]): Array<Record<string, unknown> | string> {
  return mappings.flatMap((m): Array<Record<string, unknown> | string> => {
    const protocol = m.protocol ?? "tcp";
    if (m.containerPort === undefined) {
      // The long syntax has no ranges; the short one publishes each port on a random host port.
      return m.containerPortRange === undefined ? [] : [`${m.containerPortRange.replace(/\s/g, "")}/${protocol}`];
    }
    const port: Record<string, unknown> = { target: m.containerPort };
    if (m.hostPort !== undefined && m.hostPort !== 0) port.published = m.hostPort;
    port.protocol = protocol;
    return [port];
  });
}

function composeMount(
  sourceVolume: string,
  target: string,
  readOnly: boolean,
  volumesByName: Map<string, Volume>,
  containerName: string,
): Record<string, unknown> {
  const volume = volumesByName.get(sourceVolume);
  if (volume === undefined) throw new ComposeConversionError(`container ${containerName}: mount point references unknown volume "${sourceVolume}"`);
  const sourcePath = volume.host?.sourcePath;
  const mount: Record<string, unknown> =
    sourcePath !== undefined && sourcePath !== ""
      ? { type: "bind", source: sourcePath, target }
      : { type: "volume", source: sourceVolume, target };
  if (readOnly) mount.read_only = true;
  return mount;
}

/**
 * Top-level named volumes: task-scoped ones are compose-managed (`<project>_<name>`, gone with
 * `down -v`), shared ones keep their literal name (external when ECS would not autoprovision them),
 * EFS becomes one local volume per file system.
 */
function composeVolumes(volumes: readonly Volume[], taskArn: string | undefined): Record<string, ComposeVolume> {
  const out: Record<string, ComposeVolume> = {};
  for (const v of volumes) {
    if (v.name === undefined || (v.host?.sourcePath !== undefined && v.host.sourcePath !== "")) continue;
    const dvc = v.dockerVolumeConfiguration;
    const cv: ComposeVolume = {};
    let taskScoped = false;
    if (dvc?.scope === "shared") {
      cv.name = v.name;
      if (dvc.autoprovision !== true) cv.external = true;
    } else if (v.efsVolumeConfiguration !== undefined) {
      cv.name = `ecs-local-efs-${v.efsVolumeConfiguration.fileSystemId}`;
    } else {
      taskScoped = true;
    }
    if (cv.external !== true) {
      if (dvc?.driver !== undefined) cv.driver = dvc.driver;
      if (dvc?.driverOpts !== undefined) cv.driver_opts = { ...dvc.driverOpts };
      const labels = { ...dvc?.labels, ...(taskScoped && taskArn !== undefined ? { [ECS_LABELS.taskArn]: taskArn } : {}) };
      if (Object.keys(labels).length > 0) cv.labels = labels;
    }
    out[v.name] = cv;
  }
  return out;
}

/** Compose interpolates `$` in every value; user text must keep its literal dollars. */
export function escapeDollars(value: string): string {
  return value.replaceAll("$", "$$$$");
}

function escapeDeep<T>(value: T): T {
  if (typeof value === "string") return escapeDollars(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => escapeDeep(v)) as T;
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, escapeDeep(v)])) as T;
  }
  return value;
}
