import { describe, expect, it } from "vitest";
import type { Cluster, Failure, TaskDefinition } from "../../../generated/shapes.ts";
import { InvalidParameterException } from "../../../generated/errors.ts";
import {
  fixedHostPorts,
  instancePlacement,
  singleInstancePlacement,
  type InstancePlacer,
  type ServiceLaunch,
  type ServicePlacementRequest,
} from "../../../src/runtime/services/service-placement.ts";

const td = (networkMode: TaskDefinition["networkMode"], portMappings: Array<{ containerPort?: number; hostPort?: number; protocol?: "tcp" | "udp"; containerPortRange?: string }>): TaskDefinition => ({
  networkMode,
  containerDefinitions: [{ name: "app", image: "busybox", portMappings }],
});
const CLUSTER: Cluster = { clusterArn: "arn:aws:ecs:us-east-1:123456789012:cluster/c", clusterName: "c" };
const INSTANCE = "arn:aws:ecs:us-east-1:123456789012:container-instance/c/0123456789abcdef0123456789abcdef";
const request = (taskDefinition: TaskDefinition, count: number, occupying: TaskDefinition[] = []): ServicePlacementRequest => ({
  region: "us-east-1",
  cluster: CLUSTER,
  serviceName: "web",
  group: "service:web",
  taskDefinition,
  count,
  occupying: () => occupying,
});

describe("service placement", () => {
  it.each([
    ["bridge, dynamic host port", td("bridge", [{ containerPort: 80, hostPort: 0 }]), []],
    ["bridge, no host port", td("bridge", [{ containerPort: 80 }]), []],
    ["bridge, fixed host port", td("bridge", [{ containerPort: 80, hostPort: 8080 }]), [{ port: 8080, protocol: "tcp" }]],
    ["host mode", td("host", [{ containerPort: 53, protocol: "udp" }]), [{ port: 53, protocol: "udp" }]],
    ["awsvpc (published on the host as given)", td("awsvpc", [{ containerPort: 80, hostPort: 80 }]), [{ port: 80, protocol: "tcp" }]],
    ["none", td("none", [{ containerPort: 80, hostPort: 80 }]), []],
    ["a port range", td("bridge", [{ containerPortRange: "9000-9010" }]), []],
  ])("fixed host ports: %s", (_, def, ports) => {
    expect(fixedHostPorts(def)).toEqual(ports);
  });

  describe("one local instance (no container instance registry)", () => {
    const placement = singleInstancePlacement(() => "0123456789abcdef0123456789abcdef");
    const fixed = td("bridge", [{ containerPort: 80, hostPort: 8080 }]);

    it("places one task with a fixed host port when the port is free, none when it is taken", () => {
      expect(placement.plan(request(fixed, 3)).launches).toHaveLength(1);
      const taken = placement.plan(request(fixed, 1, [fixed]));
      expect(taken.launches).toEqual([]);
      expect(taken.reason).toBe("RESOURCE:PORTS");
      expect(taken.problem).toContain("The closest matching (container-instance 0123456789abcdef0123456789abcdef) is already using a port required by your task.");
    });

    it("never limits a task without fixed host ports, and does not even look at the cluster", () => {
      const dynamic = td("bridge", [{ containerPort: 80 }]);
      const plan = placement.plan({ ...request(dynamic, 5), occupying: () => { throw new Error("not needed"); } });
      expect(plan).toEqual({ launches: [{}, {}, {}, {}, {}] });
      expect(placement.instanceCount("us-east-1", CLUSTER)).toBe(1);
    });
  });

  describe("on the container instances (RunTask's placement step)", () => {
    const placer = (launches: ServiceLaunch[], failures: Failure[] = []): InstancePlacer => ({ plan: () => ({ launches, failures }) });
    const onInstance = { launchType: "EC2" as const, containerInstanceArn: INSTANCE, availabilityZone: "us-east-1a" };

    it("passes the placer's launches on (instance, launch type, zone)", () => {
      const p = instancePlacement(placer([onInstance, onInstance]), () => 2);
      expect(p.plan(request(td("bridge", []), 2))).toEqual({ launches: [onInstance, onInstance] });
      expect(p.instanceCount("us-east-1", CLUSTER)).toBe(2);
    });

    it.each([
      ["RESOURCE:MEMORY", "has insufficient memory available."],
      ["RESOURCE:CPU", "has insufficient CPU units available."],
      ["RESOURCE:PORTS", "is already using a port required by your task."],
      ["AGENT", 'encountered error "AGENT".'],
      ["ATTRIBUTE", "is missing an attribute required by your task."],
    ])("words a %s failure as ECS does", (reason, words) => {
      const p = instancePlacement(placer([], [{ arn: INSTANCE, reason }]), () => 1);
      const plan = p.plan(request(td("bridge", []), 1));
      expect(plan.launches).toEqual([]);
      expect(plan.reason).toBe(reason);
      expect(plan.problem).toBe(
        `(service web) was unable to place a task because no container instance met all of its requirements. The closest matching (container-instance 0123456789abcdef0123456789abcdef) ${words} For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.`,
      );
    });

    it("a cluster without container instances", () => {
      const throwing: InstancePlacer = { plan: () => { throw new InvalidParameterException("No Container Instances were found in your cluster."); } };
      expect(instancePlacement(throwing, () => 0).plan(request(td("bridge", []), 1))).toEqual({
        launches: [],
        problem:
          "(service web) was unable to place a task because no container instance met all of its requirements. Reason: No Container Instances were found in your cluster. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.",
      });
    });

    it("awsvpc tasks with a fixed port: the host's published ports limit them too", () => {
      const vpc = td("awsvpc", [{ containerPort: 80, hostPort: 80 }]);
      const p = instancePlacement(placer([onInstance, onInstance]), () => 1);
      expect(p.plan(request(vpc, 2)).launches).toHaveLength(1);
      const taken = p.plan(request(vpc, 1, [vpc]));
      expect(taken.launches).toEqual([]);
      expect(taken.problem).toContain("is already using a port required by your task.");
    });
  });
});
