// PutEvents to EVENTS_ENDPOINT_URL (LocalStack, moto or AWS). The SDK is loaded and a client made on the
// first call only (start-up time and memory matter), one client per region: EventBridge buses are regional
// and local emulators pick the region from the signature. Signed with the server's own credentials; with
// none at all, with obvious dummy keys that local emulators accept.
//
// Note: real AWS refuses PutEvents with a source starting "aws." (NotAuthorizedForSourceException); only
// emulators accept `aws.ecs` from a client. Such refusals are logged and dropped, not retried.
import type { EventBridgeClient, PutEventsRequestEntry } from "@aws-sdk/client-eventbridge";
import { fromNodeProviderChain } from "@aws-sdk/credential-providers";
import type { AwsCredentialIdentity } from "@smithy/types";
import type { Logger } from "../logger.ts";
import type { EcsEvent } from "./ecs-event.ts";
import type { EntryOutcome, PutEventsPort } from "./event-delivery.ts";

export interface EventBridgeBusOptions {
  endpoint: string;
  /** Event bus name or ARN. */
  busName: string;
  logger: Logger;
}

const DUMMY_CREDENTIALS: AwsCredentialIdentity = { accessKeyId: "LOCALECSEVENTS", secretAccessKey: "local-ecs-api-dummy" };

export class EventBridgeBus implements PutEventsPort {
  readonly #options: EventBridgeBusOptions;
  readonly #clients = new Map<string, EventBridgeClient>();
  #sdk: Promise<typeof import("@aws-sdk/client-eventbridge")> | undefined;
  #credentials: (() => Promise<AwsCredentialIdentity>) | undefined;

  constructor(options: EventBridgeBusOptions) {
    this.#options = options;
  }

  async put(region: string, events: readonly EcsEvent[], signal: AbortSignal): Promise<EntryOutcome[]> {
    this.#sdk ??= import("@aws-sdk/client-eventbridge");
    const sdk = await this.#sdk;
    const client = this.#client(sdk, region);
    const entries: PutEventsRequestEntry[] = events.map((e) => ({
      Source: e.source,
      DetailType: e["detail-type"],
      Detail: JSON.stringify(e.detail),
      Resources: e.resources,
      Time: new Date(e.time),
      EventBusName: this.#options.busName,
    }));
    const out = await client.send(new sdk.PutEventsCommand({ Entries: entries }), { abortSignal: signal });
    return events.map((_, i): EntryOutcome => {
      const r = out.Entries?.[i];
      if (r === undefined) return { ok: false, code: "InternalFailure", message: "PutEvents returned fewer result entries than it was sent" };
      if (r.ErrorCode !== undefined && r.ErrorCode !== "") return { ok: false, code: r.ErrorCode, message: r.ErrorMessage ?? "" };
      return { ok: true };
    });
  }

  destroy(): void {
    for (const c of this.#clients.values()) c.destroy();
    this.#clients.clear();
  }

  #client(sdk: typeof import("@aws-sdk/client-eventbridge"), region: string): EventBridgeClient {
    let client = this.#clients.get(region);
    if (client === undefined) {
      client = new sdk.EventBridgeClient({
        region,
        endpoint: this.#options.endpoint,
        credentials: this.#credentialProvider(),
        // The delivery loop retries with its own back-off and keeps order; bounded so a dead endpoint
        // cannot hold a call forever.
        maxAttempts: 1,
        requestHandler: { connectionTimeout: 3000, requestTimeout: 15_000 },
      });
      this.#clients.set(region, client);
    }
    return client;
  }

  #credentialProvider(): () => Promise<AwsCredentialIdentity> {
    if (this.#credentials !== undefined) return this.#credentials;
    const chain = fromNodeProviderChain();
    let warned = false;
    this.#credentials = async () => {
      try {
        return await chain();
      } catch (err) {
        if (!warned) {
          warned = true;
          this.#options.logger.warn("events.no_credentials", {
            message: "no AWS credentials found; PutEvents is signed with dummy keys, which local emulators accept",
            error: err,
          });
        }
        return DUMMY_CREDENTIALS;
      }
    };
    return this.#credentials;
  }
}
