// operations.ts: the operation names and the interface implementations fill in (camelCase methods).
import { StructureKind, VariableDeclarationKind, type StatementStructures } from "ts-morph";
import { docsOf } from "./emit-shapes.ts";
import { compare, type CodegenModel, type OperationInfo } from "./model.ts";
import { arrayLiteral, quoted, unionType } from "./text.ts";

/** What an operation without input or output takes or returns. */
export const EMPTY_TYPE = "Record<string, never>";

export function methodName(operation: string): string {
  return operation.charAt(0).toLowerCase() + operation.slice(1);
}

export function inputType(model: CodegenModel, op: OperationInfo): string {
  return op.input === undefined ? EMPTY_TYPE : model.typeName(op.input);
}

export function outputType(model: CodegenModel, op: OperationInfo): string {
  return op.output === undefined ? EMPTY_TYPE : model.typeName(op.output);
}

export interface OperationsOutput {
  statements: StatementStructures[];
  typeImports: string[];
}

export function emitOperations(model: CodegenModel): OperationsOutput {
  const ops = model.operations;
  const typeImports = new Set<string>();
  for (const op of ops) {
    for (const id of [op.input, op.output]) if (id !== undefined) typeImports.add(model.typeName(id));
  }
  const statements: StatementStructures[] = [
    {
      kind: StructureKind.TypeAlias,
      name: "OperationName",
      isExported: true,
      type: unionType(quoted(ops.map((op) => op.name))),
    },
    {
      kind: StructureKind.VariableStatement,
      isExported: true,
      declarationKind: VariableDeclarationKind.Const,
      declarations: [
        {
          name: "operationNames",
          type: "readonly OperationName[]",
          initializer: arrayLiteral(quoted(ops.map((op) => op.name))),
        },
      ],
    },
    {
      kind: StructureKind.Interface,
      name: "OperationTypes",
      isExported: true,
      docs: ["Input and output type of each operation, for code that is generic over operations."],
      properties: ops.map((op) => ({
        name: op.name,
        type: `{ input: ${inputType(model, op)}; output: ${outputType(model, op)} }`,
      })),
    },
    {
      kind: StructureKind.Interface,
      name: "EcsOperations",
      isExported: true,
      typeParameters: [{ name: "Ctx", default: "unknown" }],
      methods: ops.map((op) => ({
        name: methodName(op.name),
        docs: docsOf(op.traits),
        parameters: [
          { name: "input", type: inputType(model, op) },
          { name: "ctx", type: "Ctx" },
        ],
        returnType: `Promise<${outputType(model, op)}>`,
      })),
    },
  ];
  return { statements, typeImports: [...typeImports].sort(compare) };
}
