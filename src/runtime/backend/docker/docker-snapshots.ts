// Docker's own answers in the runtime's terms: a line of the events stream, a container inspect. Pure.
import type Docker from "dockerode";
import type { ContainerSnapshot, HealthState, PortBindingSnapshot, RuntimeEvent } from "./container-runtime.ts";

/** Parses one line of the events stream; undefined for lines we cannot use. */
export function parseEvent(line: string): RuntimeEvent | undefined {
  let raw: {
    Type?: string;
    Action?: string;
    status?: string;
    id?: string;
    time?: number;
    Actor?: { ID?: string; Attributes?: Record<string, string> };
  };
  try {
    raw = JSON.parse(line);
  } catch {
    return undefined;
  }
  const actionFull = raw.Action ?? raw.status ?? "";
  const id = raw.Actor?.ID ?? raw.id ?? "";
  if (actionFull === "" || id === "") return undefined;
  const attributes = raw.Actor?.Attributes ?? {};
  // `time` is seconds; timeNano exceeds Number.MAX_SAFE_INTEGER.
  const event: RuntimeEvent = {
    type: raw.Type ?? "container",
    action: actionFull,
    id,
    attributes,
    time: new Date((raw.time ?? Date.now() / 1000) * 1000),
  };
  if (actionFull.startsWith("health_status")) {
    event.action = "health_status";
    const state = actionFull.slice(actionFull.indexOf(":") + 1).trim();
    if (state === "healthy" || state === "unhealthy" || state === "starting") event.health = state;
  }
  if (actionFull === "die") {
    // Docker sends exitCode as a string.
    const code = Number(attributes["exitCode"]);
    if (Number.isFinite(code)) event.exitCode = code;
  }
  return event;
}

const ZERO_TIME = "0001-01-01T00:00:00Z";

function dateOf(value: string | undefined): Date | undefined {
  if (value === undefined || value === "" || value.startsWith("0001-01-01")) return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

export function normalizeInspect(info: Docker.ContainerInspectInfo): ContainerSnapshot {
  const health = info.State.Health?.Status;
  const ports: PortBindingSnapshot[] = [];
  const seen = new Set<string>();
  for (const [key, bindings] of Object.entries(info.NetworkSettings?.Ports ?? {})) {
    const [portStr, proto] = key.split("/");
    if (bindings === null || bindings === undefined) continue;
    const list = bindings as Array<{ HostIp: string; HostPort: string }>;
    // Docker lists a published port for 0.0.0.0 and again for ::, usually with the same host port but
    // on some hosts with another one: report the IPv4 binding once, as the agent does.
    const hasIpv4 = list.some((b) => !b.HostIp.includes(":"));
    for (const b of list) {
      const hostPort = Number(b.HostPort);
      if (!Number.isInteger(hostPort) || hostPort === 0) continue;
      if (hasIpv4 && b.HostIp.includes(":")) continue;
      const dedupe = `${portStr}/${proto}/${hostPort}`;
      if (seen.has(dedupe)) continue;
      seen.add(dedupe);
      ports.push({
        containerPort: Number(portStr),
        protocol: proto === "udp" ? "udp" : "tcp",
        hostIp: b.HostIp === "" || b.HostIp === "::" ? "0.0.0.0" : b.HostIp,
        hostPort,
      });
    }
  }
  const networks: ContainerSnapshot["networks"] = {};
  for (const [name, net] of Object.entries(info.NetworkSettings?.Networks ?? {})) {
    networks[name] = { ipAddress: net.IPAddress ?? "", networkId: net.NetworkID ?? "" };
  }
  return {
    id: info.Id,
    name: info.Name.replace(/^\//, ""),
    image: info.Config?.Image ?? "",
    imageId: info.Image,
    labels: info.Config?.Labels ?? {},
    state: {
      status: info.State.Status,
      running: info.State.Running,
      exitCode: info.State.ExitCode,
      startedAt: info.State.StartedAt === ZERO_TIME ? undefined : dateOf(info.State.StartedAt),
      finishedAt: dateOf(info.State.FinishedAt),
      oomKilled: info.State.OOMKilled,
      health: health === "starting" || health === "healthy" || health === "unhealthy" ? (health as HealthState) : undefined,
      error: info.State.Error === "" ? undefined : info.State.Error,
    },
    networks,
    ports,
  };
}

