// validators.ts: Coral-style constraint checks (required, length, range, pattern, enum values). A value's own
// constraints are checked by whoever holds it (the structure member, list item or map entry), with the traits of
// the member and of its target merged; validateX only looks inside X.
import { StructureKind, VariableDeclarationKind, type StatementStructures, type WriterFunction } from "ts-morph";
import { compare, requireMember, type CodegenModel, type MemberInfo } from "./model.ts";

const RUNTIME = `
export interface ValidationIssue {
  /** Member path, e.g. \`containerDefinitions[0].portMappings[1].containerPort\`. */
  path: string;
  /** The violated constraint, e.g. \`Member must not be null\`. */
  message: string;
  /** The offending value as Coral renders it (\`'FOO'\`, \`5\`, \`null\`); \`null\` when omitted. */
  value?: string;
}

/** Coral lists at most this many issues in the message (the count still covers all of them). */
const MAX_LISTED_ISSUES = 10;
const MAX_RENDERED_LENGTH = 100;

export function formatValidationIssues(issues: readonly ValidationIssue[]): string {
  const count = issues.length;
  const listed = issues
    .slice(0, MAX_LISTED_ISSUES)
    .map((issue) => \`Value \${issue.value ?? "null"} at '\${issue.path}' failed to satisfy constraint: \${issue.message}\`);
  return \`\${count} validation error\${count === 1 ? "" : "s"} detected: \${listed.join("; ")}\`;
}

export function renderValue(value: unknown): string {
  if (value === undefined || value === null) return "null";
  if (typeof value === "string") return shorten(\`'\${value}'\`);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (value instanceof Date) return String(value.getTime() / 1000);
  if (Array.isArray(value)) return shorten(\`[\${value.map(renderValue).join(", ")}]\`);
  return shorten(JSON.stringify(value) ?? String(value));
}

function shorten(text: string): string {
  return text.length > MAX_RENDERED_LENGTH ? \`\${text.slice(0, MAX_RENDERED_LENGTH - 3)}...\` : text;
}

function report(issues: ValidationIssue[], path: string, value: unknown, message: string): void {
  issues.push({ path, message, value: renderValue(value) });
}

function missing(issues: ValidationIssue[], path: string): void {
  report(issues, path, null, "Member must not be null");
}

function checkLength(
  value: string | readonly unknown[] | Readonly<Record<string, unknown>>,
  min: number | undefined,
  max: number | undefined,
  path: string,
  issues: ValidationIssue[],
): void {
  // Smithy counts Unicode code points for strings.
  const length =
    typeof value === "string" ? [...value].length : Array.isArray(value) ? value.length : Object.keys(value).length;
  if (min !== undefined && length < min) report(issues, path, value, \`Member must have length greater than or equal to \${min}\`);
  if (max !== undefined && length > max) report(issues, path, value, \`Member must have length less than or equal to \${max}\`);
}

function checkRange(value: number, min: number | undefined, max: number | undefined, path: string, issues: ValidationIssue[]): void {
  if (min !== undefined && value < min) report(issues, path, value, \`Member must have value greater than or equal to \${min}\`);
  if (max !== undefined && value > max) report(issues, path, value, \`Member must have value less than or equal to \${max}\`);
}

interface Pattern {
  regex: RegExp;
  source: string;
}

/** Smithy patterns are ECMA 262 and unanchored; the u flag makes \\\\p{L} and friends work. */
function pattern(source: string): Pattern {
  return { regex: new RegExp(source, "u"), source };
}

function checkPattern(value: string, { regex, source }: Pattern, path: string, issues: ValidationIssue[]): void {
  if (!regex.test(value)) report(issues, path, value, \`Member must satisfy regular expression pattern: \${source}\`);
}

function checkEnum(value: string | number, values: readonly (string | number)[], path: string, issues: ValidationIssue[]): void {
  if (!values.includes(value)) report(issues, path, value, \`Member must satisfy enum value set: [\${values.join(", ")}]\`);
}
`;

export function validatorsRuntime(): string {
  return RUNTIME.trim();
}

interface LengthTrait {
  min?: number;
  max?: number;
}

/** Emits the validators; also reports which enum-values constants they use so main can import them. */
export class ValidatorEmitter {
  readonly #model: CodegenModel;
  readonly #needsValidation: ReadonlySet<string>;
  readonly #patterns = new Map<string, string>();
  readonly usedEnumValues = new Set<string>();

  constructor(model: CodegenModel) {
    this.#model = model;
    const sources = new Set<string>();
    for (const id of model.namedShapes) {
      for (const info of this.#containedValues(id)) {
        const source = info.traits["smithy.api#pattern"];
        if (typeof source === "string") sources.add(source);
        // Every contained enum value gets a checkEnum (its container always needs validation).
        if (["enum", "intEnum"].includes(model.kind(info.target))) this.usedEnumValues.add(`${model.typeName(info.target)}Values`);
      }
    }
    [...sources].sort(compare).forEach((source, index) => this.#patterns.set(source, `PATTERN_${index + 1}`));
    this.#needsValidation = this.#computeNeedsValidation();
  }

  emit(): StatementStructures[] {
    const statements: StatementStructures[] = [];
    for (const [source, name] of this.#patterns) {
      new RegExp(source, "u"); // fail at generation time, not at import time, on a pattern JS cannot compile
      statements.push({
        kind: StructureKind.VariableStatement,
        declarationKind: VariableDeclarationKind.Const,
        declarations: [{ name, initializer: `pattern(${JSON.stringify(source)})` }],
      });
    }
    for (const id of this.#model.namedShapes) {
      const kind = this.#model.kind(id);
      if (kind === "enum" || kind === "intEnum") continue;
      const name = this.#model.typeName(id);
      statements.push({
        kind: StructureKind.Function,
        name: `validate${name}`,
        isExported: true,
        parameters: [
          { name: "value", type: name },
          { name: "path", type: "string" },
          { name: "issues", type: "ValidationIssue[]" },
        ],
        returnType: "void",
        statements: this.#needsValidation.has(id) ? this.#body(id) : [],
      });
    }
    return statements;
  }

  /** The member-like values directly inside a shape: structure members, the list member, map key and value. */
  #containedValues(id: string): MemberInfo[] {
    const shape = this.#model.shape(id);
    switch (shape.type) {
      case "structure":
      case "union":
        return this.#model.members(id);
      case "list":
        return [this.#model.memberInfo("member", requireMember(shape.member, id))];
      case "map":
        return [
          this.#model.memberInfo("key", requireMember(shape.key, id)),
          this.#model.memberInfo("value", requireMember(shape.value, id)),
        ];
      default:
        return [];
    }
  }

  /** Shapes whose validator does something; found as a fixpoint because shapes may be recursive. */
  #computeNeedsValidation(): Set<string> {
    const needs = new Set<string>();
    const candidates = this.#model.namedShapes.filter((id) => !["enum", "intEnum"].includes(this.#model.kind(id)));
    for (let changed = true; changed; ) {
      changed = false;
      for (const id of candidates) {
        if (needs.has(id)) continue;
        const found = this.#containedValues(id).some(
          (info) => info.required || this.#checks(info, "v", "p", needs).length > 0,
        );
        if (found) {
          needs.add(id);
          changed = true;
        }
      }
    }
    return needs;
  }

  /** Statements checking a present value `v` (of member `info`) at path expression `p`. */
  #checks(info: MemberInfo, v: string, p: string, needs: ReadonlySet<string>): string[] {
    const model = this.#model;
    const kind = model.kind(info.target);
    const out: string[] = [];
    const length = info.traits["smithy.api#length"] as LengthTrait | undefined;
    if (length !== undefined && ["string", "blob", "list", "map"].includes(kind)) {
      out.push(`checkLength(${v}, ${length.min ?? "undefined"}, ${length.max ?? "undefined"}, ${p}, issues);`);
    }
    const range = info.traits["smithy.api#range"] as LengthTrait | undefined;
    if (range !== undefined && !["string", "list", "map", "structure", "timestamp"].includes(kind)) {
      out.push(`checkRange(${v}, ${range.min ?? "undefined"}, ${range.max ?? "undefined"}, ${p}, issues);`);
    }
    const source = info.traits["smithy.api#pattern"];
    if (typeof source === "string" && kind === "string") {
      const constant = this.#patterns.get(source);
      if (constant === undefined) throw new Error(`pattern ${source} was not collected`);
      out.push(`checkPattern(${v}, ${constant}, ${p}, issues);`);
    }
    if (kind === "enum" || kind === "intEnum") {
      const values = `${model.typeName(info.target)}Values`;
      out.push(`checkEnum(${v}, ${values}, ${p}, issues);`);
    }
    if (needs.has(info.target)) out.push(`validate${model.typeName(info.target)}(${v}, ${p}, issues);`);
    return out;
  }

  #body(id: string): WriterFunction {
    const model = this.#model;
    const shape = model.shape(id);
    const needs = this.#needsValidation;
    const guarded = (w: Parameters<WriterFunction>[0], condition: string, checks: string[]): void => {
      if (checks.length === 0) return;
      if (checks.length === 1) {
        w.writeLine(`if (${condition}) ${checks[0]}`);
        return;
      }
      w.write(`if (${condition})`).block(() => checks.forEach((check) => w.writeLine(check)));
    };
    return (w) => {
      switch (shape.type) {
        case "structure":
        case "union":
          for (const member of model.members(id)) {
            const v = shape.type === "union" ? `(value as Record<string, unknown>).${member.name}` : `value.${member.name}`;
            const p = `memberPath(path, ${JSON.stringify(member.name)})`;
            const typed = shape.type === "union" ? `(${v} as ${model.typeRef(member.target)})` : v;
            if (member.required) w.writeLine(`if (${v} == null) missing(issues, ${p});`);
            guarded(w, `${v} != null`, this.#checks(member, typed, p, needs));
          }
          return;
        case "list": {
          const item = model.memberInfo("member", requireMember(shape.member, id));
          const checks = this.#checks(item, "item", "itemPath(path, index)", needs);
          w.write("for (const [index, item] of value.entries())").block(() => {
            // A list built in code may hold holes even though the wire format cannot.
            guarded(w, "item != null", checks);
          });
          return;
        }
        case "map": {
          const key = this.#checks(model.memberInfo("key", requireMember(shape.key, id)), "key", "memberPath(path, key)", needs);
          const value = this.#checks(model.memberInfo("value", requireMember(shape.value, id)), "item", "memberPath(path, key)", needs);
          w.write("for (const [key, item] of Object.entries(value))").block(() => {
            key.forEach((check) => w.writeLine(check));
            guarded(w, "item != null", value);
          });
          return;
        }
        default:
          throw new Error(`unsupported shape type ${shape.type} for ${id}`);
      }
    };
  }
}
