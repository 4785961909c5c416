import type { EcsOperations } from "../../generated/operations.ts";
import type {
  ListTagsForResourceRequest,
  ListTagsForResourceResponse,
  Tag,
  TagResourceRequest,
  TagResourceResponse,
  UntagResourceRequest,
  UntagResourceResponse,
} from "../../generated/shapes.ts";
import {
  deserializeListTagsForResourceResponse,
  serializeListTagsForResourceRequest,
  serializeTagResourceRequest,
  serializeUntagResourceRequest,
} from "../../generated/serde.ts";
import { ClusterNotFoundException, InvalidParameterException, ResourceNotFoundException } from "../../generated/errors.ts";
import { parseEcsArn } from "../runtime/arns.ts";
import type { ClusterStore } from "../runtime/store/cluster-store.ts";
import type { TagStore } from "../runtime/store/tag-store.ts";
import type { TaskDefinitionStore } from "../runtime/store/task-definition-store.ts";
import type { OperationContext, OperationDeps } from "./context.ts";

export interface TagOperationsOptions {
  tags: TagStore;
  clusters: ClusterStore;
  taskDefinitions: TaskDefinitionStore;
  /**
   * Whether a resource this module does not own exists (tasks; supplied by the task engine). Tags of
   * such resources live in the same TagStore, keyed by ARN.
   */
  resourceExists?: ((arn: string) => boolean) | undefined;
}

/** AWS limit on user tags per resource. */
export const MAX_TAGS_PER_RESOURCE = 50;

/**
 * Checks tags the way real ECS does on every write (TagResource, RegisterTaskDefinition, CreateCluster,
 * RunTask): a key is required, key 1–128 and value 0–256 characters, the `aws:` prefix (any case) is
 * reserved, and a resource holds at most 50 tags once merged with `existingKeys`.
 */
export function assertValidTags(tags: readonly Tag[], existingKeys: readonly string[] = []): void {
  for (const tag of tags) {
    if (tag.key === undefined || tag.key.length === 0) {
      throw new InvalidParameterException("Tag keys must not be null or empty.");
    }
    if (tag.key.length > 128) {
      throw new InvalidParameterException(`Tag key '${tag.key.slice(0, 32)}…' is too long: tag keys can have at most 128 characters.`);
    }
    if ((tag.value ?? "").length > 256) {
      throw new InvalidParameterException(`The value of tag '${tag.key}' is too long: tag values can have at most 256 characters.`);
    }
    if (tag.key.toLowerCase().startsWith("aws:")) {
      throw new InvalidParameterException(`Tag key '${tag.key}' is invalid: the 'aws:' prefix is reserved for AWS use.`);
    }
  }
  const merged = new Set([...existingKeys, ...tags.map((t) => t.key!)]);
  if (merged.size > MAX_TAGS_PER_RESOURCE) {
    throw new InvalidParameterException(
      `Too many tags: a resource can have at most ${MAX_TAGS_PER_RESOURCE} tags; this request would leave it with ${merged.size}.`,
    );
  }
}

/**
 * TagResource / UntagResource / ListTagsForResource for clusters, task definitions and (through
 * `resourceExists`) tasks. ARNs of resource types this emulator does not hold (services, capacity
 * providers, container instances, …) go to the upstream ECS when one is configured.
 *
 * Unknown resources: a cluster ARN gets ClusterNotFoundException (the error real ECS models for all three
 * operations); an inactive cluster InvalidParameterException; a task definition or task that does not
 * exist gets ResourceNotFoundException from TagResource/UntagResource and InvalidParameterException from
 * ListTagsForResource, whose model does not declare ResourceNotFoundException.
 */
export function tagOperations(deps: OperationDeps, options: TagOperationsOptions): Partial<EcsOperations<OperationContext>> {
  const { tags } = options;

  /**
   * "local" when we hold the resource; "upstream" when it belongs to the upstream; throws otherwise. A
   * resource of another region, account or partition does not exist here (real ECS is regional).
   */
  const locate = (arn: string, notFound: (message: string) => Error, ctx: OperationContext): "local" | "upstream" => {
    const parsed = parseEcsArn(arn);
    if (parsed === undefined) throw new InvalidParameterException("The ARN provided is invalid.");
    const arns = deps.arns.inRegion(ctx.region);
    const here = arns.isHere(parsed);
    switch (parsed.resourceType) {
      case "cluster": {
        const cluster = options.clusters.inRegion(ctx.region).get(arn);
        if (cluster === undefined) throw new ClusterNotFoundException("Cluster not found.");
        if (cluster.status !== "ACTIVE") {
          throw new InvalidParameterException("The specified cluster is inactive. Specify an active cluster and try again.");
        }
        return "local";
      }
      case "task-definition": {
        if (!/:\d+$/.test(parsed.resource)) {
          throw new InvalidParameterException("The task definition ARN must include a revision.");
        }
        if (options.taskDefinitions.inRegion(ctx.region).isLocal(arn)) return "local";
        if (deps.upstream !== undefined) return "upstream";
        throw notFound("The specified task definition does not exist.");
      }
      case "task": {
        if (here && options.resourceExists?.(arn) === true) return "local";
        throw notFound("The specified task does not exist.");
      }
      default: {
        if (here && options.resourceExists?.(arn) === true) return "local";
        if (deps.upstream !== undefined) return "upstream";
        throw notFound(`The specified ${parsed.resourceType} does not exist.`);
      }
    }
  };
  const resourceNotFound = (message: string): Error => new ResourceNotFoundException(message);
  const invalidParameter = (message: string): Error => new InvalidParameterException(message);

  return {
    async tagResource(input: TagResourceRequest, ctx): Promise<TagResourceResponse> {
      if (locate(input.resourceArn, resourceNotFound, ctx) === "upstream") {
        await deps.upstream!.call("TagResource", serializeTagResourceRequest(input), ctx.region);
        return {};
      }
      const existing = tags.get(input.resourceArn).map((t) => t.key!);
      assertValidTags(input.tags, existing);
      tags.put(input.resourceArn, input.tags);
      return {};
    },

    async untagResource(input: UntagResourceRequest, ctx): Promise<UntagResourceResponse> {
      if (locate(input.resourceArn, resourceNotFound, ctx) === "upstream") {
        await deps.upstream!.call("UntagResource", serializeUntagResourceRequest(input), ctx.region);
        return {};
      }
      for (const key of input.tagKeys) {
        if (key.toLowerCase().startsWith("aws:")) {
          throw new InvalidParameterException(`Tag key '${key}' is invalid: the 'aws:' prefix is reserved for AWS use.`);
        }
      }
      tags.remove(input.resourceArn, input.tagKeys);
      return {};
    },

    async listTagsForResource(input: ListTagsForResourceRequest, ctx): Promise<ListTagsForResourceResponse> {
      if (locate(input.resourceArn, invalidParameter, ctx) === "upstream") {
        const answer = await deps.upstream!.call("ListTagsForResource", serializeListTagsForResourceRequest(input), ctx.region);
        return deserializeListTagsForResourceResponse(answer, "");
      }
      return { tags: tags.get(input.resourceArn) };
    },
  };
}
