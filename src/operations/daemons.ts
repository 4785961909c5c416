import { randomBytes, randomInt } from "node:crypto";
import type { EcsOperations } from "../../generated/operations.ts";
import type { DaemonDeployment, DaemonDeploymentConfiguration, DaemonRevision, Failure, Task } from "../../generated/shapes.ts";
import {
  ClientException,
  ClusterNotFoundException,
  DaemonNotActiveException,
  DaemonNotFoundException,
  InvalidParameterException,
} from "../../generated/errors.ts";
import { clusterNameOf, parseEcsArn } from "../runtime/arns.ts";
import { DAEMON_GROUP_PREFIX } from "../runtime/daemons/daemon-scheduler.ts";
import {
  daemonDeployment,
  daemonDeploymentSummary,
  daemonDetail,
  daemonRevision,
  daemonSummary,
  deploymentConfigurationOf,
  type RunningCounts,
} from "../runtime/daemons/daemon-views.ts";
import type { CapacityProviderStore } from "../runtime/store/capacity-provider-store.ts";
import type { ClusterStore } from "../runtime/store/cluster-store.ts";
import type { DaemonDeploymentRecord, DaemonRecord, DaemonRevisionRecord, DaemonStore } from "../runtime/store/daemon-store.ts";
import type { DaemonTaskDefinitionStore } from "../runtime/store/daemon-task-definition-store.ts";
import type { TagStore } from "../runtime/store/tag-store.ts";
import type { TaskListFilter } from "../runtime/store/task-store.ts";
import type { OperationContext, OperationDeps } from "./context.ts";
import { resolveDaemonTaskDefinition } from "./daemon-task-definitions.ts";
import { decodeToken, encodeToken, isNonNegativeInteger } from "./pagination.ts";
import { assertValidTags } from "./tags.ts";

export interface DaemonOperationsOptions {
  daemons: DaemonStore;
  definitions: DaemonTaskDefinitionStore;
  providers: CapacityProviderStore;
  clusters: ClusterStore;
  tags: TagStore;
  /** The engine's tasks (running counts); absent without an engine. */
  tasks?: { list(filter: TaskListFilter): Task[] } | undefined;
  /** Wakes the daemon scheduler after a change. */
  changed?: (() => void) | undefined;
}

const NAME = /^[A-Za-z0-9_-]{1,255}$/;
const MAX_DESCRIBE = 20;
const MI_ONLY = "ECS Managed Daemons is only supported for Amazon ECS Managed Instances Capacity Providers.";

/** CreateDaemon, UpdateDaemon, DeleteDaemon, DescribeDaemon, ListDaemons and the deployment/revision reads. */
export function daemonOperations(deps: OperationDeps, options: DaemonOperationsOptions): Partial<EcsOperations<OperationContext>> {
  const { daemons, definitions, providers, clusters, tags } = options;
  const now = (): number => deps.clock.now().getTime();
  const changed = (): void => options.changed?.();

  const requireDaemon = (ref: string, region: string): DaemonRecord => {
    const d = daemons.daemon(ref);
    if (d === undefined || d.region !== region) throw new DaemonNotFoundException("The specified daemon does not exist.");
    return d;
  };

  /** Capacity providers by ARN or name: they must be Managed Instances providers of the daemon's cluster. */
  const providerArns = (refs: readonly string[], region: string, clusterName: string): string[] => {
    if (refs.length === 0) throw new InvalidParameterException("capacityProviderArns must contain at least one capacity provider.");
    return [...new Set(refs)].map((ref) => {
      const arn = parseEcsArn(ref);
      const name = arn?.resourceType === "capacity-provider" ? arn.resource : ref;
      const p = providers.get(region, name);
      if (name === "FARGATE" || name === "FARGATE_SPOT" || (p !== undefined && p.type !== "MANAGED_INSTANCES")) {
        throw new InvalidParameterException(MI_ONLY);
      }
      if (p === undefined || p.status !== "ACTIVE") {
        throw new InvalidParameterException(`The specified capacity provider '${name}' does not exist. Specify a valid capacity provider and try again.`);
      }
      if (p.cluster !== undefined && p.cluster !== clusterName) {
        throw new InvalidParameterException(`The capacity provider '${name}' belongs to cluster ${p.cluster}, not ${clusterName}.`);
      }
      return p.capacityProviderArn!;
    });
  };

  const checkConfiguration = (c: DaemonDeploymentConfiguration | undefined): DaemonDeploymentConfiguration => {
    if (c?.drainPercent !== undefined && (c.drainPercent < 0 || c.drainPercent > 100)) {
      throw new InvalidParameterException("drainPercent must be between 0.0 and 100.0.");
    }
    if (c?.bakeTimeInMinutes !== undefined && c.bakeTimeInMinutes < 0) throw new InvalidParameterException("bakeTimeInMinutes cannot be negative.");
    return deploymentConfigurationOf(c);
  };

  /** An immutable snapshot of what the daemon runs from now on. */
  const newRevision = (
    d: Pick<DaemonRecord, "arn" | "clusterArn" | "clusterName" | "name" | "region">,
    input: { daemonTaskDefinitionArn: string; propagateTags?: "DAEMON" | "NONE" | undefined; enableECSManagedTags?: boolean | undefined; enableExecuteCommand?: boolean | undefined },
    capacityProviderArns: string[],
  ): DaemonRevisionRecord => {
    const td = resolveDaemonTaskDefinition(definitions, d.region, input.daemonTaskDefinitionArn);
    if (td === undefined) throw new ClientException(`The specified daemon task definition ${input.daemonTaskDefinitionArn} does not exist.`);
    if (td.status !== "ACTIVE") throw new ClientException(`The daemon task definition ${td.daemonTaskDefinitionArn} is not ACTIVE.`);
    const id = `${randomInt(1, 9)}${Array.from({ length: 18 }, () => randomInt(0, 10)).join("")}`;
    return daemons.saveRevision({
      region: d.region,
      arn: deps.arns.inRegion(d.region).daemonRevision(d.clusterName, d.name, id),
      daemonArn: d.arn,
      clusterArn: d.clusterArn,
      daemonTaskDefinitionArn: td.daemonTaskDefinitionArn!,
      capacityProviderArns,
      createdAt: now(),
      containerImages: (td.containerDefinitions ?? []).map((c) => ({ containerName: c.name, image: c.image })),
      propagateTags: input.propagateTags ?? "NONE",
      enableECSManagedTags: input.enableECSManagedTags ?? false,
      enableExecuteCommand: input.enableExecuteCommand ?? false,
    });
  };

  /** A new deployment supersedes the daemon's unfinished ones. */
  const newDeployment = (d: Pick<DaemonRecord, "arn" | "clusterArn" | "clusterName" | "name" | "region">, target: string | undefined, sources: string[], configuration: DaemonDeploymentConfiguration): DaemonDeploymentRecord => {
    for (const old of daemons.deploymentsOf(d.arn).filter((x) => x.status === "IN_PROGRESS" || x.status === "PENDING")) {
      daemons.saveDeployment({ ...old, status: "STOPPED", statusReason: "Deployment stopped: a newer daemon deployment started.", finishedAt: now() });
    }
    const id = randomBytes(12).toString("base64url").replace(/[-_]/g, "x").slice(0, 16);
    const record: DaemonDeploymentRecord = {
      region: d.region,
      arn: deps.arns.inRegion(d.region).daemonDeployment(d.clusterName, d.name, id),
      daemonArn: d.arn,
      clusterArn: d.clusterArn,
      status: "IN_PROGRESS",
      sourceRevisionArns: sources,
      deploymentConfiguration: configuration,
      createdAt: now(),
      startedAt: now(),
    };
    if (target !== undefined) record.targetRevisionArn = target;
    return daemons.saveDeployment(record);
  };

  /** RUNNING daemon tasks per revision and capacity provider (ARN), from the engine's tasks. */
  const runningOf = (d: DaemonRecord): RunningCounts => {
    const out: RunningCounts = new Map();
    for (const t of options.tasks?.list({ clusterArn: d.clusterArn, desiredStatus: "RUNNING" }) ?? []) {
      if (t.group !== `${DAEMON_GROUP_PREFIX}${d.name}` || t.lastStatus !== "RUNNING") continue;
      const revisionArn = deps.arns.inRegion(d.region).daemonRevision(d.clusterName, d.name, (t.startedBy ?? "").replace(/^ecs-daemon\//, ""));
      const provider = deps.arns.inRegion(d.region).capacityProvider(t.capacityProviderName ?? "");
      const per = out.get(revisionArn) ?? new Map<string, number>();
      per.set(provider, (per.get(provider) ?? 0) + 1);
      out.set(revisionArn, per);
    }
    return out;
  };

  return {
    async createDaemon(input, ctx) {
      if (!NAME.test(input.daemonName)) {
        throw new InvalidParameterException("Invalid daemon name. Up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens are allowed.");
      }
      if (input.clientToken !== undefined && (input.clientToken.length > 36 || !/^[\x21-\x7e]+$/.test(input.clientToken))) {
        throw new InvalidParameterException("clientToken can have up to 36 ASCII characters in the range 33-126.");
      }
      const cluster = input.clusterArn === undefined ? clusters.inRegion(ctx.region).require(undefined) : clusters.inRegion(ctx.region).get(clusterNameOf(input.clusterArn));
      if (cluster === undefined || cluster.status !== "ACTIVE") throw new ClusterNotFoundException("Cluster not found.");
      const region = ctx.region;
      const clusterName = cluster.clusterName!;
      const arn = deps.arns.inRegion(region).daemon(clusterName, input.daemonName);
      const existing = daemons.daemon(arn);
      if (existing !== undefined && existing.status === "ACTIVE") {
        throw new InvalidParameterException(`A daemon named ${input.daemonName} already exists in cluster ${clusterName}.`);
      }
      const newTags = input.tags ?? [];
      assertValidTags(newTags);
      const configuration = checkConfiguration(input.deploymentConfiguration);
      const identity = { arn, clusterArn: cluster.clusterArn!, clusterName, name: input.daemonName, region };
      const capacityProviderArns = providerArns(input.capacityProviderArns, region, clusterName);
      const revision = newRevision(identity, input, capacityProviderArns);
      const deployment = newDeployment(identity, revision.arn, [], configuration);
      const daemon = daemons.saveDaemon({ ...identity, status: "ACTIVE", createdAt: now(), updatedAt: now(), revisionArn: revision.arn, deploymentArn: deployment.arn });
      tags.deleteAll(arn);
      if (newTags.length > 0) tags.put(arn, newTags);
      changed();
      return { daemonArn: daemon.arn, status: daemon.status, createdAt: new Date(daemon.createdAt), deploymentArn: deployment.arn };
    },

    async updateDaemon(input, ctx) {
      const current = requireDaemon(input.daemonArn, ctx.region);
      if (current.status !== "ACTIVE") throw new DaemonNotActiveException("The specified daemon is not active. You can't update a daemon that is being deleted.");
      const configuration = checkConfiguration(input.deploymentConfiguration);
      const capacityProviderArns = providerArns(input.capacityProviderArns, current.region, current.clusterName);
      const revision = newRevision(current, input, capacityProviderArns);
      const deployment = newDeployment(current, revision.arn, [current.revisionArn], configuration);
      const daemon = daemons.saveDaemon({ ...current, updatedAt: now(), revisionArn: revision.arn, deploymentArn: deployment.arn });
      changed();
      return {
        daemonArn: daemon.arn,
        status: daemon.status,
        createdAt: new Date(daemon.createdAt),
        updatedAt: new Date(daemon.updatedAt),
        deploymentArn: deployment.arn,
      };
    },

    async deleteDaemon(input, ctx) {
      const current = requireDaemon(input.daemonArn, ctx.region);
      if (current.status !== "ACTIVE") throw new DaemonNotActiveException("The specified daemon is not active. Only an ACTIVE daemon can be deleted.");
      const previous = daemons.deployment(current.deploymentArn);
      const deployment = newDeployment(current, undefined, [current.revisionArn], previous?.deploymentConfiguration ?? deploymentConfigurationOf(undefined));
      const daemon = daemons.saveDaemon({ ...current, status: "DELETE_IN_PROGRESS", updatedAt: now(), deploymentArn: deployment.arn });
      changed();
      return {
        daemonArn: daemon.arn,
        status: daemon.status,
        createdAt: new Date(daemon.createdAt),
        updatedAt: new Date(daemon.updatedAt),
        deploymentArn: deployment.arn,
      };
    },

    async describeDaemon(input, ctx) {
      const d = requireDaemon(input.daemonArn, ctx.region);
      const revisions = [...new Set([d.revisionArn, ...daemons.deploymentsOf(d.arn).flatMap((x) => x.sourceRevisionArns)])]
        .map((arn) => daemons.revision(arn))
        .filter((r): r is DaemonRevisionRecord => r !== undefined);
      return { daemon: daemonDetail(d, revisions, runningOf(d)) };
    },

    async listDaemons(input, ctx) {
      const limit = input.maxResults ?? 100;
      if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new InvalidParameterException("maxResults must be between 1 and 100.");
      let all = daemons.daemons().filter((d) => d.region === ctx.region);
      if (input.clusterArn !== undefined) {
        const cluster = clusters.inRegion(ctx.region).get(clusterNameOf(input.clusterArn));
        if (cluster === undefined) throw new ClusterNotFoundException("Cluster not found.");
        all = all.filter((d) => d.clusterArn === cluster.clusterArn);
      }
      if (input.capacityProviderArns !== undefined && input.capacityProviderArns.length > 0) {
        const wanted = new Set(input.capacityProviderArns.map((a) => (parseEcsArn(a) === undefined ? deps.arns.inRegion(ctx.region).capacityProvider(a) : a)));
        all = all.filter((d) => (daemons.revision(d.revisionArn)?.capacityProviderArns ?? []).some((a) => wanted.has(a)));
      }
      const start = input.nextToken === undefined ? 0 : decodeToken(input.nextToken, "daemon", isNonNegativeInteger);
      const page = all.slice(start, start + limit);
      const out: { daemonSummariesList: ReturnType<typeof daemonSummary>[]; nextToken?: string } = { daemonSummariesList: page.map(daemonSummary) };
      if (start + limit < all.length) out.nextToken = encodeToken("daemon", start + limit);
      return out;
    },

    async describeDaemonDeployments(input, ctx) {
      if (input.daemonDeploymentArns.length === 0 || input.daemonDeploymentArns.length > MAX_DESCRIBE) {
        throw new InvalidParameterException(`daemonDeploymentArns must contain between 1 and ${MAX_DESCRIBE} ARNs.`);
      }
      const found: DaemonDeployment[] = [];
      const failures: Failure[] = [];
      for (const arn of input.daemonDeploymentArns) {
        const d = daemons.deployment(arn);
        const daemon = d === undefined ? undefined : daemons.daemon(d.daemonArn);
        if (d === undefined || daemon === undefined || d.region !== ctx.region) {
          failures.push({ arn, reason: "MISSING" });
          continue;
        }
        found.push(daemonDeployment(d, (r) => daemons.revision(r), runningOf(daemon)));
      }
      return { daemonDeployments: found, failures };
    },

    async listDaemonDeployments(input, ctx) {
      const d = requireDaemon(input.daemonArn, ctx.region);
      const limit = input.maxResults ?? 20;
      if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new InvalidParameterException("maxResults must be between 1 and 100.");
      let all = daemons.deploymentsOf(d.arn);
      if (input.status !== undefined && input.status.length > 0) all = all.filter((x) => input.status!.includes(x.status));
      const before = input.createdAt?.before?.getTime();
      const after = input.createdAt?.after?.getTime();
      if (before !== undefined) all = all.filter((x) => x.createdAt < before);
      if (after !== undefined) all = all.filter((x) => x.createdAt > after);
      const start = input.nextToken === undefined ? 0 : decodeToken(input.nextToken, "daemon-deployment", isNonNegativeInteger);
      const page = all.slice(start, start + limit);
      const out: { daemonDeployments: ReturnType<typeof daemonDeploymentSummary>[]; nextToken?: string } = {
        daemonDeployments: page.map(daemonDeploymentSummary),
      };
      if (start + limit < all.length) out.nextToken = encodeToken("daemon-deployment", start + limit);
      return out;
    },

    async describeDaemonRevisions(input, ctx) {
      if (input.daemonRevisionArns.length === 0 || input.daemonRevisionArns.length > MAX_DESCRIBE) {
        throw new InvalidParameterException(`daemonRevisionArns must contain between 1 and ${MAX_DESCRIBE} ARNs.`);
      }
      const found: DaemonRevision[] = [];
      const failures: Failure[] = [];
      for (const arn of input.daemonRevisionArns) {
        const r = daemons.revision(arn);
        if (r === undefined || r.region !== ctx.region) failures.push({ arn, reason: "MISSING" });
        else found.push(daemonRevision(r));
      }
      return { daemonRevisions: found, failures };
    },
  };
}
