// RegisterDaemonTaskDefinition's checks and defaults, and the task definition a daemon task runs from
// (pure). A daemon task definition is a task definition without networking choices: daemon tasks share
// the host's network, like the agents (monitoring, logging) daemons are meant for.
import { ClientException } from "../../../generated/errors.ts";
import type { ContainerDefinition, DaemonContainerDefinition, DaemonTaskDefinition, RegisterDaemonTaskDefinitionRequest, TaskDefinition } from "../../../generated/shapes.ts";
import { NAME_PATTERN, normalizeTaskCpu, normalizeTaskMemory } from "../task-definition-rules.ts";

export interface DaemonRevisionIdentity {
  arn: string;
  revision: number;
  registeredAt: Date;
  registeredBy: string;
}

const MAX_CONTAINERS = 10;

/** Validates a registration (ClientException naming the problem, as RegisterTaskDefinition does). */
export function validateDaemonRegistration(input: RegisterDaemonTaskDefinitionRequest): void {
  if (!NAME_PATTERN.test(input.family)) {
    throw new ClientException("Family contains invalid characters. Up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens are allowed.");
  }
  const defs = input.containerDefinitions;
  if (defs.length === 0) throw new ClientException("Daemon task definition must include at least one container definition.");
  if (defs.length > MAX_CONTAINERS) throw new ClientException(`A daemon task definition can have at most ${MAX_CONTAINERS} container definitions.`);
  const names = new Set<string>();
  for (const c of defs) {
    if (c.name === undefined || !NAME_PATTERN.test(c.name)) {
      throw new ClientException(`Container name '${c.name ?? ""}' is invalid. Up to 255 letters (uppercase and lowercase), numbers, hyphens, and underscores are allowed.`);
    }
    if (names.has(c.name)) throw new ClientException(`Duplicate container name '${c.name}' in the daemon task definition.`);
    names.add(c.name);
    if (c.image.trim() === "") throw new ClientException(`Container '${c.name}' must specify an image.`);
    if (c.memory !== undefined && c.memoryReservation !== undefined && c.memory < c.memoryReservation) {
      throw new ClientException(`Invalid setting for container '${c.name}'. The memory must be greater than or equal to the memoryReservation.`);
    }
    for (const d of c.dependsOn ?? []) {
      if (!defs.some((o) => o.name === d.containerName)) throw new ClientException(`Container '${c.name}' depends on unknown container '${d.containerName}'.`);
    }
  }
  if (!defs.some((c) => c.essential !== false)) throw new ClientException("Daemon task definition must have at least one essential container.");
  const volumes = new Set<string>();
  for (const v of input.volumes ?? []) {
    if (v.name === undefined || !NAME_PATTERN.test(v.name)) throw new ClientException(`Volume name '${v.name ?? ""}' is invalid.`);
    if (volumes.has(v.name)) throw new ClientException(`Duplicate volume name '${v.name}'.`);
    volumes.add(v.name);
  }
  for (const c of defs) {
    for (const m of c.mountPoints ?? []) {
      if (m.sourceVolume === undefined || !volumes.has(m.sourceVolume)) {
        throw new ClientException(`Invalid 'mountPoints' for container '${c.name}': unknown volume '${m.sourceVolume ?? ""}'.`);
      }
    }
  }
}

/** The stored revision: normalised sizes, ECS's defaults filled in. */
export function buildDaemonTaskDefinition(input: RegisterDaemonTaskDefinitionRequest, identity: DaemonRevisionIdentity): DaemonTaskDefinition {
  validateDaemonRegistration(input);
  const td: DaemonTaskDefinition = {
    daemonTaskDefinitionArn: identity.arn,
    family: input.family,
    revision: identity.revision,
    containerDefinitions: input.containerDefinitions.map(withDefaults),
    volumes: input.volumes ?? [],
    status: "ACTIVE",
    registeredAt: identity.registeredAt,
    registeredBy: identity.registeredBy,
  };
  if (input.taskRoleArn !== undefined) td.taskRoleArn = input.taskRoleArn;
  if (input.executionRoleArn !== undefined) td.executionRoleArn = input.executionRoleArn;
  if (input.cpu !== undefined) td.cpu = normalizeTaskCpu(input.cpu);
  if (input.memory !== undefined) td.memory = normalizeTaskMemory(input.memory);
  return td;
}

function withDefaults(c: DaemonContainerDefinition): DaemonContainerDefinition {
  return { ...c, cpu: c.cpu ?? 0, essential: c.essential ?? true, mountPoints: c.mountPoints ?? [], secrets: c.secrets ?? [] };
}

/** The task definition daemon tasks run from (host networking, EC2). */
export function asTaskDefinition(dtd: DaemonTaskDefinition): TaskDefinition {
  const td: TaskDefinition = {
    taskDefinitionArn: dtd.daemonTaskDefinitionArn,
    family: dtd.family,
    revision: dtd.revision,
    containerDefinitions: (dtd.containerDefinitions ?? []).map((c) => ({ ...c }) as ContainerDefinition),
    volumes: (dtd.volumes ?? []).map((v) => {
      const out: NonNullable<TaskDefinition["volumes"]>[number] = {};
      if (v.name !== undefined) out.name = v.name;
      if (v.host !== undefined) out.host = v.host;
      return out;
    }),
    networkMode: "host",
    requiresCompatibilities: ["EC2"],
    compatibilities: ["EC2"],
    status: "ACTIVE",
  };
  if (dtd.taskRoleArn !== undefined) td.taskRoleArn = dtd.taskRoleArn;
  if (dtd.executionRoleArn !== undefined) td.executionRoleArn = dtd.executionRoleArn;
  if (dtd.cpu !== undefined) td.cpu = dtd.cpu;
  if (dtd.memory !== undefined) td.memory = dtd.memory;
  return td;
}
