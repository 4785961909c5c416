import { describe, expect, it } from "vitest";
import { SerializationException } from "../../generated/errors.ts";
import {
  deserializeRegisterTaskDefinitionRequest,
  deserializeRunTaskRequest,
  deserializeRunTaskResponse,
  serializeRunTaskRequest,
  serializeRunTaskResponse,
} from "../../generated/serde.ts";
import type { RunTaskResponse } from "../../generated/shapes.ts";

function serializationError(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SerializationException);
    return (error as SerializationException).message;
  }
  throw new Error("expected a SerializationException");
}

describe("serde", () => {
  it("round-trips a RunTask request", () => {
    const wire = {
      cluster: "default",
      taskDefinition: "web:3",
      count: 2,
      launchType: "FARGATE",
      enableExecuteCommand: true,
      networkConfiguration: { awsvpcConfiguration: { subnets: ["subnet-1"], assignPublicIp: "ENABLED" } },
      overrides: {
        containerOverrides: [
          { name: "app", command: ["sh", "-c", "echo hi"], environment: [{ name: "A", value: "1" }], cpu: 256 },
        ],
        cpu: "512",
      },
      tags: [{ key: "team", value: "core" }],
      clientToken: "token-1",
    };
    const typed = deserializeRunTaskRequest(wire, "");
    expect(typed.taskDefinition).toBe("web:3");
    expect(typed.overrides?.containerOverrides?.[0]?.command).toEqual(["sh", "-c", "echo hi"]);
    expect(serializeRunTaskRequest(typed)).toEqual(wire);
  });

  it("turns epoch seconds into Dates and back, keeping the fraction", () => {
    const wire = {
      tasks: [
        {
          taskArn: "arn:aws:ecs:us-east-1:123456789012:task/default/abc",
          createdAt: 1700000000.123,
          startedAt: 1700000001,
          containers: [{ name: "app", exitCode: 0, networkBindings: [{ hostPort: 8080, containerPort: 80 }] }],
        },
      ],
      failures: [],
    };
    const typed: RunTaskResponse = deserializeRunTaskResponse(wire, "");
    const task = typed.tasks?.[0];
    expect(task?.createdAt).toBeInstanceOf(Date);
    expect(task?.createdAt?.getTime()).toBe(1700000000123);
    expect(task?.startedAt?.toISOString()).toBe("2023-11-14T22:13:21.000Z");
    expect(serializeRunTaskResponse(typed)).toEqual(wire);
  });

  it("omits undefined members when serializing", () => {
    expect(serializeRunTaskRequest({ taskDefinition: "web", cluster: undefined, startedBy: "me" })).toEqual({
      taskDefinition: "web",
      startedBy: "me",
    });
  });

  it("treats null members as absent and ignores unknown members", () => {
    const typed = deserializeRunTaskRequest({ taskDefinition: "web", cluster: null, bogus: { x: 1 } }, "");
    expect(typed).toEqual({ taskDefinition: "web" });
    expect("cluster" in typed).toBe(false);
  });

  it("names the member path of a wrongly typed value", () => {
    const request = {
      family: "web",
      containerDefinitions: [
        { name: "app", portMappings: [{ containerPort: 80 }, { containerPort: "8080" }] },
      ],
    };
    expect(serializationError(() => deserializeRegisterTaskDefinitionRequest(request, ""))).toBe(
      "Expected an integer at 'containerDefinitions[0].portMappings[1].containerPort' but got a string",
    );
  });

  it("rejects wrong JSON types at every level", () => {
    expect(serializationError(() => deserializeRunTaskRequest([], ""))).toBe(
      "Expected an object for the request body but got an array",
    );
    expect(serializationError(() => deserializeRunTaskRequest({ taskDefinition: "x", overrides: [] }, ""))).toBe(
      "Expected an object at 'overrides' but got an array",
    );
    expect(serializationError(() => deserializeRunTaskRequest({ taskDefinition: 5 }, ""))).toBe(
      "Expected a string at 'taskDefinition' but got an integer",
    );
    expect(serializationError(() => deserializeRunTaskRequest({ taskDefinition: "x", count: 1.5 }, ""))).toBe(
      "Expected an integer at 'count' but got a number",
    );
    expect(serializationError(() => deserializeRunTaskRequest({ taskDefinition: "x", enableExecuteCommand: "true" }, ""))).toBe(
      "Expected a boolean at 'enableExecuteCommand' but got a string",
    );
    expect(serializationError(() => deserializeRunTaskRequest({ taskDefinition: "x", tags: [null] }, ""))).toBe(
      "Expected an object at 'tags[0]' but got null",
    );
    expect(serializationError(() => deserializeRunTaskRequest({ taskDefinition: "x", tags: {} }, ""))).toBe(
      "Expected an array at 'tags' but got an object",
    );
    expect(
      serializationError(() => deserializeRunTaskResponse({ tasks: [{ createdAt: "2024-01-01T00:00:00Z" }] }, "")),
    ).toBe("Expected a timestamp (epoch seconds) at 'tasks[0].createdAt' but got a string");
  });

  it("checks map values with the key in the path and keeps __proto__ as an entry", () => {
    const request = (labels: unknown): unknown => ({
      family: "web",
      containerDefinitions: [{ name: "app", dockerLabels: labels }],
    });
    expect(serializationError(() => deserializeRegisterTaskDefinitionRequest(request({ a: "1", b: 2 }), ""))).toBe(
      "Expected a string at 'containerDefinitions[0].dockerLabels.b' but got an integer",
    );
    const typed = deserializeRegisterTaskDefinitionRequest(request(JSON.parse('{"__proto__": "x", "a": "1"}')), "");
    const labels = typed.containerDefinitions[0]?.dockerLabels ?? {};
    expect(Object.keys(labels)).toEqual(["__proto__", "a"]);
    expect(Object.getPrototypeOf(labels)).toBe(Object.prototype);
  });
});
