import { describe, expect, it } from "vitest";
import type { TaskDefinition } from "../../../generated/shapes.ts";
import { fixedHostPorts, singleInstancePlacement } from "../../../src/runtime/services/service-placement.ts";

const td = (networkMode: TaskDefinition["networkMode"], portMappings: Array<{ containerPort?: number; hostPort?: number; protocol?: "tcp" | "udp"; containerPortRange?: string }>): TaskDefinition => ({
  networkMode,
  containerDefinitions: [{ name: "app", image: "busybox", portMappings }],
});

describe("placement on the single local instance", () => {
  it.each([
    ["bridge, dynamic host port", td("bridge", [{ containerPort: 80, hostPort: 0 }]), []],
    ["bridge, no host port", td("bridge", [{ containerPort: 80 }]), []],
    ["bridge, fixed host port", td("bridge", [{ containerPort: 80, hostPort: 8080 }]), [{ port: 8080, protocol: "tcp" }]],
    ["host mode", td("host", [{ containerPort: 53, protocol: "udp" }]), [{ port: 53, protocol: "udp" }]],
    ["awsvpc (published as given)", td("awsvpc", [{ containerPort: 80, hostPort: 80 }]), [{ port: 80, protocol: "tcp" }]],
    ["none", td("none", [{ containerPort: 80, hostPort: 80 }]), []],
    ["a port range", td("bridge", [{ containerPortRange: "9000-9010" }]), []],
  ])("%s", (_, def, ports) => {
    expect(fixedHostPorts(def)).toEqual(ports);
  });

  const placement = singleInstancePlacement(() => "0123456789abcdef0123456789abcdef");
  const fixed = td("bridge", [{ containerPort: 80, hostPort: 8080 }]);

  it("places one task with a fixed host port when the port is free, none when it is taken", () => {
    expect(placement.capacity({ clusterArn: "c", serviceName: "web", taskDefinition: fixed, occupying: () => [] }).placeable).toBe(1);
    const taken = placement.capacity({ clusterArn: "c", serviceName: "web", taskDefinition: fixed, occupying: () => [fixed] });
    expect(taken.placeable).toBe(0);
    expect(taken.problem).toContain("The closest matching (container-instance 0123456789abcdef0123456789abcdef) is already using a port required by your task.");
  });

  it("never limits a task without fixed host ports (and does not even look at the cluster)", () => {
    const dynamic = td("bridge", [{ containerPort: 80 }]);
    const capacity = placement.capacity({ clusterArn: "c", serviceName: "web", taskDefinition: dynamic, occupying: () => { throw new Error("not needed"); } });
    expect(capacity.placeable).toBe(Number.POSITIVE_INFINITY);
  });
});
