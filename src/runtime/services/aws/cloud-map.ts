// AWS Cloud Map (service discovery) at SERVICE_DISCOVERY_ENDPOINT_URL (moto, LocalStack or AWS): the
// instances ECS registers for the tasks of services with `serviceRegistries`, and the names of the
// namespaces Service Connect is given by ARN. The SDK is loaded on the first call; one client per region.
import type { ServiceDiscoveryClient } from "@aws-sdk/client-servicediscovery";
import { lastSegmentOf, regionOf } from "../../arns.ts";
import type { Logger } from "../../logger.ts";
import { clientOptions, errorName, type ClientOptions } from "./aws-client-options.ts";

export interface CloudMap {
  /** `registryArn`: the Cloud Map service's ARN (arn:aws:servicediscovery:<region>:<account>:service/srv-…). */
  registerInstance(registryArn: string, instanceId: string, attributes: Record<string, string>): Promise<void>;
  deregisterInstance(registryArn: string, instanceId: string): Promise<void>;
  /** The DNS/HTTP name of a namespace given by ARN or id; undefined when there is no such namespace. */
  namespaceName(region: string, namespace: string): Promise<string | undefined>;
  close(): void;
}

type Sdk = typeof import("@aws-sdk/client-servicediscovery");

export class ServiceDiscoveryCloudMap implements CloudMap {
  readonly #options: (region: string) => ClientOptions;
  readonly #defaultRegion: string;
  readonly #clients = new Map<string, ServiceDiscoveryClient>();
  #sdk: Promise<Sdk> | undefined;

  constructor(endpoint: string, defaultRegion: string, logger: Logger) {
    this.#options = clientOptions(endpoint, logger, "servicediscovery");
    this.#defaultRegion = defaultRegion;
  }

  async registerInstance(registryArn: string, instanceId: string, attributes: Record<string, string>): Promise<void> {
    const { sdk, client } = await this.#client(regionOf(registryArn));
    await client.send(new sdk.RegisterInstanceCommand({ ServiceId: lastSegmentOf(registryArn), InstanceId: instanceId, Attributes: attributes }));
  }

  async deregisterInstance(registryArn: string, instanceId: string): Promise<void> {
    const { sdk, client } = await this.#client(regionOf(registryArn));
    try {
      await client.send(new sdk.DeregisterInstanceCommand({ ServiceId: lastSegmentOf(registryArn), InstanceId: instanceId }));
    } catch (err) {
      // Already gone (the instance or its whole service): nothing left to deregister.
      if (errorName(err) === "InstanceNotFound" || errorName(err) === "ServiceNotFound") return;
      throw err;
    }
  }

  async namespaceName(region: string, namespace: string): Promise<string | undefined> {
    const { sdk, client } = await this.#client(regionOf(namespace) ?? region);
    try {
      const out = await client.send(new sdk.GetNamespaceCommand({ Id: lastSegmentOf(namespace) }));
      return out.Namespace?.Name;
    } catch (err) {
      if (errorName(err) === "NamespaceNotFound") return undefined;
      throw err;
    }
  }

  close(): void {
    for (const c of this.#clients.values()) c.destroy();
    this.#clients.clear();
  }

  async #client(region: string | undefined): Promise<{ sdk: Sdk; client: ServiceDiscoveryClient }> {
    this.#sdk ??= import("@aws-sdk/client-servicediscovery");
    const sdk = await this.#sdk;
    const r = region ?? this.#defaultRegion;
    let client = this.#clients.get(r);
    if (client === undefined) {
      client = new sdk.ServiceDiscoveryClient(this.#options(r));
      this.#clients.set(r, client);
    }
    return { sdk, client };
  }
}
