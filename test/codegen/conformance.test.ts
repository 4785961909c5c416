// The model's own examples are the conformance corpus for the generated layer: each must deserialize, validate
// cleanly and serialize back to the same wire JSON.
import { describe, expect, it } from "vitest";
import { operationExamples } from "../../generated/examples.ts";
import { operationSpecs, type OperationSpec } from "../../generated/router.ts";

const cases = operationExamples.map((example, index) => ({ ...example, label: `${example.operation} #${index}: ${example.title}` }));

describe("model examples", () => {
  it("cover many operations", () => {
    expect(operationExamples.length).toBe(80);
    expect(new Set(operationExamples.map((e) => e.operation)).size).toBeGreaterThan(50);
  });

  it.each(cases)("$label", ({ operation, input, output }) => {
    // Generic dispatch sees specs as OperationSpec<unknown, unknown>, as the protocol adapter does.
    const spec: OperationSpec = operationSpecs[operation];
    const typedInput = spec.deserializeInput(input);
    expect(spec.validateInput(typedInput)).toEqual([]);
    expect(spec.serializeInput(typedInput)).toEqual(input);
    if (output !== undefined) {
      const typedOutput = spec.deserializeOutput(output);
      expect(spec.validateOutput(typedOutput)).toEqual([]);
      expect(spec.serializeOutput(typedOutput)).toEqual(output);
    }
  });
});
