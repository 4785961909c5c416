import { randomUUID } from "node:crypto";
import type { Cluster, Deployment, Service, Tag, Task, TaskDefinition, TaskSet } from "../../../generated/shapes.ts";
import { clusterNameOf, regionOf, taskIdOf } from "../arns.ts";
import type { Clock, Timer } from "../clock.ts";
import type { RunTaskSpec } from "../engine/engine-types.ts";
import type { Logger } from "../logger.ts";
import { eventsOff, type EventPublisher } from "../events/event-publisher.ts";
import { deploymentStateChangeEvent, serviceActionEvent } from "../events/service-events.ts";
import type { ServiceDeploymentStore } from "../store/service-deployment-store.ts";
import type { ServiceRevisionStore } from "../store/service-revision-store.ts";
import type { ServiceRecord, ServiceStore } from "../store/service-store.ts";
import type { TagStore } from "../store/tag-store.ts";
import { applyServiceDeploymentPatch } from "./service-deployment-patch.ts";
import { decideReplica, MAX_LAUNCHES_PER_STEP } from "./replica-decision.ts";
import { schedTaskOf, type Decision, type DecisionInput, type SchedulerNotice, type UnitFacts } from "./scheduler-types.ts";
import { eventPrefix, serviceEvents, withEvent } from "./service-events.ts";
import type { ServiceLaunch, ServicePlacement, ServicePlacementPlan } from "./service-placement.ts";
import type { ServiceTaskDefinitions, ServiceTasks } from "./service-tasks.ts";
import { decideTaskSets } from "./task-set-decision.ts";

export interface ServiceSchedulerOptions {
  services: ServiceStore;
  serviceDeployments: ServiceDeploymentStore;
  serviceRevisions: ServiceRevisionStore;
  tasks: ServiceTasks;
  taskDefinitions: ServiceTaskDefinitions;
  tags: TagStore;
  placement: ServicePlacement;
  /** Time and the timers decisions ask for (grace periods, back-off). */
  clock: Clock;
  logger: Logger;
  /** The cluster a service belongs to, by ARN (placement reads its capacity providers and instances). */
  clusters: (clusterArn: string) => Cluster | undefined;
  /** ECS Service Action and Deployment State Change events to EventBridge (off by default). */
  events?: EventPublisher;
  /**
   * A load balancer that health-checks the service's tasks itself (an Express service's local ingress):
   * its verdict counts as the tasks' health, as ECS counts ELB health checks — a deployment waits for new
   * tasks to pass them, and tasks failing them are replaced once the grace period is over.
   */
  loadBalancerHealth?: (serviceArn: string) => ((taskArn: string) => "HEALTHY" | "UNHEALTHY" | undefined) | undefined;
  /** A service became INACTIVE (its resources outside ECS can go). */
  retired?: (serviceArn: string) => void;
  /** Whether a container instance is DRAINING (its service tasks are replaced elsewhere). */
  instanceDraining?: (containerInstanceArn: string) => boolean;

  /** Task scale-in protection (UpdateTaskProtection, the agent endpoint) and its changes. */
  protection?: TaskProtectionView;
}

export interface TaskProtectionView {
  /** Epoch ms the task's protection ends; undefined when it is not protected. */
  protectedUntil(taskArn: string): number | undefined;
  subscribe(listener: (taskArn: string) => void): () => void;
}

/** After an unexpected error a service is looked at again this much later (never in a tight loop). */
const RETRY_AFTER_ERROR_MS = 5_000;

/**
 * The thin loop around the scheduler's pure decisions. A service is evaluated when one of its tasks
 * changes (engine snapshots), when an operation changes it (`poke`), and when a decision asked to be
 * woken (grace periods, back-off) — never by polling Docker. One evaluation reads the service and its
 * tasks, decides, applies the effects (start/stop tasks, events, service deployment updates) and saves
 * the service, all synchronously, so no other request interleaves. Tasks are recognised by their
 * startedBy (the deployment or task set id) and group (`service:<name>`), and the engine persists a
 * task before it creates any container, so a restart recomputes from what exists and never starts a
 * task twice.
 */
export class ServiceScheduler {
  readonly #o: ServiceSchedulerOptions;
  readonly #log: Logger;
  readonly #dirty = new Set<string>();
  readonly #wakeups = new Map<string, { at: number; timer: Timer }>();
  #flushScheduled = false;
  #unsubscribe: (() => void) | undefined;
  #unsubscribeProtection: (() => void) | undefined;
  /** Pokes before start() (services changed while Docker is not there yet) wait for it. */
  #started = false;
  #closed = false;

  constructor(options: ServiceSchedulerOptions) {
    this.#o = options;
    this.#log = options.logger.child({ component: "service-scheduler" });
  }

  /** Subscribes to task changes and evaluates every service once (re-adopting what a restart left). */
  start(): void {
    const pokeServiceOf = (task: Task): void => {
      const group = task.group;
      if (group === undefined || !group.startsWith("service:") || task.clusterArn === undefined) return;
      const arn = this.#o.services.liveArn(task.clusterArn, group.slice("service:".length));
      if (arn !== undefined) this.poke(arn);
    };
    this.#unsubscribe = this.#o.tasks.subscribe(pokeServiceOf);
    // A scale-in or deployment may be waiting on a protected task.
    this.#unsubscribeProtection = this.#o.protection?.subscribe((taskArn) => {
      const task = this.#o.tasks.get(taskArn);
      if (task !== undefined) pokeServiceOf(task);
    });
    this.#started = true;
    for (const record of this.#o.services.live()) this.poke(record.service.serviceArn ?? "");
  }

  close(): void {
    this.#closed = true;
    this.#unsubscribe?.();
    this.#unsubscribeProtection?.();
    for (const w of this.#wakeups.values()) w.timer.cancel();
    this.#wakeups.clear();
  }

  /** Asks for an evaluation of the service soon (coalesced; after the current call stack). */
  poke(serviceArn: string): void {
    if (this.#closed) return;
    this.#dirty.add(serviceArn);
    if (this.#flushScheduled || !this.#started) return;
    this.#flushScheduled = true;
    setImmediate(() => this.#flush());
  }

  /** Evaluates every poked service now (tests call it to settle without waiting). */
  flush(): void {
    this.#flush();
  }

  #flush(): void {
    this.#flushScheduled = false;
    // Effects poke again (new task snapshots): those evaluations run in the next round.
    const batch = [...this.#dirty];
    this.#dirty.clear();
    for (const arn of batch) {
      if (this.#closed) return;
      try {
        this.evaluate(arn);
      } catch (err) {
        this.#log.error("service-evaluation-failed", { serviceArn: arn, error: err });
        this.#wakeAt(arn, this.#o.clock.now().getTime() + RETRY_AFTER_ERROR_MS);
      }
    }
  }

  /** One scheduler step for one service. */
  evaluate(serviceArn: string): void {
    const record = this.#o.services.get(serviceArn);
    if (record === undefined || record.service.status === "INACTIVE") return;
    const { service } = record;
    const now = this.#o.clock.now().getTime();
    const tasks = this.#o.tasks.list({ clusterArn: service.clusterArn ?? "", serviceName: service.serviceName ?? "" });
    const cluster = this.#o.clusters(service.clusterArn ?? "");
    const desiredCount = this.#desiredCount(service, cluster);
    const plans = new Map<string, ServicePlacementPlan>();
    const lb = this.#o.loadBalancerHealth?.(serviceArn);
    const units = this.#unitFacts(service, cluster, desiredCount, plans);
    if (lb !== undefined) for (const u of Object.values(units)) u.healthChecked = true;
    const input: DecisionInput = {
      now,
      service,
      book: record.book,
      // A container that says UNHEALTHY stays so; otherwise the load balancer's health check decides.
      tasks: tasks.map((task) => {
        const t = schedTaskOf(task);
        const draining = task.containerInstanceArn !== undefined && this.#o.instanceDraining?.(task.containerInstanceArn) === true;
        const protectedUntil = task.lastStatus === "STOPPED" ? undefined : this.#o.protection?.protectedUntil(t.arn);
        const withDrain = draining || protectedUntil !== undefined ? { ...t, draining, protectedUntil } : t;
        return lb === undefined || t.healthStatus === "UNHEALTHY" ? withDrain : { ...withDrain, healthStatus: lb(t.arn) ?? "UNKNOWN" };
      }),
      desiredCount,
      units,
    };
    const external = (service.deploymentController?.type ?? "ECS") !== "ECS";
    const decision = external ? decideTaskSets(input) : decideReplica(input);
    this.#apply(record, decision, now, plans);
  }

  #desiredCount(service: Service, cluster: Cluster | undefined): number {
    if (service.schedulingStrategy !== "DAEMON") return service.desiredCount ?? 0;
    return cluster === undefined ? 0 : this.#o.placement.instanceCount(regionOf(service.serviceArn) ?? "", cluster);
  }

  /**
   * Health checks and placement of every deployment / task set, looked up for the pure decision. The
   * placement plans (where each task that fits would go) are kept for the launches of this step.
   */
  #unitFacts(service: Service, cluster: Cluster | undefined, desiredCount: number, plans: Map<string, ServicePlacementPlan>): Record<string, UnitFacts> {
    const clusterArn = service.clusterArn ?? "";
    const name = service.serviceName ?? "";
    const cache = new Map<string, TaskDefinition | undefined>();
    const td = (ref: string): TaskDefinition | undefined => {
      if (!cache.has(ref)) cache.set(ref, this.#o.taskDefinitions.resolve(ref));
      return cache.get(ref);
    };
    // What the cluster's other tasks hold, looked up only when placement needs it (most services don't).
    let occupying: TaskDefinition[] | undefined;
    const occupied = (): TaskDefinition[] => {
      if (occupying !== undefined) return occupying;
      occupying = [];
      for (const t of this.#o.tasks.list({ clusterArn })) {
        if (t.lastStatus === "STOPPED" || t.taskDefinitionArn === undefined) continue;
        const def = td(t.taskDefinitionArn);
        if (def !== undefined) occupying.push(def);
      }
      return occupying;
    };
    const daemon = service.schedulingStrategy === "DAEMON";
    const units: Record<string, UnitFacts> = {};
    const all = [...(service.deployments ?? []), ...(service.taskSets ?? [])] as Array<Deployment | TaskSet>;
    for (const unit of all) {
      if (unit.id === undefined) continue;
      const def = unit.taskDefinition === undefined ? undefined : td(unit.taskDefinition);
      if (def === undefined || cluster === undefined) {
        units[unit.id] = {
          healthChecked: false,
          placeable: 0,
          placementProblem: serviceEvents.unableToPlace(name, `TaskDefinition not found: ${unit.taskDefinition ?? ""}`),
        };
        continue;
      }
      // Never more than one step launches (and a draining unit launches nothing).
      const count = Math.min(desiredCount, MAX_LAUNCHES_PER_STEP);
      const plan =
        count === 0
          ? { launches: [] }
          : this.#o.placement.plan({
              region: regionOf(service.serviceArn) ?? "",
              cluster,
              serviceName: name,
              group: `service:${name}`,
              taskDefinition: def,
              count,
              launchType: unit.launchType,
              capacityProviderStrategy: unit.capacityProviderStrategy,
              // A daemon runs one task on each instance.
              placementConstraints: daemon ? [...(service.placementConstraints ?? []), { type: "distinctInstance" }] : service.placementConstraints,
              placementStrategy: service.placementStrategy,
              occupying: occupied,
            });
      plans.set(unit.id, plan);
      units[unit.id] = {
        healthChecked: (def.containerDefinitions ?? []).some((c) => (c.essential ?? true) && c.healthCheck !== undefined),
        placeable: plan.problem === undefined ? Number.POSITIVE_INFINITY : plan.launches.length,
        placementProblem: plan.problem,
        placementReason: plan.reason,
      };
    }
    return units;
  }

  #apply(record: ServiceRecord, decision: Decision, now: number, plans: ReadonlyMap<string, ServicePlacementPlan>): void {
    const service = decision.service;
    const name = service.serviceName ?? "";
    const at = new Date(now);
    const steadyMessage = serviceEvents.steadyState(name);
    /** Records a service event; false when it was left out as a repeat of a condition. */
    const event = (message: string, condition = false): boolean => {
      const id = randomUUID();
      service.events = withEvent(service.events ?? [], message, at, id, { condition, steadyMessage });
      return service.events[0]?.id === id;
    };
    for (const effect of decision.effects) {
      switch (effect.kind) {
        case "event":
          if (event(effect.message, effect.condition === true) && effect.notice !== undefined) this.#notify(service, effect.notice, at);
          break;
        case "notify":
          this.#notify(service, effect.notice, at);
          break;
        case "log":
          this.#log.warn(effect.event, { service: service.serviceArn, ...effect.fields });
          break;
        case "start": {
          const ids = this.#start(service, effect.unitId, effect.count, plans.get(effect.unitId)?.launches ?? []);
          if (ids.length > 0) event(serviceEvents.started(eventPrefix(name, effect.taskSetId), ids, effect.unhealthyReplaced));
          break;
        }
        case "stop": {
          for (const arn of effect.taskArns) this.#o.tasks.stopTask(arn, effect.reason, "ServiceSchedulerInitiated");
          if (effect.announce) event(serviceEvents.stopped(eventPrefix(name, effect.taskSetId), effect.taskIds));
          this.#log.info("service-tasks-stopped", { service: service.serviceArn, tasks: effect.taskIds, reason: effect.reason });
          break;
        }
        case "serviceDeployment":
          this.#o.serviceDeployments.update(effect.arn, (sd) => applyServiceDeploymentPatch(sd, effect.patch, at));
          break;
      }
    }
    const changed =
      JSON.stringify([record.service, record.book]) !== JSON.stringify([service, decision.book]);
    if (changed) this.#o.services.save({ ...record, service, book: decision.book });
    if (service.status === "INACTIVE") {
      this.#retire(service, record.service.taskSets ?? []);
      return;
    }
    if (decision.wakeAt !== undefined) this.#wakeAt(service.serviceArn ?? "", decision.wakeAt);
  }

  #notify(service: Service, notice: SchedulerNotice, at: Date): void {
    const serviceArn = service.serviceArn ?? "";
    const events = this.#o.events ?? eventsOff;
    if (notice.type === "serviceAction") {
      events.publish(serviceActionEvent({ serviceArn, clusterArn: service.clusterArn ?? "", eventName: notice.eventName, at, reason: notice.reason }));
    } else {
      events.publish(deploymentStateChangeEvent({ serviceArn, deploymentId: notice.deploymentId, eventName: notice.eventName, at, reason: notice.reason }));
    }
  }

  /** Launches `count` tasks of a deployment or task set; returns the ids of those started. */
  #start(service: Service, unitId: string, count: number, launches: readonly ServiceLaunch[]): string[] {
    const unit: Deployment | TaskSet | undefined =
      (service.deployments ?? []).find((d) => d.id === unitId) ?? (service.taskSets ?? []).find((t) => t.id === unitId);
    const td = unit?.taskDefinition === undefined ? undefined : this.#o.taskDefinitions.resolve(unit.taskDefinition);
    if (unit === undefined || td === undefined) return [];
    const clusterArn = service.clusterArn ?? "";
    const spec: RunTaskSpec = {
      clusterArn,
      clusterName: clusterNameOf(clusterArn),
      taskDefinition: td,
      startedBy: unitId,
      group: `service:${service.serviceName ?? ""}`,
      launchType: unit.launchType,
      capacityProviderName: unit.capacityProviderStrategy?.[0]?.capacityProvider,
      platformVersion: unit.platformVersion,
      enableExecuteCommand: service.enableExecuteCommand,
      networkConfiguration: unit.networkConfiguration,
    };
    const tags = this.#taskTags(service, td);
    const ids: string[] = [];
    // Placement decided where each goes (instance, launch type, capacity provider, zone).
    for (const launch of launches.slice(0, count)) {
      const task = this.#o.tasks.runTask({
        ...spec,
        ...(launch.launchType === undefined ? {} : { launchType: launch.launchType }),
        ...(launch.capacityProviderName === undefined ? {} : { capacityProviderName: launch.capacityProviderName }),
        containerInstanceArn: launch.containerInstanceArn,
        availabilityZone: launch.availabilityZone,
      });
      const arn = task.taskArn ?? "";
      if (tags.length > 0) this.#o.tags.put(arn, tags);
      ids.push(taskIdOf(arn));
    }
    this.#log.info("service-tasks-started", { service: service.serviceArn, startedBy: unitId, tasks: ids });
    return ids;
  }

  /** propagateTags (SERVICE / TASK_DEFINITION) and the ECS managed tags. */
  #taskTags(service: Service, td: TaskDefinition): Tag[] {
    let tags: Tag[] = [];
    if (service.propagateTags === "SERVICE") tags = this.#o.tags.get(service.serviceArn ?? "");
    else if (service.propagateTags === "TASK_DEFINITION" && td.taskDefinitionArn !== undefined) tags = this.#o.taskDefinitions.tagsOf(td.taskDefinitionArn);
    if (service.enableECSManagedTags === true) {
      tags = [
        ...tags,
        { key: "aws:ecs:clusterName", value: clusterNameOf(service.clusterArn) },
        { key: "aws:ecs:serviceName", value: service.serviceName ?? "" },
      ];
    }
    return tags;
  }

  /** The service is gone: its tags (and its task sets'), service deployments and revisions go with it. */
  #retire(service: Service, taskSets: readonly TaskSet[]): void {
    const arn = service.serviceArn ?? "";
    this.#wakeups.get(arn)?.timer.cancel();
    this.#wakeups.delete(arn);
    this.#o.tags.deleteAll(arn);
    for (const ts of taskSets) this.#o.tags.deleteAll(ts.taskSetArn ?? "");
    this.#o.serviceDeployments.deleteForService(arn);
    this.#o.serviceRevisions.deleteForService(arn);
    this.#o.retired?.(arn);
    this.#log.info("service-inactive", { service: arn });
  }

  #wakeAt(serviceArn: string, at: number): void {
    const current = this.#wakeups.get(serviceArn);
    if (current !== undefined && current.at <= at) return;
    current?.timer.cancel();
    const timer = this.#o.clock.setTimeout(() => {
      this.#wakeups.delete(serviceArn);
      this.poke(serviceArn);
    }, Math.max(0, at - this.#o.clock.now().getTime()));
    this.#wakeups.set(serviceArn, { at, timer });
  }
}
