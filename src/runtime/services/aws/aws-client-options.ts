// What the clients of the AWS services the scheduler talks to (ELBv2, Cloud Map) share: the endpoint given
// by the user, the server's own credentials, and — with none at all — obvious dummy keys that local
// emulators (moto, LocalStack) accept, said once in the log. One attempt per call, bounded in time: the
// callers retry on their own terms and a dead endpoint never holds the scheduler.
import type { AwsCredentialIdentity } from "@smithy/types";
import type { Logger } from "../../logger.ts";

const DUMMY_CREDENTIALS: AwsCredentialIdentity = { accessKeyId: "LOCALECSSERVICES", secretAccessKey: "local-ecs-api-dummy" };

export interface ClientOptions {
  region: string;
  endpoint: string;
  credentials: () => Promise<AwsCredentialIdentity>;
  maxAttempts: number;
  requestHandler: { connectionTimeout: number; requestTimeout: number };
}

/** A factory of client options per region; the credential chain is loaded on the first call. */
export function clientOptions(endpoint: string, logger: Logger, what: string): (region: string) => ClientOptions {
  let chain: Promise<() => Promise<AwsCredentialIdentity>> | undefined;
  let warned = false;
  const credentials = async (): Promise<AwsCredentialIdentity> => {
    chain ??= import("@aws-sdk/credential-providers").then((m) => m.fromNodeProviderChain());
    try {
      return await (await chain)();
    } catch (err) {
      if (!warned) {
        warned = true;
        logger.warn(`${what}.no_credentials`, { message: `no AWS credentials found; ${what} calls are signed with dummy keys, which local emulators accept`, error: err });
      }
      return DUMMY_CREDENTIALS;
    }
  };
  return (region) => ({ region, endpoint, credentials, maxAttempts: 1, requestHandler: { connectionTimeout: 3000, requestTimeout: 15_000 } });
}

/** The error code an SDK v3 error carries (`TargetGroupNotFound`, `ServiceNotFound`, …). */
export function errorName(err: unknown): string {
  return typeof err === "object" && err !== null && "name" in err ? String((err as { name: unknown }).name) : "";
}
