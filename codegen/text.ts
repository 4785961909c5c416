// Layout helpers for emitted literals: short ones stay on one line, long ones get one item per line, so the
// generated files stay readable and diff well.

const MAX_INLINE = 100;

/** `[a, b]`, or one item per line when that would be long. */
export function arrayLiteral(items: readonly string[], suffix = ""): string {
  const inline = `[${items.join(", ")}]${suffix}`;
  if (inline.length <= MAX_INLINE || items.length < 2) return inline;
  return `[\n${items.map((item) => `  ${item},`).join("\n")}\n]${suffix}`;
}

/** `A | B`, or a leading-bar list when that would be long. */
export function unionType(members: readonly string[]): string {
  const inline = members.join(" | ");
  if (inline.length <= MAX_INLINE || members.length < 2) return inline;
  return `\n${members.map((member) => `  | ${member}`).join("\n")}`;
}

export function quoted(items: readonly (string | number)[]): string[] {
  return items.map((item) => JSON.stringify(item));
}
