import { request } from "node:http";
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startChildServer, removeDataDir, tempDataDir, TARGET, type ChildServer } from "./support/child-server.ts";
import { nextRequest, rng } from "../support/fuzz-corpus.ts";

const LIMIT = 65_536;

describe("bad input at volume", () => {
  const dataDir = tempDataDir();
  let server: ChildServer;

  beforeAll(async () => {
    server = await startChildServer({ dataDir, env: { MAX_BODY_BYTES: String(LIMIT), LOG_LEVEL: "warn" } });
  });
  afterAll(async () => {
    await server?.stop();
    removeDataDir(dataDir);
  });

  it("10,000 fuzzed requests: no 5xx, no crash, RSS bounded", { timeout: 150_000 }, async () => {
    const seed = Number(process.env["FUZZ_SEED"] ?? 20261128);
    const total = Number(process.env["RELIABILITY_FUZZ_COUNT"] ?? 10_000);
    const next = rng(seed);
    const serverErrors: string[] = [];
    const statuses = new Map<number, number>();
    let rssAt2k = Number.NaN;
    for (let i = 0; i < total; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, total - i) }, async () => {
          const { operation, body } = nextRequest(next);
          const res = await server.call(operation, body);
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (res.status >= 500) serverErrors.push(`${operation} ${body} -> ${JSON.stringify(res.json)}`);
          else if (res.status !== 200) expect(typeof res.json.__type, `${operation} ${body}`).toBe("string");
        }),
      );
      if (i + 50 === 2000) rssAt2k = server.rssBytes();
    }
    const rssAtEnd = server.rssBytes();
    expect(serverErrors.slice(0, 5)).toEqual([]);
    expect(server.exited()).toBe(false);
    expect(statuses.get(200) ?? 0).toBeGreaterThan(0);
    expect((await server.call("ListClusters", {})).status).toBe(200);
    // Five times the requests must not mean a proportionally larger heap: allow 50% + 32 MiB of noise.
    expect(rssAtEnd, `RSS after 2k ${rssAt2k}, after ${total} ${rssAtEnd}`).toBeLessThan(rssAt2k * 1.5 + 32 * 2 ** 20);
  });

  const post = (body: string | Buffer, chunked: boolean): Promise<{ status: number; json: any }> =>
    new Promise((resolve, reject) => {
      const req = request(server.url, {
        method: "POST",
        headers: {
          "content-type": "application/x-amz-json-1.1",
          "x-amz-target": `${TARGET}.ListClusters`,
          ...(chunked ? { "transfer-encoding": "chunked" } : { "content-length": Buffer.byteLength(body) }),
        },
      });
      req.on("error", reject);
      req.on("response", (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString("utf8")) }));
      });
      if (chunked) {
        // Several chunks, so the limit is enforced while streaming, not from a header.
        const b = Buffer.from(body);
        const step = Math.ceil(b.length / 4);
        for (let i = 0; i < b.length; i += step) req.write(b.subarray(i, i + step));
        req.end();
      } else req.end(body);
    });

  /** A valid JSON body of exactly n bytes (whitespace padding is legal JSON). */
  const bodyOf = (n: number): string => "{" + " ".repeat(n - 2) + "}";

  it.each([false, true])("bodies at the size limit (chunked: %s): LIMIT accepted, LIMIT+1 rejected with 413", { timeout: 20_000 }, async (chunked) => {
    const at = await post(bodyOf(LIMIT), chunked);
    expect(at.status).toBe(200);
    expect(at.json.clusterArns).toBeDefined();
    const over = await post(bodyOf(LIMIT + 1), chunked);
    expect(over.status).toBe(413);
    expect(over.json.__type).toContain("RequestEntityTooLargeException");
    // The server keeps serving afterwards.
    expect((await server.call("ListClusters", {})).status).toBe(200);
  });

  it("slow-loris clients sending headers byte by byte do not block other clients", { timeout: 30_000 }, async () => {
    const head = `POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: ${TARGET}.ListClusters\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: 2\r\n\r\n{}`;
    const port = Number(new URL(server.url).port);
    const sockets: Socket[] = [];
    const timers: NodeJS.Timeout[] = [];
    try {
      for (let s = 0; s < 50; s++) {
        const socket = connect(port, "127.0.0.1");
        socket.on("error", () => {});
        sockets.push(socket);
        let i = 0;
        timers.push(
          setInterval(() => {
            if (i < head.length - 20) socket.write(head[i++]!);
          }, 50),
        );
      }
      // Let every slow client get its connection accepted and start dribbling.
      await Promise.all(sockets.map((s) => new Promise((r) => (s.connecting ? s.once("connect", r) : r(undefined)))));
      const answers = await Promise.all(Array.from({ length: 100 }, () => server.call("ListClusters", {})));
      expect(answers.map((a) => a.status)).toEqual(Array.from({ length: 100 }, () => 200));
      expect(server.exited()).toBe(false);
    } finally {
      timers.forEach(clearInterval);
      sockets.forEach((s) => s.destroy());
    }
  });
});
