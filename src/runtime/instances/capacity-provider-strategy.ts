// How a capacity provider strategy splits the tasks of one RunTask (pure). As the ECS guide describes it:
// the provider with a base gets tasks first, up to its base; the rest is shared in proportion to the
// weights, and a provider of weight 0 takes nothing beyond its base.
import type { CapacityProviderStrategyItem } from "../../../generated/shapes.ts";

export class StrategyError extends Error {}

/** The provider name of each of `count` tasks, in launch order. */
export function distributeTasks(strategy: readonly CapacityProviderStrategyItem[], count: number): string[] {
  if (strategy.length === 0) throw new StrategyError("The capacity provider strategy is empty.");
  const assigned = new Map<string, number>(strategy.map((s) => [s.capacityProvider, 0]));
  const out: string[] = [];
  for (const s of strategy) {
    const base = s.base ?? 0;
    while (out.length < count && (assigned.get(s.capacityProvider) ?? 0) < base) {
      assigned.set(s.capacityProvider, (assigned.get(s.capacityProvider) ?? 0) + 1);
      out.push(s.capacityProvider);
    }
  }
  const weighted = strategy.filter((s) => (s.weight ?? 0) > 0);
  if (out.length < count && weighted.length === 0) {
    throw new StrategyError(
      "The specified capacity provider strategy cannot be used to place tasks: at least one capacity provider must have a weight greater than 0.",
    );
  }
  // Beyond the base, each task goes to the provider furthest below its share (earlier items win ties).
  const beyondBase = new Map<string, number>(weighted.map((s) => [s.capacityProvider, 0]));
  while (out.length < count) {
    let best: CapacityProviderStrategyItem | undefined;
    let bestRatio = Number.POSITIVE_INFINITY;
    for (const s of weighted) {
      const ratio = ((beyondBase.get(s.capacityProvider) ?? 0) + 1) / (s.weight ?? 1);
      if (ratio < bestRatio) {
        bestRatio = ratio;
        best = s;
      }
    }
    beyondBase.set(best!.capacityProvider, (beyondBase.get(best!.capacityProvider) ?? 0) + 1);
    out.push(best!.capacityProvider);
  }
  return out;
}
