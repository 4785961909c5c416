import type { EcsOperations } from "../../generated/operations.ts";
import type {
  DeleteTaskDefinitionsRequest,
  DeleteTaskDefinitionsResponse,
  DeregisterTaskDefinitionRequest,
  DeregisterTaskDefinitionResponse,
  DescribeTaskDefinitionRequest,
  DescribeTaskDefinitionResponse,
  Failure,
  ListTaskDefinitionFamiliesRequest,
  ListTaskDefinitionFamiliesResponse,
  ListTaskDefinitionsRequest,
  ListTaskDefinitionsResponse,
  RegisterTaskDefinitionRequest,
  RegisterTaskDefinitionResponse,
  Tag,
  TaskDefinition,
} from "../../generated/shapes.ts";
import { deserializeDescribeTaskDefinitionResponse } from "../../generated/serde.ts";
import { ClientException, EcsError, InvalidParameterException, ServerException } from "../../generated/errors.ts";
import { rootPrincipalArn } from "../runtime/store/account-setting-store.ts";
import type { TagStore } from "../runtime/store/tag-store.ts";
import {
  parseTaskDefinitionRef,
  type TaskDefinitionKey,
  type TaskDefinitionStore,
} from "../runtime/store/task-definition-store.ts";
import { toTaskDefinition, validateRegistration } from "../runtime/task-definition-rules.ts";
import type { OperationContext, OperationDeps } from "./context.ts";
import { decodeToken, encodeToken, isString } from "./pagination.ts";
import { assertValidTags } from "./tags.ts";

export interface TaskDefinitionStores {
  taskDefinitions: TaskDefinitionStore;
  tags: TagStore;
}

const NOT_FOUND = "Unable to describe task definition.";

/**
 * The task definition a RunTask/StartTask/DescribeTaskDefinition reference names: a local registration
 * first, else the upstream ECS (`ECS_ENDPOINT_URL`), as the original project fetched unknown task
 * definitions on demand. An upstream definition is kept as-is under its own ARN (never re-registered
 * under a local revision), so `TaskDefinitionStore.resolve(arn)` finds it later. `store` is the caller's
 * region's view (`inRegion(ctx.region)`): references resolve, and the upstream is asked, in that region.
 */
export async function resolveTaskDefinition(
  deps: OperationDeps,
  store: TaskDefinitionStore,
  ref: string,
): Promise<TaskDefinition> {
  return (await lookup(deps, store, ref, false)).taskDefinition;
}

interface Lookup {
  taskDefinition: TaskDefinition;
  tags: Tag[] | undefined;
}

async function lookup(deps: OperationDeps, store: TaskDefinitionStore, ref: string, withTags: boolean): Promise<Lookup> {
  const found = store.resolve(ref);
  const isLocal = found?.taskDefinitionArn !== undefined && store.isLocal(found.taskDefinitionArn);
  if (found !== undefined && (isLocal || deps.upstream === undefined || !withTags)) {
    return { taskDefinition: found, tags: isLocal && withTags ? store.tagsOf(found.taskDefinitionArn!) : undefined };
  }
  if (deps.upstream === undefined) throw new ClientException(NOT_FOUND);

  const answer = await deps.upstream.call(
    "DescribeTaskDefinition",
    withTags ? { taskDefinition: ref, include: ["TAGS"] } : { taskDefinition: ref },
    store.region,
  );
  let taskDefinition: TaskDefinition | undefined;
  let tags: Tag[] | undefined;
  try {
    const response = deserializeDescribeTaskDefinitionResponse(answer, "");
    taskDefinition = response.taskDefinition;
    tags = response.tags;
  } catch (err) {
    if (err instanceof EcsError) {
      throw new ServerException(`The upstream ECS answered DescribeTaskDefinition with an invalid response: ${err.message}`);
    }
    throw err;
  }
  if (taskDefinition === undefined) throw new ClientException(NOT_FOUND);
  store.cacheUpstream(taskDefinition, deps.clock.now());
  return { taskDefinition, tags: withTags ? (tags ?? []) : undefined };
}

export function taskDefinitionOperations(
  deps: OperationDeps,
  stores: TaskDefinitionStores,
): Partial<EcsOperations<OperationContext>> {
  const registeredBy = rootPrincipalArn(deps.arns.accountId);
  /** Task definitions are regional: every operation works on the caller's region. */
  const regional = (ctx: OperationContext): TaskDefinitionStore => stores.taskDefinitions.inRegion(ctx.region);

  /** The local revision a DeregisterTaskDefinition/DeleteTaskDefinitions reference names (a revision is required). */
  const revisionRef = (ref: string, ctx: OperationContext): { arn: string } | { problem: "no-revision" | "invalid" } => {
    const parsed = parseTaskDefinitionRef(ref);
    if (parsed === undefined) {
      return /^[^:]+:[^:]*$/.test(ref) || ref.startsWith("arn:") ? { problem: "invalid" } : { problem: "no-revision" };
    }
    if (parsed.revision === undefined) return { problem: "no-revision" };
    return { arn: parsed.arn ?? deps.arns.inRegion(ctx.region).taskDefinition(parsed.family, parsed.revision) };
  };

  return {
    async registerTaskDefinition(input: RegisterTaskDefinitionRequest, ctx): Promise<RegisterTaskDefinitionResponse> {
      const taskDefinitions = regional(ctx);
      const arns = deps.arns.inRegion(ctx.region);
      const normalized = validateRegistration(input);
      const tags = input.tags ?? [];
      assertValidTags(tags);
      const td = taskDefinitions.register(
        input.family,
        (revision) =>
          toTaskDefinition(normalized, {
            taskDefinitionArn: arns.taskDefinition(input.family, revision),
            revision,
            registeredAt: deps.clock.now(),
            registeredBy,
          }),
        tags,
      );
      deps.logger.debug("task-definition.registered", { taskDefinitionArn: td.taskDefinitionArn });
      const response: RegisterTaskDefinitionResponse = { taskDefinition: td };
      if (tags.length > 0) response.tags = taskDefinitions.tagsOf(td.taskDefinitionArn!);
      return response;
    },

    async describeTaskDefinition(input: DescribeTaskDefinitionRequest, ctx): Promise<DescribeTaskDefinitionResponse> {
      const withTags = input.include?.includes("TAGS") === true;
      const found = await lookup(deps, regional(ctx), input.taskDefinition, withTags);
      const response: DescribeTaskDefinitionResponse = { taskDefinition: found.taskDefinition };
      if (withTags) response.tags = found.tags ?? [];
      return response;
    },

    async listTaskDefinitions(input: ListTaskDefinitionsRequest, ctx): Promise<ListTaskDefinitionsResponse> {
      const taskDefinitions = regional(ctx);
      const limit = maxResults(input.maxResults, 100);
      const status = input.status ?? "ACTIVE";
      const sort = input.sort ?? "ASC";
      const after = input.nextToken === undefined ? undefined : decodeToken(input.nextToken, "td", isTaskDefinitionKey);
      const page = taskDefinitions.list({ family: emptyToUndefined(input.familyPrefix), status, sort, after, limit: limit + 1 });
      const items = page.slice(0, limit);
      const response: ListTaskDefinitionsResponse = { taskDefinitionArns: items.map((e) => e.arn) };
      const last = items.at(-1);
      if (page.length > limit && last !== undefined) {
        response.nextToken = encodeToken("td", { family: last.family, revision: last.revision });
      }
      return response;
    },

    async listTaskDefinitionFamilies(input: ListTaskDefinitionFamiliesRequest, ctx): Promise<ListTaskDefinitionFamiliesResponse> {
      const taskDefinitions = regional(ctx);
      const limit = maxResults(input.maxResults, 100);
      const after = input.nextToken === undefined ? undefined : decodeToken(input.nextToken, "family", isString);
      const page = taskDefinitions.families({
        familyPrefix: emptyToUndefined(input.familyPrefix),
        status: input.status ?? "ALL",
        after,
        limit: limit + 1,
      });
      const families = page.slice(0, limit);
      const response: ListTaskDefinitionFamiliesResponse = { families };
      const last = families.at(-1);
      if (page.length > limit && last !== undefined) response.nextToken = encodeToken("family", last);
      return response;
    },

    async deregisterTaskDefinition(input: DeregisterTaskDefinitionRequest, ctx): Promise<DeregisterTaskDefinitionResponse> {
      const taskDefinitions = regional(ctx);
      const ref = revisionRef(input.taskDefinition, ctx);
      if ("problem" in ref) {
        if (ref.problem === "no-revision") throw new ClientException("Revision is missing.");
        throw new InvalidParameterException(`Invalid task definition '${input.taskDefinition}'. Specify family:revision or a full ARN.`);
      }
      const td = taskDefinitions.deregister(ref.arn, deps.clock.now());
      if (td === undefined) throw new ClientException(NOT_FOUND);
      return { taskDefinition: td };
    },

    async deleteTaskDefinitions(input: DeleteTaskDefinitionsRequest, ctx): Promise<DeleteTaskDefinitionsResponse> {
      const taskDefinitions = regional(ctx);
      if (input.taskDefinitions.length === 0) {
        throw new InvalidParameterException("size of TaskDefinition references list must be greater than 0");
      }
      if (input.taskDefinitions.length > 10) {
        throw new InvalidParameterException("Size of TaskDefinition references list cannot exceed 10");
      }
      const deleted: TaskDefinition[] = [];
      const failures: Failure[] = [];
      const now = deps.clock.now();
      for (const raw of input.taskDefinitions) {
        const ref = revisionRef(raw, ctx);
        if ("problem" in ref) {
          failures.push({
            arn: raw,
            reason: "The specified task definition identifier is invalid. Specify a valid name or ARN and try again.",
          });
          continue;
        }
        const current = taskDefinitions.resolve(ref.arn);
        if (current === undefined || !taskDefinitions.isLocal(ref.arn)) {
          failures.push({
            arn: ref.arn,
            reason: "The specified task definition does not exist. Specify a valid account, family, revision and try again.",
          });
          continue;
        }
        if (current.status === "ACTIVE") {
          failures.push({
            arn: ref.arn,
            reason: "The specified task definition is still in ACTIVE status. Please deregister the target and try again.",
          });
          continue;
        }
        const td = taskDefinitions.markDeleteInProgress(ref.arn, now);
        if (td !== undefined) deleted.push(td);
      }
      return { taskDefinitions: deleted, failures };
    },
  };
}

function maxResults(value: number | undefined, max: number): number {
  if (value === undefined) return max;
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new InvalidParameterException(`maxResults must be between 1 and ${max}; got ${value}.`);
  }
  return value;
}

function emptyToUndefined(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

function isTaskDefinitionKey(value: unknown): value is TaskDefinitionKey {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v["family"] === "string" && Number.isInteger(v["revision"]);
}
