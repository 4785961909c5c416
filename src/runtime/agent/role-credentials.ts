// Credentials for task and execution roles, obtained with sts:AssumeRole from the agent's base credentials,
// cached per (role, task) and refreshed early in the background.
//
// Decision for a machine with no STS endpoint and no base credentials at all: instead of failing every
// task that has a role, we vend clearly fake static credentials (AccessKeyId "ASIALOCALECSFAKE…") and say
// so once in the log. Tasks that only talk to local emulators (which accept any signature) keep working;
// anything that reaches real AWS fails loudly with an invalid-key error that is easy to recognise.
// `placeholderReason` carries the explanation so the engine can surface it (e.g. in a container reason).
// When an STS endpoint *is* configured (a local emulator) but no base credentials exist, we sign the
// AssumeRole call with dummy keys: emulators do not verify them, and the returned credentials carry the role.
import type { AwsCredentialIdentity } from "@smithy/types";
import { createHash, randomBytes } from "node:crypto";
import { taskIdOf } from "../arns.ts";
import { systemClock, type TimeSource } from "../clock.ts";
import type { Logger } from "../logger.ts";
import type { AgentAwsClients } from "./aws-clients.ts";

export interface RoleCredentials {
  readonly roleArn: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiration: Date;
  /** True for the fake credentials vended when no STS and no base credentials exist. */
  readonly placeholder: boolean;
}

export type RoleCredentialsMode = "assume-role" | "assume-role-unsigned" | "placeholder";

export interface RoleCredentialsProviderOptions {
  clients: AgentAwsClients;
  logger: Logger;
  clock?: TimeSource;
  /** Refresh this long before expiry (default 5 min). */
  refreshBeforeMs?: number;
  /** AssumeRole DurationSeconds (default 3600, the maximum for chained roles). */
  durationSeconds?: number;
  /** After a failed AssumeRole, wait this long before trying again on demand (default 5 s). */
  retryAfterMs?: number;
}

interface CacheEntry {
  creds: RoleCredentials | undefined;
  inflight: Promise<RoleCredentials> | undefined;
  error: Error | undefined;
  errorAt: number;
}

/** Keys emulators accept; used only to sign calls to an explicitly configured STS endpoint. */
const UNSIGNED_PLACEHOLDER_KEYS: AwsCredentialIdentity = { accessKeyId: "local-ecs-api", secretAccessKey: "local-ecs-api" };

export class RoleCredentialsProvider {
  readonly #clients: AgentAwsClients;
  readonly #logger: Logger;
  readonly #clock: TimeSource;
  readonly #refreshBeforeMs: number;
  readonly #durationSeconds: number;
  readonly #retryAfterMs: number;
  readonly #cache = new Map<string, CacheEntry>();
  #mode: Promise<RoleCredentialsMode> | undefined;
  #placeholderReason: string | undefined;

  constructor(options: RoleCredentialsProviderOptions) {
    this.#clients = options.clients;
    this.#logger = options.logger;
    this.#clock = options.clock ?? systemClock;
    this.#refreshBeforeMs = options.refreshBeforeMs ?? 5 * 60_000;
    this.#durationSeconds = options.durationSeconds ?? 3600;
    this.#retryAfterMs = options.retryAfterMs ?? 5000;
  }

  /** Set once the provider has decided to vend fake credentials; the text explains why. */
  get placeholderReason(): string | undefined {
    return this.#placeholderReason;
  }

  /** How role credentials are obtained; decided once (probing the default chain can take a second). */
  mode(): Promise<RoleCredentialsMode> {
    this.#mode ??= this.#decideMode();
    return this.#mode;
  }

  /**
   * Credentials for `roleArn` on behalf of `taskArn`. Valid cached credentials are returned at once (a refresh
   * starts in the background when they are close to expiry); otherwise this waits for AssumeRole.
   */
  async get(roleArn: string, taskArn: string): Promise<RoleCredentials> {
    const key = cacheKey(roleArn, taskArn);
    let entry = this.#cache.get(key);
    if (entry === undefined) {
      entry = { creds: undefined, inflight: undefined, error: undefined, errorAt: 0 };
      this.#cache.set(key, entry);
    }
    const now = this.#clock.now().getTime();
    const creds = entry.creds;
    if (creds !== undefined && creds.expiration.getTime() > now) {
      if (creds.expiration.getTime() - now <= this.#refreshBeforeMs) this.#refresh(key, entry, roleArn, taskArn).catch(() => {});
      return creds;
    }
    if (entry.inflight === undefined && entry.error !== undefined && now - entry.errorAt < this.#retryAfterMs) {
      throw entry.error;
    }
    return this.#refresh(key, entry, roleArn, taskArn);
  }

  /** Valid cached credentials without waiting, or undefined. */
  peek(roleArn: string, taskArn: string): RoleCredentials | undefined {
    const creds = this.#cache.get(cacheKey(roleArn, taskArn))?.creds;
    return creds !== undefined && creds.expiration.getTime() > this.#clock.now().getTime() ? creds : undefined;
  }

  /** Starts fetching so the first request from the task finds credentials ready. */
  prefetch(roleArn: string, taskArn: string): void {
    this.get(roleArn, taskArn).catch(() => {
      // already recorded in the entry and logged; the HTTP handler answers 503 until it succeeds
    });
  }

  /** The last AssumeRole failure for this (role, task), for the engine to surface. */
  lastError(roleArn: string, taskArn: string): Error | undefined {
    return this.#cache.get(cacheKey(roleArn, taskArn))?.error;
  }

  /** Drops everything cached for a task (its credentials ids are gone). */
  forgetTask(taskArn: string): void {
    for (const key of [...this.#cache.keys()]) {
      if (key.endsWith(`\n${taskArn}`)) this.#cache.delete(key);
    }
  }

  /**
   * What the agent itself uses for secrets, awslogs and pulls on behalf of a task: the execution role when the
   * task has one, else the base credentials (or placeholder/dummy keys when there are none).
   */
  async executionCredentials(taskArn: string, executionRoleArn: string | undefined): Promise<AwsCredentialIdentity> {
    if (executionRoleArn !== undefined && executionRoleArn !== "") return this.get(executionRoleArn, taskArn);
    const mode = await this.mode();
    if (mode === "assume-role") return this.#clients.base.provider();
    return mode === "assume-role-unsigned" ? UNSIGNED_PLACEHOLDER_KEYS : placeholderCredentials("", taskArn, this.#clock);
  }

  #refresh(key: string, entry: CacheEntry, roleArn: string, taskArn: string): Promise<RoleCredentials> {
    if (entry.inflight !== undefined) return entry.inflight;
    const run = (async () => {
      try {
        const creds = await this.#obtain(roleArn, taskArn);
        entry.creds = creds;
        entry.error = undefined;
        return creds;
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        entry.error = error;
        entry.errorAt = this.#clock.now().getTime();
        this.#logger.warn("agent.role_credentials.assume_role_failed", { roleArn, taskArn, error });
        throw error;
      } finally {
        entry.inflight = undefined;
        // A task that was forgotten while we were fetching must not be resurrected.
        if (this.#cache.get(key) !== entry) entry.creds = undefined;
      }
    })();
    entry.inflight = run;
    return run;
  }

  async #obtain(roleArn: string, taskArn: string): Promise<RoleCredentials> {
    const mode = await this.mode();
    if (mode === "placeholder") return placeholderCredentials(roleArn, taskArn, this.#clock);
    const sts = await this.#clients.sts(mode === "assume-role-unsigned" ? UNSIGNED_PLACEHOLDER_KEYS : undefined);
    const out = await sts.assumeRole({
      RoleArn: roleArn,
      RoleSessionName: roleSessionName(taskArn),
      DurationSeconds: this.#durationSeconds,
    });
    const c = out.Credentials;
    if (c?.AccessKeyId === undefined || c.SecretAccessKey === undefined || c.SessionToken === undefined) {
      throw new Error(`AssumeRole of ${roleArn} returned no credentials`);
    }
    const expiration = c.Expiration ?? new Date(this.#clock.now().getTime() + this.#durationSeconds * 1000);
    return {
      roleArn,
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      expiration,
      placeholder: false,
    };
  }

  async #decideMode(): Promise<RoleCredentialsMode> {
    const base = this.#clients.base;
    if (base.source !== "default-chain") return "assume-role";
    try {
      await base.provider();
      return "assume-role";
    } catch {
      if (this.#clients.stsEndpointConfigured) {
        this.#logger.info("agent.role_credentials.unsigned", {
          message: "no base AWS credentials found; signing AssumeRole to the configured STS endpoint with dummy keys",
        });
        return "assume-role-unsigned";
      }
      this.#placeholderReason =
        "no STS endpoint (STS_ENDPOINT) and no AWS credentials for the agent (ECS_ENDPOINT_AWS_ACCESS_KEY_ID, " +
        "ECS_ENDPOINT_AWS_PROFILE or the default chain) are configured; role credentials are placeholders " +
        "(ASIALOCALECSFAKE…) that only local emulators accept";
      this.#logger.warn("agent.role_credentials.placeholder", { message: this.#placeholderReason });
      return "placeholder";
    }
  }
}

/** `[\w+=,.@-]{2,64}` as STS requires; the task id is what real ECS uses. */
export function roleSessionName(taskArn: string): string {
  const taskId = taskIdOf(taskArn);
  const clean = taskId.replace(/[^\w+=,.@-]/g, "-").slice(0, 64);
  return clean.length >= 2 ? clean : `ecs-task-${clean}`.slice(0, 64);
}

function cacheKey(roleArn: string, taskArn: string): string {
  return `${roleArn}\n${taskArn}`;
}

function placeholderCredentials(roleArn: string, taskArn: string, clock: TimeSource): RoleCredentials {
  const tag = createHash("sha256").update(`${roleArn}\n${taskArn}`).digest("hex").slice(0, 4).toUpperCase();
  return {
    roleArn,
    accessKeyId: `ASIALOCALECSFAKE${tag}`,
    secretAccessKey: `localecsfake${randomBytes(21).toString("base64url")}`.slice(0, 40),
    sessionToken: `local-ecs-api-placeholder-token-${randomBytes(24).toString("base64url")}`,
    expiration: new Date(clock.now().getTime() + 6 * 3_600_000),
    placeholder: true,
  };
}
