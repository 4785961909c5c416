import type { EcsOperations } from "../../generated/operations.ts";
import type { DaemonTaskDefinition, DaemonTaskDefinitionSummary } from "../../generated/shapes.ts";
import { ClientException, InvalidParameterException } from "../../generated/errors.ts";
import { parseEcsArn } from "../runtime/arns.ts";
import { buildDaemonTaskDefinition } from "../runtime/daemons/daemon-task-definition-rules.ts";
import { rootPrincipalArn } from "../runtime/store/account-setting-store.ts";
import type { DaemonStore } from "../runtime/store/daemon-store.ts";
import type { DaemonTaskDefinitionStore } from "../runtime/store/daemon-task-definition-store.ts";
import type { TagStore } from "../runtime/store/tag-store.ts";
import type { OperationContext, OperationDeps } from "./context.ts";
import { decodeToken, encodeToken, isNonNegativeInteger } from "./pagination.ts";
import { assertValidTags } from "./tags.ts";

export interface DaemonTaskDefinitionOperationsOptions {
  definitions: DaemonTaskDefinitionStore;
  daemons: DaemonStore;
  tags: TagStore;
}

const NOT_FOUND = "Unable to describe daemon task definition.";

/** `family`, `family:revision` or an ARN → family and revision (undefined: the latest ACTIVE one). */
export function parseDaemonTaskDefinitionRef(ref: string): { family: string; revision?: number | undefined } | undefined {
  const arn = parseEcsArn(ref);
  if (arn !== undefined && arn.resourceType !== "daemon-task-definition") return undefined;
  const text = arn?.resource ?? ref;
  const m = /^([A-Za-z0-9_-]{1,255})(?::(\d+))?$/.exec(text);
  if (m === null) return undefined;
  return m[2] === undefined ? { family: m[1]! } : { family: m[1]!, revision: Number(m[2]) };
}

/** The daemon task definition a reference names in the region, or undefined. */
export function resolveDaemonTaskDefinition(store: DaemonTaskDefinitionStore, region: string, ref: string): DaemonTaskDefinition | undefined {
  const parsed = parseDaemonTaskDefinitionRef(ref);
  if (parsed === undefined) return undefined;
  return parsed.revision === undefined ? store.latestActive(region, parsed.family) : store.get(region, parsed.family, parsed.revision);
}

/** RegisterDaemonTaskDefinition, DescribeDaemonTaskDefinition, ListDaemonTaskDefinitions, DeleteDaemonTaskDefinition. */
export function daemonTaskDefinitionOperations(
  deps: OperationDeps,
  options: DaemonTaskDefinitionOperationsOptions,
): Partial<EcsOperations<OperationContext>> {
  const { definitions, daemons, tags } = options;
  const registeredBy = rootPrincipalArn(deps.arns.accountId);

  return {
    async registerDaemonTaskDefinition(input, ctx) {
      const newTags = input.tags ?? [];
      assertValidTags(newTags);
      // Validated before a revision number is taken.
      buildDaemonTaskDefinition(input, { arn: "", revision: 0, registeredAt: deps.clock.now(), registeredBy });
      const revision = definitions.nextRevision(ctx.region, input.family);
      const arn = deps.arns.inRegion(ctx.region).daemonTaskDefinition(input.family, revision);
      const td = definitions.save(ctx.region, buildDaemonTaskDefinition(input, { arn, revision, registeredAt: deps.clock.now(), registeredBy }));
      if (newTags.length > 0) tags.put(arn, newTags);
      return { daemonTaskDefinitionArn: td.daemonTaskDefinitionArn };
    },

    async describeDaemonTaskDefinition(input, ctx) {
      const td = resolveDaemonTaskDefinition(definitions, ctx.region, input.daemonTaskDefinition);
      if (td === undefined) throw new ClientException(NOT_FOUND);
      return { daemonTaskDefinition: td };
    },

    async listDaemonTaskDefinitions(input, ctx) {
      const limit = input.maxResults ?? 100;
      if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new InvalidParameterException("maxResults must be between 1 and 100.");
      const status = input.status ?? "ACTIVE";
      let all = definitions.list(ctx.region).filter((d) => status === "ALL" || d.status === status);
      if (input.family !== undefined) all = all.filter((d) => d.family === input.family);
      if (input.familyPrefix !== undefined) all = all.filter((d) => d.family!.startsWith(input.familyPrefix!));
      if (input.revision === "LAST_REGISTERED") {
        const last = new Map<string, DaemonTaskDefinition>();
        for (const d of all) if ((last.get(d.family!)?.revision ?? 0) < (d.revision ?? 0)) last.set(d.family!, d);
        all = [...last.values()];
      }
      if (input.sort === "DESC") all = [...all].reverse();
      const start = input.nextToken === undefined ? 0 : decodeToken(input.nextToken, "daemon-task-definition", isNonNegativeInteger);
      const page = all.slice(start, start + limit).map(summaryOf);
      const out: { daemonTaskDefinitions: DaemonTaskDefinitionSummary[]; nextToken?: string } = { daemonTaskDefinitions: page };
      if (start + limit < all.length) out.nextToken = encodeToken("daemon-task-definition", start + limit);
      return out;
    },

    async deleteDaemonTaskDefinition(input, ctx) {
      const parsed = parseDaemonTaskDefinitionRef(input.daemonTaskDefinition);
      if (parsed === undefined || parsed.revision === undefined) {
        throw new ClientException("The specified daemon task definition identifier is invalid. Specify a valid revision (family:revision or a full ARN).");
      }
      const td = definitions.get(ctx.region, parsed.family, parsed.revision);
      if (td === undefined) throw new ClientException("The specified daemon task definition does not exist.");
      if (td.status !== "ACTIVE") throw new ClientException("The specified daemon task definition is not ACTIVE and cannot be deleted.");
      // Still the revision of a daemon: deletion waits for it ("existing daemons … continue to run").
      const inUse = daemons
        .daemons()
        .some((d) => d.status === "ACTIVE" && daemons.revision(d.revisionArn)?.daemonTaskDefinitionArn === td.daemonTaskDefinitionArn);
      const saved = definitions.save(ctx.region, { ...td, status: inUse ? "DELETE_IN_PROGRESS" : "DELETED", deleteRequestedAt: deps.clock.now() });
      return { daemonTaskDefinitionArn: saved.daemonTaskDefinitionArn };
    },
  };
}

function summaryOf(d: DaemonTaskDefinition): DaemonTaskDefinitionSummary {
  const out: DaemonTaskDefinitionSummary = { arn: d.daemonTaskDefinitionArn, status: d.status };
  if (d.registeredAt !== undefined) out.registeredAt = d.registeredAt;
  if (d.registeredBy !== undefined) out.registeredBy = d.registeredBy;
  if (d.deleteRequestedAt !== undefined) out.deleteRequestedAt = d.deleteRequestedAt;
  return out;
}
