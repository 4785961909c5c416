// errors.ts: EcsError, one subclass per modeled error and the framework errors every awsJson1_1 service can
// return although the model does not list them.
import { StructureKind, VariableDeclarationKind, type StatementStructures } from "ts-morph";
import { docsOf } from "./emit-shapes.ts";
import { compare, type CodegenModel } from "./model.ts";
import { arrayLiteral, quoted } from "./text.ts";

interface FrameworkError {
  name: string;
  fault: "client" | "server";
  statusCode: number;
  doc: string;
}

const FRAMEWORK_ERRORS: readonly FrameworkError[] = [
  { name: "InternalFailure", fault: "server", statusCode: 500, doc: "An unexpected failure inside the service." },
  { name: "RequestEntityTooLargeException", fault: "client", statusCode: 413, doc: "The request body is too large." },
  { name: "SerializationException", fault: "client", statusCode: 400, doc: "The request body is not valid JSON for the operation's input." },
  { name: "UnknownOperationException", fault: "client", statusCode: 400, doc: "The X-Amz-Target names no operation of this service." },
];

const BASE = `
export type ErrorFault = "client" | "server";

export interface EcsErrorOptions {
  fault: ErrorFault;
  statusCode: number;
  /** Error members other than \`message\`, typed (they are plain JSON for every ECS error). */
  members?: Readonly<Record<string, unknown>> | undefined;
}

/** An error the service answers with: \`{"__type": type, "message": message, ...members}\` and statusCode. */
export class EcsError extends Error {
  /** The wire \`__type\`, e.g. \`ClusterNotFoundException\`. */
  readonly type: string;
  readonly fault: ErrorFault;
  readonly statusCode: number;
  readonly members: Readonly<Record<string, unknown>>;

  constructor(type: string, message: string, options: EcsErrorOptions) {
    super(message);
    this.name = type;
    this.type = type;
    this.fault = options.fault;
    this.statusCode = options.statusCode;
    this.members = Object.fromEntries(Object.entries(options.members ?? {}).filter(([, value]) => value !== undefined));
  }

  toJSON(): Record<string, unknown> {
    return { __type: this.type, message: this.message, ...this.members };
  }
}
`;

export function errorsRuntime(): string {
  return BASE.trim();
}

export interface ErrorsOutput {
  statements: StatementStructures[];
  /** Shape types the error constructors mention. */
  typeImports: string[];
}

export function emitErrors(model: CodegenModel): ErrorsOutput {
  const statements: StatementStructures[] = [];
  const typeImports = new Set<string>();
  const classes: string[] = [];

  for (const id of model.errorShapes) {
    const shape = model.shape(id);
    const name = model.typeName(id);
    const fault = shape.traits?.["smithy.api#error"] === "server" ? "server" : "client";
    const httpError = shape.traits?.["smithy.api#httpError"];
    const statusCode = typeof httpError === "number" ? httpError : fault === "server" ? 500 : 400;
    const extra = model.members(id).filter((member) => member.name.toLowerCase() !== "message");
    for (const member of extra) model.typeRefNames(member.target).forEach((t) => typeImports.add(t));
    const membersType = `{ ${extra.map((m) => `${m.name}${m.required ? "" : "?"}: ${model.typeRef(m.target)}${m.required ? "" : " | undefined"}`).join("; ")} }`;
    classes.push(name);
    statements.push({
      kind: StructureKind.Class,
      name,
      isExported: true,
      extends: "EcsError",
      docs: docsOf(shape.traits),
      ctors: [
        {
          parameters:
            extra.length === 0
              ? [{ name: "message", type: "string" }]
              : [
                  { name: "message", type: "string" },
                  extra.some((m) => m.required)
                    ? { name: "members", type: membersType }
                    : { name: "members", type: membersType, initializer: "{}" },
                ],
          statements: `super(${JSON.stringify(name)}, message, { fault: ${JSON.stringify(fault)}, statusCode: ${statusCode}${extra.length === 0 ? "" : ", members"} });`,
        },
      ],
    });
  }

  for (const framework of FRAMEWORK_ERRORS) {
    classes.push(framework.name);
    statements.push({
      kind: StructureKind.Class,
      name: framework.name,
      isExported: true,
      extends: "EcsError",
      docs: [`${framework.doc} (Framework error, not in the model.)`],
      ctors: [
        {
          parameters: [{ name: "message", type: "string" }],
          statements: `super(${JSON.stringify(framework.name)}, message, { fault: ${JSON.stringify(framework.fault)}, statusCode: ${framework.statusCode} });`,
        },
      ],
    });
  }

  const modeledNames = model.errorShapes.map((id) => model.typeName(id));
  statements.push({
    kind: StructureKind.VariableStatement,
      leadingTrivia: "\n",
    isExported: true,
    declarationKind: VariableDeclarationKind.Const,
    docs: ["Names (`__type`) of the errors declared in the model, sorted."],
    declarations: [{ name: "modeledErrorNames", type: "readonly string[]", initializer: arrayLiteral(quoted(modeledNames)) }],
  });
  statements.push({
    kind: StructureKind.VariableStatement,
      leadingTrivia: "\n",
    declarationKind: VariableDeclarationKind.Const,
    declarations: [
      {
        name: "ERROR_CLASSES",
        type: "ReadonlyMap<string, new (message: string, members?: Record<string, unknown>) => EcsError>",
        initializer: `new Map(${arrayLiteral(classes.sort(compare).map((n) => `[${JSON.stringify(n)}, ${n}]`))})`,
      },
    ],
  });
  statements.push({
    kind: StructureKind.Function,
    name: "createEcsError",
    isExported: true,
    docs: [
      "Rebuilds an error from its wire form (e.g. an upstream answer): the modeled or framework class when the type is known, else a plain EcsError with the given status.",
    ],
    parameters: [
      { name: "type", type: "string" },
      { name: "message", type: "string" },
      { name: "members", type: "Record<string, unknown>", initializer: "{}" },
      { name: "statusCode", type: "number", initializer: "400" },
    ],
    returnType: "EcsError",
    statements: [
      "const known = ERROR_CLASSES.get(type);",
      "if (known !== undefined) return new known(message, members);",
      'return new EcsError(type, message, { fault: statusCode >= 500 ? "server" : "client", statusCode, members });',
    ],
  });
  return { statements, typeImports: [...typeImports].sort(compare) };
}
