import { describe, expect, it } from "vitest";
import {
  advanceStatus,
  containerBackendStatus,
  deriveTaskStatus,
  essentialStopDecision,
  minimumKnownStatus,
  namedError,
  taskHealthStatus,
  type TaskStatusInput,
} from "../../../src/runtime/engine/task-status.ts";

const base: TaskStatusInput = {
  networkMode: "bridge",
  current: "PENDING",
  desiredStopped: false,
  provisioned: true,
  deprovisioned: false,
  containers: ["NONE"],
};

describe("task lastStatus", () => {
  it("is the minimum over containers (bridge path)", () => {
    expect(minimumKnownStatus(["RUNNING", "CREATED", "STOPPED"])).toBe("CREATED");
    expect(deriveTaskStatus({ ...base, containers: ["RUNNING", "CREATED"] })).toBe("PENDING");
    expect(deriveTaskStatus({ ...base, containers: ["RUNNING", "RUNNING"] })).toBe("RUNNING");
    // A non-essential container that already exited does not hold the task back.
    expect(deriveTaskStatus({ ...base, containers: ["STOPPED", "RUNNING"] })).toBe("RUNNING");
    expect(deriveTaskStatus({ ...base, current: "RUNNING", desiredStopped: true, containers: ["STOPPED", "RUNNING"] })).toBe("STOPPING");
    expect(deriveTaskStatus({ ...base, current: "STOPPING", desiredStopped: true, containers: ["STOPPED"], deprovisioned: true })).toBe("STOPPED");
  });

  it("walks the awsvpc path one status at a time", () => {
    const a: TaskStatusInput = { ...base, networkMode: "awsvpc", current: "PROVISIONING", provisioned: false };
    const seen: string[] = [a.current];
    const step = (input: Partial<TaskStatusInput>): void => {
      const next = deriveTaskStatus({ ...a, ...input, current: seen.at(-1) as TaskStatusInput["current"] });
      if (next !== seen.at(-1)) seen.push(next);
    };
    step({});
    step({ provisioned: true });
    step({ provisioned: true, containers: ["CREATED"] });
    step({ provisioned: true, containers: ["RUNNING"] });
    step({ provisioned: true, containers: ["RUNNING"], desiredStopped: true });
    step({ provisioned: true, containers: ["RUNNING"], desiredStopped: true });
    step({ provisioned: true, containers: ["STOPPED"], desiredStopped: true });
    step({ provisioned: true, containers: ["STOPPED"], desiredStopped: true, deprovisioned: true });
    expect(seen).toEqual(["PROVISIONING", "PENDING", "ACTIVATING", "RUNNING", "DEACTIVATING", "STOPPING", "DEPROVISIONING", "STOPPED"]);
  });

  it("never goes backwards", () => {
    expect(advanceStatus("RUNNING", "PENDING")).toBe("RUNNING");
    expect(deriveTaskStatus({ ...base, current: "RUNNING", containers: ["CREATED"] })).toBe("RUNNING");
  });

  it("maps container statuses to PENDING/RUNNING/STOPPED", () => {
    expect(["NONE", "PULLED", "CREATED", "RUNNING", "STOPPED"].map((s) => containerBackendStatus(s as never))).toEqual([
      "PENDING",
      "PENDING",
      "PENDING",
      "RUNNING",
      "STOPPED",
    ]);
  });
});

describe("task health", () => {
  it("only counts essential containers with a health check", () => {
    expect(taskHealthStatus([])).toBe("UNKNOWN");
    expect(taskHealthStatus([{ essential: false, hasHealthCheck: true, health: "UNHEALTHY" }])).toBe("UNKNOWN");
    expect(
      taskHealthStatus([
        { essential: true, hasHealthCheck: true, health: "HEALTHY" },
        { essential: true, hasHealthCheck: false, health: "UNKNOWN" },
      ]),
    ).toBe("HEALTHY");
    expect(
      taskHealthStatus([
        { essential: true, hasHealthCheck: true, health: "HEALTHY" },
        { essential: true, hasHealthCheck: true, health: "UNHEALTHY" },
      ]),
    ).toBe("UNHEALTHY");
    expect(
      taskHealthStatus([
        { essential: true, hasHealthCheck: true, health: "HEALTHY" },
        { essential: true, hasHealthCheck: true, health: "UNKNOWN" },
      ]),
    ).toBe("UNKNOWN");
  });
});

describe("stop decision", () => {
  it("stops the task when an essential container stops", () => {
    expect(essentialStopDecision([{ essential: false, known: "STOPPED", failedToStart: false }], true)).toBeUndefined();
    expect(essentialStopDecision([{ essential: true, known: "STOPPED", failedToStart: false }], true)).toEqual({
      stopCode: "EssentialContainerExited",
      stoppedReason: "Essential container in task exited",
    });
    expect(
      essentialStopDecision([{ essential: true, known: "STOPPED", failedToStart: true, reason: "CannotPullContainerError: nope" }], false),
    ).toEqual({ stopCode: "TaskFailedToStart", stoppedReason: "CannotPullContainerError: nope" });
  });

  it("formats NamedErrors once", () => {
    expect(namedError("CannotStartContainerError", "boom")).toBe("CannotStartContainerError: boom");
    expect(namedError("ResourceInitializationError", "CannotPullContainerError: x")).toBe("CannotPullContainerError: x");
  });
});
