import type { DatabaseSync } from "node:sqlite";
import type { Arns } from "../runtime/arns.ts";
import type { Clock } from "../runtime/clock.ts";
import type { Config } from "../runtime/config.ts";
import type { Logger } from "../runtime/logger.ts";
import type { Upstream } from "../runtime/upstream.ts";

/** What the protocol adapter knows about the request an operation serves. */
export interface OperationContext {
  requestId: string;
  /** The caller's region (from the SigV4 credential scope), else the configured one. */
  region: string;
  /** The caller's access key id when the request was signed, e.g. for `registeredBy`. */
  accessKeyId: string | undefined;
  /** The Host header the caller used (host[:port]), e.g. for URLs that must lead back to this server. */
  host?: string | undefined;
}

export interface OperationDeps {
  config: Config;
  db: DatabaseSync;
  arns: Arns;
  clock: Clock;
  logger: Logger;
  upstream: Upstream | undefined;
}
