import { describe, expect, it } from "vitest";
import {
  ClusterNotFoundException,
  ConflictException,
  createEcsError,
  EcsError,
  InternalFailure,
  modeledErrorNames,
  RequestEntityTooLargeException,
  SerializationException,
  ServerException,
  UnknownOperationException,
} from "../../generated/errors.ts";

describe("errors", () => {
  it("has the 30 modeled errors with their fault and status", () => {
    expect(modeledErrorNames).toHaveLength(30);
    for (const name of modeledErrorNames) {
      const error = createEcsError(name, "m");
      expect(error.constructor.name).toBe(name);
      expect(error.type).toBe(name);
      expect(error.name).toBe(name);
      const expected = name === "ServerException" ? ["server", 500] : ["client", name === "AccessDeniedException" ? 403 : 400];
      expect([error.fault, error.statusCode], name).toEqual(expected);
    }
  });

  it("serializes to the awsJson1_1 error body", () => {
    const error = new ClusterNotFoundException("Cluster not found.");
    expect(error).toBeInstanceOf(EcsError);
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toBe("Cluster not found.");
    expect(JSON.parse(JSON.stringify(error))).toEqual({ __type: "ClusterNotFoundException", message: "Cluster not found." });
    expect(new ConflictException("busy", { resourceIds: ["a"] }).toJSON()).toEqual({
      __type: "ConflictException",
      message: "busy",
      resourceIds: ["a"],
    });
    expect(new ConflictException("busy").toJSON()).toEqual({ __type: "ConflictException", message: "busy" });
    expect(new ServerException("boom").statusCode).toBe(500);
  });

  it("has the framework errors", () => {
    expect([new SerializationException("x").statusCode, new UnknownOperationException("x").statusCode]).toEqual([400, 400]);
    expect([new InternalFailure("x").fault, new InternalFailure("x").statusCode]).toEqual(["server", 500]);
    expect(new RequestEntityTooLargeException("x").statusCode).toBe(413);
    expect(modeledErrorNames).not.toContain("SerializationException");
  });

  it("rebuilds unknown wire errors generically", () => {
    const error = createEcsError("ThrottlingException", "slow down", {}, 400);
    expect(error).toBeInstanceOf(EcsError);
    expect([error.type, error.fault, error.statusCode]).toEqual(["ThrottlingException", "client", 400]);
    expect(createEcsError("ServiceUnavailable", "later", {}, 503).fault).toBe("server");
    expect(createEcsError("ConflictException", "busy", { resourceIds: ["r"] }).toJSON()).toEqual({
      __type: "ConflictException",
      message: "busy",
      resourceIds: ["r"],
    });
  });
});
