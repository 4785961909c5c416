import { describe, expect, it } from "vitest";
import { deserializeRegisterTaskDefinitionRequest, deserializeRunTaskRequest } from "../../generated/serde.ts";
import { LaunchTypeValues } from "../../generated/shapes.ts";
import {
  formatValidationIssues,
  validateRegisterTaskDefinitionRequest,
  validateRunTaskRequest,
  type ValidationIssue,
} from "../../generated/validators.ts";

function runTaskIssues(wire: unknown): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  validateRunTaskRequest(deserializeRunTaskRequest(wire, ""), "", issues);
  return issues;
}

describe("validators", () => {
  it("accepts a valid request", () => {
    expect(runTaskIssues({ taskDefinition: "web", launchType: "FARGATE", tags: [{ key: "a", value: "b" }] })).toEqual([]);
  });

  it("reports a missing required member", () => {
    const issues = runTaskIssues({ cluster: "default" });
    expect(issues).toEqual([{ path: "taskDefinition", message: "Member must not be null", value: "null" }]);
    expect(formatValidationIssues(issues)).toBe(
      "1 validation error detected: Value null at 'taskDefinition' failed to satisfy constraint: Member must not be null",
    );
  });

  it("reports nested required members with their path", () => {
    const issues: ValidationIssue[] = [];
    const wire = { family: "web", containerDefinitions: [{ name: "a" }, { secrets: [{ name: "s" }] }] };
    validateRegisterTaskDefinitionRequest(deserializeRegisterTaskDefinitionRequest(wire, ""), "", issues);
    expect(issues.map((i) => i.path)).toEqual(["containerDefinitions[1].secrets[0].valueFrom"]);
  });

  it("reports enum values outside the set", () => {
    const issues = runTaskIssues({ taskDefinition: "web", launchType: "FOO" });
    expect(formatValidationIssues(issues)).toBe(
      `1 validation error detected: Value 'FOO' at 'launchType' failed to satisfy constraint: Member must satisfy enum value set: [${LaunchTypeValues.join(", ")}]`,
    );
  });

  it("reports length on lists and strings, from the target shape's traits", () => {
    const tooMany = Array.from({ length: 51 }, (_, i) => ({ key: `k${i}`, value: "v" }));
    expect(runTaskIssues({ taskDefinition: "web", tags: tooMany })).toEqual([
      expect.objectContaining({ path: "tags", message: "Member must have length less than or equal to 50" }),
    ]);
    expect(runTaskIssues({ taskDefinition: "web", tags: [{ key: "" }, { key: "k".repeat(129) }] })).toEqual([
      { path: "tags[0].key", message: "Member must have length greater than or equal to 1", value: "''" },
      expect.objectContaining({ path: "tags[1].key", message: "Member must have length less than or equal to 128" }),
    ]);
  });

  it("reports range and pattern violations", () => {
    const issues = runTaskIssues({
      taskDefinition: "web",
      capacityProviderStrategy: [{ capacityProvider: "FARGATE", weight: 1001, base: -1 }],
      tags: [{ key: "bad*key", value: "ok" }],
    });
    expect(issues).toEqual([
      { path: "capacityProviderStrategy[0].weight", message: "Member must have value less than or equal to 1000", value: "1001" },
      { path: "capacityProviderStrategy[0].base", message: "Member must have value greater than or equal to 0", value: "-1" },
      {
        path: "tags[0].key",
        message: "Member must satisfy regular expression pattern: ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$",
        value: "'bad*key'",
      },
    ]);
    // Unicode letters are allowed by \p{L}.
    expect(runTaskIssues({ taskDefinition: "web", tags: [{ key: "équipe", value: "café" }] })).toEqual([]);
  });

  it("formats several issues, listing at most ten", () => {
    const tags = Array.from({ length: 12 }, () => ({ key: "" }));
    const issues = runTaskIssues({ taskDefinition: "web", tags });
    expect(issues).toHaveLength(12);
    const message = formatValidationIssues(issues);
    expect(message.startsWith("12 validation errors detected: Value '' at 'tags[0].key' failed")).toBe(true);
    expect(message.split("; ")).toHaveLength(10);
    expect(message).toContain("tags[9].key");
    expect(message).not.toContain("tags[10].key");
  });
});
