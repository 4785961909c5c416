// Loads the Smithy JSON AST and computes what the emitters need: the operations of the service (walked through
// its resources) and the closure of shapes they reach, with TypeScript names already resolved.
import { readFileSync } from "node:fs";

/** The model's location relative to the repository root (it lives outside the repo and is never copied in). */
export const DEFAULT_MODEL_PATH = "../shared/models/ecs-2014-11-13.json";

export interface SmithyMember {
  target: string;
  traits?: Record<string, unknown>;
}

export interface SmithyShape {
  type: string;
  members?: Record<string, SmithyMember>;
  member?: SmithyMember;
  key?: SmithyMember;
  value?: SmithyMember;
  input?: { target: string };
  output?: { target: string };
  errors?: { target: string }[];
  operations?: { target: string }[];
  collectionOperations?: { target: string }[];
  resources?: { target: string }[];
  create?: { target: string };
  put?: { target: string };
  read?: { target: string };
  update?: { target: string };
  delete?: { target: string };
  list?: { target: string };
  traits?: Record<string, unknown>;
}

export interface SmithyAst {
  smithy: string;
  shapes: Record<string, SmithyShape>;
}

/** A structure member as the emitters see it: wire name, target and the traits of member and target merged. */
export interface MemberInfo {
  name: string;
  target: string;
  required: boolean;
  /** Member traits win over target traits, as in Smithy. */
  traits: Record<string, unknown>;
  memberTraits: Record<string, unknown>;
}

export interface Pagination {
  inputToken?: string;
  outputToken?: string;
  items?: string;
  pageSize?: string;
}

export interface OperationInfo {
  id: string;
  name: string;
  input: string | undefined;
  output: string | undefined;
  errors: string[];
  traits: Record<string, unknown>;
  pagination: Pagination | undefined;
  idempotencyTokenMember: string | undefined;
}

/** Kinds of shapes that get a TypeScript declaration; everything else is inlined as a primitive. */
export type NamedKind = "structure" | "union" | "list" | "map" | "enum" | "intEnum";

const NAMED_KINDS: ReadonlySet<string> = new Set(["structure", "union", "list", "map", "enum", "intEnum"]);

const SIMPLE_TYPES: Readonly<Record<string, string>> = {
  string: "string",
  blob: "string",
  boolean: "boolean",
  byte: "number",
  short: "number",
  integer: "number",
  long: "number",
  float: "number",
  double: "number",
  bigInteger: "number",
  bigDecimal: "number",
  timestamp: "Date",
  document: "unknown",
};

const PRELUDE_TYPES: Readonly<Record<string, string>> = {
  "smithy.api#String": "string",
  "smithy.api#Blob": "blob",
  "smithy.api#Boolean": "boolean",
  "smithy.api#PrimitiveBoolean": "boolean",
  "smithy.api#Byte": "byte",
  "smithy.api#PrimitiveByte": "byte",
  "smithy.api#Short": "short",
  "smithy.api#PrimitiveShort": "short",
  "smithy.api#Integer": "integer",
  "smithy.api#PrimitiveInteger": "integer",
  "smithy.api#Long": "long",
  "smithy.api#PrimitiveLong": "long",
  "smithy.api#Float": "float",
  "smithy.api#PrimitiveFloat": "float",
  "smithy.api#Double": "double",
  "smithy.api#PrimitiveDouble": "double",
  "smithy.api#BigInteger": "bigInteger",
  "smithy.api#BigDecimal": "bigDecimal",
  "smithy.api#Timestamp": "timestamp",
  "smithy.api#Document": "document",
  "smithy.api#Unit": "structure",
};

/**
 * Names a generated declaration must not take: they would shadow globals that the generated files themselves use,
 * or that consumers reasonably expect to keep. A colliding shape gets the suffix `Shape` (none does in ECS today).
 */
const RESERVED_NAMES: ReadonlySet<string> = new Set([
  "Array", "ArrayBuffer", "BigInt", "Blob", "Boolean", "Buffer", "Date", "Error", "Function", "Iterable", "JSON",
  "Map", "Math", "Number", "Object", "Omit", "Partial", "Pick", "Promise", "Readonly", "Record", "RegExp",
  "Required", "Set", "String", "Symbol", "URL", "WeakMap",
  // Names the generated files declare themselves.
  "EcsError", "ValidationIssue", "OperationName", "OperationSpec", "EcsOperations", "OperationTypes",
  "OperationExample", "Pagination",
]);

export class CodegenModel {
  readonly ast: SmithyAst;
  readonly serviceId: string;
  readonly serviceName: string;
  readonly operations: readonly OperationInfo[];
  /** Named shapes (structure/union/list/map/enum) reachable from an operation, sorted by TypeScript name. */
  readonly namedShapes: readonly string[];
  /** Error structures reachable from an operation, sorted by name. */
  readonly errorShapes: readonly string[];
  readonly #typeNames: ReadonlyMap<string, string>;
  readonly renamed: ReadonlyMap<string, string>;

  constructor(ast: SmithyAst) {
    this.ast = ast;
    const services = Object.keys(ast.shapes).filter((id) => ast.shapes[id]?.type === "service");
    if (services.length !== 1) throw new Error(`expected exactly one service shape, found ${services.length}`);
    this.serviceId = services[0] as string;
    this.serviceName = localName(this.serviceId);

    const serviceShape = this.shape(this.serviceId);
    const defaultPagination = (serviceShape.traits?.["smithy.api#paginated"] ?? {}) as Pagination;
    const operationIds = [...this.#collectOperations(this.serviceId, new Set())].sort(byLocalName);
    this.operations = operationIds.map((id) => this.#operationInfo(id, defaultPagination));

    const closure = new Set<string>();
    for (const op of this.operations) {
      for (const id of [op.input, op.output, ...op.errors]) if (id !== undefined) this.#walk(id, closure);
    }
    const named = [...closure].filter((id) => NAMED_KINDS.has(this.shape(id).type));
    const typeNames = new Map<string, string>();
    const renamed = new Map<string, string>();
    const taken = new Map<string, string>();
    for (const id of named.sort(byLocalName)) {
      let name = localName(id);
      if (RESERVED_NAMES.has(name)) {
        renamed.set(localName(id), `${name}Shape`);
        name = `${name}Shape`;
      }
      const other = taken.get(name);
      if (other !== undefined) throw new Error(`shapes ${other} and ${id} both map to the TypeScript name ${name}`);
      taken.set(name, id);
      typeNames.set(id, name);
    }
    for (const id of named) {
      const kind = this.shape(id).type;
      if ((kind === "enum" || kind === "intEnum") && taken.has(`${typeNames.get(id)}Values`)) {
        throw new Error(`the values constant of enum ${id} collides with a shape name`);
      }
    }
    this.#typeNames = typeNames;
    this.renamed = renamed;
    this.namedShapes = [...typeNames.keys()].sort((a, b) => compare(this.typeName(a), this.typeName(b)));
    this.errorShapes = this.namedShapes.filter((id) => this.shape(id).traits?.["smithy.api#error"] !== undefined);
  }

  static load(path: string): CodegenModel {
    return new CodegenModel(JSON.parse(readFileSync(path, "utf8")) as SmithyAst);
  }

  shape(id: string): SmithyShape {
    const prelude = PRELUDE_TYPES[id];
    if (prelude !== undefined) return { type: prelude };
    const shape = this.ast.shapes[id];
    if (shape === undefined) throw new Error(`unknown shape ${id}`);
    return shape;
  }

  kind(id: string): string {
    return this.shape(id).type;
  }

  isNamed(id: string): boolean {
    return this.#typeNames.has(id);
  }

  /** The TypeScript declaration name of a named shape. */
  typeName(id: string): string {
    const name = this.#typeNames.get(id);
    if (name === undefined) throw new Error(`shape ${id} has no generated declaration`);
    return name;
  }

  /** The TypeScript type used where a member targets `id`: a declared name, or an inlined primitive. */
  typeRef(id: string): string {
    if (this.isNamed(id)) {
      const shape = this.shape(id);
      // Lists and maps read better inline (`Tag[]`) than through their alias names.
      if (shape.type === "list") return arrayOf(this.typeRef(requireMember(shape.member, id).target));
      if (shape.type === "map") return `Record<string, ${this.typeRef(requireMember(shape.value, id).target)}>`;
      return this.typeName(id);
    }
    const simple = SIMPLE_TYPES[this.kind(id)];
    if (simple === undefined) throw new Error(`shape ${id} of type ${this.kind(id)} cannot be used as a member`);
    return simple;
  }

  /** Declared names that `typeRef(id)` mentions, so emitters can import exactly those. */
  typeRefNames(id: string): string[] {
    if (!this.isNamed(id)) return [];
    const shape = this.shape(id);
    if (shape.type === "list") return this.typeRefNames(requireMember(shape.member, id).target);
    if (shape.type === "map") return this.typeRefNames(requireMember(shape.value, id).target);
    return [this.typeName(id)];
  }

  members(id: string): MemberInfo[] {
    const shape = this.shape(id);
    return Object.entries(shape.members ?? {}).map(([name, member]) => this.memberInfo(name, member));
  }

  memberInfo(name: string, member: SmithyMember): MemberInfo {
    const memberTraits = member.traits ?? {};
    const targetTraits = PRELUDE_TYPES[member.target] === undefined ? (this.shape(member.target).traits ?? {}) : {};
    return {
      name,
      target: member.target,
      required: memberTraits["smithy.api#required"] !== undefined,
      traits: { ...targetTraits, ...memberTraits },
      memberTraits,
    };
  }

  /** Enum values in model order (string enums carry them in `enumValue`, defaulting to the member name). */
  enumValues(id: string): (string | number)[] {
    return Object.entries(this.shape(id).members ?? {}).map(([name, member]) => {
      const value = member.traits?.["smithy.api#enumValue"];
      return typeof value === "string" || typeof value === "number" ? value : name;
    });
  }

  #collectOperations(id: string, out: Set<string>): Set<string> {
    const shape = this.shape(id);
    const refs = [
      ...(shape.operations ?? []),
      ...(shape.collectionOperations ?? []),
      ...[shape.create, shape.put, shape.read, shape.update, shape.delete, shape.list].filter((r) => r !== undefined),
    ];
    for (const ref of refs) out.add(ref.target);
    for (const resource of shape.resources ?? []) this.#collectOperations(resource.target, out);
    return out;
  }

  #operationInfo(id: string, defaultPagination: Pagination): OperationInfo {
    const shape = this.shape(id);
    const traits = shape.traits ?? {};
    const unitOrId = (ref: { target: string } | undefined): string | undefined =>
      ref === undefined || ref.target === "smithy.api#Unit" ? undefined : ref.target;
    const input = unitOrId(shape.input);
    const paginated = traits["smithy.api#paginated"] as Pagination | undefined;
    const idempotencyTokenMember =
      input === undefined
        ? undefined
        : this.members(input).find((m) => m.memberTraits["smithy.api#idempotencyToken"] !== undefined)?.name;
    return {
      id,
      name: localName(id),
      input,
      output: unitOrId(shape.output),
      errors: (shape.errors ?? []).map((e) => e.target).sort(byLocalName),
      traits,
      pagination: paginated === undefined ? undefined : { ...defaultPagination, ...paginated },
      idempotencyTokenMember,
    };
  }

  #walk(id: string, seen: Set<string>): void {
    if (seen.has(id) || PRELUDE_TYPES[id] !== undefined) return;
    seen.add(id);
    const shape = this.shape(id);
    if (shape.type === "enum" || shape.type === "intEnum") return;
    for (const member of Object.values(shape.members ?? {})) this.#walk(member.target, seen);
    for (const member of [shape.member, shape.key, shape.value]) if (member !== undefined) this.#walk(member.target, seen);
  }
}

export function localName(id: string): string {
  const hash = id.indexOf("#");
  return hash === -1 ? id : id.slice(hash + 1);
}

export function requireMember(member: SmithyMember | undefined, id: string): SmithyMember {
  if (member === undefined) throw new Error(`shape ${id} lacks its member/key/value`);
  return member;
}

/** Locale-independent ordering, so output does not depend on the machine's collation. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function byLocalName(a: string, b: string): number {
  return compare(localName(a), localName(b)) || compare(a, b);
}

function arrayOf(type: string): string {
  return type.includes("|") ? `(${type})[]` : `${type}[]`;
}
