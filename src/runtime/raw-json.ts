/**
 * A response value that also carries its own wire JSON, so the protocol adapter can send a
 * pre-serialized body (e.g. DescribeTasks built from each task's cached JSON) instead of walking the
 * value through the generated serializer and JSON.stringify again.
 *
 * The value itself stays a complete typed response: everything that reads it as a value (tests that
 * call operations directly, output validation) behaves as before. The JSON is attached under a
 * non-enumerable symbol, so it never leaks into JSON, spreads or equality checks. The adapter, when
 * it validates outputs (tests), also checks that the JSON is exactly what serializing the value
 * would produce, so a stale or wrong cache cannot go unnoticed there.
 */
const RAW_JSON: unique symbol = Symbol("local-ecs-api.raw-json");

/**
 * The wire JSON: text, its UTF-8 bytes, or UTF-8 chunks to send one after the other. Cached bytes
 * skip the string → UTF-8 encoding, and chunks skip copying cached pieces into a fresh buffer per
 * answer (the socket takes them in one writev); both dominate large answers.
 */
export type RawJson = string | Buffer | readonly Buffer[];

interface WithRawJson {
  [RAW_JSON]?: RawJson;
}

/** Attaches `json` (the exact wire JSON of `value`) to `value`; returns `value`. */
export function withRawJson<T extends object>(value: T, json: RawJson): T {
  Object.defineProperty(value, RAW_JSON, { value: json, enumerable: false, writable: false, configurable: false });
  return value;
}

/** The wire JSON attached by `withRawJson`, if any. */
export function rawJsonOf(value: unknown): RawJson | undefined {
  if (value === null || typeof value !== "object") return undefined;
  return (value as WithRawJson)[RAW_JSON];
}

/** Bytes `json` takes on the wire (Content-Length). */
export function rawJsonByteLength(json: RawJson): number {
  if (typeof json === "string") return Buffer.byteLength(json, "utf8");
  if (Buffer.isBuffer(json)) return json.length;
  let n = 0;
  for (const chunk of json) n += chunk.length;
  return n;
}

/** `json` as text (for checks; the hot path never needs it). */
export function rawJsonText(json: RawJson): string {
  if (typeof json === "string") return json;
  return (Buffer.isBuffer(json) ? json : Buffer.concat(json)).toString("utf8");
}
