import { randomBytes, randomUUID } from "node:crypto";

/** Builds and parses the long-format ARNs real ECS uses (default since 2021). */
export class Arns {
  readonly region: string;
  readonly accountId: string;

  constructor(region: string, accountId: string) {
    this.region = region;
    this.accountId = accountId;
  }

  /**
   * The same builder for another region (the caller's, from the SigV4 scope: ECS resources are
   * regional). New code builds ARNs with `arns.inRegion(ctx.region)`.
   */
  inRegion(region: string): Arns {
    return region === this.region ? this : new Arns(region, this.accountId);
  }

  #prefix(): string {
    return `arn:aws:ecs:${this.region}:${this.accountId}`;
  }

  cluster(name: string): string {
    return `${this.#prefix()}:cluster/${name}`;
  }

  taskDefinition(family: string, revision: number): string {
    return `${this.#prefix()}:task-definition/${family}:${revision}`;
  }

  task(clusterName: string, taskId: string): string {
    return `${this.#prefix()}:task/${clusterName}/${taskId}`;
  }

  container(clusterName: string, taskId: string, containerId: string = randomUUID()): string {
    return `${this.#prefix()}:container/${clusterName}/${taskId}/${containerId}`;
  }

  containerInstance(clusterName: string, id: string): string {
    return `${this.#prefix()}:container-instance/${clusterName}/${id}`;
  }

  capacityProvider(name: string): string {
    return `${this.#prefix()}:capacity-provider/${name}`;
  }

  daemon(clusterName: string, name: string): string {
    return `${this.#prefix()}:daemon/${clusterName}/${name}`;
  }

  daemonTaskDefinition(family: string, revision: number): string {
    return `${this.#prefix()}:daemon-task-definition/${family}:${revision}`;
  }

  daemonDeployment(clusterName: string, daemonName: string, id: string): string {
    return `${this.#prefix()}:daemon-deployment/${clusterName}/${daemonName}/${id}`;
  }

  daemonRevision(clusterName: string, daemonName: string, id: string): string {
    return `${this.#prefix()}:daemon-revision/${clusterName}/${daemonName}/${id}`;
  }
}

/** 32 lower-case hex characters, the id format of long task ARNs. */
export function newTaskId(): string {
  return randomBytes(16).toString("hex");
}

const ARN = /^arn:(aws[a-z-]*):ecs:([a-z0-9-]*):(\d*):([a-z-]+)\/(.+)$/;

export interface ParsedEcsArn {
  partition: string;
  region: string;
  accountId: string;
  resourceType: string;
  /** Everything after "<type>/". */
  resource: string;
}

export function parseEcsArn(value: string): ParsedEcsArn | undefined {
  const m = ARN.exec(value);
  if (m === null) return undefined;
  return {
    partition: m[1]!,
    region: m[2]!,
    accountId: m[3]!,
    resourceType: m[4]!,
    resource: m[5]!,
  };
}

/** "default", or the name inside a cluster ARN. */
export function clusterNameOf(clusterOrArn: string | undefined): string {
  if (clusterOrArn === undefined || clusterOrArn === "") return "default";
  const arn = parseEcsArn(clusterOrArn);
  return arn?.resourceType === "cluster" ? arn.resource : clusterOrArn;
}
