import { randomBytes, randomUUID } from "node:crypto";
import { ClientException, InvalidParameterException } from "../../generated/errors.ts";

// The one place that builds, parses and slices ARNs and resource identifiers. Everything else asks it:
// never `arn.slice(arn.lastIndexOf("/") + 1)` in another file.

/** The partition every ARN we mint is in (the emulator has no China or GovCloud flavour). */
export const PARTITION = "aws";

/** `arn:<partition>:<service>:<region>:<account-id>:<resource>`; the resource may hold colons itself. */
export interface Arn {
  partition: string;
  service: string;
  region: string;
  accountId: string;
  resource: string;
}

export interface ParsedEcsArn {
  partition: string;
  region: string;
  accountId: string;
  resourceType: string;
  /** Everything after "<type>/". */
  resource: string;
}

/** The resource types whose identifiers operations take (name or id, or the full ARN). */
export type EcsResourceType = "cluster" | "task" | "task-definition" | "container-instance" | "service" | "capacity-provider";

/**
 * What an identifier in a request names, seen from the caller's partition, region and account:
 * - `here`: a resource of this region. `id` is the short identifier (cluster name, task id,
 *   `family:revision`, …); `arn` is the ARN the caller gave, if it gave one; `parent` is the cluster
 *   named inside a long task/container-instance/service ARN.
 * - `elsewhere`: a well-formed ECS ARN of the right type in another partition, region or account. Such a
 *   resource never exists here: Describe* report it MISSING (echoing `arn`), the others "not found".
 */
export type EcsReference =
  | { kind: "here"; id: string; arn: string | undefined; parent: string | undefined }
  | { kind: "elsewhere"; arn: string };

/** Builds and parses the long-format ARNs real ECS uses (default since 2021), for one region. */
export class Arns {
  readonly partition = PARTITION;
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
    return `arn:${this.partition}:ecs:${this.region}:${this.accountId}`;
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

  service(clusterName: string, serviceName: string): string {
    return `${this.#prefix()}:service/${clusterName}/${serviceName}`;
  }

  /** `taskSetId` is the full id, e.g. `ecs-svc/1234567890123456789`. */
  taskSet(clusterName: string, serviceName: string, taskSetId: string): string {
    return `${this.#prefix()}:task-set/${clusterName}/${serviceName}/${taskSetId}`;
  }

  serviceDeployment(clusterName: string, serviceName: string, id: string): string {
    return `${this.#prefix()}:service-deployment/${clusterName}/${serviceName}/${id}`;
  }

  serviceRevision(clusterName: string, serviceName: string, id: string): string {
    return `${this.#prefix()}:service-revision/${clusterName}/${serviceName}/${id}`;
  }

  /** Whether an ARN is in this builder's partition, region and account. */
  isHere(arn: Pick<Arn, "partition" | "region" | "accountId">): boolean {
    return arn.partition === this.partition && arn.region === this.region && arn.accountId === this.accountId;
  }

  /**
   * Classifies a name, id or ARN given for a resource of `type` (see EcsReference). Throws what real ECS
   * answers for an identifier it cannot use: ClientException for a malformed ARN, InvalidParameterException
   * for another service's ARN, another resource type, or a wrong number of `/` separators.
   */
  resolve(ref: string, type: EcsResourceType): EcsReference {
    if (!ref.startsWith("arn:")) {
      if (type === "cluster" && ref.includes("/")) throw unexpectedSeparators();
      return { kind: "here", id: ref, arn: undefined, parent: undefined };
    }
    const arn = parseArn(ref);
    if (arn === undefined) {
      // Real ECS's own words for an ARN it cannot split (seen for DescribeClusters).
      throw new ClientException(`com.amazon.arn.ARNSyntaxException: Fifth colon (namespace/relative-id delimiter) not found: ${ref}`);
    }
    if (arn.service !== "ecs") throw new InvalidParameterException(`Invalid identifier: Unexpected service ${arn.service} in ${ref}`);
    const slash = arn.resource.indexOf("/");
    const resourceType = slash < 0 ? arn.resource : arn.resource.slice(0, slash);
    if (resourceType !== type) throw new InvalidParameterException(`Invalid identifier: Unexpected resource type ${resourceType} in ${ref}; expected ${type}`);
    const path = slash < 0 ? [] : arn.resource.slice(slash + 1).split("/");
    // cluster/<name> and task-definition/<family:rev>; task, container instance and service ARNs come in
    // the long (…/<cluster>/<id>) and the old short (…/<id>) format.
    const segments = type === "cluster" || type === "task-definition" || type === "capacity-provider" ? [1] : [1, 2];
    if (!segments.includes(path.length) || path.some((p) => p === "")) throw unexpectedSeparators();
    if (!this.isHere(arn)) return { kind: "elsewhere", arn: ref };
    return { kind: "here", id: path.at(-1)!, arn: ref, parent: path.length === 2 ? path[0] : undefined };
  }

  /**
   * The ARN a task reference names in the request's cluster: a task id becomes the long ARN, an ARN of
   * this region is kept as given (old short ARNs are rebuilt in the long format, the only one we mint).
   */
  taskArnOf(clusterName: string, ref: string): TaskReference {
    const r = this.resolve(ref, "task");
    if (r.kind === "elsewhere") return r;
    if (r.arn !== undefined && r.parent !== undefined) return { kind: "here", arn: r.arn, clusterName: r.parent, id: r.id };
    return { kind: "here", arn: this.task(clusterName, r.id), clusterName, id: r.id };
  }
}

/** A task identifier resolved to the ARN to look up (see Arns.taskArnOf). */
export type TaskReference = { kind: "here"; arn: string; clusterName: string; id: string } | { kind: "elsewhere"; arn: string };

function unexpectedSeparators(): InvalidParameterException {
  return new InvalidParameterException("Invalid identifier: Unexpected number of separators");
}

/** 19 decimal digits, the number in deployment and task set ids (`ecs-svc/<digits>`) and revision ARNs. */
export function newNumericId(): string {
  // Below 2^63 like ECS's own (they are Java longs); the top digit is never 0.
  const n = 1_000_000_000_000_000_000n + (BigInt(`0x${randomBytes(8).toString("hex")}`) % 8_223_372_036_854_775_807n);
  return n.toString();
}

/** 22 URL-safe characters, the id at the end of a service deployment ARN. */
export function newServiceDeploymentId(): string {
  return randomBytes(17).toString("base64url").slice(0, 22);
}

/** 32 lower-case hex characters, the id format of long task ARNs. */
export function newTaskId(): string {
  return randomBytes(16).toString("hex");
}

/** Any ARN; undefined unless it has the six parts (and a partition and a service). */
export function parseArn(value: string): Arn | undefined {
  if (!value.startsWith("arn:")) return undefined;
  const parts = value.split(":");
  if (parts.length < 6) return undefined;
  const [, partition, service, region, accountId] = parts as [string, string, string, string, string];
  if (partition === "" || service === "") return undefined;
  return { partition, service, region, accountId, resource: parts.slice(5).join(":") };
}

const ECS_RESOURCE = /^([a-z-]+)\/(.+)$/;

export function parseEcsArn(value: string): ParsedEcsArn | undefined {
  const arn = parseArn(value);
  if (arn === undefined || arn.service !== "ecs") return undefined;
  const m = ECS_RESOURCE.exec(arn.resource);
  if (m === null) return undefined;
  return { partition: arn.partition, region: arn.region, accountId: arn.accountId, resourceType: m[1]!, resource: m[2]! };
}

/** "default", or the name inside a cluster ARN (a plain name is returned as is). */
export function clusterNameOf(clusterOrArn: string | undefined): string {
  if (clusterOrArn === undefined || clusterOrArn === "") return "default";
  const arn = parseEcsArn(clusterOrArn);
  return arn?.resourceType === "cluster" ? arn.resource : clusterOrArn;
}

/**
 * The last `/` segment of an ARN's resource — a container instance id, a daemon revision or deployment
 * id, a capacity provider name; an id is returned as is.
 */
export function lastSegmentOf(arnOrId: string): string {
  return arnOrId.slice(arnOrId.lastIndexOf("/") + 1);
}

/** The task id: the last segment of a (long or short) task ARN; an id is returned as is. */
export function taskIdOf(taskArnOrId: string): string {
  return taskArnOrId.slice(taskArnOrId.lastIndexOf("/") + 1);
}

/** A task set id (`ecs-svc/…`): what follows `<cluster>/<service>/` in a task set ARN; an id is returned as is. */
export function taskSetIdOf(taskSetArnOrId: string): string {
  const arn = parseEcsArn(taskSetArnOrId);
  if (arn?.resourceType !== "task-set") return taskSetArnOrId;
  return arn.resource.split("/").slice(2).join("/");
}

/** The region an ECS ARN names, else undefined. */
export function regionOf(arn: string | undefined): string | undefined {
  if (arn === undefined) return undefined;
  const parsed = parseArn(arn);
  return parsed === undefined || parsed.region === "" ? undefined : parsed.region;
}

/** "arn:…:task-definition/<family>:<rev>" → family; anything else is returned as is. */
export function familyOf(taskDefinitionArn: string | undefined): string {
  if (taskDefinitionArn === undefined) return "";
  const arn = parseEcsArn(taskDefinitionArn);
  if (arn?.resourceType !== "task-definition") return taskDefinitionArn;
  const colon = arn.resource.lastIndexOf(":");
  return colon < 0 ? taskDefinitionArn : arn.resource.slice(0, colon);
}
