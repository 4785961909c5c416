import { parseTaskCpu, parseTaskMemory } from "../../../../src/runtime/engine/task-document.ts";
import { existsSync } from "node:fs";
import { randomBytes } from "node:crypto";
import Docker from "dockerode";
import { afterAll, describe, expect, it } from "vitest";
import type { ContainerDefinition, TaskDefinition } from "../../../../generated/shapes.ts";
import {
  buildContainerCreateOptions,
  containerEnvironment,
  cpuShares,
  dockerContainerName,
  healthCheckTest,
  portBindingsFor,
  taskVolumePlan,
} from "../../../../src/runtime/backend/docker/docker-mapping.ts";
import type { ContainerMappingInput } from "../../../../src/runtime/backend/docker/docker-mapping.ts";

const MiB = 1024 * 1024;
const TASK_ARN = "arn:aws:ecs:us-east-1:123456789012:task/default/0123456789abcdef0123456789abcdef";

function input(definition: ContainerDefinition, extra: Partial<ContainerMappingInput> = {}): ContainerMappingInput {
  return {
    taskArn: TASK_ARN,
    clusterName: "default",
    family: "web",
    revision: 7,
    taskId: "0123456789abcdef0123456789abcdef",
    definition,
    networkMode: "bridge",
    dockerName: "ecs-web-7-app-aaaaaaaaaaaaaaaaaaaa",
    siblings: { app: "ecs-web-7-app-aaaaaaaaaaaaaaaaaaaa", db: "ecs-web-7-db-bbbbbbbbbbbbbbbbbbbb", data: "ecs-web-7-data-cccccccccccccccccccc" },
    volumes: {
      host: { type: "bind", source: "/srv/data" },
      scratch: { type: "volume", source: "ecs-web-7-scratch-dddddddddddddddddddd" },
    },
    ...extra,
  };
}

const app = (more: Partial<ContainerDefinition> = {}): ContainerDefinition => ({ name: "app", image: "busybox:latest", ...more });
const build = (def: ContainerDefinition, extra: Partial<ContainerMappingInput> = {}) => buildContainerCreateOptions(input(def, extra));

describe("dockerContainerName", () => {
  it("follows the agent's ecs-<family>-<revision>-<name>-<hex> pattern, stripping other characters", () => {
    expect(dockerContainerName("curltest", 24, "curl", "cca48e8dcadd97805600")).toBe("ecs-curltest-24-curl-cca48e8dcadd97805600");
    expect(dockerContainerName("fam", 1, "my_app.v2-x", "0".repeat(20))).toBe(`ecs-fam-1-myappv2-x-${"0".repeat(20)}`);
  });
  it("draws a fresh 20-hex suffix when none is given", () => {
    const a = dockerContainerName("f", 1, "c");
    expect(a).toMatch(/^ecs-f-1-c-[0-9a-f]{20}$/);
    expect(dockerContainerName("f", 1, "c")).not.toBe(a);
  });
});

describe("buildContainerCreateOptions: basics", () => {
  it("maps name, image, entryPoint, command, workingDirectory, user, hostname, tty and stdin", () => {
    const o = build(app({ entryPoint: ["sh", "-c"], command: ["echo hi"], workingDirectory: "/w", user: "1000:1000", hostname: "h", interactive: true, pseudoTerminal: false }));
    expect(o).toMatchObject({
      name: "ecs-web-7-app-aaaaaaaaaaaaaaaaaaaa",
      Image: "busybox:latest",
      Entrypoint: ["sh", "-c"],
      Cmd: ["echo hi"],
      WorkingDir: "/w",
      User: "1000:1000",
      Hostname: "h",
      OpenStdin: true,
      Tty: false,
    });
  });
  it("leaves out what the definition does not set", () => {
    const o = build(app());
    for (const key of ["Entrypoint", "Cmd", "WorkingDir", "User", "Hostname", "Healthcheck", "ExposedPorts", "OpenStdin", "Tty", "NetworkDisabled"]) {
      expect(o).not.toHaveProperty(key);
    }
    for (const key of ["Memory", "MemoryReservation", "Binds", "Links", "LogConfig", "Init", "PortBindings", "NanoCpus"]) {
      expect(o.HostConfig).not.toHaveProperty(key);
    }
  });
  it("replaces the command with the override's", () => {
    expect(build(app({ command: ["a"] }), { override: { name: "app", command: ["b", "c"] } }).Cmd).toEqual(["b", "c"]);
    expect(build(app({ command: ["a"] }), { override: { name: "app" } }).Cmd).toEqual(["a"]);
  });
});

describe("environment", () => {
  const def = app({ environment: [{ name: "A", value: "1" }, { name: "B", value: "2" }, { name: "EMPTY" }] });
  it("merges the override by name and keeps definition order", () => {
    const o = build(def, { override: { name: "app", environment: [{ name: "B", value: "override" }, { name: "C", value: "3" }] } });
    expect(o.Env).toEqual(["A=1", "B=override", "EMPTY=", "C=3"]);
  });
  it("adds env-file variables only when absent; secrets and agent variables override", () => {
    const o = build(def, {
      envFileEnv: { A: "file", F: "file" },
      secretEnv: { B: "secret", S: "secret" },
      extraEnv: { ECS_CONTAINER_METADATA_URI_V4: "http://169.254.170.2/v4/x", S: "agent" },
    });
    expect(o.Env).toEqual(["A=1", "B=secret", "EMPTY=", "F=file", "S=agent", "ECS_CONTAINER_METADATA_URI_V4=http://169.254.170.2/v4/x"]);
  });
  const agent = { AWS_REGION: "us-east-1", AWS_DEFAULT_REGION: "us-east-1", AWS_EXECUTION_ENV: "AWS_ECS_EC2" };
  it.each([
    ["nothing sets a region", {}, ["AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1", "AWS_EXECUTION_ENV=AWS_ECS_EC2"]],
    ["the definition sets AWS_REGION", { definition: app({ environment: [{ name: "AWS_REGION", value: "eu-west-1" }] }) }, ["AWS_REGION=eu-west-1", "AWS_EXECUTION_ENV=AWS_ECS_EC2"]],
    ["the override sets AWS_DEFAULT_REGION", { override: { name: "app", environment: [{ name: "AWS_DEFAULT_REGION", value: "eu-west-2" }] } }, ["AWS_DEFAULT_REGION=eu-west-2", "AWS_EXECUTION_ENV=AWS_ECS_EC2"]],
    ["an env file sets AWS_REGION", { envFileEnv: { AWS_REGION: "ap-south-1" } }, ["AWS_REGION=ap-south-1", "AWS_EXECUTION_ENV=AWS_ECS_EC2"]],
    ["the image sets AWS_DEFAULT_REGION", { imageEnv: ["PATH=/bin", "AWS_DEFAULT_REGION=sa-east-1"] }, ["AWS_EXECUTION_ENV=AWS_ECS_EC2"]],
  ] as const)("agent region variables when %s", (_, extra, env) => {
    expect(build(app(), { extraEnv: agent, ...(extra as Partial<ContainerMappingInput>) }).Env).toEqual(env);
  });
  it("containerEnvironment is usable on its own", () => {
    expect([...containerEnvironment({ definition: def })]).toEqual([["A", "1"], ["B", "2"], ["EMPTY", ""]]);
  });
});

describe("labels", () => {
  it("adds the five agent labels over user and emulator labels", () => {
    const o = build(app({ dockerLabels: { team: "x", "com.amazonaws.ecs.cluster": "spoofed", owner: "user" } }), { extraLabels: { owner: "local-ecs-api", "com.amazonaws.ecs.task-arn": "spoofed" } });
    expect(o.Labels).toEqual({
      team: "x",
      owner: "local-ecs-api",
      "com.amazonaws.ecs.task-arn": TASK_ARN,
      "com.amazonaws.ecs.container-name": "app",
      "com.amazonaws.ecs.task-definition-family": "web",
      "com.amazonaws.ecs.task-definition-version": "7",
      "com.amazonaws.ecs.cluster": "default",
    });
  });
});

describe("ports", () => {
  const mappings = app({
    portMappings: [
      { containerPort: 80, hostPort: 8080 },
      { containerPort: 81, hostPort: 0, protocol: "tcp" },
      { containerPort: 53, protocol: "udp" },
      { containerPortRange: "9000-9002", protocol: "tcp" },
    ],
  });
  it("bridge: exposes and binds, hostPort 0/absent → dynamic, ranges expanded", () => {
    const o = build(mappings);
    expect(o.ExposedPorts).toEqual({ "80/tcp": {}, "81/tcp": {}, "53/udp": {}, "9000/tcp": {}, "9001/tcp": {}, "9002/tcp": {} });
    expect(o.HostConfig?.PortBindings).toEqual({
      "80/tcp": [{ HostPort: "8080" }],
      "81/tcp": [{ HostPort: "" }],
      "53/udp": [{ HostPort: "" }],
      "9000/tcp": [{ HostPort: "" }],
      "9001/tcp": [{ HostPort: "" }],
      "9002/tcp": [{ HostPort: "" }],
    });
  });
  it.each(["host", "none"] as const)("%s: no exposed ports or bindings", (networkMode) => {
    const o = build(mappings, { networkMode });
    expect(o.ExposedPorts).toBeUndefined();
    expect(o.HostConfig?.PortBindings).toBeUndefined();
  });
  it("awsvpc: nothing on the container, everything on the network container via portBindingsFor", () => {
    const o = build(mappings, { networkMode: "awsvpc", networkContainerId: "pause123" });
    expect(o.ExposedPorts).toBeUndefined();
    expect(o.HostConfig?.PortBindings).toBeUndefined();
    const set = portBindingsFor([
      { name: "a", portMappings: [{ containerPort: 80, hostPort: 80 }] },
      { name: "b", portMappings: [{ containerPort: 8125, protocol: "udp" }] },
      { name: "c" },
    ]);
    expect(set).toEqual({ ExposedPorts: { "80/tcp": {}, "8125/udp": {} }, PortBindings: { "80/tcp": [{ HostPort: "80" }], "8125/udp": [{ HostPort: "" }] } });
  });
  it("rejects a malformed containerPortRange", () => {
    expect(() => build(app({ portMappings: [{ containerPortRange: "90-80" }] }))).toThrow(/containerPortRange/);
  });
});

describe("network mode, links and aliases", () => {
  it("bridge without a task network uses the default bridge and HostConfig.Links", () => {
    const o = build(app({ links: ["db", "data:store"] }));
    expect(o.HostConfig?.NetworkMode).toBe("bridge");
    expect(o.HostConfig?.Links).toEqual(["ecs-web-7-db-bbbbbbbbbbbbbbbbbbbb:db", "ecs-web-7-data-cccccccccccccccccccc:store"]);
    expect(o.NetworkingConfig).toBeUndefined();
  });
  it("bridge with a task network joins it with the ECS name as alias and the links on the endpoint", () => {
    const o = build(app({ links: ["db:database"] }), { taskNetwork: "ecs-task-net" });
    expect(o.HostConfig?.NetworkMode).toBe("ecs-task-net");
    expect(o.NetworkingConfig).toEqual({
      EndpointsConfig: { "ecs-task-net": { Aliases: ["app"], Links: ["ecs-web-7-db-bbbbbbbbbbbbbbbbbbbb:database"] } },
    });
  });
  it("awsvpc joins the network container and drops what Docker refuses there", () => {
    const o = build(app({ hostname: "h", dnsServers: ["1.1.1.1"], dnsSearchDomains: ["x"], extraHosts: [{ hostname: "a", ipAddress: "1.2.3.4" }], disableNetworking: true, links: ["db"] }), {
      networkMode: "awsvpc",
      networkContainerId: "abc123",
      extraHosts: ["agent:169.254.170.2"],
    });
    expect(o.HostConfig?.NetworkMode).toBe("container:abc123");
    expect(o.Hostname).toBeUndefined();
    expect(o.NetworkDisabled).toBeUndefined();
    expect(o.HostConfig).not.toHaveProperty("Dns");
    expect(o.HostConfig).not.toHaveProperty("DnsSearch");
    expect(o.HostConfig).not.toHaveProperty("ExtraHosts");
    expect(o.HostConfig).not.toHaveProperty("Links");
  });
  it("awsvpc without a network container is a programming error", () => {
    expect(() => build(app(), { networkMode: "awsvpc" })).toThrow(/networkContainerId/);
  });
  it.each(["host", "none"] as const)("%s maps to NetworkMode %s without links", (networkMode) => {
    const o = build(app({ links: ["db"] }), { networkMode });
    expect(o.HostConfig?.NetworkMode).toBe(networkMode);
    expect(o.HostConfig?.Links).toBeUndefined();
  });
  it("rejects unknown link targets and links with two colons", () => {
    expect(() => build(app({ links: ["nope"] }))).toThrow(/unknown container "nope"/);
    expect(() => build(app({ links: ["db:a:b"] }))).toThrow(/invalid link/);
  });
});

describe("pid and ipc namespaces", () => {
  it.each([
    [{ pidMode: "host", ipcMode: "host" }, { PidMode: "host", IpcMode: "host" }],
    [{ ipcMode: "none" }, { IpcMode: "none" }],
    [{ pidMode: "task", ipcMode: "task", namespaceContainerId: "ns1" }, { PidMode: "container:ns1", IpcMode: "container:ns1" }],
    [{ pidMode: "task", networkMode: "awsvpc", networkContainerId: "pause1" }, { PidMode: "container:pause1" }],
  ] as const)("%j → %j", (extra, expected) => {
    expect(build(app(), extra as Partial<ContainerMappingInput>).HostConfig).toMatchObject(expected);
  });
  it("leaves Docker's defaults alone otherwise, and needs a holder for task", () => {
    expect(build(app()).HostConfig).not.toHaveProperty("PidMode");
    expect(build(app()).HostConfig).not.toHaveProperty("IpcMode");
    expect(() => build(app(), { pidMode: "task" })).toThrow(/namespaceContainerId/);
  });
});

describe("volumes", () => {
  it("maps mountPoints to Binds and volumesFrom to VolumesFrom, with :ro", () => {
    const o = build(
      app({
        mountPoints: [
          { sourceVolume: "host", containerPath: "/data", readOnly: true },
          { sourceVolume: "scratch", containerPath: "/scratch" },
        ],
        volumesFrom: [{ sourceContainer: "data", readOnly: true }, { sourceContainer: "db" }],
      }),
    );
    expect(o.HostConfig?.Binds).toEqual(["/srv/data:/data:ro", "ecs-web-7-scratch-dddddddddddddddddddd:/scratch"]);
    expect(o.HostConfig?.VolumesFrom).toEqual(["ecs-web-7-data-cccccccccccccccccccc:ro", "ecs-web-7-db-bbbbbbbbbbbbbbbbbbbb"]);
  });
  it("rejects unknown volumes and source containers", () => {
    expect(() => build(app({ mountPoints: [{ sourceVolume: "nope", containerPath: "/x" }] }))).toThrow(/unknown volume "nope"/);
    expect(() => build(app({ volumesFrom: [{ sourceContainer: "nope" }] }))).toThrow(/unknown container "nope"/);
  });
});

describe("cpu and memory", () => {
  it.each([
    [undefined, 2],
    [0, 2],
    [1, 2],
    [2, 2],
    [512, 512],
    [262144, 262144],
    [300000, 262144],
  ])("cpu %s → CpuShares %s", (cpu, shares) => {
    expect(build(app(cpu === undefined ? {} : { cpu })).HostConfig?.CpuShares).toBe(shares);
    expect(cpuShares(cpu)).toBe(shares);
  });
  it("maps memory and memoryReservation to bytes, raising tiny values to Docker's 6 MiB floor", () => {
    expect(build(app({ memory: 128, memoryReservation: 64 })).HostConfig).toMatchObject({ Memory: 128 * MiB, MemoryReservation: 64 * MiB });
    expect(build(app({ memory: 4 })).HostConfig?.Memory).toBe(6 * MiB);
  });
  it("applies cpu, memory and memoryReservation overrides", () => {
    const o = build(app({ cpu: 128, memory: 256, memoryReservation: 128 }), { override: { name: "app", cpu: 1024, memory: 512, memoryReservation: 256 } });
    expect(o.HostConfig).toMatchObject({ CpuShares: 1024, Memory: 512 * MiB, MemoryReservation: 256 * MiB });
  });
  it("uses task memory as the hard limit of containers without one, and task cpu as a NanoCpus ceiling", () => {
    const o = build(app({ memoryReservation: 64 }), { taskMemory: 1024, taskCpu: 512, hostCpus: 4 });
    expect(o.HostConfig).toMatchObject({ Memory: 1024 * MiB, MemoryReservation: 64 * MiB, NanoCpus: 500_000_000 });
    expect(build(app({ memory: 100 }), { taskMemory: 1024 }).HostConfig?.Memory).toBe(100 * MiB);
    expect(build(app(), { taskCpu: 8192, hostCpus: 2 }).HostConfig?.NanoCpus).toBe(2_000_000_000);
  });
  it.each([
    ["1024", 1024, undefined],
    ["1 vCPU", 1024, undefined],
    ["0.5 vcpu", 512, undefined],
    ["2GB", undefined, 2048],
    ["0.5 gb", undefined, 512],
    ["junk", undefined, undefined],
  ])("parses task size %s", (value, cpu, memory) => {
    if (cpu !== undefined) expect(parseTaskCpu(value)).toBe(cpu);
    if (memory !== undefined) expect(parseTaskMemory(value)).toBe(memory);
    if (cpu === undefined && memory === undefined) {
      expect(parseTaskCpu(value)).toBeUndefined();
      expect(parseTaskMemory(value)).toBeUndefined();
    }
  });
});

describe("host config fields", () => {
  it("maps ulimits, privileged, read-only root, dns, extra hosts, security options, sysctls, disableNetworking", () => {
    const o = build(
      app({
        ulimits: [{ name: "nofile", softLimit: 1024, hardLimit: 2048 }],
        privileged: true,
        readonlyRootFilesystem: true,
        dnsServers: ["10.0.0.2"],
        dnsSearchDomains: ["corp.local"],
        extraHosts: [{ hostname: "db.local", ipAddress: "10.0.0.5" }],
        dockerSecurityOptions: ["no-new-privileges"],
        systemControls: [{ namespace: "net.core.somaxconn", value: "1024" }],
        disableNetworking: false,
      }),
      { extraHosts: ["agent.local:169.254.170.2"] },
    );
    expect(o.NetworkDisabled).toBe(false);
    expect(o.HostConfig).toMatchObject({
      Ulimits: [{ Name: "nofile", Soft: 1024, Hard: 2048 }],
      Privileged: true,
      ReadonlyRootfs: true,
      Dns: ["10.0.0.2"],
      DnsSearch: ["corp.local"],
      ExtraHosts: ["db.local:10.0.0.5", "agent.local:169.254.170.2"],
      SecurityOpt: ["no-new-privileges"],
      Sysctls: { "net.core.somaxconn": "1024" },
    });
  });
  it("maps linuxParameters", () => {
    const o = build(
      app({
        memory: 256,
        linuxParameters: {
          initProcessEnabled: true,
          capabilities: { add: ["NET_ADMIN"], drop: ["MKNOD"] },
          devices: [{ hostPath: "/dev/fuse" }, { hostPath: "/dev/null", containerPath: "/dev/n", permissions: ["read", "mknod"] }],
          tmpfs: [{ containerPath: "/run", size: 64 }, { containerPath: "/cache", size: 16, mountOptions: ["noexec", "mode=1777"] }],
          sharedMemorySize: 128,
          maxSwap: 512,
        },
      }),
    );
    expect(o.HostConfig).toMatchObject({
      Init: true,
      CapAdd: ["NET_ADMIN"],
      CapDrop: ["MKNOD"],
      Devices: [
        { PathOnHost: "/dev/fuse", PathInContainer: "/dev/fuse", CgroupPermissions: "rwm" },
        { PathOnHost: "/dev/null", PathInContainer: "/dev/n", CgroupPermissions: "rm" },
      ],
      Tmpfs: { "/run": "size=64m", "/cache": "size=16m,noexec,mode=1777" },
      ShmSize: 128 * MiB,
      MemorySwap: 768 * MiB,
      MemorySwappiness: 60,
    });
  });
  it("maxSwap 0 disables swap; swappiness only applies with maxSwap and a hard limit", () => {
    expect(build(app({ memory: 100, linuxParameters: { maxSwap: 0, swappiness: 5 } })).HostConfig).toMatchObject({ MemorySwap: 100 * MiB, MemorySwappiness: 5 });
    expect(build(app({ memory: 100, linuxParameters: { swappiness: 5 } })).HostConfig).not.toHaveProperty("MemorySwappiness");
    expect(build(app({ linuxParameters: { maxSwap: 10 } })).HostConfig).not.toHaveProperty("MemorySwap");
  });
});

describe("health check", () => {
  it("fills the ECS defaults (timeout 5, not Docker's 30) in nanoseconds", () => {
    expect(build(app({ healthCheck: { command: ["CMD-SHELL", "curl -f localhost || exit 1"] } })).Healthcheck).toEqual({
      Test: ["CMD-SHELL", "curl -f localhost || exit 1"],
      Interval: 30e9,
      Timeout: 5e9,
      Retries: 3,
      StartPeriod: 0,
    });
  });
  it("passes explicit values", () => {
    expect(build(app({ healthCheck: { command: ["CMD", "true"], interval: 5, timeout: 2, retries: 10, startPeriod: 60 } })).Healthcheck).toEqual({
      Test: ["CMD", "true"],
      Interval: 5e9,
      Timeout: 2e9,
      Retries: 10,
      StartPeriod: 60e9,
    });
  });
  it.each([
    [["CMD-SHELL", "x"], ["CMD-SHELL", "x"]],
    [["CMD", "x", "y"], ["CMD", "x", "y"]],
    [["x", "y"], ["CMD", "x", "y"]],
  ])("test %j → %j", (command, test) => {
    expect(healthCheckTest(command)).toEqual(test);
  });
});

describe("logging and stop timeout", () => {
  it.each([
    [{ logDriver: "awslogs", options: { "awslogs-group": "g", "awslogs-region": "us-east-1" } }, { Type: "json-file", Config: {} }],
    [{ logDriver: "awsfirelens", options: { Name: "cloudwatch" } }, { Type: "json-file", Config: {} }],
    [{ logDriver: "json-file", options: { "max-size": "10m" } }, { Type: "json-file", Config: { "max-size": "10m" } }],
    [{ logDriver: "syslog", secretOptions: [{ name: "x", valueFrom: "y" }] }, { Type: "syslog", Config: {} }],
    [{ logDriver: "fluentd", options: { "fluentd-address": "localhost:24224" } }, { Type: "fluentd", Config: { "fluentd-address": "localhost:24224" } }],
  ] as const)("logConfiguration %j", (logConfiguration, expected) => {
    expect(build(app({ logConfiguration: logConfiguration as ContainerDefinition["logConfiguration"] & object })).HostConfig?.LogConfig).toEqual(expected);
  });
  it.each([
    [undefined, undefined, 30],
    [45, undefined, 45],
    [0, undefined, 30],
    [undefined, 10, 10],
  ])("stopTimeout %s (agent default %s) → %s", (stopTimeout, defaultStopTimeout, expected) => {
    const o = build(app(stopTimeout === undefined ? {} : { stopTimeout }), defaultStopTimeout === undefined ? {} : { defaultStopTimeout });
    expect(o.StopTimeout).toBe(expected);
  });
});

describe("taskVolumePlan", () => {
  const td: TaskDefinition = {
    family: "web",
    revision: 7,
    volumes: [
      { name: "hostpath", host: { sourcePath: "/srv/x" } },
      { name: "emptyhost", host: {} },
      { name: "bare" },
      { name: "taskvol", dockerVolumeConfiguration: { scope: "task", driver: "local", driverOpts: { type: "tmpfs", device: "tmpfs" }, labels: { a: "b" } } },
      { name: "shared", dockerVolumeConfiguration: { scope: "shared", autoprovision: true, driverOpts: { o: "1" }, labels: { c: "d" } } },
      { name: "mustexist", dockerVolumeConfiguration: { scope: "shared" } },
      { name: "efs", efsVolumeConfiguration: { fileSystemId: "fs-1" } },
      { name: "efs2", efsVolumeConfiguration: { fileSystemId: "fs-1", rootDirectory: "/sub" } },
    ],
  };
  it("plans binds, task-scoped and shared volumes", () => {
    const plan = taskVolumePlan(td, "web", 7, "f".repeat(20), { "local-ecs-api.task": "t1" });
    const task = (n: string) => `ecs-web-7-${n}-${"f".repeat(20)}`;
    expect(plan.volumes).toEqual({
      hostpath: { type: "bind", source: "/srv/x" },
      emptyhost: { type: "volume", source: task("emptyhost") },
      bare: { type: "volume", source: task("bare") },
      taskvol: { type: "volume", source: task("taskvol") },
      shared: { type: "volume", source: "shared" },
      mustexist: { type: "volume", source: "mustexist" },
      efs: { type: "volume", source: "ecs-local-efs-fs-1" },
      efs2: { type: "volume", source: "ecs-local-efs-fs-1" },
    });
    const extra = { "local-ecs-api.task": "t1" };
    expect(plan.toEnsure).toEqual([
      { taskVolumeName: "emptyhost", name: task("emptyhost"), scope: "task", ensure: "create", driver: "local", driverOpts: {}, labels: extra },
      { taskVolumeName: "bare", name: task("bare"), scope: "task", ensure: "create", driver: "local", driverOpts: {}, labels: extra },
      { taskVolumeName: "taskvol", name: task("taskvol"), scope: "task", ensure: "create", driver: "local", driverOpts: { type: "tmpfs", device: "tmpfs" }, labels: { a: "b", ...extra } },
      { taskVolumeName: "shared", name: "shared", scope: "shared", ensure: "create-if-missing", driver: "local", driverOpts: { o: "1" }, labels: { c: "d" } },
      { taskVolumeName: "mustexist", name: "mustexist", scope: "shared", ensure: "must-exist", driver: "local", driverOpts: {}, labels: {} },
      { taskVolumeName: "efs", name: "ecs-local-efs-fs-1", scope: "shared", ensure: "create-if-missing", driver: "local", driverOpts: {}, labels: extra },
    ]);
  });
  it("draws a random suffix per volume when none is given", () => {
    const plan = taskVolumePlan({ volumes: [{ name: "a" }, { name: "b" }] }, "f", 1);
    expect(plan.volumes.a?.source).toMatch(/^ecs-f-1-a-[0-9a-f]{20}$/);
    expect(plan.volumes.b?.source).toMatch(/^ecs-f-1-b-[0-9a-f]{20}$/);
  });
});

// Docker validates option conflicts (ports on container: networks, hostname with awsvpc, links…) only
// when it creates and starts a container, so the mapping is checked against the real daemon too.
const dockerAvailable = existsSync("/var/run/docker.sock");
describe.skipIf(!dockerAvailable)("against the Docker engine", () => {
  const docker = new Docker();
  const prefix = `dm-test-${randomBytes(4).toString("hex")}`;
  const image = "local-ecs-api-test/busybox:latest";
  const created: string[] = [];
  const networks: string[] = [];

  afterAll(async () => {
    for (const id of created.reverse()) await docker.getContainer(id).remove({ force: true, v: true }).catch(() => undefined);
    for (const n of networks) await docker.getNetwork(n).remove().catch(() => undefined);
  });

  async function run(options: ReturnType<typeof buildContainerCreateOptions>): Promise<Docker.ContainerInspectInfo> {
    const container = await docker.createContainer(options);
    created.push(container.id);
    await container.start();
    return container.inspect();
  }

  const sleeper = (name: string, more: Partial<ContainerDefinition> = {}): ContainerDefinition => ({
    name,
    image,
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 30 & wait"],
    ...more,
  });

  it("bridge: a task network, links, ports, mounts, health check and linuxParameters are accepted and take effect", async () => {
    const net = `${prefix}-net`;
    await docker.createNetwork({ Name: net, Driver: "bridge" });
    networks.push(net);
    const siblings = { db: `${prefix}-db`, app: `${prefix}-app` };
    const base = { family: "dm", revision: 1, taskNetwork: net, siblings, volumes: { tmp: { type: "bind" as const, source: "/tmp" } } };
    await run(buildContainerCreateOptions(input(sleeper("db"), { ...base, dockerName: siblings.db })));
    const info = await run(
      buildContainerCreateOptions(
        input(
          sleeper("app", {
            links: ["db:database"],
            portMappings: [{ containerPort: 8080 }],
            mountPoints: [{ sourceVolume: "tmp", containerPath: "/hosttmp", readOnly: true }],
            healthCheck: { command: ["CMD-SHELL", "true"], interval: 5 },
            memory: 64,
            linuxParameters: { initProcessEnabled: true, tmpfs: [{ containerPath: "/scratch", size: 8 }], sharedMemorySize: 16 },
            ulimits: [{ name: "nofile", softLimit: 512, hardLimit: 1024 }],
          }),
          { ...base, dockerName: siblings.app, extraEnv: { ECS_AGENT_URI: "http://169.254.170.2/api/x" } },
        ),
      ),
    );
    expect(info.State.Running).toBe(true);
    expect(info.Config.Healthcheck).toMatchObject({ Test: ["CMD-SHELL", "true"], Interval: 5e9, Timeout: 5e9, Retries: 3 });
    expect(info.HostConfig.Memory).toBe(64 * MiB);
    expect(info.HostConfig.Init).toBe(true);
    expect(info.Config.Env).toContain("ECS_AGENT_URI=http://169.254.170.2/api/x");
    expect(info.Config.Labels?.["com.amazonaws.ecs.container-name"]).toBe("app");
    expect(info.NetworkSettings.Networks[net]?.Aliases).toContain("app");
    // The link alias resolves on the user-defined network (it is the endpoint's Links that does it).
    const exec = await docker.getContainer(info.Id).exec({ Cmd: ["sh", "-c", "ping -c1 -W2 database >/dev/null && echo ok"], AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({});
    const output = await new Promise<string>((resolve, reject) => {
      let text = "";
      stream.on("data", (chunk: Buffer) => (text += chunk.toString("latin1")));
      stream.on("end", () => resolve(text));
      stream.on("error", reject);
    });
    expect(output).toContain("ok");
    const ports = info.NetworkSettings.Ports["8080/tcp"];
    expect(ports?.[0]?.HostPort).toMatch(/^\d+$/);
  });

  it("awsvpc: the network container carries the ports, the task container joins it", async () => {
    const defs = [sleeper("web", { portMappings: [{ containerPort: 8080 }], hostname: "ignored", dnsServers: ["1.1.1.1"] })];
    const pause = await docker.createContainer({
      name: `${prefix}-pause`,
      Image: image,
      Cmd: ["sh", "-c", "trap 'exit 0' TERM; sleep 30 & wait"],
      ...portBindingsFor(defs),
      HostConfig: { PortBindings: portBindingsFor(defs).PortBindings },
    });
    created.push(pause.id);
    await pause.start();
    const info = await run(
      buildContainerCreateOptions(input(defs[0] as ContainerDefinition, { networkMode: "awsvpc", networkContainerId: pause.id, dockerName: `${prefix}-web`, siblings: {}, extraHosts: ["x:1.2.3.4"] })),
    );
    expect(info.State.Running).toBe(true);
    expect(info.HostConfig.NetworkMode).toBe(`container:${pause.id}`);
  });

  it("host and none modes are accepted", async () => {
    for (const networkMode of ["host", "none"] as const) {
      const info = await run(
        buildContainerCreateOptions(input(sleeper(`m${networkMode}`, { hostname: "h", portMappings: networkMode === "host" ? [{ containerPort: 18080, hostPort: 18080 }] : [] }), { networkMode, dockerName: `${prefix}-${networkMode}`, siblings: {} })),
      );
      expect(info.State.Running).toBe(true);
      expect(info.HostConfig.NetworkMode).toBe(networkMode);
    }
  });
});
