import type { Task } from "../../../generated/shapes.ts";
import type { Clock } from "../clock.ts";
import type { Logger } from "../logger.ts";
import type { ExpressServiceRecord, ExpressServiceStore } from "../store/express-service-store.ts";
import type { ServiceStore } from "../store/service-store.ts";
import { ExpressIngress, type IngressTarget } from "./express-ingress.ts";
import type { ServiceTasks } from "./service-tasks.ts";

/** The name of the primary container in an Express service's task definition. */
export const EXPRESS_CONTAINER = "main";
/** ALB's default health check path, which Express services use unless told otherwise. */
export const DEFAULT_HEALTH_CHECK_PATH = "/ping";

export interface ExpressGatewaysOptions {
  store: ExpressServiceStore;
  services: ServiceStore;
  tasks: Pick<ServiceTasks, "list" | "subscribe">;
  /** Address the ingress listeners bind (the API's HOST). */
  bindHost: string;
  /** Asks the scheduler to look at the service (a target's health changed). */
  poke: (serviceArn: string) => void;
  clock: Clock;
  logger: Logger;
}

/**
 * The local ingress of every Express service: opened when the service is created (and again after a
 * restart, on the port it had), fed with the service's RUNNING tasks from the engine's snapshots, and
 * closed once the service is INACTIVE. Its health checks are the scheduler's view of the tasks' health.
 */
export class ExpressGateways {
  readonly #o: ExpressGatewaysOptions;
  readonly #ingresses = new Map<string, ExpressIngress>();
  #unsubscribe: (() => void) | undefined;

  constructor(options: ExpressGatewaysOptions) {
    this.#o = options;
  }

  start(): void {
    this.#unsubscribe = this.#o.tasks.subscribe((task) => this.#onTask(task));
    for (const r of this.#o.store.all()) {
      const service = this.#o.services.get(r.serviceArn)?.service;
      if (service === undefined || service.status === "INACTIVE") continue;
      void this.open(r).catch((err: unknown) => this.#o.logger.warn("express-ingress-open-failed", { service: r.serviceArn, error: err }));
    }
  }

  /** Opens (or re-configures) the service's ingress; resolves with its port. */
  async open(r: ExpressServiceRecord): Promise<number> {
    const path = r.configurations[0]?.config.healthCheckPath ?? DEFAULT_HEALTH_CHECK_PATH;
    const existing = this.#ingresses.get(r.serviceArn);
    if (existing !== undefined) {
      existing.healthCheckPath = path;
      this.#sync(r.serviceArn);
      return r.ingressPort;
    }
    const ingress = new ExpressIngress({
      serviceArn: r.serviceArn,
      bindHost: this.#o.bindHost,
      healthCheckPath: path,
      clock: this.#o.clock,
      logger: this.#o.logger,
      onHealthChange: () => this.#o.poke(r.serviceArn),
    });
    this.#ingresses.set(r.serviceArn, ingress);
    const port = await ingress.listen(r.ingressPort);
    this.#sync(r.serviceArn);
    return port;
  }

  /** The ingress's health verdicts for the scheduler; undefined for services that are not Express ones. */
  health(serviceArn: string): ((taskArn: string) => "HEALTHY" | "UNHEALTHY" | undefined) | undefined {
    const ingress = this.#ingresses.get(serviceArn);
    return ingress === undefined ? undefined : (taskArn) => ingress.health(taskArn);
  }

  /** The service is INACTIVE: its load balancer goes. */
  retired(serviceArn: string): void {
    const ingress = this.#ingresses.get(serviceArn);
    this.#ingresses.delete(serviceArn);
    void ingress?.close();
  }

  async close(): Promise<void> {
    this.#unsubscribe?.();
    const all = [...this.#ingresses.values()];
    this.#ingresses.clear();
    await Promise.all(all.map((i) => i.close()));
  }

  #onTask(task: Task): void {
    if (task.group === undefined || !task.group.startsWith("service:") || task.clusterArn === undefined) return;
    const arn = this.#o.services.liveArn(task.clusterArn, task.group.slice("service:".length));
    if (arn !== undefined && this.#ingresses.has(arn)) this.#sync(arn);
  }

  /** The targets: RUNNING tasks not told to stop, at the host port their primary container publishes. */
  #sync(serviceArn: string): void {
    const ingress = this.#ingresses.get(serviceArn);
    const service = this.#o.services.get(serviceArn)?.service;
    if (ingress === undefined || service === undefined) return;
    const targets: IngressTarget[] = [];
    for (const t of this.#o.tasks.list({ clusterArn: service.clusterArn ?? "", serviceName: service.serviceName ?? "" })) {
      if (t.lastStatus !== "RUNNING" || t.desiredStatus !== "RUNNING") continue;
      const binding = (t.containers ?? []).find((c) => c.name === EXPRESS_CONTAINER)?.networkBindings?.find((b) => (b.hostPort ?? 0) > 0);
      if (binding?.hostPort === undefined) continue;
      const host = binding.bindIP === undefined || binding.bindIP === "0.0.0.0" || binding.bindIP === "::" ? "127.0.0.1" : binding.bindIP;
      targets.push({ taskArn: t.taskArn ?? "", host, port: binding.hostPort });
    }
    ingress.setTargets(targets);
  }
}
