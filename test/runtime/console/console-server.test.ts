import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Task } from "../../../generated/shapes.ts";
import { createConsole } from "../../../src/runtime/console/console-server.ts";
import { silentLogger } from "../../../src/runtime/logger.ts";
import { startTestServer, type TestServer } from "../../support/server.ts";
import { eventually } from "../../support/eventually.ts";
import { collectSse, sseEvents } from "../../support/sse.ts";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";

describe("the console on the API's port (control plane only)", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t?.close();
  });

  it("serves the page at /console/ with the server's facts inline", async () => {
    const redirect = await fetch(`${t.url}/console`, { redirect: "manual" });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get("location")).toBe("/console/");
    const res = await fetch(`${t.url}/console/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const html = await res.text();
    const info = JSON.parse(/<script type="application\/json" id="console-info">(.*?)<\/script>/.exec(html)![1]!);
    expect(info).toMatchObject({ region: "us-east-1", live: false, logs: false });
    // Emulated operations are available; services are neither emulated nor forwarded here.
    expect(info.operations).toMatchObject({ ListClusters: true, RunTask: false, DescribeServices: false, ListContainerInstances: false });
    // Nothing is loaded from elsewhere: the page works offline.
    expect(html).not.toMatch(/https?:\/\//);
  });

  it("serves the page's modules and style with validators, and nothing outside its folder", async () => {
    const js = await fetch(`${t.url}/console/views/tasks.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    const etag = js.headers.get("etag")!;
    await js.arrayBuffer();
    const again = await fetch(`${t.url}/console/views/tasks.js`, { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);
    expect((await fetch(`${t.url}/console/style.css`)).headers.get("content-type")).toBe("text/css; charset=utf-8");
    // Sent as is (fetch would normalise the dots away).
    for (const path of ["/console/..%2fconsole-server.ts", "/console/../../package.json", "/console/nope.js", "/console/views/../../../package.json", "/console/sse.ts"]) {
      expect(await rawGetStatus(t.url, path), path).toBe(404);
    }
  });

  it("only serves GET: actions are ECS API calls", async () => {
    const res = await fetch(`${t.url}/console/`, { method: "POST", body: "{}" });
    expect(res.status).toBe(405);
  });

  it("leaves everything else to the ECS API", async () => {
    const res = await t.call("ListClusters", {});
    expect(res.status).toBe(200);
    const other = await fetch(`${t.url}/consolex`);
    expect(other.status).toBe(400);
    expect(((await other.json()) as any).__type).toBe("UnknownOperationException");
  });

  it("says when live task changes and logs are off (no Docker engine)", async () => {
    const [hello] = await collectSse(`${t.url}/console/api/task-changes`, () => true);
    expect(hello).toEqual({ event: "hello", data: { live: false } });
    const logs = await collectSse(`${t.url}/console/api/logs?task=arn:aws:ecs:us-east-1:000000000000:task/default/x&container=app`, (e) => e.event === "end");
    expect(logs.at(-1)?.data.reason).toMatch(/Docker engine/);
    for (const query of ["task=x&container=app&tail=-1", "task=x&container=app&since=yesterday", "container=app"]) {
      const bad = await fetch(`${t.url}/console/api/logs?${query}`);
      expect(bad.status, query).toBe(400);
      await bad.arrayBuffer();
    }
  });
});

describe("CONSOLE=false", () => {
  it("turns the console off: /console/ is an ECS API path again", async () => {
    const t = await startTestServer({ env: { CONSOLE: "false" } });
    try {
      const res = await fetch(`${t.url}/console/`);
      expect(res.status).toBe(400);
      expect(((await res.json()) as any).__type).toBe("UnknownOperationException");
    } finally {
      await t.close();
    }
  });
});

describe("the task-changes stream", () => {
  it("sends every task snapshot as DescribeTasks would show it, and unsubscribes when the page goes away", async () => {
    const listeners = new Set<(task: Task) => void>();
    const ui = createConsole({
      region: "us-east-1",
      accountId: "000000000000",
      operationAvailable: () => true,
      tasks: { subscribe: (l) => (listeners.add(l), () => listeners.delete(l)) },
      logger: silentLogger,
    });
    const http = createServer((req, res) => {
      if (!ui.handle(req, res)) res.writeHead(404).end();
    });
    await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/console/api/task-changes`;
    try {
      const abort = new AbortController();
      const events = sseEvents(url, abort.signal);
      expect((await events.next()).value).toEqual({ event: "hello", data: { live: true } });
      expect(listeners.size).toBe(1);
      const createdAt = new Date("2024-01-01T00:00:01.5Z");
      for (const l of listeners) l({ taskArn: "arn:aws:ecs:us-east-1:000000000000:task/default/abc", lastStatus: "RUNNING", createdAt });
      expect((await events.next()).value).toEqual({ event: "task", data: { taskArn: "arn:aws:ecs:us-east-1:000000000000:task/default/abc", lastStatus: "RUNNING", createdAt: 1704067201.5 } });
      abort.abort();
      await events.return(undefined);
      await eventually("the stream's subscription to end", () => (listeners.size === 0 ? true : undefined), 5000, 10);
    } finally {
      ui.close();
      http.closeAllConnections();
      await new Promise((r) => http.close(r));
    }
  });
});

function rawGetStatus(base: string, path: string): Promise<number> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method: "GET" }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end();
  });
}
