// The AWS clients the agent side uses (STS for roles, SSM/Secrets Manager for secrets, CloudWatch Logs for
// awslogs) and the base credentials it assumes roles with. Endpoints come from the original project's
// variables; without them the SDK default applies, which honours AWS_ENDPOINT_URL_<SERVICE>.
import { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SSMClient } from "@aws-sdk/client-ssm";
import { STSClient } from "@aws-sdk/client-sts";
import { fromIni, fromNodeProviderChain } from "@aws-sdk/credential-providers";
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
  /** STS signed with the given credentials (the base credentials when omitted). */
  sts(credentials?: ClientCredentials): STSClient;
  ssm(region: string, credentials: ClientCredentials): SSMClient;
  secretsManager(region: string, credentials: ClientCredentials): SecretsManagerClient;
  logs(region: string, credentials: ClientCredentials): CloudWatchLogsClient;
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
      provider: fromIni(init),
      description: `profile "${c.profile}" from ${where} (ECS_ENDPOINT_AWS_PROFILE)`,
    };
  }
  return {
    source: "default-chain",
    provider: fromNodeProviderChain(),
    description: "the server's default AWS credential chain (env, shared files, SSO, container/instance metadata)",
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
  const cached = <T extends { destroy(): void }>(key: string, make: () => T): T => {
    const hit = cache.get(key);
    if (hit !== undefined) {
      cache.delete(key);
      cache.set(key, hit);
      return hit as T;
    }
    const made = make();
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
      cached(`sts|${keyOf(credentials)}`, () => new STSClient(common(config.region, endpoints.sts, credentials ?? base.provider))),
    ssm: (region, credentials) =>
      cached(`ssm|${region}|${keyOf(credentials)}`, () => new SSMClient(common(region, endpoints.ssm, credentials))),
    secretsManager: (region, credentials) =>
      cached(`asm|${region}|${keyOf(credentials)}`, () => new SecretsManagerClient(common(region, endpoints.secretsManager, credentials))),
    logs: (region, credentials) =>
      cached(`logs|${region}|${keyOf(credentials)}`, () => new CloudWatchLogsClient(common(region, endpoints.logs, credentials))),
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
