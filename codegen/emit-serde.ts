// serde.ts: awsJson1_1 wire JSON <-> shapes. Deserializers are strict about JSON types (a wrong type is a
// SerializationException naming the member path) and lenient about presence (null = absent, unknown members
// ignored); constraint checking is the validators' job.
import { StructureKind, type StatementStructures, type WriterFunction } from "ts-morph";
import { requireMember, type CodegenModel } from "./model.ts";

/** Hand-written helpers every generated (de)serializer calls. */
const RUNTIME = `
type JsonObject = Record<string, unknown>;

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/** Where a value sits, for messages: the top level of a body has the empty path. */
function where(path: string): string {
  return path === "" ? "for the request body" : \`at '\${path}'\`;
}

function describe(json: unknown): string {
  if (json === null) return "null";
  if (Array.isArray(json)) return "an array";
  switch (typeof json) {
    case "object":
      return "an object";
    case "string":
      return "a string";
    case "number":
      return Number.isInteger(json) ? "an integer" : "a number";
    case "boolean":
      return "a boolean";
    default:
      return typeof json;
  }
}

function mismatch(expected: string, json: unknown, path: string): SerializationException {
  return new SerializationException(\`Expected \${expected} \${where(path)} but got \${describe(json)}\`);
}

export function memberPath(path: string, name: string): string {
  return path === "" ? name : \`\${path}.\${name}\`;
}

export function itemPath(path: string, index: number): string {
  return \`\${path}[\${index}]\`;
}

function expectObject(json: unknown, path: string): JsonObject {
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw mismatch("an object", json, path);
  return json as JsonObject;
}

function expectArray(json: unknown, path: string): unknown[] {
  if (!Array.isArray(json)) throw mismatch("an array", json, path);
  return json;
}

function expectString(json: unknown, path: string): string {
  if (typeof json !== "string") throw mismatch("a string", json, path);
  return json;
}

function expectBoolean(json: unknown, path: string): boolean {
  if (typeof json !== "boolean") throw mismatch("a boolean", json, path);
  return json;
}

function expectInteger(json: unknown, path: string): number {
  if (typeof json !== "number" || !Number.isInteger(json)) throw mismatch("an integer", json, path);
  if (json < INT32_MIN || json > INT32_MAX) {
    throw new SerializationException(\`Integer value \${json} \${where(path)} is out of range\`);
  }
  return json;
}

function expectLong(json: unknown, path: string): number {
  if (typeof json !== "number" || !Number.isInteger(json)) throw mismatch("an integer", json, path);
  if (!Number.isSafeInteger(json)) throw new SerializationException(\`Long value \${json} \${where(path)} is out of range\`);
  return json;
}

function expectDouble(json: unknown, path: string): number {
  if (typeof json !== "number" || !Number.isFinite(json)) throw mismatch("a number", json, path);
  return json;
}

/** awsJson1_1 timestamps are epoch seconds, possibly with a fraction. */
function expectTimestamp(json: unknown, path: string): Date {
  if (typeof json !== "number" || !Number.isFinite(json)) throw mismatch("a timestamp (epoch seconds)", json, path);
  return new Date(json * 1000);
}

export function serializeTimestamp(date: Date): number {
  return date.getTime() / 1000;
}

/** Plain assignment of "__proto__" would replace the prototype instead of adding an entry. */
function setEntry<T>(out: Record<string, T>, key: string, value: T): void {
  if (key === "__proto__") Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  else out[key] = value;
}
`;

const SIMPLE_DESERIALIZERS: Readonly<Record<string, string>> = {
  string: "expectString",
  blob: "expectString",
  boolean: "expectBoolean",
  byte: "expectInteger",
  short: "expectInteger",
  integer: "expectInteger",
  long: "expectLong",
  bigInteger: "expectLong",
  float: "expectDouble",
  double: "expectDouble",
  bigDecimal: "expectDouble",
  timestamp: "expectTimestamp",
};

/** Members whose names are inherited from Object.prototype would read the inherited value when absent. */
const PROTOTYPE_NAMES: ReadonlySet<string> = new Set(Object.getOwnPropertyNames(Object.prototype));

export function serdeRuntime(): string {
  return RUNTIME.trim();
}

export function emitSerde(model: CodegenModel): StatementStructures[] {
  const statements: StatementStructures[] = [];
  for (const id of model.namedShapes) {
    const kind = model.kind(id);
    if (kind === "enum" || kind === "intEnum") continue;
    const name = model.typeName(id);
    statements.push({
      kind: StructureKind.Function,
      name: `deserialize${name}`,
      isExported: true,
      parameters: [
        { name: "json", type: "unknown" },
        { name: "path", type: "string" },
      ],
      returnType: name,
      statements: deserializerBody(model, id),
    });
    statements.push({
      kind: StructureKind.Function,
      name: `serialize${name}`,
      isExported: true,
      parameters: [{ name: "value", type: name }],
      returnType: "unknown",
      statements: serializerBody(model, id),
    });
  }
  return statements;
}

/** Expression that turns wire JSON `value` found at `path` into the member type of `target`. */
export function deserializeExpr(model: CodegenModel, target: string, value: string, path: string): string {
  const kind = model.kind(target);
  if (model.isNamed(target)) {
    if (kind === "enum") return `expectString(${value}, ${path}) as ${model.typeName(target)}`;
    if (kind === "intEnum") return `expectInteger(${value}, ${path}) as ${model.typeName(target)}`;
    return `deserialize${model.typeName(target)}(${value}, ${path})`;
  }
  if (kind === "document") return value;
  const fn = SIMPLE_DESERIALIZERS[kind];
  if (fn === undefined) throw new Error(`no deserializer for ${target} (${kind})`);
  return `${fn}(${value}, ${path})`;
}

/** Expression that turns typed `value` of `target` into wire JSON, or undefined when it is already wire JSON. */
function serializeExpr(model: CodegenModel, target: string, value: string): string | undefined {
  const kind = model.kind(target);
  if (kind === "timestamp") return `serializeTimestamp(${value})`;
  if (model.isNamed(target) && kind !== "enum" && kind !== "intEnum") {
    return `serialize${model.typeName(target)}(${value})`;
  }
  return undefined;
}

function deserializerBody(model: CodegenModel, id: string): WriterFunction {
  const shape = model.shape(id);
  const name = model.typeName(id);
  return (w) => {
    switch (shape.type) {
      case "structure": {
        const members = model.members(id);
        if (members.length === 0) {
          w.writeLine("expectObject(json, path);").writeLine("return {};");
          return;
        }
        w.writeLine("const obj = expectObject(json, path);");
        w.writeLine(`const out: Partial<${name}> = {};`);
        for (const member of members) {
          if (PROTOTYPE_NAMES.has(member.name)) throw new Error(`member ${id}$${member.name} shadows Object.prototype`);
          const read = `obj.${member.name}`;
          const expr = deserializeExpr(model, member.target, read, `memberPath(path, ${JSON.stringify(member.name)})`);
          w.writeLine(`if (${read} != null) out.${member.name} = ${expr};`);
        }
        w.writeLine(`return out as ${name};`);
        return;
      }
      case "union": {
        w.writeLine("const obj = expectObject(json, path);");
        w.writeLine("const present = Object.keys(obj).filter((key) => obj[key] != null);");
        w.write("if (present.length !== 1)").block(() => {
          w.writeLine(
            "throw new SerializationException(`Expected exactly one member ${where(path)} but got ${present.length}`);",
          );
        });
        for (const member of model.members(id)) {
          const read = `obj.${member.name}`;
          const expr = deserializeExpr(model, member.target, read, `memberPath(path, ${JSON.stringify(member.name)})`);
          w.writeLine(`if (${read} != null) return { ${member.name}: ${expr} };`);
        }
        w.writeLine("throw new SerializationException(`Unknown union member ${where(path)}: ${present[0]}`);");
        return;
      }
      case "list": {
        const item = requireMember(shape.member, id);
        const expr = deserializeExpr(model, item.target, "item", "itemPath(path, index)");
        w.writeLine(`return expectArray(json, path).map((item, index) => ${expr});`);
        return;
      }
      case "map": {
        const value = requireMember(shape.value, id);
        w.writeLine("const obj = expectObject(json, path);");
        w.writeLine(`const out: ${name} = {};`);
        const expr = deserializeExpr(model, value.target, "item", "memberPath(path, key)");
        w.writeLine(`for (const [key, item] of Object.entries(obj)) setEntry(out, key, ${expr});`);
        w.writeLine("return out;");
        return;
      }
      default:
        throw new Error(`unsupported shape type ${shape.type} for ${id}`);
    }
  };
}

function serializerBody(model: CodegenModel, id: string): WriterFunction {
  const shape = model.shape(id);
  return (w) => {
    switch (shape.type) {
      case "structure":
      case "union": {
        const members = model.members(id);
        if (members.length === 0) {
          w.writeLine("return {};");
          return;
        }
        w.writeLine("const out: Record<string, unknown> = {};");
        for (const member of members) {
          // Unions are read through a widened view: the value has exactly one of these members.
          const read = shape.type === "union" ? `(value as Record<string, unknown>).${member.name}` : `value.${member.name}`;
          const typedRead = shape.type === "union" ? `(${read} as ${model.typeRef(member.target)})` : read;
          const expr = serializeExpr(model, member.target, typedRead) ?? read;
          w.writeLine(`if (${read} != null) out.${member.name} = ${expr};`);
        }
        w.writeLine("return out;");
        return;
      }
      case "list": {
        const expr = serializeExpr(model, requireMember(shape.member, id).target, "item");
        w.writeLine(expr === undefined ? "return value;" : `return value.map((item) => ${expr});`);
        return;
      }
      case "map": {
        const expr = serializeExpr(model, requireMember(shape.value, id).target, "item");
        if (expr === undefined) {
          w.writeLine("return value;");
          return;
        }
        w.writeLine("const out: Record<string, unknown> = {};");
        w.writeLine(`for (const [key, item] of Object.entries(value)) if (item != null) setEntry(out, key, ${expr});`);
        w.writeLine("return out;");
        return;
      }
      default:
        throw new Error(`unsupported shape type ${shape.type} for ${id}`);
    }
  };
}
