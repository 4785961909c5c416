import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { DatabaseSync } from "node:sqlite";
import type { TaskDefinition } from "../../../generated/shapes.ts";
import { Arns } from "../../../src/runtime/arns.ts";
import { openDatabase } from "../../../src/runtime/database.ts";
import { AccountSettingStore } from "../../../src/runtime/store/account-setting-store.ts";
import { ClusterStore } from "../../../src/runtime/store/cluster-store.ts";
import { TagStore } from "../../../src/runtime/store/tag-store.ts";
import { TaskDefinitionStore, parseTaskDefinitionRef } from "../../../src/runtime/store/task-definition-store.ts";

const arns = new Arns("eu-west-1", "111122223333");
const at = new Date("2024-01-01T00:00:00.250Z");

function td(family: string, revision: number): TaskDefinition {
  return {
    taskDefinitionArn: arns.taskDefinition(family, revision),
    family,
    revision,
    status: "ACTIVE",
    registeredAt: at,
    containerDefinitions: [{ name: "c", image: "busybox", memory: 16 }],
  };
}

let db: DatabaseSync;
afterEach(() => {
  if (db?.isOpen) db.close();
});

describe("TagStore", () => {
  it("upserts by key keeping first-insertion order, removes keys and wipes a resource", () => {
    db = openDatabase(":memory:");
    const tags = new TagStore(db);
    tags.put("arn:a", [{ key: "x", value: "1" }, { key: "y" }]);
    tags.put("arn:a", [{ key: "x", value: "2" }, { key: "z", value: "3" }]);
    tags.put("arn:b", [{ key: "x", value: "other" }]);
    expect(tags.get("arn:a")).toEqual([{ key: "x", value: "2" }, { key: "y" }, { key: "z", value: "3" }]);
    tags.remove("arn:a", ["y", "nope"]);
    expect(tags.get("arn:a").map((t) => t.key)).toEqual(["x", "z"]);
    tags.deleteAll("arn:a");
    expect(tags.get("arn:a")).toEqual([]);
    expect(tags.count("arn:b")).toBe(1);
  });
});

describe("TaskDefinitionStore", () => {
  it("allocates revisions atomically and rolls back a failed build", () => {
    db = openDatabase(":memory:");
    const store = new TaskDefinitionStore(db, new TagStore(db));
    expect(store.register("web", (rev) => td("web", rev)).revision).toBe(1);
    expect(() =>
      store.register("web", () => {
        throw new Error("validation failed");
      }),
    ).toThrow("validation failed");
    expect(store.register("web", (rev) => td("web", rev)).revision).toBe(2);
    expect(store.lastRevision("web")).toBe(2);
  });

  it("resolves family, family:revision and ARN, and skips INACTIVE for a bare family", () => {
    db = openDatabase(":memory:");
    const store = new TaskDefinitionStore(db, new TagStore(db));
    store.register("web", (rev) => td("web", rev));
    store.register("web", (rev) => td("web", rev));
    store.deregister(arns.taskDefinition("web", 2), at);
    expect(store.resolve("web")?.revision).toBe(1);
    expect(store.resolve("web:2")?.status).toBe("INACTIVE");
    expect(store.resolve(arns.taskDefinition("web", 2))?.deregisteredAt).toEqual(at);
    expect(store.resolve("web:3")).toBeUndefined();
    expect(store.resolve("we b")).toBeUndefined();
    expect(store.resolve("web:x")).toBeUndefined();
  });

  it("keeps upstream definitions by ARN only", () => {
    db = openDatabase(":memory:");
    const store = new TaskDefinitionStore(db, new TagStore(db));
    const remote = { ...td("remote", 9), taskDefinitionArn: "arn:aws:ecs:us-east-1:999999999999:task-definition/remote:9" };
    store.cacheUpstream(remote, at);
    expect(store.resolve(remote.taskDefinitionArn)).toEqual(remote);
    expect(store.resolve("remote:9")).toBeUndefined();
    expect(store.isLocal(remote.taskDefinitionArn)).toBe(false);
    expect(store.families({ status: "ALL", limit: 10 })).toEqual([]);
  });

  it("moves only INACTIVE revisions to DELETE_IN_PROGRESS", () => {
    db = openDatabase(":memory:");
    const store = new TaskDefinitionStore(db, new TagStore(db));
    store.register("web", (rev) => td("web", rev));
    const arn = arns.taskDefinition("web", 1);
    expect(store.markDeleteInProgress(arn, at)?.status).toBe("ACTIVE");
    store.deregister(arn, at);
    expect(store.markDeleteInProgress(arn, at)).toMatchObject({ status: "DELETE_IN_PROGRESS", deleteRequestedAt: at });
    expect(store.list({ status: "DELETE_IN_PROGRESS", sort: "ASC", limit: 10 }).map((e) => e.arn)).toEqual([arn]);
  });

  it("persists across a reopen of the database file", () => {
    const dir = mkdtempSync(join(tmpdir(), "local-ecs-tdstore-"));
    try {
      db = openDatabase(dir);
      let store = new TaskDefinitionStore(db, new TagStore(db));
      store.register("web", (rev) => td("web", rev), [{ key: "k", value: "v" }]);
      db.close();
      db = openDatabase(dir);
      store = new TaskDefinitionStore(db, new TagStore(db));
      expect(store.resolve("web")).toEqual({ ...td("web", 1) });
      expect(store.tagsOf(arns.taskDefinition("web", 1))).toEqual([{ key: "k", value: "v" }]);
    } finally {
      if (db.isOpen) db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("parses references", () => {
    expect(parseTaskDefinitionRef("web")).toEqual({ family: "web" });
    expect(parseTaskDefinitionRef("web:12")).toEqual({ family: "web", revision: 12 });
    const arn = arns.taskDefinition("web", 3);
    expect(parseTaskDefinitionRef(arn)).toEqual({ family: "web", revision: 3, arn });
    expect(parseTaskDefinitionRef("arn:aws:ecs:eu-west-1:111122223333:task-definition/web")).toBeUndefined();
    expect(parseTaskDefinitionRef(arns.cluster("web"))).toBeUndefined();
    expect(parseTaskDefinitionRef("a:b:c")).toBeUndefined();
  });
});

describe("ClusterStore", () => {
  it("creates the default cluster on first use and re-activates it after a delete", () => {
    db = openDatabase(":memory:");
    const clusters = new ClusterStore(db, arns);
    expect(clusters.get("default")).toBeUndefined();
    expect(clusters.require(undefined).clusterArn).toBe(arns.cluster("default"));
    expect(clusters.require(arns.cluster("default")).status).toBe("ACTIVE");
    clusters.save({ ...clusters.ensureDefault(), status: "INACTIVE" });
    expect(clusters.require("default").status).toBe("ACTIVE");
  });

  it("throws ClusterNotFoundException for unknown and inactive clusters", () => {
    db = openDatabase(":memory:");
    const clusters = new ClusterStore(db, arns);
    expect(() => clusters.require("nope")).toThrow("Cluster not found.");
    clusters.save({ ...clusters.newCluster("old"), status: "INACTIVE" });
    expect(() => clusters.require(arns.cluster("old"))).toThrow(expect.objectContaining({ type: "ClusterNotFoundException" }));
  });

  it("never persists derived fields", () => {
    db = openDatabase(":memory:");
    const clusters = new ClusterStore(db, arns, () => [{ name: "containerInsights", value: "enabled" }]);
    clusters.save({ ...clusters.newCluster("x"), runningTasksCount: 5, tags: [{ key: "a" }] });
    expect(clusters.get("x")).toEqual({
      clusterArn: arns.cluster("x"),
      clusterName: "x",
      status: "ACTIVE",
      settings: [{ name: "containerInsights", value: "enabled" }],
      capacityProviders: [],
      defaultCapacityProviderStrategy: [],
    });
  });
});

describe("AccountSettingStore", () => {
  it("resolves principal → root → AWS default", () => {
    db = openDatabase(":memory:");
    const store = new AccountSettingStore(db, "111122223333");
    const user = "arn:aws:iam::111122223333:user/u";
    expect(store.effective("awsvpcTrunking", user).value).toBe("disabled");
    store.put("awsvpcTrunking", store.rootArn, "enabled");
    expect(store.effective("awsvpcTrunking", user)).toEqual({ name: "awsvpcTrunking", value: "enabled", principalArn: user, type: "user" });
    store.put("awsvpcTrunking", user, "disabled");
    expect(store.effective("awsvpcTrunking", user).value).toBe("disabled");
    expect(store.delete("awsvpcTrunking", user)).toBe("disabled");
    expect(store.delete("awsvpcTrunking", user)).toBeUndefined();
    expect(store.effective("guardDutyActivate").type).toBe("aws_managed");
    expect(store.clusterDefaults()).toEqual([{ name: "containerInsights", value: "disabled" }]);
  });
});
