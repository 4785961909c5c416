import { describe, expect, it } from "vitest";
import {
  canStop,
  dependenciesOf,
  resolveNextTransition,
  shutdownOrder,
  startOrder,
  validateGraph,
  type GraphContainerSpec,
  type GraphContainerState,
  type KnownStatus,
} from "../../../src/runtime/engine/dependency-graph.ts";

const now = new Date("2026-01-01T00:00:10Z");

function states(entries: Record<string, Partial<GraphContainerState> & { known: KnownStatus }>): Map<string, GraphContainerState> {
  return new Map(Object.entries(entries).map(([k, v]) => [k, { desiredStopped: false, ...v }]));
}

describe("dependenciesOf", () => {
  it("adds implicit CREATE for volumesFrom and START for links", () => {
    expect(
      dependenciesOf({
        name: "app",
        dependsOn: [{ containerName: "init", condition: "SUCCESS" }],
        volumesFrom: [{ sourceContainer: "data" }],
        links: ["db:database", "cache"],
      }),
    ).toEqual([
      { containerName: "init", condition: "SUCCESS" },
      { containerName: "data", condition: "CREATE" },
      { containerName: "db", condition: "START" },
      { containerName: "cache", condition: "START" },
    ]);
  });
});

describe("validateGraph", () => {
  it("rejects unknown targets, bad links, COMPLETE on essential, and cycles", () => {
    expect(validateGraph([{ name: "a", links: ["b"] }])).toMatch(/does not exist/);
    expect(validateGraph([{ name: "a", links: ["b:c:d"] }, { name: "b" }])).toMatch(/Invalid link/);
    expect(validateGraph([{ name: "a", dependsOn: [{ containerName: "b", condition: "COMPLETE" }] }, { name: "b" }])).toMatch(/essential/);
    expect(
      validateGraph([
        { name: "a", dependsOn: [{ containerName: "b", condition: "START" }] },
        { name: "b", dependsOn: [{ containerName: "a", condition: "START" }] },
      ]),
    ).toMatch(/circular/);
    expect(validateGraph([{ name: "a", dependsOn: [{ containerName: "b", condition: "SUCCESS" }] }, { name: "b", essential: false }])).toBeUndefined();
  });
});

describe("resolveNextTransition", () => {
  const specs = (condition: string, depExtra: Partial<GraphContainerSpec> = {}): GraphContainerSpec[] => [
    { name: "app", dependsOn: [{ containerName: "dep", condition }] },
    { name: "dep", essential: false, ...depExtra },
  ];

  it("START: create once the dependency is created, start once it runs", () => {
    expect(resolveNextTransition("app", specs("START"), states({ app: { known: "NONE" }, dep: { known: "NONE" } }), now).kind).toBe("waiting");
    expect(resolveNextTransition("app", specs("START"), states({ app: { known: "NONE" }, dep: { known: "CREATED" } }), now).kind).toBe("ready");
    expect(resolveNextTransition("app", specs("START"), states({ app: { known: "CREATED" }, dep: { known: "CREATED" } }), now).kind).toBe("waiting");
    expect(resolveNextTransition("app", specs("START"), states({ app: { known: "CREATED" }, dep: { known: "RUNNING" } }), now).kind).toBe("ready");
    expect(resolveNextTransition("app", specs("START"), states({ app: { known: "CREATED" }, dep: { known: "STOPPED", exitCode: 1 } }), now).kind).toBe("ready");
  });

  it("COMPLETE needs a stopped dependency with any exit code", () => {
    expect(resolveNextTransition("app", specs("COMPLETE"), states({ app: { known: "NONE" }, dep: { known: "RUNNING" } }), now).kind).toBe("waiting");
    expect(resolveNextTransition("app", specs("COMPLETE"), states({ app: { known: "NONE" }, dep: { known: "STOPPED", exitCode: 3 } }), now).kind).toBe("ready");
  });

  it("SUCCESS needs exit 0 and is terminal on any other exit", () => {
    expect(resolveNextTransition("app", specs("SUCCESS"), states({ app: { known: "NONE" }, dep: { known: "STOPPED", exitCode: 0 } }), now).kind).toBe("ready");
    const r = resolveNextTransition("app", specs("SUCCESS"), states({ app: { known: "NONE" }, dep: { known: "STOPPED", exitCode: 2 } }), now);
    expect(r).toMatchObject({ kind: "blocked", message: expect.stringMatching(/did not exit successfully/) });
  });

  it("HEALTHY needs a health check and HEALTHY status", () => {
    expect(resolveNextTransition("app", specs("HEALTHY"), states({ app: { known: "NONE" }, dep: { known: "RUNNING", health: "HEALTHY" } }), now).kind).toBe("waiting");
    const withCheck = specs("HEALTHY", { healthCheck: { command: ["true"] } });
    expect(resolveNextTransition("app", withCheck, states({ app: { known: "NONE" }, dep: { known: "RUNNING", health: "UNKNOWN" } }), now).kind).toBe("waiting");
    expect(resolveNextTransition("app", withCheck, states({ app: { known: "NONE" }, dep: { known: "RUNNING", health: "HEALTHY" } }), now).kind).toBe("ready");
  });

  it("CREATE (volumesFrom) needs the source created", () => {
    const s: GraphContainerSpec[] = [{ name: "app", volumesFrom: [{ sourceContainer: "data" }] }, { name: "data" }];
    expect(resolveNextTransition("app", s, states({ app: { known: "NONE" }, data: { known: "PULLED" } }), now).kind).toBe("waiting");
    expect(resolveNextTransition("app", s, states({ app: { known: "NONE" }, data: { known: "CREATED" } }), now).kind).toBe("ready");
  });

  it("startTimeout is read from the dependency and only applies before the target is created", () => {
    const s = specs("SUCCESS", { startTimeout: 5 });
    const startedAt = new Date(now.getTime() - 4000);
    const waiting = resolveNextTransition("app", s, states({ app: { known: "NONE" }, dep: { known: "RUNNING", startedAt } }), now);
    expect(waiting).toEqual({ kind: "waiting", dependency: { containerName: "dep", condition: "SUCCESS" }, deadline: new Date(startedAt.getTime() + 5000) });
    const later = new Date(now.getTime() + 2000);
    expect(resolveNextTransition("app", s, states({ app: { known: "NONE" }, dep: { known: "RUNNING", startedAt } }), later)).toMatchObject({
      kind: "blocked",
      message: expect.stringMatching(/timed out/),
    });
    // A startTimeout on the *target* does not count.
    const onTarget: GraphContainerSpec[] = [{ name: "app", startTimeout: 1, dependsOn: [{ containerName: "dep", condition: "SUCCESS" }] }, { name: "dep", essential: false }];
    expect(resolveNextTransition("app", onTarget, states({ app: { known: "NONE" }, dep: { known: "RUNNING", startedAt } }), later).kind).toBe("waiting");
    // START never times out.
    const start = specs("START", { startTimeout: 1 });
    expect(resolveNextTransition("app", start, states({ app: { known: "NONE" }, dep: { known: "RUNNING", startedAt } }), later).kind).toBe("ready");
  });

  it("blocks when the dependency is missing or will never start", () => {
    expect(resolveNextTransition("app", [{ name: "app", dependsOn: [{ containerName: "ghost" }] }], states({ app: { known: "NONE" } }), now)).toMatchObject({
      kind: "blocked",
      message: expect.stringMatching(/does not exist/),
    });
    expect(
      resolveNextTransition("app", specs("START"), states({ app: { known: "NONE" }, dep: { known: "NONE", desiredStopped: true } }), now),
    ).toMatchObject({ kind: "blocked", message: expect.stringMatching(/will never start/) });
  });
});

describe("shutdown order", () => {
  const s: GraphContainerSpec[] = [
    { name: "proxy", links: ["app"] },
    { name: "app", dependsOn: [{ containerName: "db", condition: "HEALTHY" }] },
    { name: "db" },
  ];

  it("stops dependents before their dependencies", () => {
    expect(startOrder(s)).toEqual(["db", "app", "proxy"]);
    expect(shutdownOrder(s)).toEqual(["proxy", "app", "db"]);
    const st = states({ proxy: { known: "RUNNING" }, app: { known: "RUNNING" }, db: { known: "RUNNING" } });
    expect(canStop("proxy", s, st)).toBe(true);
    expect(canStop("app", s, st)).toBe(false);
    expect(canStop("db", s, st)).toBe(false);
    st.set("proxy", { known: "STOPPED", desiredStopped: true });
    expect(canStop("app", s, st)).toBe(true);
    expect(canStop("db", s, st)).toBe(false);
  });
});
