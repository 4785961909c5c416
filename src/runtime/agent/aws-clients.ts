// The AWS clients the agent side uses (STS for roles, SSM/Secrets Manager for secrets, CloudWatch Logs for
// awslogs) and the base credentials it assumes roles with. Endpoints come from the original project's
// variables; without them the SDK default applies, which honours AWS_ENDPOINT_URL_<SERVICE>.
//
// Each SDK package costs 70-150 ms and 15-25 MB to load, and most servers never assume a role, fetch a
// secret or ship a log: the packages (and the credential providers) are imported on first use, so a
// server that needs none of them never pays for them. Only types are imported statically.
import type { CloudWatchLogs } from "@aws-sdk/client-cloudwatch-logs";
import type { SecretsManager } from "@aws-sdk/client-secrets-manager";
import type { SSM } from "@aws-sdk/client-ssm";
import type { STS } from "@aws-sdk/client-sts";
import type { fromIni } from "@aws-sdk/credential-providers";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";
import { join } from "node:path";
import type { Config, Env } from "../config.ts";

export type BaseCredentialsSource = "static" | "profile" | "default-chain";

export interface BaseCredentials {
  readonly source: BaseCredentialsSource;
  readonly provider: AwsCredentialIdentityProvider;
  /** One line for the start-up log; never contains a secret. */
  readonly description: string;
}

/** Either fixed credentials or a provider the SDK calls when it signs. */
export type ClientCredentials = AwsCredentialIdentity | AwsCredentialIdentityProvider;

export interface AgentAwsClients {
  readonly region: string;
  readonly base: BaseCredentials;
  /**
   * True when STS is pointed somewhere explicit (STS_ENDPOINT, AWS_ENDPOINT_URL_STS or AWS_ENDPOINT_URL),
   * which in practice means a local emulator that does not check signatures.
   */
  readonly stsEndpointConfigured: boolean;
  /** STS signed with the given credentials (the base credentials when omitted); loads the SDK on first use. */
  sts(credentials?: ClientCredentials): Promise<STS>;
  ssm(region: string, credentials: ClientCredentials): Promise<SSM>;
  secretsManager(region: string, credentials: ClientCredentials): Promise<SecretsManager>;
  logs(region: string, credentials: ClientCredentials): Promise<CloudWatchLogs>;
  /** Which endpoints and credentials are in use, for the start-up log. */
  describe(): string;
  destroy(): void;
}

export function resolveBaseCredentials(config: Config): BaseCredentials {
  const c = config.agentCredentials;
  if (c.accessKeyId !== undefined && c.secretAccessKey !== undefined) {
    const creds = { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey };
    return {
      source: "static",
      provider: async () => creds,
      description: `static keys from ECS_ENDPOINT_AWS_ACCESS_KEY_ID (${mask(c.accessKeyId)})`,
    };
  }
  if (c.profile !== undefined) {
    const init: Parameters<typeof fromIni>[0] = { profile: c.profile };
    // Without AWS_CREDS_HOST_PATH the SDK's usual ~/.aws files (or AWS_SHARED_CREDENTIALS_FILE) apply.
    if (c.credsHostPath !== undefined) {
      init.filepath = join(c.credsHostPath, "credentials");
      init.configFilepath = join(c.credsHostPath, "config");
    }
    const where = c.credsHostPath === undefined ? "the default shared files" : c.credsHostPath;
    return {
      source: "profile",
      provider: lazyProvider(async () => (await import("@aws-sdk/credential-providers")).fromIni(init)),
      description: `profile "${c.profile}" from ${where} (ECS_ENDPOINT_AWS_PROFILE)`,
    };
  }
  return {
    source: "default-chain",
    provider: lazyProvider(async () => (await import("@aws-sdk/credential-providers")).fromNodeProviderChain()),
    description: "the server's default AWS credential chain (env, shared files, SSO, container/instance metadata)",
  };
}

/** A provider made on its first call (the SDK's providers memoize, so it is made once and kept). */
function lazyProvider(make: () => Promise<AwsCredentialIdentityProvider>): AwsCredentialIdentityProvider {
  let made: Promise<AwsCredentialIdentityProvider> | undefined;
  return async (options) => {
    made ??= make();
    made.catch(() => {
      made = undefined;
    });
    return (await made)(options);
  };
}

export function createAgentAwsClients(config: Config, env: Env = process.env, base = resolveBaseCredentials(config)): AgentAwsClients {
  const endpoints = {
    sts: config.stsEndpoint,
    ssm: config.ssmEndpoint,
    secretsManager: config.secretsManagerEndpoint,
    logs: config.logsEndpoint,
  };
  const stsEndpointConfigured =
    endpoints.sts !== undefined || nonEmpty(env["AWS_ENDPOINT_URL_STS"]) || nonEmpty(env["AWS_ENDPOINT_URL"]);

  // Role credentials rotate, so clients are cached per (service, region, access key) and the oldest are
  // dropped: a long-running server must not accumulate one client per refresh.
  const cache = new Map<string, { destroy(): void }>();
  const cached = async <T extends { destroy(): void }>(key: string, make: () => Promise<T>): Promise<T> => {
    const hit = cache.get(key);
    if (hit !== undefined) {
      cache.delete(key);
      cache.set(key, hit);
      return hit as T;
    }
    const made = await make();
    // Another caller may have made the same client while this one waited for the SDK to load.
    const raced = cache.get(key);
    if (raced !== undefined) {
      made.destroy();
      return raced as T;
    }
    cache.set(key, made);
    if (cache.size > 64) {
      const [oldestKey, oldest] = cache.entries().next().value as [string, { destroy(): void }];
      cache.delete(oldestKey);
      oldest.destroy();
    }
    return made;
  };
  const providerIds = new WeakMap<object, number>();
  let providerCount = 0;
  const providerId = (fn: object): number => {
    let id = providerIds.get(fn);
    if (id === undefined) {
      id = ++providerCount;
      providerIds.set(fn, id);
    }
    return id;
  };
  const keyOf = (credentials: ClientCredentials | undefined): string =>
    credentials === undefined ? "base" : typeof credentials === "function" ? `fn:${providerId(credentials)}` : credentials.accessKeyId;
  const common = (region: string, endpoint: string | undefined, credentials: ClientCredentials) => ({
    region,
    credentials,
    ...(endpoint !== undefined ? { endpoint } : {}),
  });

  return {
    region: config.region,
    base,
    stsEndpointConfigured,
    sts: (credentials) =>
      cached(`sts|${keyOf(credentials)}`, async () => new (await import("@aws-sdk/client-sts")).STS(common(config.region, endpoints.sts, credentials ?? base.provider))),
    ssm: (region, credentials) =>
      cached(`ssm|${region}|${keyOf(credentials)}`, async () => new (await import("@aws-sdk/client-ssm")).SSM(common(region, endpoints.ssm, credentials))),
    secretsManager: (region, credentials) =>
      cached(
        `asm|${region}|${keyOf(credentials)}`,
        async () => new (await import("@aws-sdk/client-secrets-manager")).SecretsManager(common(region, endpoints.secretsManager, credentials)),
      ),
    logs: (region, credentials) =>
      cached(`logs|${region}|${keyOf(credentials)}`, async () => new (await import("@aws-sdk/client-cloudwatch-logs")).CloudWatchLogs(common(region, endpoints.logs, credentials))),
    describe: () => {
      const ep = (name: string, url: string | undefined, envName: string): string =>
        `${name}=${url ?? (nonEmpty(env[envName]) ? `${env[envName]} (${envName})` : "SDK default")}`;
      return [
        `agent credentials: ${base.description}`,
        `region ${config.region}`,
        ep("sts", endpoints.sts, "AWS_ENDPOINT_URL_STS"),
        ep("ssm", endpoints.ssm, "AWS_ENDPOINT_URL_SSM"),
        ep("secretsmanager", endpoints.secretsManager, "AWS_ENDPOINT_URL_SECRETS_MANAGER"),
        ep("logs", endpoints.logs, "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS"),
      ].join("; ");
    },
    destroy: () => {
      for (const client of cache.values()) client.destroy();
      cache.clear();
    },
  };
}

function nonEmpty(v: string | undefined): boolean {
  return v !== undefined && v.trim() !== "";
}

function mask(accessKeyId: string): string {
  return accessKeyId.length <= 8 ? "****" : `${accessKeyId.slice(0, 4)}…${accessKeyId.slice(-4)}`;
}
