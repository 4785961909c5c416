// A request body over MAX_BODY_BYTES is answered with RequestEntityTooLargeException (413) only after the
// body has been read, because most clients write the whole body before they read anything: answering
// and closing first gave botocore (urllib3) EPIPE / "Broken pipe" and a retry instead of the error.
import { execFile } from "node:child_process";
import { connect, type Socket } from "node:net";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OVERSIZED_BODY_DISCARD_BYTES } from "../../src/runtime/protocol.ts";
import { startTestServer, TARGET, type TestServer } from "../support/server.ts";

const run = promisify(execFile);
const FIVE_MIB = 5 * 1024 * 1024;

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  json: any;
}

/** Reads one HTTP/1.1 response with a content-length body from a socket. */
function readResponse(socket: Socket): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    let buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buffer = Buffer.concat([buffer, chunk]);
      const end = buffer.indexOf("\r\n\r\n");
      if (end < 0) return;
      const [statusLine, ...lines] = buffer.subarray(0, end).toString("latin1").split("\r\n");
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]));
      const length = Number(headers["content-length"]);
      if (buffer.length < end + 4 + length) return;
      socket.off("data", onData);
      socket.off("error", reject);
      resolve({ status: Number(statusLine!.split(" ")[1]), headers, json: JSON.parse(buffer.subarray(end + 4, end + 4 + length).toString("utf8")) });
    };
    socket.on("data", onData);
    socket.once("error", reject);
  });
}

function write(socket: Socket, data: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => socket.write(data, (err) => (err ? reject(err) : resolve())));
}

function head(operation: string, port: number, length: number | "chunked"): string {
  return (
    `POST / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Amz-Target: ${TARGET}.${operation}\r\n` +
    `Content-Type: application/x-amz-json-1.1\r\n` +
    (length === "chunked" ? "Transfer-Encoding: chunked\r\n" : `Content-Length: ${length}\r\n`) +
    "\r\n"
  );
}

describe("oversized request bodies", () => {
  let t: TestServer;
  let port: number;
  const sockets: Socket[] = [];

  const open = async (): Promise<Socket> => {
    const socket = connect(port, "127.0.0.1");
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    return socket;
  };

  beforeAll(async () => {
    t = await startTestServer();
    port = Number(new URL(t.url).port);
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await t.close();
  });

  it("a client that writes all 5 MiB before reading gets the 413, and the connection stays usable", async () => {
    const socket = await open();
    const body = Buffer.from(JSON.stringify({ family: "x".repeat(FIVE_MIB) }));
    // Every byte is written (the callback fires once the kernel took it) before anything is read.
    await write(socket, head("RegisterTaskDefinition", port, body.length));
    await write(socket, body);
    const answer = await readResponse(socket);
    expect(answer.status).toBe(413);
    expect(answer.json.__type).toBe("RequestEntityTooLargeException");
    expect(answer.json.message).toMatch(/exceeds the limit of 1048576 bytes/);
    expect(answer.headers["connection"]).not.toBe("close");
    // The body was drained, so the next request on the same connection is parsed from the right place.
    await write(socket, head("ListClusters", port, 2) + "{}");
    const next = await readResponse(socket);
    expect(next.status).toBe(200);
    expect(next.json.clusterArns).toBeDefined();
  });

  it("the same for a chunked 5 MiB body", async () => {
    const socket = await open();
    await write(socket, head("RegisterTaskDefinition", port, "chunked"));
    const chunk = Buffer.alloc(256 * 1024, 0x20);
    for (let sent = 0; sent < FIVE_MIB; sent += chunk.length) await write(socket, `${chunk.length.toString(16)}\r\n${chunk.toString("latin1")}\r\n`);
    await write(socket, "0\r\n\r\n");
    const answer = await readResponse(socket);
    expect(answer.status).toBe(413);
    expect(answer.json.__type).toBe("RequestEntityTooLargeException");
  });

  it("a body declared past the discard cap is refused at once and the connection closed", async () => {
    const socket = await open();
    await write(socket, head("RegisterTaskDefinition", port, 1024 * 1024 + OVERSIZED_BODY_DISCARD_BYTES + 1));
    const answer = await readResponse(socket);
    expect(answer.status).toBe(413);
    expect(answer.json.__type).toBe("RequestEntityTooLargeException");
    expect(answer.headers["connection"]).toBe("close");
    await new Promise<void>((resolve) => (socket.closed ? resolve() : socket.once("close", () => resolve())));
  });

  it("Python's http.client (under urllib and botocore) sending headers, then the body, reads the 413", async () => {
    // Before the fix this was `BrokenPipeError: [Errno 32] Broken pipe`: the answer and the close came
    // right after the headers, while the client was still writing.
    const script = `
import sys, json, http.client, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
body = json.dumps({"family": "x" * (5 * 1024 * 1024)}).encode()
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
conn.putrequest("POST", "/")
conn.putheader("Content-Type", "application/x-amz-json-1.1")
conn.putheader("X-Amz-Target", "${TARGET}.RegisterTaskDefinition")
conn.putheader("Content-Length", str(len(body)))
try:
    conn.endheaders()
    conn.send(body)
    r = conn.getresponse()
    print(r.status, json.loads(r.read())["__type"])
except Exception as e:
    print(type(e).__name__, e)
`;
    const { stdout } = await run("python3", ["-c", script, t.url], { timeout: 60_000 });
    expect(stdout.trim()).toBe("413 RequestEntityTooLargeException");
  });

  it("boto3 reads RequestEntityTooLargeException for a 5 MiB request (no broken pipe, no retry)", async () => {
    const script = `
import sys, boto3, botocore.exceptions
ecs = boto3.client("ecs", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
try:
    ecs.register_task_definition(family="x" * (5 * 1024 * 1024), containerDefinitions=[{"name": "a", "image": "busybox", "memory": 64}])
    print("NO ERROR")
except botocore.exceptions.ClientError as e:
    meta = e.response["ResponseMetadata"]
    print(e.response["Error"]["Code"], meta["HTTPStatusCode"], meta.get("RetryAttempts"))
`;
    const { stdout } = await run("python3", ["-c", script, t.url], { timeout: 60_000 });
    expect(stdout.trim()).toBe("RequestEntityTooLargeException 413 0");
  });
});
