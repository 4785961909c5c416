import { round } from "./stats.ts";

/** One row of a printed table: column → cell. */
export type Row = Record<string, string | number | boolean | undefined>;

/** Prints an aligned text table (what a human reads). */
export function printTable(title: string, rows: readonly Row[]): void {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: Row[string]): string => (v === undefined ? "" : typeof v === "number" ? String(round(v)) : String(v));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (cells: string[]): string => cells.map((s, i) => s.padEnd(widths[i]!)).join("  ").trimEnd();
  process.stdout.write(`\n## ${title}\n`);
  process.stdout.write(line(columns) + "\n");
  process.stdout.write(line(widths.map((w) => "-".repeat(w))) + "\n");
  for (const r of rows) process.stdout.write(line(columns.map((c) => cell(r[c]))) + "\n");
}

export function note(text: string): void {
  process.stdout.write(`${text}\n`);
}

/** Progress for the operator; stderr so stdout stays the report. */
export function progress(text: string): void {
  process.stderr.write(`  … ${text}\n`);
}

/** The final machine-readable line of every benchmark; run-all.ts picks up the last line starting with `{"benchmark"`. */
export function emitResult(benchmark: string, result: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify({ benchmark, ...result }) + "\n");
}

export const RESULT_PREFIX = '{"benchmark"';
