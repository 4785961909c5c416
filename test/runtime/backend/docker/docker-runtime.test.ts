import { describe, expect, it } from "vitest";
import { dockerConnectionOptions } from "../../../../src/runtime/backend/docker/docker-runtime.ts";
import { normalizeInspect, parseEvent } from "../../../../src/runtime/backend/docker/docker-snapshots.ts";

describe("dockerConnectionOptions", () => {
  it("reads DOCKER_HOST", () => {
    expect(dockerConnectionOptions(undefined)).toEqual({ socketPath: "/var/run/docker.sock" });
    expect(dockerConnectionOptions("unix:///run/user/1000/docker.sock")).toEqual({ socketPath: "/run/user/1000/docker.sock" });
    expect(dockerConnectionOptions("tcp://127.0.0.1:2375")).toEqual({ host: "127.0.0.1", port: 2375, protocol: "http" });
  });
});

describe("parseEvent", () => {
  it("turns the string exit code of die into a number and uses `time`", () => {
    const e = parseEvent(
      JSON.stringify({ Type: "container", Action: "die", Actor: { ID: "abc", Attributes: { exitCode: "137", name: "x" } }, time: 1700000000, timeNano: 1700000000123456789 }),
    );
    expect(e).toMatchObject({ action: "die", id: "abc", exitCode: 137, time: new Date(1700000000 * 1000) });
  });

  it("splits health_status actions", () => {
    expect(parseEvent(JSON.stringify({ Type: "container", Action: "health_status: unhealthy", Actor: { ID: "abc", Attributes: {} }, time: 1 }))).toMatchObject({
      action: "health_status",
      health: "unhealthy",
    });
  });

  it("ignores garbage", () => {
    expect(parseEvent("{not json")).toBeUndefined();
    expect(parseEvent("{}")).toBeUndefined();
  });
});

describe("normalizeInspect", () => {
  it("dedupes 0.0.0.0/:: bindings and drops zero dates", () => {
    const snap = normalizeInspect({
      Id: "id1",
      Name: "/ecs-x",
      Image: "sha256:1",
      Config: { Image: "img", Labels: { a: "b" } },
      State: { Status: "running", Running: true, ExitCode: 0, StartedAt: "2024-01-01T00:00:00.5Z", FinishedAt: "0001-01-01T00:00:00Z", OOMKilled: false, Error: "", Health: { Status: "starting" } },
      NetworkSettings: {
        Ports: { "80/tcp": [{ HostIp: "0.0.0.0", HostPort: "49160" }, { HostIp: "::", HostPort: "49160" }], "53/udp": null },
        Networks: { "ecs-task-1": { IPAddress: "172.20.0.2", NetworkID: "n1" } },
      },
    } as never);
    expect(snap).toMatchObject({
      id: "id1",
      name: "ecs-x",
      state: { running: true, startedAt: new Date("2024-01-01T00:00:00.5Z"), finishedAt: undefined, health: "starting" },
      networks: { "ecs-task-1": { ipAddress: "172.20.0.2", networkId: "n1" } },
      ports: [{ containerPort: 80, protocol: "tcp", hostIp: "0.0.0.0", hostPort: 49160 }],
    });
  });

  it("reports the IPv4 binding when Docker gave the IPv6 one another host port; an IPv6-only binding as 0.0.0.0", () => {
    const inspect = (ports: Record<string, Array<{ HostIp: string; HostPort: string }>>) =>
      normalizeInspect({
        Id: "id2",
        Name: "/ecs-y",
        Image: "sha256:2",
        Config: { Image: "img", Labels: {} },
        State: { Status: "running", Running: true, ExitCode: 0, StartedAt: "2024-01-01T00:00:00Z", FinishedAt: "0001-01-01T00:00:00Z", OOMKilled: false, Error: "" },
        NetworkSettings: { Ports: ports, Networks: {} },
      } as never).ports;
    expect(inspect({ "8080/tcp": [{ HostIp: "0.0.0.0", HostPort: "32882" }, { HostIp: "::", HostPort: "32881" }] })).toEqual([
      { containerPort: 8080, protocol: "tcp", hostIp: "0.0.0.0", hostPort: 32882 },
    ]);
    expect(inspect({ "8080/tcp": [{ HostIp: "::", HostPort: "32881" }] })).toEqual([{ containerPort: 8080, protocol: "tcp", hostIp: "0.0.0.0", hostPort: 32881 }]);
  });
});
