import { describe, expect, it } from "vitest";
import type { RegisterTaskDefinitionRequest } from "../../generated/shapes.ts";
import {
  compatibilities,
  isFargateSize,
  normalizeTaskCpu,
  normalizeTaskMemory,
  validateRegistration,
} from "../../src/runtime/task-definition-rules.ts";

const base: RegisterTaskDefinitionRequest = { family: "f", containerDefinitions: [{ name: "a", image: "i", memory: 64 }] };

describe("task size normalisation", () => {
  it.each([
    ["1 vCPU", "1024"],
    ["2 VCPU", "2048"],
    ["0.125 vcpu", "128"],
    ["16vcpu", "16384"],
    [" 512 ", "512"],
  ])("cpu %j → %j", (raw, expected) => {
    expect(normalizeTaskCpu(raw)).toBe(expected);
  });

  it.each(["abc", "1.5", "0.1 vCPU", "64", "200000", "-1"])("rejects cpu %j", (raw) => {
    expect(() => normalizeTaskCpu(raw)).toThrow(/Invalid 'cpu' setting for task/);
  });

  it.each([
    ["1GB", "1024"],
    ["2 GB", "2048"],
    ["0.5 gb", "512"],
    ["30720", "30720"],
  ])("memory %j → %j", (raw, expected) => {
    expect(normalizeTaskMemory(raw)).toBe(expected);
  });

  it.each(["1 TB", "lots", "1.5", "0.001GB"])("rejects memory %j", (raw) => {
    expect(() => normalizeTaskMemory(raw)).toThrow(/Invalid 'memory' setting for task/);
  });
});

describe("Fargate sizes", () => {
  it.each([
    [256, 512, true],
    [256, 2048, true],
    [256, 3072, false],
    [512, 4096, true],
    [1024, 1024, false],
    [2048, 16_384, true],
    [4096, 30_720, true],
    [8192, 20_480, true],
    [8192, 17_408, false],
    [16_384, 122_880, true],
    [16_384, 36_864, false],
    [300, 1024, false],
  ])("cpu %i with memory %i → %s", (cpu, memory, ok) => {
    expect(isFargateSize(cpu, memory)).toBe(ok);
  });
});

describe("compatibilities", () => {
  it("is EXTERNAL+EC2 for bridge, EC2 only for awsvpc without a Fargate size, EC2+FARGATE with one", () => {
    expect(compatibilities(base)).toEqual(["EXTERNAL", "EC2"]);
    expect(compatibilities({ ...base, networkMode: "awsvpc" })).toEqual(["EC2"]);
    expect(compatibilities({ ...base, networkMode: "awsvpc", cpu: "512", memory: "1024" })).toEqual(["EC2", "FARGATE"]);
    expect(compatibilities({ ...base, networkMode: "awsvpc", cpu: "512", memory: "1024", pidMode: "host" })).toEqual(["EC2"]);
  });
});

describe("validateRegistration", () => {
  it("accepts a task-level memory instead of per-container memory", () => {
    const out = validateRegistration({ ...base, memory: "1 GB", containerDefinitions: [{ name: "a", image: "i" }] });
    expect(out.memory).toBe("1024");
    expect(out.containerDefinitions[0]?.essential).toBe(true);
  });

  it("names the whole cycle, including implicit links and volumesFrom edges", () => {
    expect(() =>
      validateRegistration({
        ...base,
        containerDefinitions: [
          { name: "a", image: "i", memory: 8, links: ["b"] },
          { name: "b", image: "i", memory: 8, volumesFrom: [{ sourceContainer: "c" }] },
          { name: "c", image: "i", memory: 8, dependsOn: [{ containerName: "a", condition: "START" }] },
        ],
      }),
    ).toThrow("Circular container dependency detected: a -> b -> c -> a.");
  });

  it("requires a health check for a HEALTHY dependency", () => {
    expect(() =>
      validateRegistration({
        ...base,
        containerDefinitions: [
          { name: "db", image: "i", memory: 8 },
          { name: "app", image: "i", memory: 8, dependsOn: [{ containerName: "db", condition: "HEALTHY" }] },
        ],
      }),
    ).toThrow(/HEALTHY condition requires a healthCheck on 'db'/);
  });

  it("checks health check ranges", () => {
    expect(() =>
      validateRegistration({
        ...base,
        containerDefinitions: [{ name: "a", image: "i", memory: 8, healthCheck: { command: ["CMD", "true"], interval: 1 } }],
      }),
    ).toThrow(/interval must be between 5 and 300; got 1/);
  });

  it("rejects awslogs on Fargate without an execution role", () => {
    expect(() =>
      validateRegistration({
        ...base,
        requiresCompatibilities: ["FARGATE"],
        networkMode: "awsvpc",
        cpu: "256",
        memory: "512",
        containerDefinitions: [{ name: "a", image: "i", logConfiguration: { logDriver: "awslogs" } }],
      }),
    ).toThrow("Fargate requires task definition to have execution role ARN to support log driver awslogs.");
  });

  it("rejects duplicate and unnamed volumes", () => {
    expect(() => validateRegistration({ ...base, volumes: [{ name: "v" }, { name: "v" }] })).toThrow(/Duplicate volume name found: v/);
    expect(() => validateRegistration({ ...base, volumes: [{ host: {} }] })).toThrow(/Volume\.name/);
  });
});
