// Pure translation of an ECS container definition into Docker Engine API create options, following what
// the ECS container agent does (docs/ecs-behaviour.md 2.5–2.10). No Docker calls here: the task engine
// decides when to create what, this module only decides what each thing looks like.

import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import type Dockerode from "dockerode";
import type {
  ContainerDefinition,
  ContainerOverride,
  HealthCheck,
  IpcMode,
  KeyValuePair,
  LogConfiguration,
  NetworkMode,
  PidMode,
  PortMapping,
  TaskDefinition,
} from "../../../../generated/shapes.ts";
import { ECS_LABELS } from "../task-backend.ts";

export { ECS_LABELS };

export interface TaskVolumeBinding {
  /** "bind": `source` is a host path; "volume": `source` is a Docker volume name. */
  type: "bind" | "volume";
  source: string;
}

export interface ContainerMappingInput {
  taskArn: string;
  clusterName: string;
  family: string;
  revision: number;
  taskId: string;
  definition: ContainerDefinition;
  override?: ContainerOverride;
  networkMode: NetworkMode;
  dockerName: string;
  /** ECS container name → docker name of its siblings, for links and volumesFrom. */
  siblings: Record<string, string>;
  /** Task volume name → bind source (host path) or docker volume name (see `taskVolumePlan`). */
  volumes: Record<string, TaskVolumeBinding>;
  /** Container id of the awsvpc pause/namespace holder; required for awsvpc. */
  networkContainerId?: string;
  /** The task definition's pidMode/ipcMode: `host` (and ipc `none`) map directly; `task` joins the namespace container. */
  pidMode?: PidMode;
  ipcMode?: IpcMode;
  /**
   * Container id holding the task's shared pid/ipc namespaces (`~internal~ecs~pause~namespace`; create it
   * with IpcMode "shareable"). Defaults to networkContainerId.
   */
  namespaceContainerId?: string;
  /** Per-task user-defined network for bridge mode; without it the default `bridge` network is used. */
  taskNetwork?: string;
  /**
   * Agent-injected variables (metadata URIs, credentials URI, region, AWS_EXECUTION_ENV…). They override
   * the task's own values, except AWS_REGION/AWS_DEFAULT_REGION, which are dropped when the task
   * (environment, env files, secrets or image ENV) already sets either one.
   */
  extraEnv?: Record<string, string>;
  /** Resolved `secrets` (name → value); injected as env vars, overriding the task's environment. */
  secretEnv?: Record<string, string>;
  /** Variables from the container's environmentFiles, already merged first-file-wins; only absent keys are added. */
  envFileEnv?: Record<string, string>;
  /** The image's ENV (`KEY=value`), only consulted for the AWS_REGION rule. */
  imageEnv?: string[];
  /** Labels of the emulator itself; override user labels, never the com.amazonaws.ecs.* ones. */
  extraLabels?: Record<string, string>;
  /** `host:ip` entries added by the emulator (ignored for awsvpc: they belong on the network container). */
  extraHosts?: string[];
  /** Task-level cpu units (already normalised, e.g. "1 vCPU" → 1024): becomes a NanoCpus ceiling. */
  taskCpu?: number;
  /** Task-level memory in MiB: the hard limit of containers that set none themselves. */
  taskMemory?: number;
  /** Host CPU count used to clamp the task cpu ceiling; defaults to os.availableParallelism(). */
  hostCpus?: number;
  /** Stop timeout (seconds) when the container sets none: the agent's ECS_CONTAINER_STOP_TIMEOUT. */
  defaultStopTimeout?: number;
}

export interface PortBindingSet {
  ExposedPorts: Record<string, Record<string, never>>;
  PortBindings: Record<string, Dockerode.PortBinding[]>;
}

export interface VolumeToEnsure {
  /** The task-definition volume name. */
  taskVolumeName: string;
  /** The Docker volume name. */
  name: string;
  scope: "task" | "shared";
  /**
   * "create": always create (task scope; remove when the task stops).
   * "create-if-missing": shared + autoprovision; never removed.
   * "must-exist": shared without autoprovision; fail with
   * `volume '<name>' does not exist and autoprovision is set to false` when absent.
   */
  ensure: "create" | "create-if-missing" | "must-exist";
  driver: string;
  driverOpts: Record<string, string>;
  labels: Record<string, string>;
}

export interface TaskVolumePlan {
  toEnsure: VolumeToEnsure[];
  volumes: Record<string, TaskVolumeBinding>;
}


const MIB = 1024 * 1024;
const NS_PER_SECOND = 1_000_000_000;
/**
 * The agent's floor for the memory hard limit. The spec's agent snippet says 4 MiB, but Docker ≥ 20.10
 * (the engine we run on) rejects anything below 6 MiB ("Minimum memory limit allowed is 6MB"), so a
 * 4 MiB floor would only turn a tiny value into a create error.
 */
export const MIN_MEMORY_MIB = 6;
export const MIN_CPU_SHARES = 2;
export const MAX_CPU_SHARES = 262144;
export const DEFAULT_STOP_TIMEOUT_SECONDS = 30;
export const HEALTH_CHECK_DEFAULTS = { interval: 30, timeout: 5, retries: 3, startPeriod: 0 } as const;
const REGION_VARS = ["AWS_REGION", "AWS_DEFAULT_REGION"] as const;

/** `ecs-<family>-<revision>-<name stripped to [A-Za-z0-9-]>-<20 hex>`, as the agent names containers. */
export function dockerContainerName(family: string, revision: number, containerName: string, suffix?: string): string {
  return `ecs-${family}-${revision}-${containerName.replace(/[^A-Za-z0-9-]/g, "")}-${suffix ?? randomHex20()}`;
}

/** `ecs-<family>-<rev>-<volname>-<20 hex>`, the agent's name for task-scoped Docker volumes. */
export function dockerVolumeName(family: string, revision: number, volumeName: string, suffix?: string): string {
  return `ecs-${family}-${revision}-${volumeName}-${suffix ?? randomHex20()}`;
}

export function randomHex20(): string {
  return randomBytes(10).toString("hex");
}

/** Container cpu units → Docker CpuShares, clamped to the kernel's valid range as agent ≥ 1.84 does. */
export function cpuShares(cpu: number | undefined): number {
  if (cpu === undefined || cpu < MIN_CPU_SHARES) return MIN_CPU_SHARES;
  return Math.min(Math.floor(cpu), MAX_CPU_SHARES);
}

/** Container memory (MiB) → Docker bytes, raised to the daemon's minimum. */
export function memoryBytes(mib: number): number {
  return Math.max(mib, MIN_MEMORY_MIB) * MIB;
}

/** The Docker healthcheck test: ECS uses CMD when the command starts with neither CMD nor CMD-SHELL. */
export function healthCheckTest(command: readonly string[]): string[] {
  const first = command[0];
  if (first === "CMD" || first === "CMD-SHELL" || first === "NONE") return [...command];
  return ["CMD", ...command];
}

export interface ResolvedHealthCheck {
  command: string[];
  interval: number;
  timeout: number;
  retries: number;
  startPeriod: number;
}

/** A health check with the ECS defaults filled in (seconds). */
export function healthCheckWithDefaults(hc: HealthCheck): ResolvedHealthCheck {
  return {
    command: healthCheckTest(hc.command),
    interval: hc.interval ?? HEALTH_CHECK_DEFAULTS.interval,
    timeout: hc.timeout ?? HEALTH_CHECK_DEFAULTS.timeout,
    retries: hc.retries ?? HEALTH_CHECK_DEFAULTS.retries,
    startPeriod: hc.startPeriod ?? HEALTH_CHECK_DEFAULTS.startPeriod,
  };
}

/** `name[:alias]` → target and alias; a link with more than one `:` is invalid (agent rule). */
export function parseLink(link: string): { target: string; alias: string } {
  const parts = link.split(":");
  if (parts.length > 2 || parts[0] === "" || parts[1] === "") throw new Error(`invalid link "${link}"`);
  return { target: parts[0] ?? link, alias: parts[1] ?? parts[0] ?? link };
}

export interface EnvironmentInput {
  definition: ContainerDefinition;
  override?: ContainerOverride | undefined;
  envFileEnv?: Record<string, string> | undefined;
  secretEnv?: Record<string, string> | undefined;
  extraEnv?: Record<string, string> | undefined;
  imageEnv?: readonly string[] | undefined;
}

/**
 * The container's final environment, in a stable order. Precedence, lowest first: environment files
 * (only keys not set otherwise), task-definition environment with the RunTask override merged by name,
 * secrets, agent variables (minus the region pair when the task sets a region itself).
 */
export function containerEnvironment(input: EnvironmentInput): Map<string, string> {
  const env = new Map<string, string>();
  mergePairs(env, input.definition.environment);
  mergePairs(env, input.override?.environment);
  for (const [k, v] of Object.entries(input.envFileEnv ?? {})) if (!env.has(k)) env.set(k, v);
  for (const [k, v] of Object.entries(input.secretEnv ?? {})) env.set(k, v);
  const imageKeys = new Set((input.imageEnv ?? []).map((e) => e.split("=", 1)[0]));
  const taskSetsRegion = REGION_VARS.some((k) => env.has(k) || imageKeys.has(k));
  for (const [k, v] of Object.entries(input.extraEnv ?? {})) {
    if (taskSetsRegion && (REGION_VARS as readonly string[]).includes(k)) continue;
    env.set(k, v);
  }
  return env;
}

function mergePairs(env: Map<string, string>, pairs: readonly KeyValuePair[] | undefined): void {
  for (const p of pairs ?? []) if (p.name !== undefined && p.name !== "") env.set(p.name, p.value ?? "");
}

/** User dockerLabels, then the emulator's labels, then the five agent labels (which always win). */
export function containerLabels(input: {
  definition: ContainerDefinition;
  taskArn: string;
  clusterName: string;
  family: string;
  revision: number;
  extraLabels?: Record<string, string> | undefined;
}): Record<string, string> {
  return {
    ...input.definition.dockerLabels,
    ...input.extraLabels,
    [ECS_LABELS.taskArn]: input.taskArn,
    [ECS_LABELS.containerName]: input.definition.name ?? "",
    [ECS_LABELS.family]: input.family,
    [ECS_LABELS.version]: String(input.revision),
    [ECS_LABELS.cluster]: input.clusterName,
  };
}

/** The container ports of a mapping: one, or every port of `containerPortRange` ("8000-8010"). */
export function mappingContainerPorts(mapping: PortMapping): number[] {
  if (mapping.containerPort !== undefined) return [mapping.containerPort];
  const range = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(mapping.containerPortRange ?? "");
  if (range === null) {
    if (mapping.containerPortRange !== undefined) throw new Error(`invalid containerPortRange "${mapping.containerPortRange}"`);
    return [];
  }
  const from = Number(range[1]);
  const to = Number(range[2]);
  if (to < from) throw new Error(`invalid containerPortRange "${mapping.containerPortRange}"`);
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/**
 * ExposedPorts + PortBindings for a set of container definitions: the container's own ports in bridge
 * mode, or every container's ports on the awsvpc network container (Docker refuses published ports on a
 * `container:` network mode). hostPort 0/absent → `HostPort: ""` so Docker picks a free host port.
 */
export function portBindingsFor(definitions: readonly ContainerDefinition[]): PortBindingSet {
  const set: PortBindingSet = { ExposedPorts: {}, PortBindings: {} };
  for (const def of definitions) {
    for (const mapping of def.portMappings ?? []) {
      const protocol = mapping.protocol ?? "tcp";
      const ports = mappingContainerPorts(mapping);
      for (const port of ports) {
        const key = `${port}/${protocol}`;
        set.ExposedPorts[key] = {};
        // A range never has a fixed host port: each port gets its own dynamic one.
        const hostPort = ports.length === 1 && mapping.hostPort !== undefined && mapping.hostPort !== 0 ? String(mapping.hostPort) : "";
        const bindings = (set.PortBindings[key] ??= []);
        if (!bindings.some((b) => b.HostPort === hostPort)) bindings.push({ HostPort: hostPort });
      }
    }
  }
  return set;
}

export function buildContainerCreateOptions(input: ContainerMappingInput): Dockerode.ContainerCreateOptions {
  const def = input.definition;
  const override = input.override;
  const mode = input.networkMode;
  const name = def.name ?? "";

  const env = containerEnvironment(input);
  const config: Dockerode.ContainerCreateOptions = {
    name: input.dockerName,
    Image: def.image ?? "",
    Env: [...env].map(([k, v]) => `${k}=${v}`),
    Labels: containerLabels(input),
    StopTimeout: def.stopTimeout !== undefined && def.stopTimeout > 0 ? def.stopTimeout : (input.defaultStopTimeout ?? DEFAULT_STOP_TIMEOUT_SECONDS),
  };
  if (def.entryPoint !== undefined) config.Entrypoint = [...def.entryPoint];
  const command = override?.command ?? def.command;
  if (command !== undefined) config.Cmd = [...command];
  if (def.workingDirectory !== undefined) config.WorkingDir = def.workingDirectory;
  if (def.user !== undefined) config.User = def.user;
  if (def.hostname !== undefined && mode !== "awsvpc") config.Hostname = def.hostname;
  if (def.interactive !== undefined) config.OpenStdin = def.interactive;
  if (def.pseudoTerminal !== undefined) config.Tty = def.pseudoTerminal;
  if (def.disableNetworking !== undefined && mode !== "awsvpc") config.NetworkDisabled = def.disableNetworking;
  if (def.healthCheck !== undefined) {
    const hc = healthCheckWithDefaults(def.healthCheck);
    config.Healthcheck = {
      Test: hc.command,
      Interval: hc.interval * NS_PER_SECOND,
      Timeout: hc.timeout * NS_PER_SECOND,
      Retries: hc.retries,
      StartPeriod: hc.startPeriod * NS_PER_SECOND,
    };
  }

  const host: Dockerode.HostConfig = {
    NetworkMode: networkModeFor(input),
    CpuShares: cpuShares(override?.cpu ?? def.cpu),
  };
  config.HostConfig = host;

  if (mode === "bridge") {
    const ports = portBindingsFor([def]);
    if (Object.keys(ports.ExposedPorts).length > 0) {
      config.ExposedPorts = ports.ExposedPorts;
      host.PortBindings = ports.PortBindings;
    }
    const links = (def.links ?? []).map((link) => {
      const { target, alias } = parseLink(link);
      return `${sibling(input, target, "link")}:${alias}`;
    });
    if (links.length > 0) host.Links = links;
    if (input.taskNetwork !== undefined) {
      // On a user-defined network the daemon ignores HostConfig.Links and reads the endpoint's Links
      // (that is what `docker run --network x --link` sends); the ECS name is the container's DNS alias.
      const endpoint: Dockerode.EndpointSettings = { Aliases: [name] };
      if (links.length > 0) endpoint.Links = links;
      config.NetworkingConfig = { EndpointsConfig: { [input.taskNetwork]: endpoint } };
    }
  }

  const memoryMib = override?.memory ?? def.memory ?? input.taskMemory;
  if (memoryMib !== undefined) host.Memory = memoryBytes(memoryMib);
  const reservation = override?.memoryReservation ?? def.memoryReservation;
  if (reservation !== undefined) host.MemoryReservation = memoryBytes(reservation);
  if (input.taskCpu !== undefined) {
    const cpus = Math.min(input.taskCpu / 1024, input.hostCpus ?? availableParallelism());
    host.NanoCpus = Math.round(cpus * NS_PER_SECOND);
  }

  const binds = (def.mountPoints ?? []).map((mp) => {
    const volume = mp.sourceVolume === undefined ? undefined : input.volumes[mp.sourceVolume];
    if (volume === undefined) throw new Error(`container ${name}: mount point references unknown volume "${mp.sourceVolume ?? ""}"`);
    return `${volume.source}:${mp.containerPath ?? ""}${mp.readOnly === true ? ":ro" : ""}`;
  });
  if (binds.length > 0) host.Binds = binds;
  const volumesFrom = (def.volumesFrom ?? []).map(
    (vf) => `${sibling(input, vf.sourceContainer ?? "", "volumesFrom")}${vf.readOnly === true ? ":ro" : ""}`,
  );
  if (volumesFrom.length > 0) host.VolumesFrom = volumesFrom;

  if (def.ulimits !== undefined) host.Ulimits = def.ulimits.map((u) => ({ Name: u.name, Soft: u.softLimit, Hard: u.hardLimit }));
  if (def.privileged !== undefined) host.Privileged = def.privileged;
  if (def.readonlyRootFilesystem !== undefined) host.ReadonlyRootfs = def.readonlyRootFilesystem;
  if (mode !== "awsvpc") {
    if (def.dnsServers !== undefined) host.Dns = [...def.dnsServers];
    if (def.dnsSearchDomains !== undefined) host.DnsSearch = [...def.dnsSearchDomains];
    const extraHosts = [...(def.extraHosts ?? []).map((h) => `${h.hostname}:${h.ipAddress}`), ...(input.extraHosts ?? [])];
    if (extraHosts.length > 0) host.ExtraHosts = extraHosts;
  }
  if (def.dockerSecurityOptions !== undefined) host.SecurityOpt = [...def.dockerSecurityOptions];
  if (def.systemControls !== undefined) {
    host.Sysctls = Object.fromEntries(def.systemControls.filter((s) => s.namespace !== undefined).map((s) => [s.namespace, s.value ?? ""]));
  }
  applyNamespaces(input, host);
  applyLinuxParameters(def, host);
  if (def.logConfiguration !== undefined) host.LogConfig = logConfigFor(def.logConfiguration);

  return config;
}

function networkModeFor(input: ContainerMappingInput): string {
  switch (input.networkMode) {
    case "bridge":
      return input.taskNetwork ?? "bridge";
    case "awsvpc":
      if (input.networkContainerId === undefined) throw new Error("awsvpc containers need networkContainerId");
      return `container:${input.networkContainerId}`;
    case "host":
      return "host";
    case "none":
      return "none";
  }
}

function applyNamespaces(input: ContainerMappingInput, host: Dockerode.HostConfig): void {
  const holder = (): string => {
    const id = input.namespaceContainerId ?? input.networkContainerId;
    if (id === undefined) throw new Error("pidMode/ipcMode task need namespaceContainerId");
    return `container:${id}`;
  };
  if (input.pidMode === "host") host.PidMode = "host";
  else if (input.pidMode === "task") host.PidMode = holder();
  if (input.ipcMode === "host" || input.ipcMode === "none") host.IpcMode = input.ipcMode;
  else if (input.ipcMode === "task") host.IpcMode = holder();
}

function sibling(input: ContainerMappingInput, ecsName: string, what: string): string {
  const dockerName = input.siblings[ecsName];
  if (dockerName === undefined) throw new Error(`container ${input.definition.name ?? ""}: ${what} references unknown container "${ecsName}"`);
  return dockerName;
}

function applyLinuxParameters(def: ContainerDefinition, host: Dockerode.HostConfig): void {
  const lp = def.linuxParameters;
  if (lp === undefined) return;
  if (lp.initProcessEnabled !== undefined) host.Init = lp.initProcessEnabled;
  if (lp.capabilities?.add !== undefined) host.CapAdd = [...lp.capabilities.add];
  if (lp.capabilities?.drop !== undefined) host.CapDrop = [...lp.capabilities.drop];
  if (lp.devices !== undefined) {
    host.Devices = lp.devices.map(
      (d): Dockerode.DeviceMapping => ({
        PathOnHost: d.hostPath,
        PathInContainer: d.containerPath ?? d.hostPath,
        CgroupPermissions: devicePermissions(d.permissions),
      }),
    );
  }
  if (lp.tmpfs !== undefined) {
    host.Tmpfs = Object.fromEntries(lp.tmpfs.map((t) => [t.containerPath, [`size=${t.size}m`, ...(t.mountOptions ?? [])].join(",")]));
  }
  if (lp.sharedMemorySize !== undefined) host.ShmSize = lp.sharedMemorySize * MIB;
  // maxSwap is the swap on top of memory (docker --memory-swap = memory + swap) and needs a hard limit;
  // swappiness only applies with maxSwap, defaulting to 60 (ECS docs).
  if (lp.maxSwap !== undefined && host.Memory !== undefined) {
    host.MemorySwap = host.Memory + lp.maxSwap * MIB;
    host.MemorySwappiness = lp.swappiness ?? 60;
  }
}

/** ECS read/write/mknod → Docker cgroup permission letters; absent means all of them. */
export function devicePermissions(permissions: readonly string[] | undefined): string {
  if (permissions === undefined || permissions.length === 0) return "rwm";
  const letters = { read: "r", write: "w", mknod: "m" } as Record<string, string>;
  return ["read", "write", "mknod"].filter((p) => permissions.includes(p)).map((p) => letters[p]).join("");
}

/**
 * awslogs and awsfirelens become json-file: the emulator ships those logs itself from the Docker log
 * stream (their options mean nothing to json-file). secretOptions are resolved by the agent, not here.
 */
export function logConfigFor(lc: LogConfiguration): { Type: string; Config: Record<string, string> } {
  if (lc.logDriver === "awslogs" || lc.logDriver === "awsfirelens") return { Type: "json-file", Config: {} };
  return { Type: lc.logDriver, Config: { ...lc.options } };
}

/**
 * Which Docker volumes a task needs and how each task volume is mounted. Task-scoped volumes (docker
 * volumes with scope task, `host` without sourcePath, bare volumes, and volume types that only exist in
 * AWS such as FSx or EBS configured at launch) get the agent's `ecs-<family>-<rev>-<name>-<hex>` name;
 * shared ones keep their literal name. EFS maps to one shared local volume per file system, so tasks
 * using the same file system see the same data.
 */
export function taskVolumePlan(
  td: TaskDefinition,
  family: string,
  revision: number,
  taskIdSuffix?: string,
  extraLabels?: Record<string, string>,
): TaskVolumePlan {
  const plan: TaskVolumePlan = { toEnsure: [], volumes: {} };
  for (const v of td.volumes ?? []) {
    const volName = v.name;
    if (volName === undefined || volName === "") continue;
    if (v.host?.sourcePath !== undefined && v.host.sourcePath !== "") {
      plan.volumes[volName] = { type: "bind", source: v.host.sourcePath };
      continue;
    }
    const dvc = v.dockerVolumeConfiguration;
    if (dvc !== undefined && dvc.scope === "shared") {
      plan.toEnsure.push({
        taskVolumeName: volName,
        name: volName,
        scope: "shared",
        ensure: dvc.autoprovision === true ? "create-if-missing" : "must-exist",
        driver: dvc.driver ?? "local",
        driverOpts: { ...dvc.driverOpts },
        labels: { ...dvc.labels },
      });
      plan.volumes[volName] = { type: "volume", source: volName };
      continue;
    }
    if (v.efsVolumeConfiguration !== undefined) {
      const name = `ecs-local-efs-${v.efsVolumeConfiguration.fileSystemId}`;
      if (!plan.toEnsure.some((e) => e.name === name)) {
        plan.toEnsure.push({ taskVolumeName: volName, name, scope: "shared", ensure: "create-if-missing", driver: "local", driverOpts: {}, labels: { ...extraLabels } });
      }
      plan.volumes[volName] = { type: "volume", source: name };
      continue;
    }
    const name = dockerVolumeName(family, revision, volName, taskIdSuffix);
    plan.toEnsure.push({
      taskVolumeName: volName,
      name,
      scope: "task",
      ensure: "create",
      driver: dvc?.driver ?? "local",
      driverOpts: { ...dvc?.driverOpts },
      labels: { ...dvc?.labels, ...extraLabels },
    });
    plan.volumes[volName] = { type: "volume", source: name };
  }
  return plan;
}
