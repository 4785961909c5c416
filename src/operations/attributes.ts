import type { EcsOperations } from "../../generated/operations.ts";
import type { Attribute, Cluster } from "../../generated/shapes.ts";
import { AttributeLimitExceededException, InvalidParameterException, TargetNotFoundException } from "../../generated/errors.ts";
import { parseEcsArn } from "../runtime/arns.ts";
import { attributesOf } from "../runtime/instances/container-instance-view.ts";
import type { InstanceRegistry } from "../runtime/instances/instance-registry.ts";
import type { ContainerInstanceRecord } from "../runtime/store/container-instance-store.ts";
import type { ClusterStore } from "../runtime/store/cluster-store.ts";
import type { OperationContext, OperationDeps } from "./context.ts";
import { findInstance } from "./container-instances.ts";
import { decodeToken, encodeToken, isNonNegativeInteger } from "./pagination.ts";

export interface AttributeOperationsOptions {
  registry: InstanceRegistry;
  clusters: ClusterStore;
}

/** The model's limits (Attribute, PutAttributes, AttributeLimitExceededException). */
const MAX_PER_CALL = 10;
const MAX_CUSTOM_PER_RESOURCE = 10;
const NAME = /^[A-Za-z0-9_\-/\\.]{1,128}$/;
const VALUE = /^[A-Za-z0-9_\-.@/\\: ]{1,128}$/;

/** PutAttributes, DeleteAttributes, ListAttributes on container instances (the only target type). */
export function attributeOperations(_deps: OperationDeps, options: AttributeOperationsOptions): Partial<EcsOperations<OperationContext>> {
  const { registry, clusters } = options;

  const instancesOf = (cluster: Cluster, region: string): ContainerInstanceRecord[] =>
    registry.instances(region, cluster.clusterName!, cluster.clusterArn!).filter((r) => r.status !== "INACTIVE");

  /** The instance an attribute targets: a full ARN, or an id with targetType. */
  const targetOf = (records: readonly ContainerInstanceRecord[], a: Attribute): ContainerInstanceRecord => {
    if (a.targetId === undefined || a.targetId === "") {
      throw new InvalidParameterException(`A targetId must be specified for attribute ${a.name}.`);
    }
    if (parseEcsArn(a.targetId) === undefined && a.targetType === undefined) {
      throw new InvalidParameterException(`targetType must be specified when targetId ${a.targetId} is not a full ARN.`);
    }
    const record = findInstance(records, a.targetId);
    if (record === undefined) throw new TargetNotFoundException(`Could not find target ${a.targetId} in the cluster.`);
    return record;
  };

  const checkBatch = (attributes: readonly Attribute[]): void => {
    if (attributes.length === 0) throw new InvalidParameterException("attributes cannot be empty.");
    if (attributes.length > MAX_PER_CALL) {
      throw new InvalidParameterException(`You can specify up to ${MAX_PER_CALL} attributes in a single request.`);
    }
    for (const a of attributes) {
      if (!NAME.test(a.name)) {
        throw new InvalidParameterException(
          `Invalid attribute name '${a.name}': between 1 and 128 letters, numbers, hyphens, underscores, forward slashes, back slashes or periods.`,
        );
      }
      if (a.targetType !== undefined && a.targetType !== "container-instance") {
        throw new InvalidParameterException(`Invalid targetType '${a.targetType}'. The only valid value is container-instance.`);
      }
    }
  };

  return {
    async putAttributes(input, ctx) {
      checkBatch(input.attributes);
      for (const a of input.attributes) {
        if (a.value !== undefined && (!VALUE.test(a.value) || a.value.startsWith(" ") || a.value.endsWith(" "))) {
          throw new InvalidParameterException(
            `Invalid value for attribute '${a.name}': between 1 and 128 letters, numbers, hyphens, underscores, periods, at signs, forward slashes, back slashes, colons or spaces, not starting or ending with a space.`,
          );
        }
      }
      const cluster = clusters.inRegion(ctx.region).require(input.cluster);
      const records = instancesOf(cluster, ctx.region);
      // Validate the whole batch first: nothing is applied when one attribute cannot be.
      const byTarget = new Map<string, { record: ContainerInstanceRecord; custom: Map<string, Attribute> }>();
      for (const a of input.attributes) {
        const record = targetOf(records, a);
        let entry = byTarget.get(record.arn);
        if (entry === undefined) byTarget.set(record.arn, (entry = { record, custom: new Map(record.customAttributes.map((c) => [c.name, c])) }));
        entry.custom.set(a.name, a.value === undefined ? { name: a.name } : { name: a.name, value: a.value });
        if (entry.custom.size > MAX_CUSTOM_PER_RESOURCE) {
          throw new AttributeLimitExceededException(
            `You can apply up to ${MAX_CUSTOM_PER_RESOURCE} custom attributes for each resource. Remove attributes with DeleteAttributes and try again.`,
          );
        }
      }
      for (const { record, custom } of byTarget.values()) registry.update(record, { customAttributes: [...custom.values()] });
      return { attributes: input.attributes };
    },

    async deleteAttributes(input, ctx) {
      checkBatch(input.attributes);
      const cluster = clusters.inRegion(ctx.region).require(input.cluster);
      const records = instancesOf(cluster, ctx.region);
      const byTarget = new Map<string, { record: ContainerInstanceRecord; custom: Map<string, Attribute> }>();
      const deleted: Attribute[] = [];
      for (const a of input.attributes) {
        const record = targetOf(records, a);
        let entry = byTarget.get(record.arn);
        if (entry === undefined) byTarget.set(record.arn, (entry = { record, custom: new Map(record.customAttributes.map((c) => [c.name, c])) }));
        // Deleting an attribute the target does not have changes nothing (and is not an error).
        const had = entry.custom.get(a.name);
        entry.custom.delete(a.name);
        const out: Attribute = { name: a.name, targetId: a.targetId };
        if (had?.value !== undefined) out.value = had.value;
        if (a.targetType !== undefined) out.targetType = a.targetType;
        deleted.push(out);
      }
      for (const { record, custom } of byTarget.values()) registry.update(record, { customAttributes: [...custom.values()] });
      return { attributes: deleted };
    },

    async listAttributes(input, ctx) {
      if (input.targetType !== "container-instance") {
        throw new InvalidParameterException(`Invalid targetType '${input.targetType}'. The only valid value is container-instance.`);
      }
      if (input.attributeValue !== undefined && input.attributeName === undefined) {
        throw new InvalidParameterException("attributeName must be specified when attributeValue is.");
      }
      const limit = input.maxResults ?? 100;
      if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new InvalidParameterException("maxResults must be between 1 and 100.");
      const cluster = clusters.inRegion(ctx.region).require(input.cluster);
      const all: Attribute[] = [];
      for (const r of instancesOf(cluster, ctx.region)) {
        for (const a of attributesOf(r)) {
          if (input.attributeName !== undefined && a.name !== input.attributeName) continue;
          if (input.attributeValue !== undefined && a.value !== input.attributeValue) continue;
          const out: Attribute = { name: a.name, targetType: "container-instance", targetId: r.arn };
          if (a.value !== undefined) out.value = a.value;
          all.push(out);
        }
      }
      const start = input.nextToken === undefined ? 0 : decodeToken(input.nextToken, "attribute", isNonNegativeInteger);
      const page = all.slice(start, start + limit);
      const out: { attributes: Attribute[]; nextToken?: string } = { attributes: page };
      if (start + limit < all.length) out.nextToken = encodeToken("attribute", start + limit);
      return out;
    },
  };
}
