// What an ECS agent reports about its host when it registers a container instance, computed from the
// engine's own answers (pure). Capability names and version rules follow aws/amazon-ecs-agent
// (agent/app/agent_capability.go, agent/dockerclient/versions.go, logging_drivers.go): the attributes a
// task definition's requiresAttributes are matched against at placement.
import { createHash } from "node:crypto";
import type { Attribute, Resource, VersionInfo } from "../../../generated/shapes.ts";
import type { EngineFacts } from "./engine-probe.ts";

/** The agent release we answer as (the newest one: UpdateContainerAgent then has nothing to offer). */
export const AGENT_VERSION = "1.105.1";
export const AGENT_HASH = "54d3e56b";

/** Ports the agent reserves on every instance: SSH, Docker, Docker TLS, introspection, task metadata. */
export const AGENT_RESERVED_PORTS = ["22", "2375", "2376", "51678", "51679"] as const;

const CAP = "com.amazonaws.ecs.capability.";
const ATTR = "ecs.capability.";

/** Attributes every current Linux agent sets whatever the engine (nameOnlyAttributes and friends). */
const ALWAYS = [
  `${ATTR}private-registry-authentication.secretsmanager`,
  `${ATTR}secrets.ssm.environment-variables`,
  `${ATTR}secrets.ssm.bootstrap.log-driver`,
  `${ATTR}ecr-endpoint`,
  `${ATTR}secrets.asm.environment-variables`,
  `${ATTR}secrets.asm.bootstrap.log-driver`,
  `${ATTR}container-ordering`,
  `${ATTR}full-sync`,
  `${ATTR}env-files.s3`,
  `${ATTR}network.container-port-range`,
  `${ATTR}container-restart-policy`,
  `${CAP}privileged-container`,
  `${CAP}task-iam-role`,
  `${CAP}task-iam-role-network-host`,
  `${ATTR}task-eni`,
  `${ATTR}execution-role-awslogs`,
  `${ATTR}pid-ipc-namespace-sharing`,
  `${ATTR}efs`,
  `${ATTR}efsAuth`,
  `${ATTR}firelens.fluentd`,
  `${ATTR}firelens.fluentbit`,
  `${ATTR}firelens.options.config.file`,
  `${ATTR}firelens.options.config.s3`,
  `${CAP}logging-driver.awsfirelens`,
] as const;

/** Docker API versions the agent advertises (below 1.33, without the ones it skips). */
const REMOTE_API_VERSIONS = ["1.17", "1.18", "1.19", "1.20", "1.21", "1.22", "1.23", "1.24", "1.25", "1.28", "1.29", "1.30", "1.32"];

/** Logging drivers the agent knows, with the API version each needs. */
const LOGGING_DRIVER_MIN_API: Record<string, string> = {
  "json-file": "1.18",
  syslog: "1.18",
  journald: "1.19",
  gelf: "1.20",
  fluentd: "1.20",
  awslogs: "1.21",
  splunk: "1.22",
  logentries: "1.25",
  sumologic: "1.29",
  none: "1.19",
};

export interface InstancePlacementFacts {
  region: string;
  availabilityZone: string;
  instanceType: string;
  amiId: string;
  vpcId: string;
  subnetId: string;
}

/** The attributes the agent registers: platform (`ecs.*`) first, then capabilities. */
export function agentAttributes(facts: EngineFacts, where: InstancePlacementFacts): Attribute[] {
  const names = new Set<string>(ALWAYS);
  const supports = (version: string): boolean =>
    compareApi(version, facts.apiVersion) <= 0 && compareApi(version, facts.minApiVersion) >= 0;
  for (const v of REMOTE_API_VERSIONS) if (supports(v)) names.add(`${CAP}docker-remote-api.${v}`);
  // awslogs is shipped by local-ecs-api itself; "none" is always there; the rest as the engine lists them.
  const drivers = new Set([...facts.loggingDrivers, "awslogs", "none"]);
  for (const [driver, min] of Object.entries(LOGGING_DRIVER_MIN_API)) {
    if (drivers.has(driver) && supports(min)) names.add(`${CAP}logging-driver.${driver}`);
  }
  if (supports("1.19")) {
    names.add(`${CAP}ecr-auth`);
    names.add(`${ATTR}execution-role-ecr-pull`);
  }
  if (supports("1.22")) names.add(`${ATTR}task-cpu-mem-limit`);
  if (supports("1.24")) names.add(`${ATTR}container-health-check`);
  for (const driver of new Set(["local", ...facts.volumeDrivers])) names.add(`${ATTR}docker-plugin.${driver}`);

  const platform: Attribute[] = [
    { name: "ecs.os-type", value: facts.osType.toLowerCase() },
    { name: "ecs.os-family", value: facts.osType.toLowerCase() === "windows" ? "WINDOWS_SERVER_2022_FULL" : "LINUX" },
    { name: "ecs.cpu-architecture", value: cpuArchitecture(facts.architecture) },
    { name: "ecs.availability-zone", value: where.availabilityZone },
    { name: "ecs.instance-type", value: where.instanceType },
    { name: "ecs.ami-id", value: where.amiId },
    { name: "ecs.vpc-id", value: where.vpcId },
    { name: "ecs.subnet-id", value: where.subnetId },
  ];
  return [...platform, ...[...names].sort().map((name) => ({ name }))];
}

export function versionInfoOf(facts: EngineFacts): VersionInfo {
  return { agentVersion: AGENT_VERSION, agentHash: AGENT_HASH, dockerVersion: `DockerVersion: ${facts.serverVersion}` };
}

/** registeredResources as the agent reports them (CPU units, MiB, reserved TCP/UDP ports). */
export function registeredResourcesOf(cpu: number, memoryMiB: number): Resource[] {
  return [
    integerResource("CPU", cpu),
    integerResource("MEMORY", memoryMiB),
    stringSetResource("PORTS", [...AGENT_RESERVED_PORTS]),
    stringSetResource("PORTS_UDP", []),
  ];
}

export function integerResource(name: string, value: number): Resource {
  return { name, type: "INTEGER", doubleValue: 0, longValue: 0, integerValue: value };
}

export function stringSetResource(name: string, values: string[]): Resource {
  return { name, type: "STRINGSET", doubleValue: 0, longValue: 0, integerValue: 0, stringSetValue: values };
}

/** "x86_64" / "arm64", the values ecs.cpu-architecture takes. */
export function cpuArchitecture(engineArch: string): string {
  const a = engineArch.toLowerCase();
  return a === "aarch64" || a === "arm64" ? "arm64" : "x86_64";
}

/** A plausible EC2 instance type for the engine's size (m5/m6g by vCPU count). */
export function instanceTypeFor(cpus: number, architecture: string): string {
  const family = cpuArchitecture(architecture) === "arm64" ? "m6g" : "m5";
  const sizes: Array<[number, string]> = [
    [2, "large"],
    [4, "xlarge"],
    [8, "2xlarge"],
    [16, "4xlarge"],
    [32, "8xlarge"],
    [48, "12xlarge"],
    [64, "16xlarge"],
    [96, "24xlarge"],
  ];
  const size = sizes.find(([n]) => cpus <= n)?.[1] ?? "24xlarge";
  return `${family}.${size}`;
}

/** `<prefix>` + `length` hex characters derived from `seed` (stable, made-up identifiers). */
export function stableHex(seed: string, length: number): string {
  return createHash("sha256").update(seed).digest("hex").slice(0, length);
}

/** -1, 0, 1 comparing "1.21" style versions numerically. */
export function compareApi(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}
