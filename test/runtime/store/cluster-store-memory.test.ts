// ClusterStore answers lookups from memory: what it hands out must be what a read from SQLite gave
// before (a JSON round trip of the saved document), never shared with the caller, and written through.
import { describe, expect, it } from "vitest";
import type { Cluster } from "../../../generated/shapes.ts";
import { Arns } from "../../../src/runtime/arns.ts";
import { openDatabase } from "../../../src/runtime/database.ts";
import { ClusterStore } from "../../../src/runtime/store/cluster-store.ts";

const arns = new Arns("eu-west-1", "111122223333");

describe("ClusterStore in memory", () => {
  it("hands out the stored document as SQLite holds it, frozen, and not the caller's object", () => {
    const db = openDatabase(":memory:");
    const clusters = new ClusterStore(db, arns);
    const configuration = { executeCommandConfiguration: { logging: "DEFAULT" as const, kmsKeyId: undefined } };
    const input: Cluster = { ...clusters.newCluster("x"), configuration };
    const saved = clusters.save(input);
    configuration.executeCommandConfiguration.logging = "NONE" as never;

    const got = clusters.get("x")!;
    expect(got).toBe(saved);
    expect(clusters.get(arns.cluster("x"))).toBe(got);
    expect(got.configuration).toEqual({ executeCommandConfiguration: { logging: "DEFAULT" } });
    expect("kmsKeyId" in got.configuration!.executeCommandConfiguration!).toBe(false);
    expect(Object.isFrozen(got) && Object.isFrozen(got.settings) && Object.isFrozen(got.configuration)).toBe(true);
    const row = db.prepare("SELECT doc FROM clusters WHERE name = 'x'").get() as { doc: string };
    expect(got).toEqual(JSON.parse(row.doc));
  });

  it("writes through: a store opened later on the same database sees every save", () => {
    const db = openDatabase(":memory:");
    const clusters = new ClusterStore(db, arns);
    clusters.save(clusters.newCluster("a"));
    clusters.ensureDefault();
    clusters.save({ ...clusters.get("a")!, status: "INACTIVE" });
    const reopened = new ClusterStore(db, arns);
    expect(reopened.get("a")?.status).toBe("INACTIVE");
    expect(reopened.get("default")?.status).toBe("ACTIVE");
    expect(() => reopened.require("a")).toThrow("The referenced cluster was inactive.");
    expect(reopened.list({ limit: 10 }).map((c) => c.clusterName)).toEqual(["default"]);
  });

  it("sees its own saves at once, and ensureDefault creates the default cluster only once", () => {
    const db = openDatabase(":memory:");
    const clusters = new ClusterStore(db, arns);
    const first = clusters.ensureDefault();
    expect(clusters.ensureDefault()).toBe(first);
    expect(clusters.require(undefined)).toBe(first);
    const updated = clusters.save({ ...first, settings: [{ name: "containerInsights", value: "enabled" }] });
    expect(clusters.require("default")).toBe(updated);
    expect(clusters.require("default").settings).toEqual([{ name: "containerInsights", value: "enabled" }]);
    expect((db.prepare("SELECT COUNT(*) AS n FROM clusters").get() as { n: number }).n).toBe(1);
  });
});
