// Pure builders of the task metadata endpoint (TMDS) v3 and v4 JSON from a snapshot of one task, with the
// agent's exact field names and value rules (ecs-agent/tmds/handlers/{v2,v4/state}/response.go).
import type { Tag, Task, TaskDefinition } from "../../../generated/shapes.ts";
import { effectiveAwslogsOptions } from "./awslogs-options.ts";

/** The agent's internal status names, which TMDS reports as they are. */
export type InternalContainerStatus = "NONE" | "MANIFEST_PULLED" | "PULLED" | "CREATED" | "RUNNING" | "RESOURCES_PROVISIONED" | "STOPPED";

/** Docker gives RFC3339Nano strings; keep them as they are to preserve nanoseconds. */
export type Timestamp = Date | string;

export interface MetadataContainer {
  name: string;
  dockerId: string;
  dockerName: string;
  image: string;
  imageId: string;
  labels: Record<string, string>;
  knownStatus: InternalContainerStatus;
  desiredStatus: InternalContainerStatus;
  exitCode?: number | undefined;
  createdAt?: Timestamp | undefined;
  startedAt?: Timestamp | undefined;
  finishedAt?: Timestamp | undefined;
  /** Present only when the container definition has a healthCheck. */
  health?: { status: "HEALTHY" | "UNHEALTHY" | "UNKNOWN"; since?: Timestamp | undefined; exitCode?: number | undefined; output?: string | undefined } | undefined;
  networks: Array<{ networkMode: string; ipv4Addresses: string[]; ipv6Addresses?: string[] | undefined }>;
  ports: Array<{ containerPort: number; hostPort?: number | undefined; protocol: string; hostIp?: string | undefined }>;
  volumes: Array<{ dockerName?: string | undefined; source: string; destination: string }>;
  logDriver?: string | undefined;
  logOptions?: Record<string, string> | undefined;
  containerArn?: string | undefined;
  /** cpu = container cpu units (0 if unset), memory = hard limit MiB (0 if unset). */
  limits: { cpu: number; memory: number };
  /** "NORMAL" unless told otherwise (e.g. "CNI_PAUSE"). */
  type?: string | undefined;
  restartCount?: number | undefined;
}

export interface TaskMetadataSnapshot {
  task: Task;
  taskDefinition: TaskDefinition;
  containers: MetadataContainer[];
  /** Short cluster name (EC2); Fargate tasks report the cluster ARN instead. */
  clusterName: string;
  /** Task tags for taskWithTags; defaults to task.tags. */
  tags?: Tag[] | undefined;
  containerInstanceTags?: Record<string, string> | undefined;
}

export type MetadataVersion = "v3" | "v4";

const STATUS_ORDER: readonly InternalContainerStatus[] = ["NONE", "MANIFEST_PULLED", "PULLED", "CREATED", "RUNNING", "RESOURCES_PROVISIONED", "STOPPED"];

/** RFC3339Nano as Go prints it: UTC, fractional seconds without trailing zeros. */
export function rfc3339Nano(t: Timestamp): string {
  if (typeof t === "string") {
    const d = new Date(t);
    if (Number.isNaN(d.getTime())) return t;
    // Keep the sub-millisecond digits Docker gives us, but normalise the zone to Z.
    const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(t);
    if (m !== null) return trimFraction(m[1]!, m[2]);
    return rfc3339Nano(d);
  }
  const iso = t.toISOString(); // 2020-10-02T00:15:07.620Z
  return trimFraction(iso.slice(0, 19), iso.slice(20, 23));
}

function trimFraction(base: string, fraction: string | undefined): string {
  const f = (fraction ?? "").replace(/0+$/, "");
  return f === "" ? `${base}Z` : `${base}.${f}Z`;
}

export function buildContainerResponse(snapshot: TaskMetadataSnapshot, container: MetadataContainer, version: MetadataVersion): Record<string, unknown> {
  const type = container.type ?? "NORMAL";
  const out: Record<string, unknown> = {
    DockerId: container.dockerId,
    Name: container.name,
    DockerName: container.dockerName,
    Image: container.image,
    ImageID: container.imageId,
  };
  if (container.ports.length > 0) {
    out["Ports"] = container.ports.map((p) => ({
      ContainerPort: p.containerPort,
      Protocol: p.protocol,
      ...(p.hostPort !== undefined ? { HostPort: p.hostPort } : {}),
      ...(p.hostIp !== undefined && p.hostIp !== "" ? { HostIp: p.hostIp } : {}),
    }));
  }
  if (Object.keys(container.labels).length > 0) out["Labels"] = container.labels;
  out["DesiredStatus"] = container.desiredStatus;
  out["KnownStatus"] = container.knownStatus;
  if (container.exitCode !== undefined) out["ExitCode"] = container.exitCode;
  out["Limits"] = { CPU: type === "NORMAL" ? Math.max(container.limits.cpu, 2) : container.limits.cpu, Memory: container.limits.memory };
  if (container.createdAt !== undefined) out["CreatedAt"] = rfc3339Nano(container.createdAt);
  if (container.startedAt !== undefined) out["StartedAt"] = rfc3339Nano(container.startedAt);
  if (container.finishedAt !== undefined) out["FinishedAt"] = rfc3339Nano(container.finishedAt);
  out["Type"] = type;
  if (container.networks.length > 0) {
    out["Networks"] = container.networks.map((n) =>
      version === "v3"
        ? { NetworkMode: n.networkMode, IPv4Addresses: n.ipv4Addresses }
        : {
            NetworkMode: n.networkMode,
            IPv4Addresses: n.ipv4Addresses,
            ...(n.ipv6Addresses !== undefined && n.ipv6Addresses.length > 0 ? { IPv6Addresses: n.ipv6Addresses } : {}),
          },
    );
  }
  if (container.health !== undefined) {
    const h = container.health;
    out["Health"] = {
      // The agent omits the status while it is UNKNOWN.
      ...(h.status !== "UNKNOWN" ? { status: h.status } : {}),
      ...(h.since !== undefined ? { statusSince: rfc3339Nano(h.since) } : {}),
      ...(h.status === "UNHEALTHY" && h.exitCode !== undefined ? { exitCode: h.exitCode } : {}),
      ...(h.output !== undefined && h.output !== "" ? { output: h.output.slice(0, 1024) } : {}),
    };
  }
  if (container.volumes.length > 0) {
    out["Volumes"] = container.volumes.map((v) => ({
      ...(v.dockerName !== undefined ? { DockerName: v.dockerName } : {}),
      Source: v.source,
      Destination: v.destination,
    }));
  }
  if (version === "v4") {
    if (container.logDriver !== undefined) {
      out["LogDriver"] = container.logDriver;
      const opts = container.logOptions ?? {};
      out["LogOptions"] =
        container.logDriver === "awslogs"
          ? effectiveAwslogsOptions(opts, container.name, snapshot.task.taskArn ?? "", container.dockerId)
          : opts;
    }
    if (container.containerArn !== undefined) out["ContainerARN"] = container.containerArn;
    if (container.restartCount !== undefined) out["RestartCount"] = container.restartCount;
  }
  return out;
}

export function buildTaskResponse(snapshot: TaskMetadataSnapshot, version: MetadataVersion, withTags = false): Record<string, unknown> {
  const { task, taskDefinition: td } = snapshot;
  const fargate = task.launchType === "FARGATE";
  const out: Record<string, unknown> = {
    Cluster: fargate ? (task.clusterArn ?? snapshot.clusterName) : snapshot.clusterName,
    TaskARN: task.taskArn ?? "",
    Family: td.family ?? "",
    Revision: String(td.revision ?? ""),
  };
  if (task.desiredStatus !== undefined) out["DesiredStatus"] = task.desiredStatus;
  out["KnownStatus"] = taskKnownStatus(snapshot);
  // The pause container of awsvpc tasks is listed on EC2 but never on Fargate.
  const containers = fargate ? snapshot.containers.filter((c) => (c.type ?? "NORMAL") === "NORMAL") : snapshot.containers;
  out["Containers"] = containers.map((c) => buildContainerResponse(snapshot, c, version));
  const limits = taskLimits(task.cpu ?? td.cpu, task.memory ?? td.memory);
  if (limits !== undefined) out["Limits"] = limits;
  if (task.pullStartedAt !== undefined) out["PullStartedAt"] = rfc3339Nano(task.pullStartedAt);
  if (task.pullStoppedAt !== undefined) out["PullStoppedAt"] = rfc3339Nano(task.pullStoppedAt);
  if (task.executionStoppedAt !== undefined) out["ExecutionStoppedAt"] = rfc3339Nano(task.executionStoppedAt);
  if (task.availabilityZone !== undefined) out["AvailabilityZone"] = task.availabilityZone;
  if (withTags) {
    const tags = snapshot.tags ?? task.tags ?? [];
    out["TaskTags"] = Object.fromEntries(tags.filter((t) => t.key !== undefined).map((t) => [t.key, t.value ?? ""]));
    if (!fargate) out["ContainerInstanceTags"] = snapshot.containerInstanceTags ?? {};
  }
  if (version === "v4") {
    if (task.launchType !== undefined) out["LaunchType"] = task.launchType;
    if (!fargate && task.group !== undefined && task.group.startsWith("service:")) out["ServiceName"] = task.group.slice("service:".length);
    out["FaultInjectionEnabled"] = td.enableFaultInjection ?? false;
  }
  return out;
}

/** The agent's task known status: the minimum over containers, RESOURCES_PROVISIONED counting as RUNNING. */
export function taskKnownStatus(snapshot: TaskMetadataSnapshot): string {
  if (snapshot.task.lastStatus === "STOPPED") return "STOPPED";
  let min = STATUS_ORDER.length;
  for (const c of snapshot.containers) {
    const s = c.knownStatus === "RESOURCES_PROVISIONED" ? "RUNNING" : c.knownStatus;
    min = Math.min(min, STATUS_ORDER.indexOf(s));
  }
  return min === STATUS_ORDER.length ? "NONE" : STATUS_ORDER[min]!;
}

function taskLimits(cpu: string | undefined, memory: string | undefined): Record<string, number> | undefined {
  const out: Record<string, number> = {};
  const c = cpu !== undefined ? Number(cpu) : NaN;
  const m = memory !== undefined ? Number(memory) : NaN;
  if (Number.isFinite(c) && c > 0) out["CPU"] = c / 1024;
  if (Number.isFinite(m) && m > 0) out["Memory"] = m;
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Docker one-shot stats plus, for v4 on bridge/awsvpc, the agent's network_rate_stats. */
export function buildStatsResponse(stats: Record<string, unknown> | null, version: MetadataVersion, networkRate: { rxBytesPerSec: number; txBytesPerSec: number } | undefined): Record<string, unknown> | null {
  if (stats === null) return null;
  if (version === "v3" || networkRate === undefined) return stats;
  return { ...stats, network_rate_stats: { rx_bytes_per_sec: networkRate.rxBytesPerSec, tx_bytes_per_sec: networkRate.txBytesPerSec } };
}
