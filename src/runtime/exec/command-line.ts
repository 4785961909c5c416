/**
 * Splits ExecuteCommand's `command` string into argv the way the SSM agent does in a container
 * (Go's google/shlex): whitespace separates words; '…' is literal; "…" and a bare backslash escape
 * the next character; '#' at the start of a word comments out the rest of the line. No variables, no
 * globbing, no operators: `sh -c '…'` is how a user gets a shell. An empty command means `sh`.
 */
export type SplitResult = { ok: true; argv: string[] } | { ok: false; error: string };

const SPACE = new Set([" ", "\t", "\r", "\n"]);

export function splitCommandLine(command: string): SplitResult {
  const argv: string[] = [];
  let word: string | undefined;
  let i = 0;
  const chars = [...command];
  while (i < chars.length) {
    const c = chars[i]!;
    if (word === undefined) {
      if (SPACE.has(c)) {
        i++;
        continue;
      }
      if (c === "#") {
        while (i < chars.length && chars[i] !== "\n") i++;
        continue;
      }
      word = "";
    }
    if (SPACE.has(c)) {
      argv.push(word);
      word = undefined;
      i++;
    } else if (c === "\\") {
      if (i + 1 >= chars.length) return { ok: false, error: "EOF found after escape character" };
      word += chars[i + 1];
      i += 2;
    } else if (c === "'") {
      const end = chars.indexOf("'", i + 1);
      if (end < 0) return { ok: false, error: "EOF found when expecting closing quote" };
      word += chars.slice(i + 1, end).join("");
      i = end + 1;
    } else if (c === '"') {
      i++;
      for (;;) {
        if (i >= chars.length) return { ok: false, error: "EOF found when expecting closing quote" };
        const q = chars[i]!;
        if (q === '"') {
          i++;
          break;
        }
        if (q === "\\") {
          if (i + 1 >= chars.length) return { ok: false, error: "EOF found after escape character" };
          word += chars[i + 1];
          i += 2;
        } else {
          word += q;
          i++;
        }
      }
    } else {
      word += c;
      i++;
    }
  }
  if (word !== undefined) argv.push(word);
  return { ok: true, argv: argv.length === 0 ? ["sh"] : argv };
}
