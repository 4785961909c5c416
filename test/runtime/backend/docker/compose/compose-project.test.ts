import { describe, expect, it } from "vitest";
import { deserializeTaskDefinition } from "../../../../../generated/serde.ts";
import type { ContainerDefinition, TaskDefinition } from "../../../../../generated/shapes.ts";
import { escapeDollars, secretVariable, taskToComposeProject } from "../../../../../src/runtime/backend/docker/compose/compose-project.ts";
import type { ComposeProjectInput, ComposeService } from "../../../../../src/runtime/backend/docker/compose/compose-project.ts";
import { richTaskDefinitionJson } from "./fixtures.ts";

const TASK_ARN = "arn:aws:ecs:us-east-1:123456789012:task/default/0123456789abcdef0123456789abcdef";

function rich(mode: "bridge" | "awsvpc" | "host" | "none"): TaskDefinition {
  return deserializeTaskDefinition(richTaskDefinitionJson(mode), "taskDefinition");
}

function project(td: TaskDefinition, extra: Partial<ComposeProjectInput> = {}) {
  return taskToComposeProject({ taskDefinition: td, externalNetworks: [], taskArn: TASK_ARN, clusterName: "default", ...extra });
}

function service(p: ReturnType<typeof project>, name: string): ComposeService {
  const s = p.services[name];
  if (s === undefined) throw new Error(`no service ${name}`);
  return s;
}

const one = (def: Partial<ContainerDefinition>, td: Partial<TaskDefinition> = {}): TaskDefinition => ({
  family: "fam",
  revision: 2,
  containerDefinitions: [{ name: "app", image: "img", ...def }],
  ...td,
});

describe("taskToComposeProject: bridge", () => {
  const p = project(rich("bridge"), { externalNetworks: ["ext-a"] });
  const web = service(p, "web-app");

  it("has one service per container, named after it, in order", () => {
    expect(Object.keys(p.services)).toEqual(["init-db", "web-app", "sidecar"]);
  });

  it("maps the container basics", () => {
    expect(web).toMatchObject({
      image: "local-ecs-api-test/busybox:latest",
      entrypoint: ["sh", "-c"],
      command: ["httpd -f -p 8080"],
      working_dir: "/tmp",
      user: "1000:1000",
      hostname: "web",
      dns: ["10.0.0.2"],
      dns_search: ["example.internal"],
      extra_hosts: ["db.local:10.0.0.5"],
      links: ["sidecar:side"],
      stdin_open: true,
      tty: true,
      privileged: false,
      read_only: true,
      security_opt: ["no-new-privileges"],
      sysctls: { "net.core.somaxconn": "1024" },
      cpu_shares: 256,
      mem_limit: "128m",
      mem_reservation: "64m",
      stop_grace_period: "45s",
      pid: "host",
      ipc: "none",
    });
    expect(service(p, "sidecar").stop_grace_period).toBe("30s");
  });

  it("maps ports in long syntax, hostPort 0/absent → target only, ranges in short syntax", () => {
    expect(web.ports).toEqual([
      { target: 8080, protocol: "tcp" },
      { target: 5353, protocol: "udp" },
      "9000-9002/tcp",
    ]);
    expect(project(one({ portMappings: [{ containerPort: 80, hostPort: 8081 }] })).services.app?.ports).toEqual([{ target: 80, published: 8081, protocol: "tcp" }]);
  });

  it("joins the per-task network and the external networks", () => {
    expect(web.networks).toEqual(["task", "ext-a"]);
    expect(p.networks).toEqual({
      task: { driver: "bridge", labels: { "com.amazonaws.ecs.task-arn": TASK_ARN } },
      "ext-a": { external: true, name: "ext-a" },
    });
    expect(project(one({}), { taskNetworkName: "my-net" }).networks?.task?.name).toBe("my-net");
  });

  it("maps dependsOn to depends_on conditions", () => {
    expect(web.depends_on).toEqual({
      "init-db": { condition: "service_completed_successfully" },
      sidecar: { condition: "service_healthy" },
    });
    // COMPLETE has no exact compose equivalent: the closest that keeps the ordering.
    expect(service(p, "sidecar").depends_on).toEqual({ "init-db": { condition: "service_completed_successfully" } });
    expect(project(one({ dependsOn: [{ containerName: "x", condition: "START" }] })).services.app?.depends_on).toEqual({ x: { condition: "service_started" } });
  });

  it("maps health checks with ECS defaults as durations", () => {
    expect(web.healthcheck).toEqual({
      test: ["CMD-SHELL", "wget -q -O- http://localhost:8080/ || exit 1"],
      interval: "10s",
      timeout: "5s",
      retries: 3,
      start_period: "5s",
    });
    expect(service(p, "sidecar").healthcheck).toEqual({ test: ["CMD", "true"], interval: "30s", timeout: "5s", retries: 3 });
  });

  it("labels: dockerLabels, then the agent labels, then where each secret comes from", () => {
    expect(web.labels).toEqual({
      team: "payments",
      "com.amazonaws.ecs.cluster": "default",
      "com.amazonaws.ecs.task-arn": TASK_ARN,
      "com.amazonaws.ecs.container-name": "web-app",
      "com.amazonaws.ecs.task-definition-family": "rich-bridge",
      "com.amazonaws.ecs.task-definition-version": "3",
      "ecs-local.secret.DB_PASSWORD": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf:password::",
      "ecs-local.secret.API_TOKEN": "/app/api-token",
    });
    const bare = taskToComposeProject({ taskDefinition: { containerDefinitions: [{ name: "a", image: "i" }] }, externalNetworks: [] });
    expect(bare.services.a?.labels).toEqual({ "com.amazonaws.ecs.container-name": "a" });
  });

  it("logging: awslogs runs as json-file locally, other drivers pass through", () => {
    expect(web.logging).toEqual({ driver: "json-file" });
    expect(service(p, "sidecar").logging).toEqual({ driver: "json-file", options: { "max-size": "10m" } });
    expect(project(one({ logConfiguration: { logDriver: "syslog", options: { tag: "x" } } })).services.app?.logging).toEqual({ driver: "syslog", options: { tag: "x" } });
  });

  it("maps ulimits and linuxParameters", () => {
    expect(web).toMatchObject({
      ulimits: { nofile: { soft: 1024, hard: 4096 } },
      cap_add: ["NET_ADMIN"],
      cap_drop: ["MKNOD"],
      devices: ["/dev/null:/dev/mynull:rw"],
      tmpfs: ["/run/cache:size=32m,noexec,mode=1777"],
      shm_size: "64m",
      init: true,
    });
  });

  it("maps mount points to binds and named volumes, declared at top level", () => {
    expect(web.volumes).toEqual([
      { type: "bind", source: "/tmp/ecs-local-compose-test", target: "/host", read_only: true },
      { type: "volume", source: "scratch", target: "/scratch" },
      { type: "volume", source: "sharedvol", target: "/shared" },
      { type: "volume", source: "existing", target: "/existing", read_only: true },
      { type: "volume", source: "efs", target: "/efs" },
    ]);
    expect(web.volumes_from).toEqual(["init-db:ro"]);
    expect(p.volumes).toEqual({
      scratch: { labels: { "com.amazonaws.ecs.task-arn": TASK_ARN } },
      taskvol: { driver: "local", driver_opts: { type: "tmpfs", device: "tmpfs" }, labels: { a: "b", "com.amazonaws.ecs.task-arn": TASK_ARN } },
      sharedvol: { name: "sharedvol", driver: "local" },
      existing: { name: "existing", external: true },
      efs: { name: "ecs-local-efs-fs-12345678" },
    });
  });

  it("rejects a mount point on an undeclared volume", () => {
    expect(() => project(one({ mountPoints: [{ sourceVolume: "nope", containerPath: "/x" }] }))).toThrow(/unknown volume "nope"/);
  });

  it("pins container_name only when asked", () => {
    expect(web.container_name).toBeUndefined();
    expect(project(one({}), { containerNames: { app: "ecs-fam-2-app-0000" } }).services.app?.container_name).toBe("ecs-fam-2-app-0000");
  });

  it("records the task in an extension field", () => {
    expect(p["x-local-ecs-api"]).toEqual({
      networkMode: "bridge",
      taskArn: TASK_ARN,
      taskDefinitionArn: "arn:aws:ecs:us-east-1:123456789012:task-definition/rich-bridge:3",
      family: "rich-bridge",
    });
  });

  it("refuses a task definition without containers", () => {
    expect(() => project({ family: "x", containerDefinitions: [] })).toThrow("task definition must include at least one container definition");
    expect(() => project({ family: "x" })).toThrow("task definition must include at least one container definition");
  });
});

describe("environment", () => {
  it("merges overrides by name, adds the injected variables, and keeps the task's region", () => {
    const td = one({ environment: [{ name: "A", value: "1" }, { name: "AWS_REGION", value: "eu-west-1" }] });
    const p = project(td, {
      overrides: { containerOverrides: [{ name: "app", environment: [{ name: "A", value: "2" }, { name: "B", value: "3" }], command: ["new"] }] },
      injectedEnv: { AWS_REGION: "us-east-1", AWS_DEFAULT_REGION: "us-east-1", ECS_CONTAINER_METADATA_URI_V4: "http://169.254.170.2/v4/x" },
    });
    expect(p.services.app?.environment).toEqual({ A: "2", AWS_REGION: "eu-west-1", B: "3", ECS_CONTAINER_METADATA_URI_V4: "http://169.254.170.2/v4/x" });
    expect(p.services.app?.command).toEqual(["new"]);
  });

  it("applies cpu/memory overrides", () => {
    const p = project(one({ cpu: 1, memory: 64 }), { overrides: { containerOverrides: [{ name: "app", cpu: 512, memory: 256, memoryReservation: 128 }] } });
    expect(p.services.app).toMatchObject({ cpu_shares: 512, mem_limit: "256m", mem_reservation: "128m" });
  });

  it("escapes dollars in user text so compose does not interpolate it", () => {
    const p = project(rich("bridge"));
    expect(p.services["web-app"]?.environment).toMatchObject({ WITH_DOLLAR: "cost $$5 and $${NOT_A_VAR}" });
    expect(p.services["init-db"]?.command).toEqual(["sh", "-c", "echo $$HOME > /data/ready"]);
    expect(escapeDollars("a$b$$c")).toBe("a$$b$$$$c");
  });
});

describe("secrets", () => {
  it("become ${<CONTAINER>_<NAME>} placeholders, overriding a plain variable of the same name", () => {
    const td = one({
      name: "my-app",
      environment: [{ name: "TOKEN", value: "plain-value" }],
      secrets: [{ name: "TOKEN", valueFrom: "arn:aws:ssm:us-east-1:1:parameter/t" }],
    });
    const p = project(td);
    expect(p.services["my-app"]?.environment).toEqual({ TOKEN: "${MY_APP_TOKEN}" });
    expect(p.services["my-app"]?.labels).toMatchObject({ "ecs-local.secret.TOKEN": "arn:aws:ssm:us-east-1:1:parameter/t" });
  });

  it("never put the secret source or any value into the environment", () => {
    const p = project(rich("bridge"));
    const env = p.services["web-app"]?.environment as Record<string, string>;
    expect(env.DB_PASSWORD).toBe("${WEB_APP_DB_PASSWORD}");
    expect(env.API_TOKEN).toBe("${WEB_APP_API_TOKEN}");
    for (const value of Object.values(env)) expect(value).not.toMatch(/secretsmanager|api-token/);
  });

  it.each([
    ["app", "X", "APP_X"],
    ["web.app-2", "db-pass", "WEB_APP_2_db_pass"],
    ["1st", "K", "_1ST_K"],
  ])("variable for container %s secret %s is %s", (container, name, variable) => {
    expect(secretVariable(container, name)).toBe(variable);
  });
});

describe("network modes", () => {
  it("awsvpc: a pause service holds the namespace, the networks and every port", () => {
    const p = project(rich("awsvpc"), { externalNetworks: ["ext-a"], pauseImage: "pause:local" });
    expect(Object.keys(p.services)).toEqual(["ecs-local-pause", "init-db", "web-app", "sidecar"]);
    expect(p.services["ecs-local-pause"]).toMatchObject({
      image: "pause:local",
      networks: ["task", "ext-a"],
      ports: [
        { target: 8080, published: 8080, protocol: "tcp" },
        { target: 5353, published: 5353, protocol: "udp" },
      ],
    });
    const web = p.services["web-app"] as ComposeService;
    expect(web.network_mode).toBe("service:ecs-local-pause");
    expect(web.depends_on).toMatchObject({ "ecs-local-pause": { condition: "service_started" } });
    for (const key of ["ports", "networks", "hostname", "dns", "dns_search", "extra_hosts", "links"]) expect(web).not.toHaveProperty(key);
  });

  it("awsvpc: the pause service avoids a container's name, and takes the task's pid/ipc namespaces", () => {
    const td = one({ name: "ecs-local-pause" }, { networkMode: "awsvpc", pidMode: "task", ipcMode: "task" });
    const p = project(td);
    expect(p.services["ecs-local-pause-2"]).toMatchObject({ ipc: "shareable" });
    expect(p.services["ecs-local-pause"]).toMatchObject({ network_mode: "service:ecs-local-pause-2", pid: "service:ecs-local-pause-2", ipc: "service:ecs-local-pause-2" });
  });

  it.each(["host", "none"] as const)("%s: network_mode, no networks and no ports", (mode) => {
    const p = project(rich(mode), { externalNetworks: ["ext-a"] });
    const web = p.services["web-app"] as ComposeService;
    expect(web.network_mode).toBe(mode);
    expect(web.ports).toBeUndefined();
    expect(web.networks).toBeUndefined();
    expect(p.networks).toBeUndefined();
  });

  it("the networkMode input overrides the task definition's", () => {
    expect(project(one({}, { networkMode: "bridge" }), { networkMode: "host" }).services.app?.network_mode).toBe("host");
  });
});
