// router.ts: per-operation metadata and the glue from wire JSON to typed values, keyed by name and by target.
import { StructureKind, VariableDeclarationKind, type StatementStructures } from "ts-morph";
import { methodName } from "./emit-operations.ts";
import { compare, localName, type CodegenModel, type Pagination } from "./model.ts";
import { arrayLiteral, quoted } from "./text.ts";

const RUNTIME = `
export interface Pagination {
  inputToken?: string;
  outputToken?: string;
  /** Output member holding the page's items. */
  items?: string;
  /** Input member holding the page size. */
  pageSize?: string;
}

export interface OperationSpec<I = unknown, O = unknown> {
  readonly name: OperationName;
  readonly method: keyof EcsOperations;
  /** The full X-Amz-Target, e.g. \`AmazonEC2ContainerServiceV20141113.RunTask\`. */
  readonly target: string;
  /** Modeled errors the operation may return, sorted. */
  readonly errors: readonly string[];
  /** smithy.api#readonly: the operation changes nothing. */
  readonly readOnly: boolean;
  /** smithy.api#idempotent (or readonly): repeating the call is safe. */
  readonly idempotent: boolean;
  /** Input member carrying smithy.api#idempotencyToken, if any. */
  readonly idempotencyTokenMember?: string;
  readonly pagination?: Pagination;
  /** Wire JSON (already parsed) to typed input; throws SerializationException. */
  deserializeInput(json: unknown): I;
  validateInput(input: I): ValidationIssue[];
  serializeInput(input: I): unknown;
  serializeOutput(output: O): unknown;
  deserializeOutput(json: unknown): O;
  validateOutput(output: O): ValidationIssue[];
}

export type OperationSpecs = {
  readonly [K in OperationName]: OperationSpec<OperationTypes[K]["input"], OperationTypes[K]["output"]>;
};

function collect<T>(validate: (value: T, path: string, issues: ValidationIssue[]) => void, value: T): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  validate(value, "", issues);
  return issues;
}
`;

// Only for operations without an input or output shape (none in the ECS model today).
const EMPTY_HELPERS = `
function noIssues(): ValidationIssue[] {
  return [];
}

function expectEmpty(json: unknown): Record<string, never> {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new SerializationException("Expected an object for the request body");
  }
  return {};
}

function serializeEmpty(): unknown {
  return {};
}
`;

export function routerRuntime(router: RouterOutput): string {
  return router.needsEmptyHelpers ? `${RUNTIME.trim()}\n\n${EMPTY_HELPERS.trim()}` : RUNTIME.trim();
}

export interface RouterOutput {
  statements: StatementStructures[];
  serdeImports: string[];
  validatorImports: string[];
  /** Whether some operation lacks an input or output shape and needs the empty-shape helpers. */
  needsEmptyHelpers: boolean;
}

export function emitRouter(model: CodegenModel): RouterOutput {
  const serdeImports = new Set<string>();
  const validatorImports = new Set<string>();
  let needsEmptyHelpers = false;
  const specs = model.operations.map((op) => {
    const fields: string[] = [
      `name: ${JSON.stringify(op.name)}`,
      `method: ${JSON.stringify(methodName(op.name))}`,
      `target: ${JSON.stringify(`${model.serviceName}.${op.name}`)}`,
      `errors: ${arrayLiteral(quoted(op.errors.map(localName))).replace(/\n/g, "\n  ")}`,
      `readOnly: ${op.traits["smithy.api#readonly"] !== undefined}`,
      `idempotent: ${op.traits["smithy.api#idempotent"] !== undefined || op.traits["smithy.api#readonly"] !== undefined}`,
    ];
    if (op.idempotencyTokenMember !== undefined) {
      fields.push(`idempotencyTokenMember: ${JSON.stringify(op.idempotencyTokenMember)}`);
    }
    if (op.pagination !== undefined) fields.push(`pagination: ${paginationLiteral(op.pagination)}`);
    if (op.input !== undefined) {
      const name = model.typeName(op.input);
      serdeImports.add(`deserialize${name}`).add(`serialize${name}`);
      validatorImports.add(`validate${name}`);
      fields.push(
        `deserializeInput: (json) => deserialize${name}(json, "")`,
        `validateInput: (input) => collect(validate${name}, input)`,
        `serializeInput: serialize${name}`,
      );
    } else {
      needsEmptyHelpers = true;
      fields.push("deserializeInput: expectEmpty", "validateInput: noIssues", "serializeInput: serializeEmpty");
    }
    if (op.output !== undefined) {
      const name = model.typeName(op.output);
      serdeImports.add(`deserialize${name}`).add(`serialize${name}`);
      validatorImports.add(`validate${name}`);
      fields.push(
        `serializeOutput: serialize${name}`,
        `deserializeOutput: (json) => deserialize${name}(json, "")`,
        `validateOutput: (output) => collect(validate${name}, output)`,
      );
    } else {
      needsEmptyHelpers = true;
      fields.push("serializeOutput: serializeEmpty", "deserializeOutput: expectEmpty", "validateOutput: noIssues");
    }
    return `${op.name}: {\n${fields.map((f) => `  ${f},`).join("\n")}\n}`;
  });

  const paginated = model.operations.filter((op) => op.pagination !== undefined);
  const statements: StatementStructures[] = [
    {
      kind: StructureKind.VariableStatement,
      leadingTrivia: "\n",
      isExported: true,
      declarationKind: VariableDeclarationKind.Const,
      declarations: [{ name: "SERVICE_TARGET_PREFIX", initializer: JSON.stringify(model.serviceName) }],
    },
    {
      kind: StructureKind.VariableStatement,
      leadingTrivia: "\n",
      isExported: true,
      declarationKind: VariableDeclarationKind.Const,
      declarations: [{ name: "operationSpecs", type: "OperationSpecs", initializer: `{\n${specs.join(",\n")},\n}` }],
    },
    {
      kind: StructureKind.VariableStatement,
      leadingTrivia: "\n",
      isExported: true,
      declarationKind: VariableDeclarationKind.Const,
      docs: ["Specs keyed by the full X-Amz-Target header value."],
      declarations: [
        {
          name: "operationsByTarget",
          type: "ReadonlyMap<string, OperationSpec>",
          initializer: "new Map(Object.values(operationSpecs).map((spec: OperationSpec) => [spec.target, spec]))",
        },
      ],
    },
    {
      kind: StructureKind.VariableStatement,
      leadingTrivia: "\n",
      isExported: true,
      declarationKind: VariableDeclarationKind.Const,
      docs: ["smithy.api#paginated of each paginated operation, service defaults merged in."],
      declarations: [
        {
          name: "paginatedOperations",
          type: "Partial<Record<OperationName, Pagination>>",
          initializer: `{\n${paginated.map((op) => `  ${op.name}: ${paginationLiteral(op.pagination ?? {})},`).join("\n")}\n}`,
        },
      ],
    },
    {
      kind: StructureKind.Function,
      name: "operationHandler",
      isExported: true,
      docs: [
        "The implementation of `spec` in `operations`, bound to it and typed for generic dispatch; undefined if not implemented.",
      ],
      typeParameters: ["Ctx"],
      parameters: [
        { name: "operations", type: "Partial<EcsOperations<Ctx>>" },
        { name: "spec", type: "OperationSpec" },
      ],
      returnType: "((input: unknown, ctx: Ctx) => Promise<unknown>) | undefined",
      statements: [
        "const method = operations[spec.method] as ((input: unknown, ctx: Ctx) => Promise<unknown>) | undefined;",
        "return method?.bind(operations);",
      ],
    },
  ];
  return {
    statements,
    serdeImports: [...serdeImports].sort(compare),
    validatorImports: [...validatorImports].sort(compare),
    needsEmptyHelpers,
  };
}

function paginationLiteral(pagination: Pagination): string {
  const entries = Object.entries(pagination as Record<string, string | undefined>)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .sort(([a], [b]) => compare(a, b));
  return `{ ${entries.map(([key, value]) => `${key}: ${JSON.stringify(value)}`).join(", ")} }`;
}
