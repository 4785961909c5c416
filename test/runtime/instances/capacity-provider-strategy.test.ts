import { describe, expect, it } from "vitest";
import type { CapacityProviderStrategyItem } from "../../../generated/shapes.ts";
import { distributeTasks, StrategyError } from "../../../src/runtime/instances/capacity-provider-strategy.ts";

const count = (names: string[]): Record<string, number> => names.reduce<Record<string, number>>((m, n) => ({ ...m, [n]: (m[n] ?? 0) + 1 }), {});

// Cases from the guide ("Capacity provider strategies": base first, then weights) and the API reference.
const cases: Array<[string, CapacityProviderStrategyItem[], number, Record<string, number>]> = [
  ["a single provider takes everything", [{ capacityProvider: "FARGATE", weight: 1 }], 5, { FARGATE: 5 }],
  ["weights 1:1 split evenly", [{ capacityProvider: "A", weight: 1 }, { capacityProvider: "B", weight: 1 }], 4, { A: 2, B: 2 }],
  ["weights 1:4 (FARGATE / FARGATE_SPOT)", [{ capacityProvider: "FARGATE", weight: 1 }, { capacityProvider: "FARGATE_SPOT", weight: 4 }], 10, { FARGATE: 2, FARGATE_SPOT: 8 }],
  ["base first, then weights", [{ capacityProvider: "A", base: 2, weight: 1 }, { capacityProvider: "B", weight: 1 }], 6, { A: 4, B: 2 }],
  ["a base larger than the count", [{ capacityProvider: "A", base: 10, weight: 1 }, { capacityProvider: "B", weight: 1 }], 3, { A: 3 }],
  ["weight 0 takes only its base", [{ capacityProvider: "A", base: 1, weight: 0 }, { capacityProvider: "B", weight: 1 }], 4, { A: 1, B: 3 }],
  ["weight 0 without base takes nothing", [{ capacityProvider: "A", weight: 0 }, { capacityProvider: "B", weight: 2 }], 3, { B: 3 }],
];

describe("distributeTasks", () => {
  it.each(cases)("%s", (_name, strategy, n, expected) => {
    const out = distributeTasks(strategy, n);
    expect(out).toHaveLength(n);
    expect(count(out)).toEqual(expected);
  });

  it("keeps launch order: base tasks come first", () => {
    expect(distributeTasks([{ capacityProvider: "A", weight: 1 }, { capacityProvider: "B", base: 1, weight: 1 }], 3)).toEqual(["B", "A", "B"]);
  });

  it("refuses a strategy whose weights are all 0 once the bases are used", () => {
    expect(() => distributeTasks([{ capacityProvider: "A", weight: 0 }, { capacityProvider: "B", weight: 0 }], 1)).toThrow(StrategyError);
    expect(distributeTasks([{ capacityProvider: "A", base: 1, weight: 0 }], 1)).toEqual(["A"]);
  });
});
