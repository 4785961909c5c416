// Elastic Load Balancing v2 target groups at ELBV2_ENDPOINT_URL (moto, LocalStack or AWS): what the
// services need of them. The SDK is loaded on the first call (a server without load balancers never pays
// for it); one client per region, the region taken from the target group's ARN.
import type { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { regionOf } from "../../arns.ts";
import type { Logger } from "../../logger.ts";
import { clientOptions, errorName, type ClientOptions } from "./aws-client-options.ts";

export interface TargetGroupInfo {
  arn: string;
  /** instance | ip | lambda | alb */
  targetType: string;
  loadBalancerArns: string[];
  /** deregistration_delay.timeout_seconds (ELB's default 300). */
  deregistrationDelaySeconds: number;
}

export interface Target {
  id: string;
  port: number;
}

/** The port the services code programs against (tests can pass a fake; the server the SDK one). */
export interface TargetGroups {
  /** undefined: no such target group. */
  describe(targetGroupArn: string): Promise<TargetGroupInfo | undefined>;
  register(targetGroupArn: string, targets: readonly Target[]): Promise<void>;
  deregister(targetGroupArn: string, targets: readonly Target[]): Promise<void>;
  /** The target's state (initial, healthy, draining, unused …); undefined when it is not registered. */
  state(targetGroupArn: string, target: Target): Promise<string | undefined>;
  close(): void;
}

type Sdk = typeof import("@aws-sdk/client-elastic-load-balancing-v2");

export class Elbv2TargetGroups implements TargetGroups {
  readonly #options: (region: string) => ClientOptions;
  readonly #defaultRegion: string;
  readonly #clients = new Map<string, ElasticLoadBalancingV2Client>();
  #sdk: Promise<Sdk> | undefined;

  constructor(endpoint: string, defaultRegion: string, logger: Logger) {
    this.#options = clientOptions(endpoint, logger, "elbv2");
    this.#defaultRegion = defaultRegion;
  }

  async describe(targetGroupArn: string): Promise<TargetGroupInfo | undefined> {
    const { sdk, client } = await this.#client(targetGroupArn);
    let group;
    try {
      const out = await client.send(new sdk.DescribeTargetGroupsCommand({ TargetGroupArns: [targetGroupArn] }));
      group = out.TargetGroups?.[0];
    } catch (err) {
      if (errorName(err) === "TargetGroupNotFoundException" || errorName(err) === "ValidationError") return undefined;
      throw err;
    }
    if (group === undefined) return undefined;
    const attrs = await client.send(new sdk.DescribeTargetGroupAttributesCommand({ TargetGroupArn: targetGroupArn }));
    const delay = Number(attrs.Attributes?.find((a) => a.Key === "deregistration_delay.timeout_seconds")?.Value ?? "300");
    return {
      arn: targetGroupArn,
      targetType: group.TargetType ?? "instance",
      loadBalancerArns: group.LoadBalancerArns ?? [],
      deregistrationDelaySeconds: Number.isFinite(delay) ? delay : 300,
    };
  }

  async register(targetGroupArn: string, targets: readonly Target[]): Promise<void> {
    const { sdk, client } = await this.#client(targetGroupArn);
    await client.send(new sdk.RegisterTargetsCommand({ TargetGroupArn: targetGroupArn, Targets: targets.map((t) => ({ Id: t.id, Port: t.port })) }));
  }

  async deregister(targetGroupArn: string, targets: readonly Target[]): Promise<void> {
    const { sdk, client } = await this.#client(targetGroupArn);
    try {
      await client.send(new sdk.DeregisterTargetsCommand({ TargetGroupArn: targetGroupArn, Targets: targets.map((t) => ({ Id: t.id, Port: t.port })) }));
    } catch (err) {
      // Already gone (the target, or the whole target group): nothing left to deregister.
      if (errorName(err) === "InvalidTargetException" || errorName(err) === "TargetGroupNotFoundException") return;
      throw err;
    }
  }

  async state(targetGroupArn: string, target: Target): Promise<string | undefined> {
    const { sdk, client } = await this.#client(targetGroupArn);
    try {
      const out = await client.send(new sdk.DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn, Targets: [{ Id: target.id, Port: target.port }] }));
      const health = out.TargetHealthDescriptions?.[0]?.TargetHealth;
      if (health === undefined || health.Reason === "Target.NotRegistered") return undefined;
      return health.State;
    } catch (err) {
      if (errorName(err) === "TargetGroupNotFoundException" || errorName(err) === "InvalidTargetException") return undefined;
      throw err;
    }
  }

  close(): void {
    for (const c of this.#clients.values()) c.destroy();
    this.#clients.clear();
  }

  async #client(targetGroupArn: string): Promise<{ sdk: Sdk; client: ElasticLoadBalancingV2Client }> {
    this.#sdk ??= import("@aws-sdk/client-elastic-load-balancing-v2");
    const sdk = await this.#sdk;
    const region = regionOf(targetGroupArn) ?? this.#defaultRegion;
    let client = this.#clients.get(region);
    if (client === undefined) {
      client = new sdk.ElasticLoadBalancingV2Client(this.#options(region));
      this.#clients.set(region, client);
    }
    return { sdk, client };
  }
}
