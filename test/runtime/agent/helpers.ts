// Shared set-up for the agent tests: a Config pointed at one moto_server.
import { loadConfig, type Config } from "../../../src/runtime/config.ts";
import type { MotoServer } from "../../support/moto.ts";

export function motoConfig(moto: MotoServer, extra: Record<string, string> = {}): Config {
  return loadConfig({
    AWS_DEFAULT_REGION: moto.region,
    STS_ENDPOINT: moto.endpoint,
    IAM_ENDPOINT: moto.endpoint,
    SSM_ENDPOINT_URL: moto.endpoint,
    SECRET_MANAGER_ENDPOINT_URL: moto.endpoint,
    LOGS_ENDPOINT_URL: moto.endpoint,
    ECS_ENDPOINT_AWS_ACCESS_KEY_ID: moto.credentials.accessKeyId,
    ECS_ENDPOINT_AWS_SECRET_ACCESS_KEY: moto.credentials.secretAccessKey,
    ...extra,
  });
}

import { eventually } from "../../support/eventually.ts";

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export const until = <T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> =>
  eventually(what, check, timeoutMs);
