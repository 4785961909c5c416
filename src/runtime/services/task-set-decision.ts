import type { Service, TaskSet } from "../../../generated/shapes.ts";
import { MAX_LAUNCHES_PER_STEP, STOP_REASONS } from "./replica-decision.ts";
import type { Decision, DecisionInput, Effect, SchedTask } from "./scheduler-types.ts";
import { serviceEvents } from "./service-events.ts";
import { accountStops, graceEndsAt, isHealthy, isLive, isThrottled, isUnhealthy, launchAllowance } from "./task-accounting.ts";

/** "calculated by multiplying the service's desiredCount by the task set's scale percentage … always rounded up". */
export function computedDesiredCount(serviceDesiredCount: number, scalePercent: number): number {
  // The epsilon absorbs float noise (3 × 33.3 % is 0.999…, one task); never below zero.
  return Math.max(0, Math.ceil((serviceDesiredCount * scalePercent) / 100 - 1e-9));
}

/**
 * The scheduler for services whose deployments are driven from outside (EXTERNAL, and CODE_DEPLOY's
 * task sets): every task set is kept at its computed desired count (its scale × the service's desired
 * count) on its own; there is no rolling between task sets — the external controller scales them. A
 * DRAINING task set (DeleteTaskSet) has its tasks stopped and disappears once none is left.
 */
export function decideTaskSets(input: DecisionInput): Decision {
  const { now } = input;
  const at = new Date(now);
  const service: Service = structuredClone(input.service);
  const name = service.serviceName ?? "";
  const effects: Effect[] = [];
  let wakeAt: number | undefined;
  const wake = (t: number): void => {
    wakeAt = wakeAt === undefined ? t : Math.min(wakeAt, t);
  };
  const taskSets: TaskSet[] = service.taskSets ?? [];
  service.taskSets = taskSets;
  const ids = new Set(taskSets.map((ts) => ts.id ?? ""));
  const ours = input.tasks.filter((t) => t.startedBy !== undefined && (ids.has(t.startedBy) || input.book.retired.includes(t.startedBy)));
  const accounting = accountStops(ours, input.book);
  const book = structuredClone(accounting.book);
  if (accounting.sawStartFailure && isThrottled(book)) {
    effects.push({
      kind: "event",
      message: serviceEvents.unableToConsistentlyStart(name),
      condition: true,
      notice: { type: "serviceAction", eventName: "SERVICE_TASK_START_IMPAIRED" },
    });
  }
  const gate = launchAllowance(book, ours, now);
  let allowance = gate.allowed;
  const grace = service.healthCheckGracePeriodSeconds ?? 0;
  const active = service.status === "ACTIVE";
  let allSteady = active;

  const stopTasks = (tasks: readonly SchedTask[], reason: string, taskSetId: string): void => {
    if (tasks.length === 0) return;
    effects.push({ kind: "stop", taskArns: tasks.map((t) => t.arn), taskIds: tasks.map((t) => t.id), reason, announce: true, taskSetId });
  };

  // Stragglers of task sets that are gone.
  for (const t of ours.filter((t) => isLive(t) && !ids.has(t.startedBy ?? ""))) {
    stopTasks([t], STOP_REASONS.scaling(t.startedBy ?? ""), t.startedBy ?? "");
  }

  for (const ts of [...taskSets]) {
    const id = ts.id ?? "";
    const unit = input.units[id] ?? { healthChecked: false, placeable: Number.POSITIVE_INFINITY };
    const wanted = active && ts.status !== "DRAINING" ? computedDesiredCount(input.desiredCount, ts.scale?.value ?? 0) : 0;
    let changed = false;
    if (ts.computedDesiredCount !== wanted) {
      ts.computedDesiredCount = wanted;
      changed = true;
    }
    const live = ours.filter((t) => t.startedBy === id && isLive(t));
    const unhealthy = live.filter((t) => isUnhealthy(t, unit.healthChecked, grace, now));
    for (const t of live) {
      if (unit.healthChecked && t.lastStatus === "RUNNING" && t.healthStatus === "UNHEALTHY" && !unhealthy.includes(t)) wake(graceEndsAt(t, grace));
    }
    const keep = live.filter((t) => !unhealthy.includes(t));
    let acted = false;
    if (keep.length < wanted) {
      const count = Math.min(wanted - keep.length, allowance, unit.placeable, MAX_LAUNCHES_PER_STEP);
      if (unit.placeable < Math.min(wanted - keep.length, allowance) && unit.placementProblem !== undefined) {
        const event: Effect = { kind: "event", message: unit.placementProblem, condition: true };
        if (unit.placementReason !== undefined) {
          event.notice = { type: "serviceAction", eventName: "SERVICE_TASK_PLACEMENT_FAILURE", reason: unit.placementReason };
        }
        effects.push(event);
      }
      if (gate.wakeAt !== undefined) wake(gate.wakeAt);
      if (count > 0) {
        effects.push({ kind: "start", unitId: id, count, unhealthyReplaced: Math.min(unhealthy.length, count), taskSetId: id });
        allowance -= count;
        acted = true;
      }
    }
    for (const t of unhealthy) effects.push({ kind: "event", message: serviceEvents.failedHealthChecks(name, t.id) });
    stopTasks(unhealthy, STOP_REASONS.unhealthy, id);
    if (keep.length > wanted) {
      const order = [...keep].sort(
        (a, b) =>
          Number(isHealthy(a, unit.healthChecked)) - Number(isHealthy(b, unit.healthChecked)) ||
          (b.startedAt ?? b.createdAt) - (a.startedAt ?? a.createdAt),
      );
      stopTasks(order.slice(0, keep.length - wanted), STOP_REASONS.scaling(id), id);
      acted = true;
    }
    acted ||= unhealthy.length > 0;
    const steady = !acted && keep.length === wanted && keep.every((t) => isHealthy(t, unit.healthChecked));
    const stability = steady ? "STEADY_STATE" : "STABILIZING";
    if (ts.stabilityStatus !== stability) {
      ts.stabilityStatus = stability;
      ts.stabilityStatusAt = at;
      changed = true;
    }
    if (changed) ts.updatedAt = at;
    if (!steady) allSteady = false;
    if (ts.status === "DRAINING" && live.length === 0) {
      taskSets.splice(taskSets.indexOf(ts), 1);
      book.retired = [...book.retired.filter((r) => r !== id), id].slice(-50);
    }
  }

  if (!active) {
    // Every task set wanted 0 above, so all their tasks have been told to stop.
    service.status = "INACTIVE";
    service.taskSets = [];
    book.steady = false;
    return { service, book, effects, wakeAt };
  }

  if (allSteady) {
    if (!book.steady) {
      effects.push({ kind: "event", message: serviceEvents.steadyState(name), notice: { type: "serviceAction", eventName: "SERVICE_STEADY_STATE" } });
    }
    book.steady = true;
    book.throttle = { failures: 0 };
  } else {
    book.steady = false;
  }
  return { service, book, effects, wakeAt };
}
