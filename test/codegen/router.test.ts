import { describe, expect, it } from "vitest";
import { modeledErrorNames } from "../../generated/errors.ts";
import { operationNames, type EcsOperations } from "../../generated/operations.ts";
import type { ListClustersRequest, ListClustersResponse } from "../../generated/shapes.ts";
import {
  operationHandler,
  operationSpecs,
  operationsByTarget,
  paginatedOperations,
  SERVICE_TARGET_PREFIX,
} from "../../generated/router.ts";

describe("router", () => {
  it("has all 76 operations, by name and by target", () => {
    expect(operationNames).toHaveLength(76);
    expect(Object.keys(operationSpecs).sort()).toEqual([...operationNames]);
    expect(operationsByTarget.size).toBe(76);
    for (const name of operationNames) {
      const spec = operationsByTarget.get(`${SERVICE_TARGET_PREFIX}.${name}`);
      expect(spec?.name).toBe(name);
      expect(spec?.method).toBe(name.charAt(0).toLowerCase() + name.slice(1));
      for (const error of spec?.errors ?? []) expect(modeledErrorNames).toContain(error);
    }
    expect(SERVICE_TARGET_PREFIX).toBe("AmazonEC2ContainerServiceV20141113");
  });

  it("carries operation traits", () => {
    expect(operationSpecs.RunTask.idempotencyTokenMember).toBe("clientToken");
    expect(operationSpecs.RunTask.errors).toContain("ClusterNotFoundException");
    expect(operationSpecs.DescribeTasks.readOnly).toBe(true);
    expect(operationSpecs.RunTask.readOnly).toBe(false);
    expect(operationSpecs.ListTasks.pagination).toEqual({
      inputToken: "nextToken",
      outputToken: "nextToken",
      items: "taskArns",
      pageSize: "maxResults",
    });
    expect(Object.keys(paginatedOperations)).toContain("ListClusters");
  });

  it("validates through the spec with top-level paths", () => {
    const spec = operationSpecs.StopTask;
    expect(spec.validateInput(spec.deserializeInput({}))).toEqual([
      { path: "task", message: "Member must not be null", value: "null" },
    ]);
  });

  it("finds and binds an implementation", async () => {
    class Clusters {
      readonly #prefix = "arn:";
      async listClusters(input: ListClustersRequest, ctx: string): Promise<ListClustersResponse> {
        return { clusterArns: [`${this.#prefix}${ctx}:${input.maxResults ?? 0}`] };
      }
    }
    const ops: Partial<EcsOperations<string>> = new Clusters();
    const handler = operationHandler(ops, operationSpecs.ListClusters);
    expect(await handler?.({ maxResults: 5 }, "c")).toEqual({ clusterArns: ["arn:c:5"] });
    expect(operationHandler(ops, operationSpecs.RunTask)).toBeUndefined();
  });
});
