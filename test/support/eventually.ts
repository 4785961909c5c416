/**
 * Polls `check` until it returns a value other than undefined, or fails after `timeoutMs` naming what it
 * waited for (and the last error `check` threw). For state no event announces, e.g. another process.
 */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 30_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last === undefined ? "" : `: ${String(last)}`}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
