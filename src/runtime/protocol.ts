import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  EcsError,
  InternalFailure,
  InvalidParameterException,
  ClientException,
  RequestEntityTooLargeException,
  SerializationException,
  UnknownOperationException,
  UnsupportedFeatureException,
} from "../../generated/errors.ts";
import type { EcsOperations } from "../../generated/operations.ts";
import { operationHandler, operationsByTarget, SERVICE_TARGET_PREFIX, type OperationSpec } from "../../generated/router.ts";
import { formatValidationIssues } from "../../generated/validators.ts";
import type { OperationContext } from "../operations/context.ts";
import type { Logger } from "./logger.ts";
import type { Proxy } from "./proxy.ts";
import { rawJsonByteLength, rawJsonOf, rawJsonText, type RawJson } from "./raw-json.ts";

export const JSON_CONTENT_TYPE = "application/x-amz-json-1.1";

export interface ProtocolOptions {
  operations: Partial<EcsOperations<OperationContext>>;
  /** Forwards operations without a local implementation; undefined when no upstream is configured. */
  proxy: Proxy | undefined;
  logger: Logger;
  region: string;
  maxBodyBytes: number;
  /**
   * Check every response against its output shape before sending it (tests turn this on, so every
   * test doubles as a conformance check); a violation becomes an InternalFailure naming it.
   */
  validateOutputs?: boolean;
  /**
   * Other services answered on the same endpoint, by X-Amz-Target prefix (ECS Exec: the SSM calls the
   * session-manager-plugin sends to the endpoint it was given). They answer plain JSON 1.1.
   */
  otherServices?: ReadonlyArray<{ prefix: string; handle(target: string, body: Buffer): Promise<{ status: number; body: unknown }> }>;
}

type Handler = (input: unknown, ctx: OperationContext) => Promise<unknown>;

/**
 * The one adapter between HTTP and the operations (smithy-typescript server style):
 * route → deserialize → validate → invoke → serialize. Handlers return values or throw
 * EcsErrors; only this module writes responses.
 */
export function createProtocolHandler(options: ProtocolOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { logger, proxy } = options;
  const handlers = new Map<string, Handler>();
  for (const [target, spec] of operationsByTarget) {
    const impl = operationHandler(options.operations, spec);
    if (impl !== undefined) handlers.set(target, impl);
  }

  return (req, res) => {
    const requestId = randomUUID();
    handle(req, res, requestId).catch((err: unknown) => {
      // Only reachable if writing the response itself failed; never let it crash the process.
      logger.error("response.failed", { requestId, error: err });
      if (!res.headersSent) writeError(res, requestId, new InternalFailure("Internal failure"));
      else res.destroy();
    });
  };

  async function handle(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    if (req.method === "GET" && (req.url === "/health" || req.url === "/health/")) {
      writeJson(res, 200, requestId, { status: "ok" }, "application/json");
      return;
    }
    if (req.method !== "POST") {
      drain(req);
      writeError(res, requestId, new UnknownOperationException(`${req.method} ${req.url} is not an ECS API call; send POST / with an X-Amz-Target header`));
      return;
    }

    const body = await readBody(req, options.maxBodyBytes);
    if (!Buffer.isBuffer(body)) {
      // Answered only once the body is read (or the discard cap is reached): clients such as botocore
      // (urllib3), Java's and Go's write the whole body before reading, and would see EPIPE instead.
      writeError(res, requestId, new RequestEntityTooLargeException(`Request body exceeds the limit of ${options.maxBodyBytes} bytes`), !body.drained);
      return;
    }

    const target = header(req, "x-amz-target");
    if (target === undefined) {
      writeError(res, requestId, new UnknownOperationException("Missing X-Amz-Target header"));
      return;
    }
    const spec = operationsByTarget.get(target);
    const other = spec === undefined ? options.otherServices?.find((s) => target.startsWith(`${s.prefix}.`)) : undefined;
    if (other !== undefined) {
      const answer = await other.handle(target, body);
      writeJson(res, answer.status, requestId, answer.body);
      return;
    }
    if (spec === undefined) {
      const op = target.startsWith(SERVICE_TARGET_PREFIX + ".") ? target.slice(SERVICE_TARGET_PREFIX.length + 1) : target;
      writeError(res, requestId, new UnknownOperationException(`Operation ${op} is not an ECS operation (X-Amz-Target: ${target})`));
      return;
    }

    const ctx: OperationContext = {
      requestId,
      region: callerRegion(req) ?? options.region,
      accessKeyId: callerAccessKeyId(req),
      host: header(req, "host"),
    };
    const impl = handlers.get(target);
    if (impl === undefined) {
      await forward(res, spec, body, ctx);
      return;
    }

    const started = performance.now();
    try {
      const input = parseInput(spec, body, header(req, "content-type"));
      const issues = spec.validateInput(input);
      if (issues.length > 0) {
        const message = formatValidationIssues(issues);
        throw spec.errors.includes("InvalidParameterException") || !spec.errors.includes("ClientException")
          ? new InvalidParameterException(message)
          : new ClientException(message);
      }
      const output = (await impl(input, ctx)) ?? {};
      // An operation may hand over its answer already serialized (see raw-json.ts).
      const raw = rawJsonOf(output);
      if (options.validateOutputs === true) {
        const problems = spec.validateOutput(output);
        if (problems.length > 0) {
          throw new InternalFailure(`${spec.name} produced a response that violates the model: ${formatValidationIssues(problems)}`);
        }
        if (raw !== undefined && rawJsonText(raw) !== JSON.stringify(spec.serializeOutput(output))) {
          throw new InternalFailure(`${spec.name} produced pre-serialized JSON that differs from its serialized response`);
        }
      }
      writeBody(res, 200, requestId, raw ?? JSON.stringify(spec.serializeOutput(output)));
      logger.debug("request", { requestId, operation: spec.name, status: 200, ms: round(performance.now() - started) });
    } catch (err) {
      const error = asEcsError(err);
      if (error.fault === "server") logger.error("operation.failed", { requestId, operation: spec.name, error: err, stack: err instanceof Error ? err.stack : undefined });
      else logger.debug("request", { requestId, operation: spec.name, status: error.statusCode, type: error.type });
      writeError(res, requestId, error);
    }
  }

  async function forward(res: ServerResponse, spec: OperationSpec<unknown, unknown>, body: Buffer, ctx: OperationContext): Promise<void> {
    if (proxy === undefined) {
      writeError(
        res,
        ctx.requestId,
        new UnsupportedFeatureException(
          `${spec.name} is not emulated by local-ecs-api and no upstream is configured; set ECS_ENDPOINT_URL to forward it to an ECS endpoint (e.g. AWS or moto).`,
        ),
      );
      return;
    }
    try {
      const answer = await proxy.forward(spec.target, body, ctx.region);
      res.writeHead(answer.status, {
        "content-type": answer.contentType ?? JSON_CONTENT_TYPE,
        "x-amzn-requestid": answer.requestId ?? ctx.requestId,
        "content-length": answer.body.length,
      });
      res.end(answer.body);
      logger.debug("request.proxied", { requestId: ctx.requestId, operation: spec.name, status: answer.status });
    } catch (err) {
      writeError(res, ctx.requestId, asEcsError(err));
    }
  }
}

function parseInput(spec: OperationSpec<unknown, unknown>, body: Buffer, contentType: string | undefined): unknown {
  if (contentType !== undefined && !/json/i.test(contentType)) {
    throw new SerializationException(`Unsupported Content-Type "${contentType}"; send ${JSON_CONTENT_TYPE}`);
  }
  let json: unknown = {};
  if (body.length > 0) {
    try {
      json = JSON.parse(body.toString("utf8"));
    } catch (err) {
      throw new SerializationException(`Malformed JSON in the request body: ${(err as Error).message}`);
    }
  }
  return spec.deserializeInput(json);
}

function asEcsError(err: unknown): EcsError {
  if (err instanceof EcsError) return err;
  return new InternalFailure("Internal failure: the request could not be processed");
}

/** An oversized body; `drained` when all of it was read (and discarded), so the connection can be reused. */
interface TooLarge {
  readonly drained: boolean;
}

/**
 * How much of an oversized body is read and thrown away before answering 413 and closing. Reading it is
 * what lets a client that writes its whole body first see the answer; the cap bounds what a client can
 * make the server read for nothing.
 */
export const OVERSIZED_BODY_DISCARD_BYTES = 64 * 1024 * 1024;

function readBody(req: IncomingMessage, limit: number): Promise<Buffer | TooLarge> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit + OVERSIZED_BODY_DISCARD_BYTES) return Promise.resolve({ drained: false });
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = Number.isFinite(declared) && declared > limit;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (!over && size > limit) {
        over = true;
        chunks.length = 0;
      }
      if (!over) {
        chunks.push(chunk);
        return;
      }
      if (size > limit + OVERSIZED_BODY_DISCARD_BYTES) {
        req.off("data", onData);
        req.pause();
        resolve({ drained: false });
      }
    };
    req.on("data", onData);
    req.on("end", () => {
      if (over) resolve({ drained: true });
      else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    });
    req.on("error", reject);
  });
}

/** Discard a body we will not read, so the connection can be reused. */
function drain(req: IncomingMessage): void {
  req.resume();
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

const CREDENTIAL = /Credential=([^/,\s]+)\/\d{8}\/([^/,\s]+)\//;

/** Region names as AWS spells them (us-east-1, cn-north-1, us-gov-west-1, …; "local" too): they go into ARNs. */
const REGION = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;

/** The region the request is signed for (SigV4 credential scope); undefined when unsigned or unusable. */
function callerRegion(req: IncomingMessage): string | undefined {
  const auth = header(req, "authorization");
  const region = auth === undefined ? undefined : CREDENTIAL.exec(auth)?.[2];
  return region !== undefined && REGION.test(region) ? region : undefined;
}

function callerAccessKeyId(req: IncomingMessage): string | undefined {
  const auth = header(req, "authorization");
  return auth === undefined ? undefined : CREDENTIAL.exec(auth)?.[1];
}

function writeJson(res: ServerResponse, status: number, requestId: string, value: unknown, contentType = JSON_CONTENT_TYPE): void {
  writeBody(res, status, requestId, JSON.stringify(value), contentType);
}

function writeBody(res: ServerResponse, status: number, requestId: string, body: RawJson, contentType = JSON_CONTENT_TYPE): void {
  res.writeHead(status, {
    "content-type": contentType,
    "x-amzn-requestid": requestId,
    "content-length": rawJsonByteLength(body),
  });
  if (typeof body === "string" || Buffer.isBuffer(body)) {
    res.end(body);
    return;
  }
  // Corked, the chunks leave with the headers in one writev, without being copied together first.
  res.cork();
  for (const chunk of body) res.write(chunk);
  res.end();
}

function writeError(res: ServerResponse, requestId: string, error: EcsError, close = false): void {
  if (close) res.setHeader("connection", "close");
  writeJson(res, error.statusCode, requestId, error.toJSON());
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
