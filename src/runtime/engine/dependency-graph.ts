// Container ordering as the ECS agent enforces it (agent/engine/dependencygraph/graph.go), see
// docs: ecs-behaviour.md §2.2. Pure: callers pass the definitions, the containers' progress and "now".

/** CREATE is internal: the agent adds it for volumesFrom. */
export type DependencyCondition = "START" | "COMPLETE" | "SUCCESS" | "HEALTHY" | "CREATE";

/** The agent's internal container statuses, in order. PULLED stands for MANIFEST_PULLED/PULLED. */
export type KnownStatus = "NONE" | "PULLED" | "CREATED" | "RUNNING" | "STOPPED";

export const KNOWN_STATUS_RANK: Readonly<Record<KnownStatus, number>> = {
  NONE: 0,
  PULLED: 1,
  CREATED: 2,
  RUNNING: 3,
  STOPPED: 4,
};

/** The subset of ContainerDefinition the graph reads (structurally compatible with it). */
export interface GraphContainerSpec {
  name?: string | undefined;
  essential?: boolean | undefined;
  dependsOn?: Array<{ containerName?: string | undefined; condition?: string | undefined }> | undefined;
  links?: string[] | undefined;
  volumesFrom?: Array<{ sourceContainer?: string | undefined }> | undefined;
  /** Seconds; read from the *dependency* container. */
  startTimeout?: number | undefined;
  healthCheck?: unknown;
}

export interface GraphContainerState {
  known: KnownStatus;
  desiredStopped: boolean;
  exitCode?: number | undefined;
  health?: "HEALTHY" | "UNHEALTHY" | "UNKNOWN" | undefined;
  startedAt?: Date | undefined;
}

export interface Dependency {
  containerName: string;
  condition: DependencyCondition;
}

export type Resolution =
  | { kind: "ready" }
  /** `deadline`: when a startTimeout would make the wait terminal (re-evaluate then). */
  | { kind: "waiting"; dependency: Dependency; deadline?: Date }
  /** Can never be satisfied: the target stops with exit code 143 and a CannotStartContainerError. */
  | { kind: "blocked"; message: string };

/** Exit code the agent records for a container whose dependencies can never resolve. */
export const DEPENDENCY_FAILURE_EXIT_CODE = 143;

/** Explicit dependsOn plus the agent's implicit ones: volumesFrom → CREATE, links → START. */
export function dependenciesOf(spec: GraphContainerSpec): Dependency[] {
  const out: Dependency[] = [];
  for (const d of spec.dependsOn ?? []) {
    if (d.containerName === undefined) continue;
    out.push({ containerName: d.containerName, condition: (d.condition ?? "START") as DependencyCondition });
  }
  for (const v of spec.volumesFrom ?? []) {
    if (v.sourceContainer !== undefined) out.push({ containerName: v.sourceContainer, condition: "CREATE" });
  }
  for (const link of spec.links ?? []) {
    const name = link.split(":")[0] ?? "";
    if (name !== "") out.push({ containerName: name, condition: "START" });
  }
  return out;
}

/**
 * Static checks the agent performs at task init: link syntax, unknown link/volumesFrom/dependsOn
 * targets, COMPLETE/SUCCESS on an essential dependency, cycles. Returns an error message or undefined.
 */
export function validateGraph(specs: readonly GraphContainerSpec[]): string | undefined {
  const byName = new Map(specs.map((s) => [s.name ?? "", s]));
  for (const spec of specs) {
    for (const link of spec.links ?? []) {
      if (link.split(":").length > 2) return `Invalid link "${link}" in container ${spec.name}`;
    }
    for (const dep of dependenciesOf(spec)) {
      const target = byName.get(dep.containerName);
      if (target === undefined) {
        return `container ${spec.name} depends on container ${dep.containerName}, which does not exist in the task definition`;
      }
      if ((dep.condition === "COMPLETE" || dep.condition === "SUCCESS") && (target.essential ?? true)) {
        return `dependency condition ${dep.condition} can't be set on an essential container (${dep.containerName})`;
      }
    }
  }
  // Cycle check (depth-first, colours).
  const colour = new Map<string, 1 | 2>();
  const visit = (name: string, path: string[]): string | undefined => {
    const c = colour.get(name);
    if (c === 2) return undefined;
    if (c === 1) return `circular container dependency: ${[...path, name].join(" -> ")}`;
    colour.set(name, 1);
    const spec = byName.get(name);
    for (const dep of spec === undefined ? [] : dependenciesOf(spec)) {
      const found = visit(dep.containerName, [...path, name]);
      if (found !== undefined) return found;
    }
    colour.set(name, 2);
    return undefined;
  };
  for (const spec of specs) {
    const found = visit(spec.name ?? "", []);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * May `target` take its next step (pull+create when it is NONE/PULLED, start when it is CREATED)?
 * Mirrors verifyContainerOrderingStatusResolvable + containerOrderingDependenciesIsResolved.
 */
export function resolveNextTransition(
  target: string,
  specs: readonly GraphContainerSpec[],
  states: ReadonlyMap<string, GraphContainerState>,
  now: Date,
): Resolution {
  const spec = specs.find((s) => s.name === target);
  const self = states.get(target);
  if (spec === undefined || self === undefined) return { kind: "blocked", message: `unknown container ${target}` };
  const targetCreated = KNOWN_STATUS_RANK[self.known] >= KNOWN_STATUS_RANK.CREATED;
  let waiting: Resolution | undefined;
  for (const dep of dependenciesOf(spec)) {
    const depSpec = specs.find((s) => s.name === dep.containerName);
    const depState = states.get(dep.containerName);
    const label = `dependency graph: container ordering dependency [${dep.containerName}] for target [${target}]`;
    if (depSpec === undefined || depState === undefined) return { kind: "blocked", message: `${label} does not exist.` };

    const timeoutSec = depSpec.startTimeout ?? 0;
    const timed = dep.condition === "SUCCESS" || dep.condition === "COMPLETE" || dep.condition === "HEALTHY";
    let deadline: Date | undefined;
    // Only while the target is not yet created and the dependency has not stopped.
    if (!targetCreated && depState.known !== "STOPPED" && timed && timeoutSec > 0 && depState.startedAt !== undefined) {
      deadline = new Date(depState.startedAt.getTime() + timeoutSec * 1000);
      if (now.getTime() > deadline.getTime()) return { kind: "blocked", message: `${label} has timed out.` };
    }
    if (dep.condition === "SUCCESS" && depState.known === "STOPPED" && depState.exitCode !== 0) {
      return { kind: "blocked", message: `${label} failed to resolve as dependency did not exit successfully.` };
    }
    if (depState.desiredStopped && KNOWN_STATUS_RANK[depState.known] < KNOWN_STATUS_RANK.RUNNING) {
      return { kind: "blocked", message: `${label} failed to resolve because dependency will never start.` };
    }
    // [infer] a stopped container can never become healthy.
    if (dep.condition === "HEALTHY" && depState.known === "STOPPED") {
      return { kind: "blocked", message: `${label} failed to resolve because dependency stopped before becoming healthy.` };
    }
    if (!conditionHolds(dep.condition, self.known, depSpec, depState)) {
      waiting ??= deadline === undefined ? { kind: "waiting", dependency: dep } : { kind: "waiting", dependency: dep, deadline };
    }
  }
  return waiting ?? { kind: "ready" };
}

function conditionHolds(
  condition: DependencyCondition,
  targetKnown: KnownStatus,
  depSpec: GraphContainerSpec,
  dep: GraphContainerState,
): boolean {
  const depRank = KNOWN_STATUS_RANK[dep.known];
  switch (condition) {
    case "CREATE":
      return depRank >= KNOWN_STATUS_RANK.CREATED;
    case "START":
      if (dep.known === "STOPPED") return true;
      if (KNOWN_STATUS_RANK[targetKnown] < KNOWN_STATUS_RANK.CREATED) return depRank >= KNOWN_STATUS_RANK.CREATED;
      if (targetKnown === "CREATED") return dep.known === "RUNNING";
      return true;
    case "COMPLETE":
      return dep.known === "STOPPED" && dep.exitCode !== undefined;
    case "SUCCESS":
      return dep.known === "STOPPED" && dep.exitCode === 0;
    case "HEALTHY":
      return depSpec.healthCheck !== undefined && dep.health === "HEALTHY";
  }
}

/**
 * Shutdown order is the reverse of the dependency order: a container is not stopped while any
 * container that depends on it is still not stopped.
 */
export function canStop(
  name: string,
  specs: readonly GraphContainerSpec[],
  states: ReadonlyMap<string, GraphContainerState>,
): boolean {
  for (const spec of specs) {
    if (spec.name === name || spec.name === undefined) continue;
    if (!dependenciesOf(spec).some((d) => d.containerName === name)) continue;
    if (states.get(spec.name)?.known !== "STOPPED") return false;
  }
  return true;
}

/** Names in an order that starts dependencies before dependents (stable for independent ones). */
export function startOrder(specs: readonly GraphContainerSpec[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const byName = new Map(specs.map((s) => [s.name ?? "", s]));
  const visit = (name: string, stack: Set<string>): void => {
    if (seen.has(name) || stack.has(name)) return;
    stack.add(name);
    const spec = byName.get(name);
    for (const dep of spec === undefined ? [] : dependenciesOf(spec)) visit(dep.containerName, stack);
    stack.delete(name);
    if (!seen.has(name) && byName.has(name)) {
      seen.add(name);
      out.push(name);
    }
  };
  for (const s of specs) visit(s.name ?? "", new Set());
  return out;
}

/** Reverse of startOrder: dependents first. */
export function shutdownOrder(specs: readonly GraphContainerSpec[]): string[] {
  return startOrder(specs).reverse();
}
