// Pre-serialized responses: the value stays a plain typed response, the adapter sends the attached
// JSON as is, and (with output validation on) refuses JSON that differs from the value's serialization.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { EcsOperations } from "../../generated/operations.ts";
import type { OperationContext } from "../../src/operations/context.ts";
import { silentLogger } from "../../src/runtime/logger.ts";
import { createProtocolHandler } from "../../src/runtime/protocol.ts";
import { rawJsonByteLength, rawJsonOf, rawJsonText, withRawJson, type RawJson } from "../../src/runtime/raw-json.ts";

const TARGET = "AmazonEC2ContainerServiceV20141113.ListClusters";

describe("withRawJson", () => {
  it("attaches the JSON invisibly: JSON.stringify, keys and spreads ignore it", () => {
    const value = withRawJson({ clusterArns: ["a"] }, '{"clusterArns":["a"]}');
    expect(rawJsonOf(value)).toBe('{"clusterArns":["a"]}');
    expect(JSON.stringify(value)).toBe('{"clusterArns":["a"]}');
    expect(Object.keys(value)).toEqual(["clusterArns"]);
    expect(rawJsonOf({ ...value })).toBeUndefined();
    expect(rawJsonOf({ clusterArns: [] })).toBeUndefined();
    expect(rawJsonOf(undefined)).toBeUndefined();
    expect(rawJsonOf("text")).toBeUndefined();
  });

  it("measures and reads text, bytes and chunks alike", () => {
    const text = '{"name":"caf\u00e9 \u{1F600}"}';
    const bytes = Buffer.from(text, "utf8");
    const chunks = [bytes.subarray(0, 5), bytes.subarray(5, 13), bytes.subarray(13)];
    for (const form of [text, bytes, chunks] as RawJson[]) {
      expect(rawJsonByteLength(form)).toBe(bytes.length);
      expect(rawJsonText(form)).toBe(text);
    }
    expect(rawJsonByteLength(text)).toBeGreaterThan(text.length);
  });
});

describe("protocol adapter with pre-serialized answers", () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
    server = undefined;
  });

  /** A server whose ListClusters answers { clusterArns: ["a", "b"] } with `raw` attached. */
  async function serve(raw: RawJson, validateOutputs: boolean): Promise<string> {
    const operations: Partial<EcsOperations<OperationContext>> = {
      async listClusters() {
        return withRawJson({ clusterArns: ["a", "b"] }, raw);
      },
    };
    const handler = createProtocolHandler({ operations, proxy: undefined, logger: silentLogger, region: "us-east-1", maxBodyBytes: 1 << 20, validateOutputs });
    server = createServer(handler);
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  }

  async function call(url: string): Promise<{ status: number; body: string; length: string | null; json: any }> {
    const res = await fetch(url, { method: "POST", headers: { "x-amz-target": TARGET, "content-type": "application/x-amz-json-1.1" }, body: "{}" });
    const body = await res.text();
    return { status: res.status, body, length: res.headers.get("content-length"), json: JSON.parse(body) };
  }

  it("sends the attached text, bytes or chunks exactly, with their byte length", async () => {
    // Extra spaces: only the attached JSON could produce them, so this proves it was sent as is.
    const text = '{"clusterArns": ["a", "b"]}';
    const bytes = Buffer.from(text);
    for (const raw of [text, bytes, [bytes.subarray(0, 3), bytes.subarray(3, 20), bytes.subarray(20)]] as RawJson[]) {
      const url = await serve(raw, false);
      const res = await call(url);
      expect(res).toMatchObject({ status: 200, body: text, length: String(bytes.length) });
      await new Promise<void>((resolve) => server!.close(() => resolve()));
      server = undefined;
    }
  });

  it("with output validation on, accepts JSON identical to the serialized value", async () => {
    const exact = Buffer.from('{"clusterArns":["a","b"]}');
    const res = await call(await serve([exact.subarray(0, 10), exact.subarray(10)], true));
    expect(res).toMatchObject({ status: 200, body: '{"clusterArns":["a","b"]}' });
  });

  it("with output validation on, refuses JSON that differs from the serialized value", async () => {
    for (const raw of ['{"clusterArns": ["a", "b"]}', '{"clusterArns":["a"]}']) {
      const res = await call(await serve(raw, true));
      expect(res.status).toBe(500);
      expect(res.json.__type).toBe("InternalFailure");
      expect(res.json.message).toMatch(/ListClusters produced pre-serialized JSON that differs/);
      await new Promise<void>((resolve) => server!.close(() => resolve()));
      server = undefined;
    }
  });
});
