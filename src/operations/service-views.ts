import type {
  Deployment,
  Service,
  ServiceCurrentRevisionSummary,
  ServiceDeployment,
  ServiceRevisionSummary,
  Tag,
  Task,
  TaskSet,
} from "../../generated/shapes.ts";
import { circuitBreakerThreshold } from "../runtime/services/deployment-math.ts";
import type { ServiceRecord } from "../runtime/store/service-store.ts";

// How services, their deployments and task sets are shown: what is stored plus the counts, which are
// always taken from the engine's tasks at the time of the answer (so they are never stale).

export interface UnitCounts {
  running: number;
  pending: number;
}

/** RUNNING / PENDING tasks per startedBy (deployment or task set id); tasks being stopped count in neither. */
export function countsByUnit(tasks: readonly Task[]): Map<string, UnitCounts> {
  const out = new Map<string, UnitCounts>();
  for (const t of tasks) {
    if (t.startedBy === undefined || t.desiredStatus !== "RUNNING" || t.lastStatus === "STOPPED") continue;
    const c = out.get(t.startedBy) ?? { running: 0, pending: 0 };
    if (t.lastStatus === "RUNNING") c.running++;
    else c.pending++;
    out.set(t.startedBy, c);
  }
  return out;
}

const ZERO: UnitCounts = { running: 0, pending: 0 };

/** The Service as DescribeServices shows it: stored fields, counts from `tasks`, tags when asked for. */
export function renderService(record: ServiceRecord, tasks: readonly Task[], tags?: Tag[]): Service {
  const s = structuredClone(record.service);
  const counts = countsByUnit(tasks);
  let running = 0;
  let pending = 0;
  s.deployments = (s.deployments ?? []).map((d: Deployment) => {
    const c = counts.get(d.id ?? "") ?? ZERO;
    running += c.running;
    pending += c.pending;
    return { ...d, runningCount: c.running, pendingCount: c.pending };
  });
  if (s.taskSets !== undefined) {
    s.taskSets = s.taskSets.map((ts: TaskSet) => {
      const c = counts.get(ts.id ?? "") ?? ZERO;
      running += c.running;
      pending += c.pending;
      return { ...ts, runningCount: c.running, pendingCount: c.pending };
    });
  }
  s.runningCount = running;
  s.pendingCount = pending;
  if (s.schedulingStrategy === "DAEMON") {
    // A daemon's desired count is the number of instances it runs on (what its PRIMARY deployment wants).
    const primary = s.deployments.find((d) => d.status === "PRIMARY");
    if (primary !== undefined && s.status === "ACTIVE") s.desiredCount = primary.desiredCount ?? 0;
  }
  const primary = s.deployments.find((d) => d.status === "PRIMARY");
  const primaryLink = primary === undefined ? undefined : record.book.links[primary.id ?? ""];
  if (primaryLink !== undefined) s.currentServiceDeployment = primaryLink.serviceDeploymentArn;
  const revisions: ServiceCurrentRevisionSummary[] = [];
  for (const d of s.deployments) {
    const link = record.book.links[d.id ?? ""];
    if (link === undefined) continue;
    revisions.push({
      arn: link.serviceRevisionArn,
      requestedTaskCount: d.desiredCount ?? 0,
      runningTaskCount: d.runningCount ?? 0,
      pendingTaskCount: d.pendingCount ?? 0,
    });
  }
  if (revisions.length > 0) s.currentServiceRevisions = revisions;
  if (tags !== undefined) s.tags = tags;
  return s;
}

/** A task set with its counts. */
export function renderTaskSet(ts: TaskSet, tasks: readonly Task[], tags?: Tag[]): TaskSet {
  const c = countsByUnit(tasks).get(ts.id ?? "") ?? ZERO;
  const out: TaskSet = { ...structuredClone(ts), runningCount: c.running, pendingCount: c.pending };
  if (tags !== undefined) out.tags = tags;
  return out;
}

const FINISHED = new Set(["SUCCESSFUL", "STOPPED", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED"]);

/**
 * A service deployment as DescribeServiceDeployments shows it. While it runs, its revisions' counts and
 * the circuit breaker's failure count come from the service's live deployments; once finished, what was
 * recorded when it finished.
 */
export function renderServiceDeployment(sd: ServiceDeployment, record: ServiceRecord | undefined, tasks: readonly Task[]): ServiceDeployment {
  const out = structuredClone(sd);
  if (record === undefined || FINISHED.has(sd.status ?? "")) return out;
  const counts = countsByUnit(tasks);
  const byRevision = new Map<string, { d: Deployment; c: UnitCounts }>();
  for (const d of record.service.deployments ?? []) {
    const link = record.book.links[d.id ?? ""];
    if (link !== undefined) byRevision.set(link.serviceRevisionArn, { d, c: counts.get(d.id ?? "") ?? ZERO });
  }
  const live = (summary: ServiceRevisionSummary): ServiceRevisionSummary => {
    const found = byRevision.get(summary.arn ?? "");
    if (found === undefined) return { ...summary, runningTaskCount: 0, pendingTaskCount: 0 };
    return { ...summary, requestedTaskCount: found.d.desiredCount ?? 0, runningTaskCount: found.c.running, pendingTaskCount: found.c.pending };
  };
  if (out.targetServiceRevision !== undefined) out.targetServiceRevision = live(out.targetServiceRevision);
  if (out.sourceServiceRevisions !== undefined) out.sourceServiceRevisions = out.sourceServiceRevisions.map(live);
  const target = byRevision.get(sd.targetServiceRevision?.arn ?? "");
  const breaker = record.service.deploymentConfiguration?.deploymentCircuitBreaker;
  if (target !== undefined && breaker?.enable === true && out.deploymentCircuitBreaker?.status !== "TRIGGERED") {
    out.deploymentCircuitBreaker = {
      status: "MONITORING",
      failureCount: target.d.failedTasks ?? 0,
      threshold: circuitBreakerThreshold(record.service.desiredCount ?? 0),
    };
  }
  return out;
}
