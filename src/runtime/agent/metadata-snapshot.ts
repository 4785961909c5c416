// Turns the task engine's in-memory bookkeeping of one task into the metadata endpoint's snapshot. Pure:
// the metadata path must never wait on Docker, so everything comes from the engine's records plus what
// the bridge itself noted (creation time, image id).
import type { ContainerDefinition, Tag, Task } from "../../../generated/shapes.ts";
import { clusterNameOf } from "../arns.ts";
import { ECS_LABELS, NETWORK_HOLDER_NAME, type TaskRuntimeFacts } from "../backend/task-backend.ts";
import type { ContainerRecord, TaskRuntimeState } from "../engine/engine-types.ts";
import type { InternalContainerStatus, MetadataContainer, TaskMetadataSnapshot } from "./metadata.ts";

/** What the bridge knows about a container that the engine's record does not carry. */
export interface ContainerNotes {
  createdAt?: Date | undefined;
  imageId?: string | undefined;
}

export interface SnapshotInput {
  task: Task;
  state: TaskRuntimeState;
  /** What the runtime knows of the task (its network, namespace holder, volumes). */
  facts: TaskRuntimeFacts;
  tags?: Tag[] | undefined;
  /** By task-definition container name. */
  notes?: ReadonlyMap<string, ContainerNotes> | undefined;
}

export function buildTaskSnapshot(input: SnapshotInput): TaskMetadataSnapshot {
  const { task, state, facts } = input;
  const td = state.taskDefinition;
  const defs = td.containerDefinitions ?? [];
  const clusterName = clusterNameOf(task.clusterArn);
  const ecsLabels = (containerName: string): Record<string, string> => ({
    [ECS_LABELS.taskArn]: task.taskArn ?? "",
    [ECS_LABELS.containerName]: containerName,
    [ECS_LABELS.family]: td.family ?? "",
    [ECS_LABELS.version]: String(td.revision ?? 0),
    [ECS_LABELS.cluster]: clusterName,
  });
  const taskStopping = task.desiredStatus === "STOPPED";

  const containers: MetadataContainer[] = [];
  if (state.networkMode === "awsvpc" && facts.holder?.runtimeId !== undefined) {
    const holder = facts.holder;
    containers.push({
      name: NETWORK_HOLDER_NAME,
      dockerId: holder.runtimeId ?? "",
      dockerName: holder.runtimeName,
      // The engine does not record which image it used for the pause container.
      image: "",
      imageId: "",
      labels: ecsLabels(NETWORK_HOLDER_NAME),
      knownStatus: state.deprovisioned ? "STOPPED" : state.provisioned ? "RESOURCES_PROVISIONED" : "NONE",
      desiredStatus: taskStopping ? "STOPPED" : "RESOURCES_PROVISIONED",
      networks: [{ networkMode: "awsvpc", ipv4Addresses: state.ipv4 === undefined ? [] : [state.ipv4] }],
      ports: [],
      volumes: [],
      limits: { cpu: 0, memory: 0 },
      type: "CNI_PAUSE",
    });
  }

  for (const rec of state.containers) {
    const def = defs.find((d) => d.name === rec.name) ?? { name: rec.name };
    const override = state.overrides.containerOverrides?.find((o) => o.name === rec.name);
    const apiContainer = task.containers?.find((c) => c.name === rec.name);
    const notes = input.notes?.get(rec.name);
    const mc: MetadataContainer = {
      name: rec.name,
      dockerId: rec.runtimeId ?? "",
      dockerName: rec.runtimeName,
      image: def.image ?? "",
      imageId: notes?.imageId ?? rec.imageDigest ?? "",
      labels: { ...def.dockerLabels, ...ecsLabels(rec.name) },
      knownStatus: rec.known as InternalContainerStatus,
      desiredStatus: rec.desiredStopped || taskStopping ? "STOPPED" : "RUNNING",
      exitCode: rec.exitCode,
      createdAt: notes?.createdAt,
      startedAt: rec.startedAt === undefined ? undefined : new Date(rec.startedAt),
      finishedAt: rec.finishedAt === undefined ? undefined : new Date(rec.finishedAt),
      networks: containerNetworks(state, facts, rec),
      ports: (rec.networkBindings ?? []).map((b) => ({
        containerPort: b.containerPort ?? 0,
        hostPort: b.hostPort,
        protocol: b.protocol ?? "tcp",
        hostIp: b.bindIP,
      })),
      volumes: containerVolumes(facts, def),
      limits: { cpu: override?.cpu ?? def.cpu ?? 0, memory: override?.memory ?? def.memory ?? 0 },
      type: "NORMAL",
    };
    if (def.healthCheck !== undefined) mc.health = { status: rec.health };
    if (def.logConfiguration?.logDriver !== undefined) {
      mc.logDriver = def.logConfiguration.logDriver;
      // secretOptions stay out: resolved secret values are never kept or served.
      mc.logOptions = { ...def.logConfiguration.options };
    }
    if (apiContainer?.containerArn !== undefined) mc.containerArn = apiContainer.containerArn;
    containers.push(mc);
  }

  const snapshot: TaskMetadataSnapshot = { task, taskDefinition: td, containers, clusterName };
  if (input.tags !== undefined) snapshot.tags = input.tags;
  return snapshot;
}

function containerNetworks(state: TaskRuntimeState, facts: TaskRuntimeFacts, rec: ContainerRecord): MetadataContainer["networks"] {
  switch (state.networkMode) {
    case "awsvpc":
      return [{ networkMode: "awsvpc", ipv4Addresses: state.ipv4 === undefined ? [] : [state.ipv4] }];
    case "host":
      return [{ networkMode: "host", ipv4Addresses: [] }];
    case "none":
      return [{ networkMode: "none", ipv4Addresses: [] }];
    default: {
      // bridge: the Docker networks the container is on, the task's own network first (the one a
      // client reading Networks[0] expects), then the endpoint and external networks.
      const entries = Object.entries(rec.networks ?? {});
      entries.sort(([a], [b]) => (a === facts.networkName ? -1 : b === facts.networkName ? 1 : 0));
      return entries.map(([name, ip]) => ({ networkMode: name, ipv4Addresses: ip === "" ? [] : [ip] }));
    }
  }
}

function containerVolumes(facts: TaskRuntimeFacts, def: ContainerDefinition): MetadataContainer["volumes"] {
  const out: MetadataContainer["volumes"] = [];
  for (const mp of def.mountPoints ?? []) {
    const volume = mp.sourceVolume === undefined ? undefined : facts.volumes[mp.sourceVolume];
    if (volume === undefined) continue;
    if (volume.type === "bind") out.push({ source: volume.source, destination: mp.containerPath ?? "" });
    else out.push({ dockerName: volume.source, source: volume.hostPath, destination: mp.containerPath ?? "" });
  }
  return out;
}
