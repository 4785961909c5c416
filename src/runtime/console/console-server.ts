// The web console under /console/ on the API's own port: the static page, plus two read-only
// Server-Sent Events streams it cannot get from the ECS API (task changes as they happen, and container
// logs). Every read of state and every action of the page goes through the public ECS operations
// (POST / with X-Amz-Target), so the console can do nothing the API would refuse.
import { createHash } from "node:crypto";
import { promises as fsp } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { serializeTask } from "../../../generated/serde.ts";
import type { Task } from "../../../generated/shapes.ts";
import type { Logger } from "../logger.ts";
import { LogsUnavailableError, type ContainerLogs } from "./container-logs.ts";
import { SseStream } from "./sse.ts";

/** The engine's change stream (its public `subscribe`). */
export interface TaskChanges {
  subscribe(listener: (task: Task) => void): () => void;
}

export interface ConsoleOptions {
  region: string;
  accountId: string;
  /** Whether the page may call an operation (served locally or forwarded upstream). */
  operationAvailable(operation: string): boolean;
  /** Absent without the Docker engine: no live task changes. */
  tasks?: TaskChanges | undefined;
  /** Absent without the Docker engine: no logs. */
  logs?: ContainerLogs | undefined;
  logger: Logger;
}

export interface WebConsole {
  /** Serves the request when it is for /console; false when it is not (the ECS API's then). */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  /** Ends every open stream. */
  close(): void;
}

/** The operations the page uses; it shows an empty state for those the server cannot answer. */
const PAGE_OPERATIONS = [
  "ListClusters", "DescribeClusters", "ListTasks", "DescribeTasks", "RunTask", "StopTask",
  "ListTaskDefinitionFamilies", "ListTaskDefinitions", "DescribeTaskDefinition",
  "ListServices", "DescribeServices", "UpdateService", "ListContainerInstances", "DescribeContainerInstances",
] as const;

const PAGE_DIR = new URL("./page/", import.meta.url);
const STATIC_FILE = /^\/console\/((?:views\/)?[a-z0-9-]+\.(?:js|css))$/;
const CONTENT_TYPES: Record<string, string> = {
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  html: "text/html; charset=utf-8",
};
const MAX_TAIL = 10_000;

interface StaticFile {
  body: Buffer;
  etag: string;
  type: string;
}

export function createConsole(options: ConsoleOptions): WebConsole {
  const streams = new Set<SseStream>();
  const files = new Map<string, Promise<StaticFile | undefined>>();
  const log = options.logger.child({ component: "console" });

  const info = {
    region: options.region,
    accountId: options.accountId,
    live: options.tasks !== undefined,
    logs: options.logs !== undefined,
    operations: Object.fromEntries(PAGE_OPERATIONS.map((op) => [op, options.operationAvailable(op)])),
  };

  // Files are read once and kept (a few tens of KB); the index carries the server's facts inline, so the
  // first paint needs no extra round trip.
  function staticFile(name: string): Promise<StaticFile | undefined> {
    let file = files.get(name);
    if (file === undefined) {
      file = fsp.readFile(new URL(name, PAGE_DIR)).then(
        async (raw) => {
          const ext = name.slice(name.lastIndexOf(".") + 1);
          const body = name === "index.html" ? await indexPage(raw.toString("utf8")) : raw;
          return { body, etag: `"${createHash("sha1").update(body).digest("base64url")}"`, type: CONTENT_TYPES[ext] ?? "application/octet-stream" };
        },
        () => undefined,
      );
      files.set(name, file);
    }
    return file;
  }

  // The style sheet goes inline: one request less before the first paint.
  async function indexPage(html: string): Promise<Buffer> {
    const css = await fsp.readFile(new URL("style.css", PAGE_DIR), "utf8");
    return Buffer.from(html.replace('<link rel="stylesheet" href="style.css">', () => `<style>\n${css}</style>`).replace("{{CONSOLE_INFO}}", () => inlineJson(info)));
  }

  async function serveFile(req: IncomingMessage, res: ServerResponse, name: string): Promise<void> {
    const file = await staticFile(name);
    if (file === undefined) return notFound(res);
    const headers = { etag: file.etag, "cache-control": "no-cache", "x-content-type-options": "nosniff" };
    if (req.headers["if-none-match"] === file.etag) {
      res.writeHead(304, headers).end();
      return;
    }
    res.writeHead(200, { ...headers, "content-type": file.type, "content-length": file.body.length }).end(file.body);
  }

  function taskChanges(req: IncomingMessage, res: ServerResponse): void {
    const sse = new SseStream(req, res);
    streams.add(sse);
    sse.send("hello", { live: options.tasks !== undefined });
    const unsubscribe = options.tasks?.subscribe((task) => sse.send("task", serializeTask(task))) ?? (() => {});
    sse.signal.addEventListener("abort", () => {
      unsubscribe();
      streams.delete(sse);
    });
  }

  function containerLogs(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): void {
    const taskArn = query.get("task") ?? "";
    const container = query.get("container") ?? "";
    const tailText = query.get("tail");
    const tail = tailText === null ? undefined : Number(tailText);
    const sinceText = query.get("since");
    const since = sinceText === null ? undefined : new Date(sinceText);
    if (taskArn === "" || container === "" || (tail !== undefined && (!Number.isInteger(tail) || tail < 0)) || (since !== undefined && Number.isNaN(since.getTime()))) {
      res.writeHead(400, { "content-type": "text/plain; charset=utf-8" }).end("task and container are required; tail is a non-negative integer, since an ISO time");
      return;
    }
    const sse = new SseStream(req, res);
    streams.add(sse);
    sse.signal.addEventListener("abort", () => streams.delete(sse));
    const follow = query.get("follow") !== "false";
    void (async () => {
      try {
        if (options.logs === undefined) throw new LogsUnavailableError("Logs need the Docker engine, and this server runs without it.");
        const lines = options.logs.follow(taskArn, container, { tail: Math.min(tail ?? MAX_TAIL, MAX_TAIL), since, follow }, sse.signal);
        for await (const line of lines) {
          if (sse.closed) break;
          sse.send("line", line);
        }
        sse.send("end", { reason: "The container's output ended." });
      } catch (err) {
        if (!(err instanceof LogsUnavailableError)) log.warn("console.logs_failed", { taskArn, container, error: err });
        sse.send("end", { reason: err instanceof LogsUnavailableError ? err.message : `Reading the logs failed: ${(err as Error).message}` });
      } finally {
        sse.close();
      }
    })();
  }

  function route(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): void {
    if (req.method !== "GET" && req.method !== "HEAD") {
      req.resume();
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" }).end("The console only serves GET; actions are ECS API calls (POST /).");
      return;
    }
    if (path === "/console") {
      res.writeHead(301, { location: "/console/" }).end();
      return;
    }
    if (path === "/console/" || path === "/console/index.html") {
      void serveFile(req, res, "index.html");
      return;
    }
    if (path === "/console/api/task-changes") return taskChanges(req, res);
    if (path === "/console/api/logs") return containerLogs(req, res, query);
    const file = STATIC_FILE.exec(path);
    if (file !== null) {
      void serveFile(req, res, file[1]!);
      return;
    }
    notFound(res);
  }

  return {
    handle(req, res) {
      const url = req.url ?? "";
      if (url !== "/console" && !url.startsWith("/console/") && !url.startsWith("/console?")) return false;
      const q = url.indexOf("?");
      const path = q < 0 ? url : url.slice(0, q);
      route(req, res, path, new URLSearchParams(q < 0 ? "" : url.slice(q + 1)));
      return true;
    },
    close() {
      for (const s of streams) s.close();
      streams.clear();
    },
  };
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("Not found");
}

/** JSON safe inside a <script> element. */
function inlineJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c");
}
