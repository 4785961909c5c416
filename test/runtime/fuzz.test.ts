import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nextRequest, rng } from "../support/fuzz-corpus.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

describe("seeded fuzzing of valid requests", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t.close();
  });

  it("answers thousands of mutated requests without a 5xx and keeps serving", async () => {
    const seed = Number(process.env["FUZZ_SEED"] ?? 20261128);
    const count = Number(process.env["FUZZ_COUNT"] ?? 3000);
    const next = rng(seed);
    const statuses = new Map<number, number>();
    const serverErrors: string[] = [];
    for (let i = 0; i < count; i += 50) {
      const batch = Array.from({ length: Math.min(50, count - i) }, () => {
        const { operation, body } = nextRequest(next);
        return t.call(operation, body).then((res) => {
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (res.status >= 500) serverErrors.push(`${operation} ${body} -> ${JSON.stringify(res.json)}`);
          else if (res.status !== 200) expect(typeof res.json.__type).toBe("string");
        });
      });
      await Promise.all(batch);
    }
    expect(serverErrors.slice(0, 5)).toEqual([]);
    expect(statuses.get(200) ?? 0).toBeGreaterThan(0);
    expect((await t.call("ListClusters", {})).status).toBe(200);
  });
});
