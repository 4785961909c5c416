import { InvalidParameterException } from "../../generated/errors.ts";

// Opaque pagination tokens: base64url JSON naming the listing they belong to and the last key returned,
// so a token from one listing cannot be replayed against another.
export function encodeToken(kind: string, after: unknown): string {
  return Buffer.from(JSON.stringify({ k: kind, a: after })).toString("base64url");
}

export function decodeToken<T>(token: string, kind: string, check: (value: unknown) => value is T): T {
  try {
    const parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as { k?: unknown; a?: unknown };
    if (parsed.k === kind && check(parsed.a)) return parsed.a;
  } catch {
    // falls through to the modeled error
  }
  throw invalidToken();
}

export function invalidToken(): InvalidParameterException {
  return new InvalidParameterException("Invalid nextToken. Use the nextToken value returned by a previous request.");
}

export function isString(value: unknown): value is string {
  return typeof value === "string";
}

export function isNonNegativeInteger(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0;
}
