// examples.ts: the model's smithy.api#examples in wire JSON, the conformance corpus for serde and validators.
// Examples are Smithy node values, which may write timestamps as RFC 3339 strings; those become epoch seconds
// (the awsJson1_1 form). Everything else is copied verbatim.
import { StructureKind, VariableDeclarationKind, type StatementStructures } from "ts-morph";
import { requireMember, type CodegenModel } from "./model.ts";

const RUNTIME = `
export interface OperationExample {
  operation: OperationName;
  title: string;
  /** Wire JSON; \`{}\` when the model's example has no input. Timestamps are epoch seconds. */
  input: unknown;
  output?: unknown;
  error?: unknown;
}
`;

export function examplesRuntime(): string {
  return RUNTIME.trim();
}

interface SmithyExample {
  title?: string;
  input?: unknown;
  output?: unknown;
  error?: unknown;
}

export function emitExamples(model: CodegenModel): StatementStructures[] {
  const entries: string[] = [];
  // Operations are sorted by name; within one, model order is kept (titles repeat, and order is stable).
  for (const op of model.operations) {
    const examples = (op.traits["smithy.api#examples"] ?? []) as SmithyExample[];
    for (const example of examples) {
      const fields = [
        `operation: ${JSON.stringify(op.name)}`,
        `title: ${JSON.stringify((example.title ?? "").trim())}`,
        `input: ${json(toWire(model, op.input, example.input ?? {}))}`,
      ];
      if (example.output !== undefined) fields.push(`output: ${json(toWire(model, op.output, example.output))}`);
      if (example.error !== undefined) fields.push(`error: ${json(example.error)}`);
      entries.push(`{\n${fields.map((f) => `  ${f},`).join("\n")}\n}`);
    }
  }
  return [
    {
      kind: StructureKind.VariableStatement,
      isExported: true,
      declarationKind: VariableDeclarationKind.Const,
      declarations: [
        { name: "operationExamples", type: "readonly OperationExample[]", initializer: `[\n${entries.join(",\n")},\n]` },
      ],
    },
  ];
}

function json(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(/\n/g, "\n  ");
}

/** `value` as `shape` is sent on the wire: only timestamp strings change. */
function toWire(model: CodegenModel, shape: string | undefined, value: unknown): unknown {
  if (shape === undefined || value === null || value === undefined) return value;
  const definition = model.shape(shape);
  switch (definition.type) {
    case "timestamp": {
      if (typeof value !== "string") return value;
      const millis = Date.parse(value);
      if (Number.isNaN(millis)) throw new Error(`example timestamp ${value} of ${shape} is not a date-time`);
      return millis / 1000;
    }
    case "structure":
    case "union": {
      if (typeof value !== "object" || Array.isArray(value)) return value;
      const members = definition.members ?? {};
      return Object.fromEntries(
        Object.entries(value).map(([key, item]) => [key, toWire(model, members[key]?.target, item)]),
      );
    }
    case "list":
      return Array.isArray(value) ? value.map((item) => toWire(model, requireMember(definition.member, shape).target, item)) : value;
    case "map": {
      if (typeof value !== "object" || Array.isArray(value)) return value;
      const target = requireMember(definition.value, shape).target;
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, toWire(model, target, item)]));
    }
    default:
      return value;
  }
}
