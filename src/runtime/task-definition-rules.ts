import type {
  Compatibility,
  ContainerDefinition,
  NetworkMode,
  PortMapping,
  RegisterTaskDefinitionRequest,
  TaskDefinition,
  Volume,
} from "../../generated/shapes.ts";
import { ClientException } from "../../generated/errors.ts";
import { requiresAttributes } from "./task-definition-attributes.ts";

/**
 * RegisterTaskDefinition semantics that the model's traits cannot express: the validation real ECS does
 * (ClientException, its usual error for a bad task definition) and the normalisation it applies before it
 * stores a revision (task cpu/memory units, container defaults, compatibilities, requiresAttributes).
 * Pure: no store, no clock; the caller supplies the revision identity.
 */

export interface RevisionIdentity {
  taskDefinitionArn: string;
  revision: number;
  registeredAt: Date;
  registeredBy: string;
}

/** Family and container/volume names: "Up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens". */
export const NAME_PATTERN = /^[A-Za-z0-9_-]{1,255}$/;

const INVALID_TASK_CPU =
  "Invalid 'cpu' setting for task. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.";
const INVALID_TASK_MEMORY =
  "Invalid 'memory' setting for task. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.";

/** Task cpu: "1024" stays, "1 vCPU" / "0.25 vcpu" become CPU units. */
export function normalizeTaskCpu(raw: string): string {
  const value = raw.trim();
  let units: number;
  if (/^\d+$/.test(value)) {
    units = Number(value);
  } else {
    const m = /^(\d+(?:\.\d+)?|\.\d+)\s*vcpus?$/i.exec(value);
    if (m === null) throw new ClientException(INVALID_TASK_CPU);
    units = Number(m[1]) * 1024;
  }
  // EC2 bounds from the RegisterTaskDefinition documentation: 128 (0.125 vCPU) to 196608 (192 vCPU).
  if (!Number.isInteger(units) || units < 128 || units > 196_608) throw new ClientException(INVALID_TASK_CPU);
  return String(units);
}

/** Task memory: "2048" stays, "1GB" / "2 GB" / "0.5 gb" become MiB. */
export function normalizeTaskMemory(raw: string): string {
  const value = raw.trim();
  let mib: number;
  if (/^\d+$/.test(value)) {
    mib = Number(value);
  } else {
    const m = /^(\d+(?:\.\d+)?|\.\d+)\s*gb$/i.exec(value);
    if (m === null) throw new ClientException(INVALID_TASK_MEMORY);
    mib = Number(m[1]) * 1024;
  }
  if (!Number.isInteger(mib) || mib < 6) throw new ClientException(INVALID_TASK_MEMORY);
  return String(mib);
}

/** Valid Fargate task sizes (cpu units → memory MiB range and step), from the RegisterTaskDefinition documentation. */
const FARGATE_SIZES: ReadonlyMap<number, { min: number; max: number; step: number; extra?: readonly number[] }> = new Map([
  [256, { min: 512, max: 512, step: 512, extra: [1024, 2048] }],
  [512, { min: 1024, max: 4096, step: 1024 }],
  [1024, { min: 2048, max: 8192, step: 1024 }],
  [2048, { min: 4096, max: 16_384, step: 1024 }],
  [4096, { min: 8192, max: 30_720, step: 1024 }],
  [8192, { min: 16_384, max: 61_440, step: 4096 }],
  [16_384, { min: 32_768, max: 122_880, step: 8192 }],
]);

export function isFargateSize(cpu: number, memory: number): boolean {
  const size = FARGATE_SIZES.get(cpu);
  if (size === undefined) return false;
  if (size.extra?.includes(memory) === true) return true;
  return memory >= size.min && memory <= size.max && (memory - size.min) % size.step === 0;
}

/**
 * Validates a registration and returns the task definition real ECS would store for it.
 * Throws ClientException naming the first problem found.
 */
export function buildTaskDefinition(input: RegisterTaskDefinitionRequest, identity: RevisionIdentity): TaskDefinition {
  const normalized = validateRegistration(input);
  return toTaskDefinition(normalized, identity);
}

/** The request with task cpu/memory normalised and container defaults applied, after every check passed. */
export function validateRegistration(input: RegisterTaskDefinitionRequest): RegisterTaskDefinitionRequest {
  if (!NAME_PATTERN.test(input.family)) {
    throw new ClientException(
      `Invalid family '${input.family}'. Up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens are allowed.`,
    );
  }
  const containers = input.containerDefinitions;
  if (containers.length === 0) throw new ClientException("Container list cannot be empty.");

  const mode: NetworkMode = input.networkMode ?? "bridge";
  const cpu = input.cpu === undefined || input.cpu === "" ? undefined : normalizeTaskCpu(input.cpu);
  const memory = input.memory === undefined || input.memory === "" ? undefined : normalizeTaskMemory(input.memory);
  const requires = input.requiresCompatibilities ?? [];

  checkVolumes(input.volumes ?? []);
  const volumeNames = new Set((input.volumes ?? []).map((v) => v.name));

  const names = new Set<string>();
  for (const c of containers) {
    if (c.name === undefined || c.name === "") throw new ClientException("Container.name should not be null or empty.");
    if (c.image === undefined || c.image === "") throw new ClientException("Container.image should not be null or empty.");
    if (!NAME_PATTERN.test(c.name)) {
      throw new ClientException(
        `Invalid container name '${c.name}'. Up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens are allowed.`,
      );
    }
    if (names.has(c.name)) throw new ClientException(`Duplicate container name found: ${c.name}.`);
    names.add(c.name);
  }
  const byName = new Map(containers.map((c) => [c.name!, c]));

  if (!containers.some((c) => c.essential !== false)) {
    throw new ClientException("Task definition must have at least one essential container.");
  }

  // Launch-type problems first: they explain the task-level cause better than the per-container checks would.
  if (requires.includes("FARGATE")) checkFargate(input, mode, cpu, memory);
  if (requires.includes("EXTERNAL") && mode === "awsvpc") {
    throw new ClientException("Tasks using the EXTERNAL launch type do not support network mode 'awsvpc'.");
  }

  for (const c of containers) checkContainer(c, { mode, memory, names, byName, volumeNames });
  checkTaskSizes(containers, cpu, memory);
  checkDependencyCycles(containers);
  checkRoles(input, containers);

  const normalized: RegisterTaskDefinitionRequest = {
    ...input,
    containerDefinitions: containers.map((c) => withContainerDefaults(c, mode)),
  };
  if (cpu !== undefined) normalized.cpu = cpu;
  else delete normalized.cpu;
  if (memory !== undefined) normalized.memory = memory;
  else delete normalized.memory;
  return normalized;
}

/** Builds the stored document from an already validated and normalised request. */
export function toTaskDefinition(input: RegisterTaskDefinitionRequest, identity: RevisionIdentity): TaskDefinition {
  const td: TaskDefinition = {
    taskDefinitionArn: identity.taskDefinitionArn,
    containerDefinitions: input.containerDefinitions,
    family: input.family,
  };
  // Empty role strings (the model example sends taskRoleArn: "") are absent in real responses.
  if (nonEmpty(input.taskRoleArn)) td.taskRoleArn = input.taskRoleArn;
  if (nonEmpty(input.executionRoleArn)) td.executionRoleArn = input.executionRoleArn;
  // Real ECS omits networkMode when none was given (bridge is implied); the model examples do the same.
  if (input.networkMode !== undefined) td.networkMode = input.networkMode;
  td.revision = identity.revision;
  td.volumes = input.volumes ?? [];
  td.status = "ACTIVE";
  td.requiresAttributes = requiresAttributes(input);
  td.placementConstraints = input.placementConstraints ?? [];
  td.compatibilities = compatibilities(input);
  if (input.runtimePlatform !== undefined) td.runtimePlatform = input.runtimePlatform;
  if (input.requiresCompatibilities !== undefined) td.requiresCompatibilities = input.requiresCompatibilities;
  if (input.cpu !== undefined) td.cpu = input.cpu;
  if (input.memory !== undefined) td.memory = input.memory;
  if (input.inferenceAccelerators !== undefined) td.inferenceAccelerators = input.inferenceAccelerators;
  if (input.pidMode !== undefined) td.pidMode = input.pidMode;
  if (input.ipcMode !== undefined) td.ipcMode = input.ipcMode;
  if (input.proxyConfiguration !== undefined) td.proxyConfiguration = input.proxyConfiguration;
  td.registeredAt = identity.registeredAt;
  td.registeredBy = identity.registeredBy;
  if (input.ephemeralStorage !== undefined) td.ephemeralStorage = input.ephemeralStorage;
  if (input.enableFaultInjection !== undefined) td.enableFaultInjection = input.enableFaultInjection;
  return td;
}

/**
 * The launch types the definition is valid for. Real ECS reports EXTERNAL+EC2 for bridge/host/none
 * definitions and EC2+FARGATE for awsvpc definitions with a Fargate task size.
 */
export function compatibilities(input: RegisterTaskDefinitionRequest): Compatibility[] {
  const mode: NetworkMode = input.networkMode ?? "bridge";
  const result: Compatibility[] = [];
  if (mode !== "awsvpc") result.push("EXTERNAL");
  result.push("EC2");
  if (fargateProblem(input, mode, input.cpu, input.memory) === undefined) result.push("FARGATE");
  // Managed Instances support awsvpc and host; only claim it when asked for, as we cannot check more.
  if (input.requiresCompatibilities?.includes("MANAGED_INSTANCES") === true && (mode === "awsvpc" || mode === "host")) {
    result.push("MANAGED_INSTANCES");
  }
  return result;
}

interface ContainerCheckContext {
  mode: NetworkMode;
  memory: string | undefined;
  names: ReadonlySet<string>;
  byName: ReadonlyMap<string, ContainerDefinition>;
  volumeNames: ReadonlySet<string | undefined>;
}

function checkContainer(c: ContainerDefinition, ctx: ContainerCheckContext): void {
  const name = c.name!;
  const { mode } = ctx;

  // Without a task-level memory, EC2 placement needs a per-container reservation (Fargate requires task memory anyway).
  if (ctx.memory === undefined && c.memory === undefined && c.memoryReservation === undefined) {
    throw new ClientException(
      `Invalid setting for container '${name}'. At least one of 'memory' or 'memoryReservation' must be specified.`,
    );
  }
  if (c.memory !== undefined && c.memoryReservation !== undefined && c.memoryReservation >= c.memory) {
    throw new ClientException(
      `Invalid setting for container '${name}'. 'memory' (${c.memory}) must be greater than 'memoryReservation' (${c.memoryReservation}).`,
    );
  }

  for (const pm of c.portMappings ?? []) checkPortMapping(name, pm, mode);

  if (mode !== "bridge" && (c.links ?? []).length > 0) {
    throw new ClientException(`links are not supported on container '${name}' when networkMode=${mode}.`);
  }
  if (mode === "awsvpc") {
    const unsupported: Array<[string, unknown]> = [
      ["hostname", c.hostname],
      ["extraHosts", c.extraHosts],
      ["dnsServers", c.dnsServers],
      ["dnsSearchDomains", c.dnsSearchDomains],
      ["disableNetworking", c.disableNetworking],
    ];
    for (const [field, value] of unsupported) {
      if (value !== undefined && !(Array.isArray(value) && value.length === 0)) {
        throw new ClientException(`${field} is not supported on container '${name}' when networkMode=awsvpc.`);
      }
    }
  }
  if (mode === "host" && c.hostname !== undefined) {
    throw new ClientException(`hostname is not supported on container '${name}' when networkMode=host.`);
  }

  for (const link of c.links ?? []) {
    const parts = link.split(":");
    const target = parts[0] ?? "";
    if (parts.length > 2 || target === "" || (parts.length === 2 && parts[1] === "")) {
      throw new ClientException(`Invalid link '${link}' on container '${name}'. Use 'name' or 'name:alias'.`);
    }
    if (target === name) throw new ClientException(`Container '${name}' cannot link to itself.`);
    if (!ctx.names.has(target)) {
      throw new ClientException(`Container '${name}' links to container '${target}', which is not defined in the task definition.`);
    }
  }

  for (const mp of c.mountPoints ?? []) {
    if (mp.sourceVolume === undefined || mp.sourceVolume === "") {
      throw new ClientException(`Invalid mount point for container '${name}': sourceVolume must be specified.`);
    }
    if (mp.containerPath === undefined || mp.containerPath === "") {
      throw new ClientException(`Invalid mount point for container '${name}': containerPath must be specified.`);
    }
    if (!ctx.volumeNames.has(mp.sourceVolume)) {
      throw new ClientException(
        `Invalid mount point for container '${name}': sourceVolume '${mp.sourceVolume}' is not a volume of the task definition.`,
      );
    }
  }

  for (const vf of c.volumesFrom ?? []) {
    const source = vf.sourceContainer;
    if (source === undefined || source === "") {
      throw new ClientException(`Invalid volumesFrom for container '${name}': sourceContainer must be specified.`);
    }
    if (source === name) throw new ClientException(`Container '${name}' cannot mount volumes from itself.`);
    if (!ctx.names.has(source)) {
      throw new ClientException(
        `Invalid volumesFrom for container '${name}': sourceContainer '${source}' is not defined in the task definition.`,
      );
    }
  }

  for (const dep of c.dependsOn ?? []) {
    const target = ctx.byName.get(dep.containerName);
    if (target === undefined) {
      throw new ClientException(
        `Container '${name}' has a dependency on container '${dep.containerName}', which is not defined in the task definition.`,
      );
    }
    if ((dep.condition === "COMPLETE" || dep.condition === "SUCCESS") && target.essential !== false) {
      throw new ClientException(
        `Invalid dependency of container '${name}' on '${dep.containerName}': the ${dep.condition} condition can't be set on an essential container.`,
      );
    }
    if (dep.condition === "HEALTHY" && target.healthCheck === undefined) {
      throw new ClientException(
        `Invalid dependency of container '${name}' on '${dep.containerName}': the HEALTHY condition requires a healthCheck on '${dep.containerName}'.`,
      );
    }
  }

  if (c.healthCheck !== undefined) checkHealthCheck(name, c.healthCheck);
}

function checkPortMapping(name: string, pm: PortMapping, mode: NetworkMode): void {
  if (mode === "none") {
    throw new ClientException(`Port mappings are not supported on container '${name}' when networkMode=none.`);
  }
  if (pm.containerPort === undefined && pm.containerPortRange === undefined) {
    throw new ClientException(`Invalid port mapping for container '${name}': containerPort or containerPortRange must be specified.`);
  }
  if (pm.containerPort !== undefined && (pm.containerPort < 1 || pm.containerPort > 65_535)) {
    throw new ClientException(`Invalid port mapping for container '${name}': containerPort ${pm.containerPort} is out of range.`);
  }
  if (pm.hostPort !== undefined && (pm.hostPort < 0 || pm.hostPort > 65_535)) {
    throw new ClientException(`Invalid port mapping for container '${name}': hostPort ${pm.hostPort} is out of range.`);
  }
  if ((mode === "awsvpc" || mode === "host") && pm.hostPort !== undefined && pm.hostPort !== pm.containerPort) {
    throw new ClientException(`When networkMode=${mode}, the host ports and container ports in port mappings must match.`);
  }
  if (pm.containerPortRange !== undefined) {
    const m = /^(\d+)-(\d+)$/.exec(pm.containerPortRange);
    if (m === null || Number(m[1]) >= Number(m[2]) || Number(m[2]) > 65_535 || Number(m[1]) < 1) {
      throw new ClientException(`Invalid containerPortRange '${pm.containerPortRange}' for container '${name}'.`);
    }
    if (pm.containerPort !== undefined || pm.hostPort !== undefined) {
      throw new ClientException(
        `Invalid port mapping for container '${name}': containerPortRange can't be combined with containerPort or hostPort.`,
      );
    }
  }
}

function checkHealthCheck(name: string, hc: NonNullable<ContainerDefinition["healthCheck"]>): void {
  if (hc.command.length === 0 || hc.command.every((part) => part.trim() === "")) {
    throw new ClientException(`Invalid healthCheck for container '${name}': command must not be empty.`);
  }
  const ranges: Array<[string, number | undefined, number, number]> = [
    ["interval", hc.interval, 5, 300],
    ["timeout", hc.timeout, 2, 60],
    ["retries", hc.retries, 1, 10],
    ["startPeriod", hc.startPeriod, 0, 300],
  ];
  for (const [field, value, min, max] of ranges) {
    if (value !== undefined && (value < min || value > max)) {
      throw new ClientException(
        `Invalid healthCheck for container '${name}': ${field} must be between ${min} and ${max}; got ${value}.`,
      );
    }
  }
}

function checkVolumes(volumes: readonly Volume[]): void {
  const seen = new Set<string>();
  for (const v of volumes) {
    if (v.name === undefined || v.name === "") throw new ClientException("Volume.name should not be null or empty.");
    if (!NAME_PATTERN.test(v.name)) {
      throw new ClientException(
        `Invalid volume name '${v.name}'. Up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens are allowed.`,
      );
    }
    if (seen.has(v.name)) throw new ClientException(`Duplicate volume name found: ${v.name}.`);
    seen.add(v.name);
    const kinds = [v.host, v.dockerVolumeConfiguration, v.efsVolumeConfiguration, v.fsxWindowsFileServerVolumeConfiguration]
      .filter((k) => k !== undefined).length;
    if (kinds > 1) {
      throw new ClientException(`Invalid volume '${v.name}': specify only one of host, dockerVolumeConfiguration, efsVolumeConfiguration.`);
    }
    const dvc = v.dockerVolumeConfiguration;
    if (dvc?.autoprovision === true && dvc.scope !== "shared") {
      throw new ClientException(`Invalid volume '${v.name}': autoprovision is only supported for volumes with a shared scope.`);
    }
  }
}

function checkTaskSizes(containers: readonly ContainerDefinition[], cpu: string | undefined, memory: string | undefined): void {
  if (memory !== undefined) {
    const taskMemory = Number(memory);
    for (const c of containers) {
      const own = c.memory ?? c.memoryReservation;
      if (own !== undefined && own > taskMemory) {
        throw new ClientException(
          `Invalid setting for container '${c.name}'. The container memory (${own}) must not exceed the task memory (${taskMemory}).`,
        );
      }
    }
  }
  if (cpu !== undefined) {
    const total = containers.reduce((sum, c) => sum + (c.cpu ?? 0), 0);
    if (total > Number(cpu)) {
      throw new ClientException(
        `Invalid 'cpu' setting for task. The sum of the container cpu values (${total}) must not exceed the task cpu (${cpu}).`,
      );
    }
  }
}

/**
 * Rejects dependency cycles, counting the implicit edges the agent adds (links → START, volumesFrom → CREATE),
 * since any of them would leave the task waiting forever.
 */
function checkDependencyCycles(containers: readonly ContainerDefinition[]): void {
  const edges = new Map<string, string[]>();
  for (const c of containers) {
    const targets = [
      ...(c.dependsOn ?? []).map((d) => d.containerName),
      ...(c.links ?? []).map((l) => l.split(":")[0] ?? ""),
      ...(c.volumesFrom ?? []).map((v) => v.sourceContainer ?? ""),
    ];
    edges.set(c.name!, targets);
  }
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, "visiting");
    stack.push(node);
    for (const next of edges.get(node) ?? []) {
      const s = state.get(next);
      if (s === "visiting") {
        const cycle = [...stack.slice(stack.indexOf(next)), next];
        throw new ClientException(`Circular container dependency detected: ${cycle.join(" -> ")}.`);
      }
      if (s === undefined && edges.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const c of containers) if (state.get(c.name!) === undefined) visit(c.name!);
}

function checkRoles(input: RegisterTaskDefinitionRequest, containers: readonly ContainerDefinition[]): void {
  if (nonEmpty(input.executionRoleArn)) return;
  for (const c of containers) {
    if ((c.secrets ?? []).length > 0 || (c.logConfiguration?.secretOptions ?? []).length > 0) {
      throw new ClientException(
        `When you are specifying container secrets, you must also specify a value for 'executionRoleArn'. Container: '${c.name}'.`,
      );
    }
  }
}

function checkFargate(input: RegisterTaskDefinitionRequest, mode: NetworkMode, cpu: string | undefined, memory: string | undefined): void {
  const problem = fargateProblem(input, mode, cpu, memory);
  if (problem !== undefined) throw new ClientException(problem);
  for (const c of input.containerDefinitions) {
    if (c.logConfiguration?.logDriver === "awslogs" && !nonEmpty(input.executionRoleArn)) {
      throw new ClientException("Fargate requires task definition to have execution role ARN to support log driver awslogs.");
    }
  }
}

/** Why the definition cannot run on Fargate, or undefined when it can. Expects normalised cpu/memory. */
function fargateProblem(
  input: RegisterTaskDefinitionRequest,
  mode: NetworkMode,
  cpu: string | undefined,
  memory: string | undefined,
): string | undefined {
  if (mode !== "awsvpc") return "Fargate only supports network mode \u2018awsvpc\u2019.";
  if (cpu === undefined) return "Fargate requires that 'cpu' be defined at the task level.";
  if (memory === undefined) return "Fargate requires that 'memory' be defined at the task level.";
  if (!/^\d+$/.test(cpu) || !/^\d+$/.test(memory) || !isFargateSize(Number(cpu), Number(memory))) {
    return `No Fargate configuration exists for given values: ${cpu} CPU, ${memory} memory. See the Amazon ECS documentation for the valid values.`;
  }
  if (input.pidMode !== undefined && input.pidMode !== "task") {
    return `Tasks using the Fargate launch type do not support pidMode '${input.pidMode}'. The supported value for pidMode is 'task'.`;
  }
  if (input.ipcMode !== undefined) return "Tasks using the Fargate launch type do not support ipcMode.";
  if ((input.placementConstraints ?? []).length > 0) {
    return "Tasks using the Fargate launch type do not support placement constraints.";
  }
  for (const c of input.containerDefinitions) {
    if (c.privileged === true) return `Tasks using the Fargate launch type do not support privileged containers ('${c.name}').`;
  }
  for (const v of input.volumes ?? []) {
    if (v.host?.sourcePath !== undefined) {
      return `Tasks using the Fargate launch type do not support host volumes with a sourcePath ('${v.name}').`;
    }
    if (v.dockerVolumeConfiguration !== undefined) {
      return `Tasks using the Fargate launch type do not support dockerVolumeConfiguration ('${v.name}').`;
    }
  }
  return undefined;
}

/** The defaults real ECS fills into each stored container definition (see the model examples). */
function withContainerDefaults(c: ContainerDefinition, mode: NetworkMode): ContainerDefinition {
  return {
    ...c,
    cpu: c.cpu ?? 0,
    portMappings: (c.portMappings ?? []).map((pm) => withPortDefaults(pm, mode)),
    essential: c.essential ?? true,
    environment: c.environment ?? [],
    mountPoints: c.mountPoints ?? [],
    volumesFrom: c.volumesFrom ?? [],
  };
}

function withPortDefaults(pm: PortMapping, mode: NetworkMode): PortMapping {
  const out: PortMapping = { ...pm, protocol: pm.protocol ?? "tcp" };
  if (pm.hostPort === undefined && pm.containerPort !== undefined) {
    // awsvpc/host bind the container port itself; bridge shows 0 for "dynamic host port".
    out.hostPort = mode === "awsvpc" || mode === "host" ? pm.containerPort : 0;
  }
  return out;
}

function nonEmpty(value: string | undefined): value is string {
  return value !== undefined && value !== "";
}
