import type { LoadBalancer, ServiceRegistry, Task } from "../../../generated/shapes.ts";
import { taskIdOf } from "../arns.ts";
import type { Clock } from "../clock.ts";
import type { TaskEngineHooks } from "../engine/engine-types.ts";
import type { Logger } from "../logger.ts";
import type { ServiceStore } from "../store/service-store.ts";
import type { TaskRegistration, TaskRegistrationStore } from "../store/task-registration-store.ts";
import type { CloudMap } from "./aws/cloud-map.ts";
import type { TargetGroupInfo, TargetGroups } from "./aws/target-groups.ts";
import { serviceEvents } from "./service-events.ts";
import type { ServiceTasks } from "./service-tasks.ts";
import { cloudMapInstances, lbTargets, type LbTarget } from "./task-registrations.ts";

export interface ServiceRegistrationsOptions {
  services: ServiceStore;
  tasks: Pick<ServiceTasks, "get" | "list" | "subscribe">;
  store: TaskRegistrationStore;
  /** ELBv2 at ELBV2_ENDPOINT_URL; undefined: load balancers are recorded only. */
  targetGroups?: TargetGroups | undefined;
  /** Cloud Map at SERVICE_DISCOVERY_ENDPOINT_URL; undefined: service registries are recorded only. */
  cloudMap?: CloudMap | undefined;
  /** The EC2 instance id of a container instance (instance target groups, EC2_INSTANCE_ID). */
  ec2InstanceIdOf: (containerInstanceArn: string | undefined) => string | undefined;
  /** Adds a service event (as the scheduler words them) to the service's events. */
  event: (serviceArn: string, message: string) => void;
  clock: Clock;
  logger: Logger;
}

/** How often a draining target's state is looked at (ECS's agent watches the load balancer the same way). */
const DRAIN_POLL_MS = 1000;

/**
 * What ECS does outside the cluster for service tasks, driven by the engine's task snapshots: once a task
 * is RUNNING its targets are registered in the service's target groups and its instances in the Cloud Map
 * services of its registries; when the task is told to stop, it is DEACTIVATING while its targets are
 * deregistered and drain (until the load balancer reports them unused, at most the target group's
 * deregistration delay — a beforeStop engine hook), and its instances are deregistered; a task that stops
 * by itself is deregistered once STOPPED. What was registered is persisted first, so a restarted server
 * deregisters what tasks stopped meanwhile left behind. Without an endpoint everything stays recorded on
 * the service, as before, and the log says so once.
 */
export class ServiceRegistrations {
  readonly #o: ServiceRegistrationsOptions;
  readonly #log: Logger;
  /** Tasks whose registration was done or started (by task ARN), and the one in flight. */
  readonly #handled = new Set<string>();
  readonly #inFlight = new Map<string, Promise<void>>();
  readonly #groups = new Map<string, Promise<TargetGroupInfo | undefined>>();
  readonly #said = new Set<string>();
  #unsubscribe: (() => void) | undefined;
  #closed = false;

  constructor(options: ServiceRegistrationsOptions) {
    this.#o = options;
    this.#log = options.logger.child({ component: "service-registrations" });
  }

  /** Resumes after a restart: deregisters what stopped tasks left, registers RUNNING tasks never registered. */
  start(): void {
    this.#unsubscribe = this.#o.tasks.subscribe((task) => this.#onTask(task));
    for (const r of this.#o.store.all()) {
      const task = this.#o.tasks.get(r.taskArn);
      this.#handled.add(r.taskArn);
      if (task === undefined || task.lastStatus === "STOPPED" || task.desiredStatus === "STOPPED") this.#track(r.taskArn, () => this.#deregister(r, false));
    }
    for (const record of this.#o.services.live()) {
      const s = record.service;
      for (const task of this.#o.tasks.list({ clusterArn: s.clusterArn ?? "", serviceName: s.serviceName ?? "" })) this.#onTask(task);
    }
  }

  close(): void {
    this.#closed = true;
    this.#unsubscribe?.();
    this.#o.targetGroups?.close();
    this.#o.cloudMap?.close();
  }

  /** Settles once nothing is in flight (tests). */
  async idle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight.values()]);
  }

  hooks(): TaskEngineHooks {
    return {
      beforeStop: (task) => {
        const arn = task.taskArn ?? "";
        if (!this.#handled.has(arn)) return undefined;
        const recorded = this.#o.store.get(arn);
        // Only load balancer targets hold a task (DEACTIVATING); Cloud Map instances go at once.
        if (!this.#inFlight.has(arn) && (recorded === undefined || recorded.targets.length === 0)) {
          if (recorded !== undefined) this.#track(arn, () => this.#deregister(recorded, false));
          return undefined;
        }
        return this.#track(arn, async () => {
          const r = this.#o.store.get(arn);
          if (r !== undefined) await this.#deregister(r, true);
        });
      },
    };
  }

  #onTask(task: Task): void {
    if (this.#closed || task.group === undefined || !task.group.startsWith("service:")) return;
    const arn = task.taskArn ?? "";
    if (task.lastStatus === "RUNNING" && task.desiredStatus === "RUNNING" && !this.#handled.has(arn)) {
      this.#handled.add(arn);
      this.#track(arn, () => this.#register(task));
    } else if (task.lastStatus === "STOPPED" && this.#handled.has(arn)) {
      this.#handled.delete(arn);
      this.#track(arn, async () => {
        const r = this.#o.store.get(arn);
        if (r !== undefined) await this.#deregister(r, false);
      });
    }
  }

  /** Runs `work` after whatever is in flight for the task; one chain per task. */
  #track(taskArn: string, work: () => Promise<void>): Promise<void> {
    const previous = this.#inFlight.get(taskArn) ?? Promise.resolve();
    const next = previous.then(work).catch((err: unknown) => this.#log.warn("registration-failed", { taskArn, error: err }));
    this.#inFlight.set(taskArn, next);
    void next.finally(() => {
      if (this.#inFlight.get(taskArn) === next) this.#inFlight.delete(taskArn);
    });
    return next;
  }

  async #register(task: Task): Promise<void> {
    const serviceArn = this.#o.services.liveArn(task.clusterArn ?? "", (task.group ?? "").slice("service:".length));
    const record = serviceArn === undefined ? undefined : this.#o.services.get(serviceArn);
    if (record === undefined || serviceArn === undefined) return;
    const s = record.service;
    const taskSet = (s.taskSets ?? []).find((ts) => ts.id === task.startedBy);
    const loadBalancers: LoadBalancer[] = taskSet?.loadBalancers ?? s.loadBalancers ?? [];
    const registries: ServiceRegistry[] = taskSet?.serviceRegistries ?? s.serviceRegistries ?? [];
    if (loadBalancers.length === 0 && registries.length === 0) return;
    const tg = this.#o.targetGroups;
    const cm = this.#o.cloudMap;
    if (loadBalancers.length > 0 && tg === undefined) {
      this.#sayOnce("load-balancers", "services.load_balancers_recorded_only", "loadBalancers are recorded only: set ELBV2_ENDPOINT_URL (moto, LocalStack) to register the tasks as targets");
    }
    if (registries.length > 0 && cm === undefined) {
      this.#sayOnce("registries", "services.service_registries_recorded_only", "serviceRegistries are recorded only: set SERVICE_DISCOVERY_ENDPOINT_URL (moto, LocalStack) to register the tasks in Cloud Map");
    }
    if ((loadBalancers.length === 0 || tg === undefined) && (registries.length === 0 || cm === undefined)) return;

    const name = s.serviceName ?? "";
    const ec2InstanceId = this.#o.ec2InstanceIdOf(task.containerInstanceArn);
    const mode = task.attachments?.some((a) => a.type === "ElasticNetworkInterface") === true ? "awsvpc" : "bridge";
    const infos = new Map<string, TargetGroupInfo | undefined>();
    if (tg !== undefined) for (const lb of loadBalancers) if (lb.targetGroupArn !== undefined) infos.set(lb.targetGroupArn, await this.#group(lb.targetGroupArn));
    const { targets, problems } =
      tg === undefined ? { targets: [], problems: [] } : lbTargets(task, loadBalancers, (arn) => infos.get(arn)?.targetType ?? (mode === "awsvpc" ? "ip" : "instance"), ec2InstanceId);
    for (const p of problems) this.#log.warn("target-not-registered", { service: serviceArn, problem: p });
    const instances =
      cm === undefined ? [] : cloudMapInstances(task, registries, { serviceName: name, networkMode: mode, ec2InstanceId, taskSetExternalId: taskSet?.externalId });
    const registration: TaskRegistration = { taskArn: task.taskArn ?? "", serviceArn, targets, instances };
    // Recorded before the calls: a crash in between leaves a record to deregister, never a stray target.
    this.#o.store.put(registration);
    for (const [arn, group] of byTargetGroup(targets)) {
      try {
        await tg!.register(arn, group);
        this.#o.event(serviceArn, serviceEvents.registeredTargets(name, group.length, arn));
      } catch (err) {
        this.#o.event(serviceArn, serviceEvents.failedToRegisterTargets(name, arn, messageOf(err)));
        this.#log.warn("register-targets-failed", { service: serviceArn, targetGroupArn: arn, error: err });
      }
    }
    for (const i of instances) {
      try {
        await cm!.registerInstance(i.registryArn, i.instanceId, i.attributes);
        this.#log.info("cloud-map-instance-registered", { service: serviceArn, registryArn: i.registryArn, instanceId: i.instanceId });
      } catch (err) {
        this.#log.warn("register-instance-failed", { service: serviceArn, registryArn: i.registryArn, error: err });
      }
    }
  }

  /** Deregisters everything of the task; with `drain`, waits for its targets to leave the draining state. */
  async #deregister(r: TaskRegistration, drain: boolean): Promise<void> {
    const record = this.#o.services.get(r.serviceArn);
    const name = record?.service.serviceName ?? "";
    let failed = false;
    if (drain && r.targets.length > 0) this.#o.event(r.serviceArn, serviceEvents.drainingConnections(name, 1));
    for (const i of r.instances) {
      await this.#o.cloudMap?.deregisterInstance(i.registryArn, i.instanceId).catch((err: unknown) => {
        failed = true;
        this.#log.warn("deregister-instance-failed", { taskArn: r.taskArn, registryArn: i.registryArn, error: err });
      });
    }
    const tg = this.#o.targetGroups;
    const draining: Array<{ arn: string; target: LbTarget }> = [];
    for (const [arn, group] of byTargetGroup(r.targets)) {
      if (tg === undefined) break;
      try {
        await tg.deregister(arn, group);
        this.#o.event(r.serviceArn, serviceEvents.deregisteredTargets(name, group.length, arn));
        for (const target of group) draining.push({ arn, target: { targetGroupArn: arn, ...target } });
      } catch (err) {
        failed = true;
        this.#log.warn("deregister-targets-failed", { taskArn: r.taskArn, targetGroupArn: arn, error: err });
      }
    }
    if (drain) await Promise.all(draining.map((d) => this.#drained(d.arn, d.target)));
    // Kept when a call failed: the next start-up tries again.
    if (!failed) this.#o.store.delete(r.taskArn);
    this.#log.info("task-deregistered", { taskArn: taskIdOf(r.taskArn), targets: r.targets.length, instances: r.instances.length, drained: drain });
  }

  /** Until the load balancer no longer reports the target draining, at most the deregistration delay. */
  async #drained(targetGroupArn: string, target: LbTarget): Promise<void> {
    const tg = this.#o.targetGroups;
    if (tg === undefined) return;
    const delayMs = ((await this.#group(targetGroupArn))?.deregistrationDelaySeconds ?? 300) * 1000;
    const deadline = this.#o.clock.now().getTime() + delayMs;
    while (!this.#closed) {
      const state = await tg.state(targetGroupArn, { id: target.id, port: target.port }).catch(() => undefined);
      if (state !== "draining") return;
      const left = deadline - this.#o.clock.now().getTime();
      if (left <= 0) return;
      await new Promise<void>((resolve) => this.#o.clock.setTimeout(resolve, Math.min(DRAIN_POLL_MS, left)));
    }
  }

  #group(targetGroupArn: string): Promise<TargetGroupInfo | undefined> {
    let info = this.#groups.get(targetGroupArn);
    if (info === undefined) {
      info = this.#o.targetGroups?.describe(targetGroupArn) ?? Promise.resolve(undefined);
      // A failed look-up is asked again next time.
      info.catch(() => this.#groups.delete(targetGroupArn));
      this.#groups.set(targetGroupArn, info);
    }
    return info.catch(() => undefined);
  }

  #sayOnce(key: string, event: string, message: string): void {
    if (this.#said.has(key)) return;
    this.#said.add(key);
    this.#log.info(event, { message });
  }
}

function byTargetGroup(targets: readonly LbTarget[]): Map<string, Array<{ id: string; port: number }>> {
  const out = new Map<string, Array<{ id: string; port: number }>>();
  for (const t of targets) out.set(t.targetGroupArn, [...(out.get(t.targetGroupArn) ?? []), { id: t.id, port: t.port }]);
  return out;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
