import { describe, expect, it } from "vitest";
import { buildContainerResponse, buildStatsResponse, buildTaskResponse, rfc3339Nano, taskKnownStatus } from "../../../src/runtime/agent/metadata.ts";
import { awslogsStreamName, awslogsTarget } from "../../../src/runtime/agent/awslogs-options.ts";
import { curlContainer, snapshot, TASK_ARN } from "./fixtures.ts";

describe("TMDS v4 container response", () => {
  it("matches the documented example field for field", () => {
    const snap = snapshot();
    const body = buildContainerResponse(snap, snap.containers[0]!, "v4");
    expect(body).toEqual({
      DockerId: "ea32192c8553fbff06c9340478a2ff089b2bb5646fb718b4ee206641c9086d66",
      Name: "curl",
      DockerName: "ecs-curltest-24-curl-cca48e8dcadd97805600",
      Image: "111122223333.dkr.ecr.us-west-2.amazonaws.com/curltest:latest",
      ImageID: "sha256:d691691e9652791a60114e67b365688d20d19940dde7c4736ea30e660d8d3553",
      Ports: [{ ContainerPort: 80, Protocol: "tcp", HostPort: 49153, HostIp: "0.0.0.0" }],
      Labels: snap.containers[0]!.labels,
      DesiredStatus: "RUNNING",
      KnownStatus: "RUNNING",
      Limits: { CPU: 10, Memory: 128 },
      CreatedAt: "2020-10-02T00:15:07.620912337Z",
      StartedAt: "2020-10-02T00:15:08.062Z",
      Type: "NORMAL",
      Networks: [{ NetworkMode: "bridge", IPv4Addresses: ["172.17.0.2"] }],
      LogDriver: "awslogs",
      LogOptions: {
        "awslogs-create-group": "true",
        "awslogs-group": "/ecs/metadata",
        "awslogs-region": "us-west-2",
        "awslogs-stream": "ecs/curl/8f03e41243824aea923aca126495f665",
      },
      ContainerARN: "arn:aws:ecs:us-west-2:111122223333:container/0206b271-b33f-47ab-86c6-a0ba208a70a9",
    });
    // Field order follows the agent's struct order.
    expect(Object.keys(body).slice(0, 5)).toEqual(["DockerId", "Name", "DockerName", "Image", "ImageID"]);
  });

  it("reports internal statuses, exit codes, CPU of at least 2 and health without an UNKNOWN status", () => {
    const snap = snapshot();
    const stopped = curlContainer({
      knownStatus: "STOPPED",
      desiredStatus: "STOPPED",
      exitCode: 137,
      finishedAt: new Date("2020-10-02T00:20:00.000Z"),
      limits: { cpu: 0, memory: 0 },
      health: { status: "UNKNOWN" },
    });
    const body = buildContainerResponse(snap, stopped, "v4");
    expect(body["KnownStatus"]).toBe("STOPPED");
    expect(body["ExitCode"]).toBe(137);
    expect(body["FinishedAt"]).toBe("2020-10-02T00:20:00Z");
    expect(body["Limits"]).toEqual({ CPU: 2, Memory: 0 });
    expect(body["Health"]).toEqual({});
    const unhealthy = buildContainerResponse(snap, curlContainer({ health: { status: "UNHEALTHY", since: new Date("2020-10-02T00:16:00.5Z"), exitCode: 1, output: "boom" } }), "v4");
    expect(unhealthy["Health"]).toEqual({ status: "UNHEALTHY", statusSince: "2020-10-02T00:16:00.5Z", exitCode: 1, output: "boom" });
    const pulled = buildContainerResponse(snap, curlContainer({ knownStatus: "PULLED" }), "v4");
    expect(pulled["KnownStatus"]).toBe("PULLED");
  });

  it("keeps non-awslogs options untouched and omits the stream without a prefix", () => {
    const snap = snapshot();
    const jsonFile = buildContainerResponse(snap, curlContainer({ logDriver: "json-file", logOptions: { "max-size": "10m" } }), "v4");
    expect(jsonFile["LogOptions"]).toEqual({ "max-size": "10m" });
    const noPrefix = buildContainerResponse(snap, curlContainer({ logOptions: { "awslogs-group": "g", "awslogs-region": "r" } }), "v4");
    expect(noPrefix["LogOptions"]).toEqual({ "awslogs-group": "g", "awslogs-region": "r" });
  });
});

describe("TMDS v3 differences", () => {
  it("drops LogDriver, LogOptions, ContainerARN and the extra network fields", () => {
    const snap = snapshot();
    const c = curlContainer({ networks: [{ networkMode: "bridge", ipv4Addresses: ["172.17.0.2"], ipv6Addresses: ["fd00::2"] }] });
    const v3 = buildContainerResponse(snap, c, "v3");
    expect(v3).not.toHaveProperty("LogDriver");
    expect(v3).not.toHaveProperty("LogOptions");
    expect(v3).not.toHaveProperty("ContainerARN");
    expect(v3["Networks"]).toEqual([{ NetworkMode: "bridge", IPv4Addresses: ["172.17.0.2"] }]);
    const v4 = buildContainerResponse(snap, c, "v4");
    expect(v4["Networks"]).toEqual([{ NetworkMode: "bridge", IPv4Addresses: ["172.17.0.2"], IPv6Addresses: ["fd00::2"] }]);
    const task3 = buildTaskResponse(snap, "v3");
    expect(task3).not.toHaveProperty("LaunchType");
    expect(task3).not.toHaveProperty("ServiceName");
    expect(task3).not.toHaveProperty("FaultInjectionEnabled");
  });
});

describe("TMDS task response", () => {
  it("has the agent's task fields, vCPU limits and FaultInjectionEnabled", () => {
    const body = buildTaskResponse(snapshot(), "v4");
    expect(body).toMatchObject({
      Cluster: "default",
      TaskARN: TASK_ARN,
      Family: "curltest",
      Revision: "24",
      DesiredStatus: "RUNNING",
      KnownStatus: "RUNNING",
      Limits: { CPU: 0.25, Memory: 512 },
      PullStartedAt: "2020-10-02T00:43:06.202Z",
      PullStoppedAt: "2020-10-02T00:43:06.31Z",
      AvailabilityZone: "us-west-2d",
      LaunchType: "EC2",
      ServiceName: "MyService",
      FaultInjectionEnabled: false,
    });
    expect((body["Containers"] as unknown[]).length).toBe(1);
    expect(body).not.toHaveProperty("TaskTags");
  });

  it("adds tags for taskWithTags", () => {
    const body = buildTaskResponse(snapshot(), "v4", true);
    expect(body["TaskTags"]).toEqual({ team: "blue" });
    expect(body["ContainerInstanceTags"]).toEqual({});
  });

  it("reports the cluster ARN and hides pause containers on Fargate", () => {
    const snap = snapshot({ containers: [curlContainer(), curlContainer({ name: "~internal~ecs~pause", type: "CNI_PAUSE", knownStatus: "RESOURCES_PROVISIONED" })] });
    snap.task.launchType = "FARGATE";
    const body = buildTaskResponse(snap, "v4", true);
    expect(body["Cluster"]).toBe("arn:aws:ecs:us-west-2:111122223333:cluster/default");
    expect((body["Containers"] as Array<{ Name: string }>).map((c) => c.Name)).toEqual(["curl"]);
    expect(body).not.toHaveProperty("ContainerInstanceTags");
    expect(body).not.toHaveProperty("ServiceName");
  });

  it("derives the task known status as the minimum over containers", () => {
    expect(taskKnownStatus(snapshot({ containers: [curlContainer(), curlContainer({ knownStatus: "CREATED" })] }))).toBe("CREATED");
    expect(taskKnownStatus(snapshot({ containers: [curlContainer({ knownStatus: "RESOURCES_PROVISIONED" })] }))).toBe("RUNNING");
    expect(taskKnownStatus(snapshot({ containers: [] }))).toBe("NONE");
  });
});

describe("stats and helpers", () => {
  it("adds network_rate_stats only for v4", () => {
    const raw = { read: "2024-01-01T00:00:00Z", networks: {} };
    expect(buildStatsResponse(raw, "v3", { rxBytesPerSec: 1, txBytesPerSec: 2 })).toEqual(raw);
    expect(buildStatsResponse(raw, "v4", { rxBytesPerSec: 1, txBytesPerSec: 2 })).toEqual({ ...raw, network_rate_stats: { rx_bytes_per_sec: 1, tx_bytes_per_sec: 2 } });
    expect(buildStatsResponse(null, "v4", undefined)).toBeNull();
  });

  it("formats RFC3339Nano like Go", () => {
    expect(rfc3339Nano(new Date("2020-10-02T00:43:06.000Z"))).toBe("2020-10-02T00:43:06Z");
    expect(rfc3339Nano(new Date("2020-10-02T00:43:06.310Z"))).toBe("2020-10-02T00:43:06.31Z");
    expect(rfc3339Nano("2020-10-02T00:43:06.312884650Z")).toBe("2020-10-02T00:43:06.31288465Z");
    expect(rfc3339Nano("2020-10-02T02:43:06.5+02:00")).toBe("2020-10-02T00:43:06.5Z");
  });

  it("names awslogs streams like the ECS backend", () => {
    expect(awslogsStreamName({ "awslogs-stream-prefix": "ecs" }, "web", TASK_ARN, "abc")).toBe("ecs/web/8f03e41243824aea923aca126495f665");
    expect(awslogsStreamName({}, "web", TASK_ARN, "abc123")).toBe("abc123");
    expect(awslogsTarget({ "awslogs-group": "g", "awslogs-create-group": "true" }, "web", TASK_ARN, "d")).toEqual({ group: "g", stream: "d", region: undefined, createGroup: true });
    expect(() => awslogsTarget({}, "web", TASK_ARN, "d")).toThrow(/awslogs-group/);
  });
});
