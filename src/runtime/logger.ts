import type { LogLevel } from "./config.ts";

export interface Logger {
  debug(event: string, fields?: Record<string, unknown>): void;
  info(event: string, fields?: Record<string, unknown>): void;
  warn(event: string, fields?: Record<string, unknown>): void;
  error(event: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** One JSON object per line, so logs can be grepped by humans and parsed by machines. */
export function createLogger(
  level: LogLevel = "info",
  sink: (line: string) => void = (line) => process.stderr.write(line + "\n"),
  base: Record<string, unknown> = {},
): Logger {
  const emit = (lvl: LogLevel, event: string, fields?: Record<string, unknown>): void => {
    if (RANK[lvl] < RANK[level]) return;
    sink(JSON.stringify({ time: new Date().toISOString(), level: lvl, event, ...base, ...fields }, errorReplacer));
  };
  return {
    debug: (e, f) => emit("debug", e, f),
    info: (e, f) => emit("info", e, f),
    warn: (e, f) => emit("warn", e, f),
    error: (e, f) => emit("error", e, f),
    child: (fields) => createLogger(level, sink, { ...base, ...fields }),
  };
}

export const silentLogger: Logger = createLogger("error", () => {});

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}
