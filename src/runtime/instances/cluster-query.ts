// The cluster query language (ECS Developer Guide, "Cluster query language"): a pure parser to an AST and
// an evaluator against one container instance. Used by ListContainerInstances `filter` and by memberOf
// placement constraints. Syntax: `subject operator [argument]`, combined with and/&&, or/||, not/!, and
// parentheses for precedence.

export type Subject =
  | { kind: "attribute"; name: string }
  | { kind: "taskGroup" }
  | { kind: "agentConnected" }
  | { kind: "agentVersion" }
  | { kind: "ec2InstanceId" }
  | { kind: "registeredAt" }
  | { kind: "runningTasksCount" };

export type Operator = "==" | "!=" | ">" | ">=" | "<" | "<=" | "exists" | "!exists" | "in" | "!in" | "=~" | "!~";

export type QueryNode =
  | { kind: "cmp"; subject: Subject; op: Operator; args: string[] }
  | { kind: "and" | "or"; left: QueryNode; right: QueryNode }
  | { kind: "not"; operand: QueryNode };

/** What an expression is evaluated against: one container instance as the control plane sees it. */
export interface QueryTarget {
  /** Agent and custom attributes; a name-only attribute maps to undefined. */
  attributes: ReadonlyMap<string, string | undefined>;
  ec2InstanceId: string;
  agentConnected: boolean;
  agentVersion: string;
  registeredAt: Date;
  runningTasksCount: number;
  /** Groups of the tasks on the instance that are not stopped. */
  taskGroups: ReadonlySet<string>;
}

export class QueryError extends Error {}

const OPERATOR_WORDS: Record<string, Operator> = {
  "==": "==",
  equals: "==",
  "!=": "!=",
  not_equals: "!=",
  ">": ">",
  greater_than: ">",
  ">=": ">=",
  greater_than_equal: ">=",
  "<": "<",
  less_than: "<",
  "<=": "<=",
  less_than_equal: "<=",
  exists: "exists",
  "!exists": "!exists",
  not_exists: "!exists",
  in: "in",
  "!in": "!in",
  not_in: "!in",
  "=~": "=~",
  matches: "=~",
  "!~": "!~",
  not_matches: "!~",
};

const EQUALITY: readonly Operator[] = ["==", "!=", "in", "!in", "=~", "!~"];
const ORDERED: readonly Operator[] = ["==", "!=", ">", ">=", "<", "<="];

/** Operators each fixed subject accepts (the guide's "Valid operators"); attributes and task:group take all. */
const VALID_OPERATORS: Partial<Record<Subject["kind"], readonly Operator[]>> = {
  agentConnected: EQUALITY,
  ec2InstanceId: EQUALITY,
  agentVersion: ORDERED,
  registeredAt: ORDERED,
  runningTasksCount: ORDERED,
};

export const MAX_EXPRESSION_LENGTH = 2000;

export function parseClusterQuery(text: string): QueryNode {
  if (text.trim() === "") throw new QueryError("the expression is empty");
  if (text.length > MAX_EXPRESSION_LENGTH) throw new QueryError(`the expression is longer than ${MAX_EXPRESSION_LENGTH} characters`);
  const p = new Parser(text);
  const node = p.parseOr();
  p.skipSpace();
  if (!p.atEnd()) throw new QueryError(`unexpected "${p.rest().slice(0, 20)}" at position ${p.pos + 1}`);
  return node;
}

export function evaluateClusterQuery(node: QueryNode, target: QueryTarget): boolean {
  switch (node.kind) {
    case "and":
      return evaluateClusterQuery(node.left, target) && evaluateClusterQuery(node.right, target);
    case "or":
      return evaluateClusterQuery(node.left, target) || evaluateClusterQuery(node.right, target);
    case "not":
      return !evaluateClusterQuery(node.operand, target);
    case "cmp":
      return compare(node, target);
  }
}

function compare(node: Extract<QueryNode, { kind: "cmp" }>, t: QueryTarget): boolean {
  const { subject, op, args } = node;
  if (subject.kind === "taskGroup") {
    // Affinity: an instance "is" in every group one of its tasks belongs to.
    const groups = [...t.taskGroups];
    switch (op) {
      case "exists":
        return groups.length > 0;
      case "!exists":
        return groups.length === 0;
      case "!=":
      case "!in":
      case "!~":
        return !compare({ ...node, op: op === "!=" ? "==" : op === "!in" ? "in" : "=~" }, t);
      default:
        return groups.some((g) => test(op, g, args, "string"));
    }
  }
  let value: string | undefined;
  let type: ValueType = "string";
  switch (subject.kind) {
    case "attribute":
      if (op === "exists") return t.attributes.has(subject.name);
      if (op === "!exists") return !t.attributes.has(subject.name);
      if (!t.attributes.has(subject.name)) return op === "!=" || op === "!in" || op === "!~";
      value = t.attributes.get(subject.name) ?? "";
      type = "auto";
      break;
    case "agentConnected":
      value = String(t.agentConnected);
      break;
    case "agentVersion":
      value = t.agentVersion;
      type = "version";
      break;
    case "ec2InstanceId":
      value = t.ec2InstanceId;
      break;
    case "registeredAt":
      value = t.registeredAt.toISOString();
      type = "date";
      break;
    case "runningTasksCount":
      value = String(t.runningTasksCount);
      type = "number";
      break;
  }
  if (op === "exists") return true;
  if (op === "!exists") return false;
  return test(op, value, args, type);
}

type ValueType = "string" | "auto" | "number" | "version" | "date";

function test(op: Operator, value: string, args: string[], type: ValueType): boolean {
  const arg = args[0] ?? "";
  switch (op) {
    case "==":
      return order(value, arg, type) === 0;
    case "!=":
      return order(value, arg, type) !== 0;
    case ">":
      return order(value, arg, type) > 0;
    case ">=":
      return order(value, arg, type) >= 0;
    case "<":
      return order(value, arg, type) < 0;
    case "<=":
      return order(value, arg, type) <= 0;
    case "in":
      return args.some((a) => order(value, a, type) === 0);
    case "!in":
      return !args.some((a) => order(value, a, type) === 0);
    case "=~":
      return fullMatch(arg).test(value);
    case "!~":
      return !fullMatch(arg).test(value);
    default:
      return false;
  }
}

function order(a: string, b: string, type: ValueType): number {
  switch (type) {
    case "number":
    case "auto": {
      const x = Number(a);
      const y = Number(b);
      if (a !== "" && b !== "" && Number.isFinite(x) && Number.isFinite(y)) return Math.sign(x - y);
      return type === "number" ? Number.NaN : a < b ? -1 : a > b ? 1 : 0;
    }
    case "version": {
      const pa = a.split(".").map((s) => Number.parseInt(s, 10) || 0);
      const pb = b.split(".").map((s) => Number.parseInt(s, 10) || 0);
      for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
        const d = (pa[i] ?? 0) - (pb[i] ?? 0);
        if (d !== 0) return Math.sign(d);
      }
      return 0;
    }
    case "date":
      return Math.sign(Date.parse(a) - parseDate(b));
    case "string":
      return a < b ? -1 : a > b ? 1 : 0;
  }
}

/** The guide's date formats: 2018-06-18T22:28:28+00:00, …Z, 2018-06-18T22:28:28 (UTC), 2018-06-18. */
function parseDate(text: string): number {
  const withZone = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$/.test(text) ? `${text}Z` : /^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text;
  return Date.parse(withZone);
}

function fullMatch(pattern: string): RegExp {
  // Java's Pattern.matches semantics: the whole value must match.
  return new RegExp(`^(?:${pattern})$`);
}

class Parser {
  pos = 0;
  readonly #text: string;

  constructor(text: string) {
    this.#text = text;
  }

  atEnd(): boolean {
    return this.pos >= this.#text.length;
  }

  rest(): string {
    return this.#text.slice(this.pos);
  }

  skipSpace(): void {
    while (!this.atEnd() && /\s/.test(this.#text[this.pos]!)) this.pos++;
  }

  parseOr(): QueryNode {
    let left = this.parseAnd();
    for (;;) {
      this.skipSpace();
      if (!this.#keyword(["or", "||"])) return left;
      left = { kind: "or", left, right: this.parseAnd() };
    }
  }

  parseAnd(): QueryNode {
    let left = this.parseNot();
    for (;;) {
      this.skipSpace();
      if (!this.#keyword(["and", "&&"])) return left;
      left = { kind: "and", left, right: this.parseNot() };
    }
  }

  parseNot(): QueryNode {
    this.skipSpace();
    if (this.#keyword(["not"]) || this.#bang()) return { kind: "not", operand: this.parseNot() };
    if (this.#text[this.pos] === "(") {
      this.pos++;
      const inner = this.parseOr();
      this.skipSpace();
      if (this.#text[this.pos] !== ")") throw new QueryError(`missing ")" at position ${this.pos + 1}`);
      this.pos++;
      return inner;
    }
    return this.#comparison();
  }

  /** `and`, `or`, `not` as whole words (followed by space or "("), or the symbolic forms. */
  #keyword(words: string[]): boolean {
    for (const w of words) {
      if (!this.#text.startsWith(w, this.pos)) continue;
      const next = this.#text[this.pos + w.length];
      const symbolic = !/[a-z]/.test(w);
      if (symbolic || next === undefined || /[\s(]/.test(next)) {
        this.pos += w.length;
        return true;
      }
    }
    return false;
  }

  /** A prefix "!" (negation) as opposed to the operators that start with "!". */
  #bang(): boolean {
    if (this.#text[this.pos] !== "!") return false;
    const next = this.#text[this.pos + 1];
    if (next === "=" || next === "~" || this.#text.startsWith("!in", this.pos) || this.#text.startsWith("!exists", this.pos)) return false;
    this.pos++;
    return true;
  }

  #comparison(): QueryNode {
    const start = this.pos;
    const word = this.#word();
    if (word === "") throw new QueryError(`expected a subject at position ${start + 1}`);
    const subject = subjectOf(word);
    this.skipSpace();
    const opStart = this.pos;
    const opWord = this.#operatorWord();
    const op = OPERATOR_WORDS[opWord];
    if (op === undefined) throw new QueryError(`unknown operator "${opWord}" at position ${opStart + 1}`);
    const allowed = VALID_OPERATORS[subject.kind];
    if (allowed !== undefined && !allowed.includes(op)) throw new QueryError(`operator "${opWord}" is not valid for ${word}`);
    if (op === "exists" || op === "!exists") return { kind: "cmp", subject, op, args: [] };
    this.skipSpace();
    const args = op === "in" || op === "!in" ? this.#list() : [this.#value()];
    if (op === "=~" || op === "!~") {
      try {
        fullMatch(args[0]!);
      } catch {
        throw new QueryError(`"${args[0]}" is not a valid pattern`);
      }
    }
    if (subject.kind === "registeredAt" && Number.isNaN(parseDate(args[0]!))) {
      throw new QueryError(`"${args[0]}" is not a date (use 2018-06-18T22:28:28Z, 2018-06-18T22:28:28 or 2018-06-18)`);
    }
    return { kind: "cmp", subject, op, args };
  }

  /** A run of characters up to space, parentheses or an operator symbol. */
  #word(): string {
    const m = /^[^\s()=!<>~\[\],]+/.exec(this.rest());
    if (m === null) return "";
    this.pos += m[0].length;
    return m[0];
  }

  #operatorWord(): string {
    const m = /^(==|!=|>=|<=|=~|!~|!exists|!in\b|>|<|[a-z_]+)/.exec(this.rest());
    if (m === null) return this.rest().slice(0, 10);
    this.pos += m[0].length;
    return m[0];
  }

  /** A literal: quoted, or everything up to whitespace / a ")" that closes an enclosing group. */
  #value(): string {
    const quote = this.#text[this.pos];
    if (quote === "'" || quote === '"') return this.#quoted(quote);
    let depth = 0;
    const start = this.pos;
    while (!this.atEnd()) {
      const c = this.#text[this.pos]!;
      if (/\s/.test(c)) break;
      if (c === "(") depth++;
      if (c === ")") {
        if (depth === 0) break;
        depth--;
      }
      this.pos++;
    }
    if (this.pos === start) throw new QueryError(`expected a value at position ${start + 1}`);
    return this.#text.slice(start, this.pos);
  }

  #quoted(quote: string): string {
    const end = this.#text.indexOf(quote, this.pos + 1);
    if (end < 0) throw new QueryError(`unterminated ${quote} at position ${this.pos + 1}`);
    const value = this.#text.slice(this.pos + 1, end);
    this.pos = end + 1;
    return value;
  }

  /** `[a, b]` (the guide's form) or `(a, b)`. */
  #list(): string[] {
    const open = this.#text[this.pos];
    const close = open === "[" ? "]" : open === "(" ? ")" : undefined;
    if (close === undefined) throw new QueryError(`expected an argument list like [a, b] at position ${this.pos + 1}`);
    this.pos++;
    const items: string[] = [];
    for (;;) {
      this.skipSpace();
      const c = this.#text[this.pos];
      if (c === undefined) throw new QueryError(`missing "${close}"`);
      if (c === close && items.length === 0) {
        this.pos++;
        return items;
      }
      if (c === "'" || c === '"') items.push(this.#quoted(c));
      else {
        const m = new RegExp(`^[^,\\s\\${close}]+`).exec(this.rest());
        if (m === null) throw new QueryError(`expected a value at position ${this.pos + 1}`);
        items.push(m[0]);
        this.pos += m[0].length;
      }
      this.skipSpace();
      const sep = this.#text[this.pos];
      this.pos++;
      if (sep === close) return items;
      if (sep !== ",") throw new QueryError(`expected "," or "${close}" in the argument list`);
    }
  }
}

function subjectOf(word: string): Subject {
  if (word.startsWith("attribute:")) {
    const name = word.slice("attribute:".length);
    if (name === "") throw new QueryError("attribute: needs an attribute name");
    return { kind: "attribute", name };
  }
  switch (word) {
    case "task:group":
      return { kind: "taskGroup" };
    case "agentConnected":
    case "agentVersion":
    case "ec2InstanceId":
    case "registeredAt":
    case "runningTasksCount":
      return { kind: word };
    default:
      throw new QueryError(`unknown subject "${word}"`);
  }
}
