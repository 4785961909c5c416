import { Sha256 } from "@aws-crypto/sha256-js";
import { fromNodeProviderChain } from "@aws-sdk/credential-providers";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentialIdentityProvider } from "@smithy/types";
import { Agent, request } from "undici";
import { createEcsError, ServerException } from "../../generated/errors.ts";
import { SERVICE_TARGET_PREFIX } from "../../generated/router.ts";
import type { Logger } from "./logger.ts";
import type { Upstream } from "./upstream.ts";

export interface ProxyAnswer {
  status: number;
  contentType: string | undefined;
  requestId: string | undefined;
  body: Buffer;
}

/** Forwards raw awsJson1_1 calls to the upstream ECS endpoint, re-signed with our own credentials. */
export interface Proxy {
  readonly url: string;
  forward(target: string, body: Buffer, callerRegion: string): Promise<ProxyAnswer>;
  close(): Promise<void>;
}

export interface ProxyOptions {
  url: string;
  /** ECS_ENDPOINT_AWS_REGION; when unset the caller's region is used for signing. */
  region: string | undefined;
  defaultRegion: string;
  timeoutMs: number;
  logger: Logger;
  credentials?: AwsCredentialIdentityProvider;
}

/**
 * Copying the caller's signature to another host cannot work (host and key are inside it), so the
 * exact bytes are re-signed with the server's credentials (default provider chain).
 */
export function createProxy(options: ProxyOptions): Proxy & Upstream {
  const base = new URL(options.url);
  const credentials = options.credentials ?? fromNodeProviderChain();
  // A dedicated pool bounds every phase, so a dead or stalled upstream fails fast instead of hanging.
  const dispatcher = new Agent({
    connectTimeout: options.timeoutMs,
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
  });
  const signers = new Map<string, SignatureV4>();
  const signerFor = (region: string): SignatureV4 => {
    let signer = signers.get(region);
    if (signer === undefined) {
      signer = new SignatureV4({ service: "ecs", region, credentials, sha256: Sha256, applyChecksum: false });
      signers.set(region, signer);
    }
    return signer;
  };

  async function forward(target: string, body: Buffer, callerRegion: string): Promise<ProxyAnswer> {
    const operation = target.slice(target.indexOf(".") + 1);
    const region = options.region ?? callerRegion ?? options.defaultRegion;
    const path = base.pathname === "" ? "/" : base.pathname;
    let signed;
    try {
      signed = await signerFor(region).sign({
        method: "POST",
        protocol: base.protocol,
        hostname: base.hostname,
        ...(base.port === "" ? {} : { port: Number(base.port) }),
        path,
        query: {},
        headers: {
          host: base.host,
          "content-type": "application/x-amz-json-1.1",
          "x-amz-target": target,
        },
        body,
      });
    } catch (err) {
      throw new ServerException(
        `Cannot forward ${operation} to the upstream ECS endpoint ${options.url}: no AWS credentials to sign with (${(err as Error).message}). Set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE.`,
      );
    }
    try {
      const res = await request(new URL(path, base), {
        method: "POST",
        headers: signed.headers,
        body,
        dispatcher,
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      const payload = Buffer.from(await res.body.arrayBuffer());
      return {
        status: res.statusCode,
        contentType: single(res.headers["content-type"]),
        requestId: single(res.headers["x-amzn-requestid"]),
        body: payload,
      };
    } catch (err) {
      options.logger.warn("upstream.unreachable", { url: options.url, operation, error: err });
      throw new ServerException(
        `The upstream ECS endpoint ${options.url} did not answer ${operation} within ${options.timeoutMs} ms: ${describe(err)}`,
      );
    }
  }

  return {
    url: options.url,
    forward,
    async call(operation: string, input: unknown, region?: string): Promise<unknown> {
      const answer = await forward(`${SERVICE_TARGET_PREFIX}.${operation}`, Buffer.from(JSON.stringify(input ?? {})), region ?? options.defaultRegion);
      let json: unknown;
      try {
        json = answer.body.length === 0 ? {} : JSON.parse(answer.body.toString("utf8"));
      } catch {
        throw new ServerException(`The upstream ECS endpoint ${options.url} answered ${operation} with a body that is not JSON (HTTP ${answer.status})`);
      }
      if (answer.status >= 200 && answer.status < 300) return json;
      const { __type, code, message, Message, ...members } = (json ?? {}) as Record<string, unknown>;
      const rawType = String(__type ?? code ?? "ServerException");
      const type = rawType.slice(rawType.lastIndexOf("#") + 1);
      throw createEcsError(type, String(message ?? Message ?? `HTTP ${answer.status}`), members, answer.status);
    },
    async close() {
      await dispatcher.close();
    },
  };
}

function single(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    const code = (err as { code?: string }).code ?? (cause as { code?: string } | undefined)?.code;
    return code === undefined ? err.message : `${code} (${err.message})`;
  }
  return String(err);
}
