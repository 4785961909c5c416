// The runtime work of one task step: asks the engine's hooks (agent env, secrets, networks) what to add,
// calls the backend, and records the outcome in the task's document. Failures become the container
// reasons ECS reports (CannotPullContainerError, CannotCreateContainerError, …), never exceptions.
import type { Task } from "../../../generated/shapes.ts";
import {
  ContainerCreateError,
  ContainerMissingError,
  ImagePullError,
  VolumeError,
  type ExtraNetwork,
  type ObservedContainer,
  type ProvisionedTask,
  type TaskBackend,
} from "../backend/task-backend.ts";
import type { Clock } from "../clock.ts";
import type { Logger } from "../logger.ts";
import type { ContainerCreateExtras, TaskEngineHooks } from "./engine-types.ts";
import { overrideFor } from "./task-document.ts";
import type { Working } from "./task-engine.ts";
import { applyObserved } from "./task-reconciler.ts";
import { namedError } from "./task-status.ts";
import { renderEni } from "./task-render.ts";
import { failContainer, failTask, raiseKnown, recordExit, recordVanished } from "./task-transitions.ts";

export interface TaskRunnerOptions {
  backend: TaskBackend;
  clock: Clock;
  logger: Logger;
  hooks: () => readonly TaskEngineHooks[];
  /** The task as subscribers see it (what hooks get). */
  snapshot: (w: Working) => Task;
  commit: (w: Working) => void;
  started: (w: Working, containerName: string, observed: ObservedContainer) => void;
  /** The engine is shutting down: record nothing more. */
  closed: () => boolean;
}

export class TaskRunner {
  readonly #o: TaskRunnerOptions;

  constructor(options: TaskRunnerOptions) {
    this.#o = options;
  }

  /**
   * Hooks first (credentials, endpoint network), then the backend's network/volumes/holder. A failure
   * stops the task TaskFailedToStart (ResourceInitializationError, CannotCreateVolumeError).
   */
  async provision(w: Working): Promise<void> {
    const { clock } = this.#o;
    let provisioned: ProvisionedTask;
    try {
      const networks: ExtraNetwork[] = [];
      const extraHosts: string[] = [];
      for (const h of this.#o.hooks()) {
        const more = await h.beforeProvision?.(this.#o.snapshot(w), w.state.taskDefinition);
        networks.push(...(more?.networks ?? []));
        extraHosts.push(...(more?.extraHosts ?? []));
      }
      provisioned = await this.#o.backend.provision(w.backendTask, { networks, extraHosts });
    } catch (err) {
      if (this.#o.closed()) return;
      const message = err instanceof VolumeError ? namedError("CannotCreateVolumeError", err.message) : messageOf(err);
      failTask(w, namedError("ResourceInitializationError", message), clock.now());
      return;
    }
    if (this.#o.closed()) return;
    if (provisioned.ipv4 !== undefined) w.state.ipv4 = provisioned.ipv4;
    w.state.provisioned = true;
    renderEni(w, "ATTACHED");
  }

  /** After every container stopped: the backend frees what the task held; the ENI is gone. */
  async deprovision(w: Working, runtimeIds: string[]): Promise<void> {
    try {
      await this.#o.backend.deprovision(w.backendTask, runtimeIds);
    } catch (err) {
      this.#o.logger.warn("task-deprovision-failed", { taskArn: w.task.taskArn, error: err });
    }
    if (this.#o.closed()) return;
    w.state.deprovisioned = true;
    renderEni(w, "DELETED");
  }

  async create(w: Working, name: string): Promise<void> {
    const { task, state } = w;
    const c = state.containers.find((x) => x.name === name);
    const def = (state.taskDefinition.containerDefinitions ?? []).find((d) => d.name === name);
    if (c === undefined || def === undefined) return;
    const { backend, clock } = this.#o;

    task.pullStartedAt ??= clock.now();
    this.#o.commit(w);
    let imageEnv: string[];
    try {
      const image = await backend.prepareImage(w.backendTask, def.image ?? "");
      c.imageDigest = image.digest;
      imageEnv = image.env;
    } catch (err) {
      if (this.#o.closed()) return;
      task.pullStoppedAt = clock.now();
      const message = err instanceof ImagePullError ? err.message : messageOf(err);
      failContainer(c, namedError("CannotPullContainerError", `pull image manifest has been retried 1 time(s): ${message}`), clock.now());
      this.#log(w, name, "container-failed", c.reason);
      return;
    }
    if (this.#o.closed()) return;
    task.pullStoppedAt = clock.now();
    raiseKnown(c, "PULLED");
    if (c.desiredStopped) return;

    const override = overrideFor(state.overrides, name);
    const extras: ContainerCreateExtras = {};
    try {
      for (const h of this.#o.hooks()) {
        const more = await h.beforeCreate?.({ task: this.#o.snapshot(w), taskDefinition: state.taskDefinition, containerName: name, definition: def, override });
        if (more !== undefined) mergeExtras(extras, more);
      }
    } catch (err) {
      if (this.#o.closed()) return;
      failContainer(c, namedError("ResourceInitializationError", messageOf(err)), clock.now());
      this.#log(w, name, "container-failed", c.reason);
      return;
    }
    if (this.#o.closed() || c.desiredStopped) return;

    let id: string;
    try {
      id = await backend.createContainer(w.backendTask, {
        name,
        runtimeName: c.runtimeName,
        definition: def,
        override,
        siblings: Object.fromEntries(state.containers.map((s) => [s.name, s.runtimeName])),
        env: extras.env,
        secretEnv: extras.secretEnv,
        envFileEnv: extras.envFileEnv,
        imageEnv,
        extraHosts: extras.extraHosts,
        labels: extras.labels,
        networks: extras.networks,
      });
    } catch (err) {
      if (this.#o.closed()) return;
      const message = err instanceof ContainerCreateError ? err.message : messageOf(err);
      failContainer(c, namedError("CannotCreateContainerError", message), clock.now());
      this.#log(w, name, "container-failed", c.reason);
      return;
    }
    if (this.#o.closed()) return;
    c.runtimeId = id;
    raiseKnown(c, "CREATED");
    this.#o.commit(w);
  }

  async start(w: Working, name: string): Promise<void> {
    const c = w.state.containers.find((x) => x.name === name);
    const id = c?.runtimeId;
    if (c === undefined || id === undefined) return;
    const { clock } = this.#o;
    let observed: ObservedContainer | undefined;
    try {
      observed = await this.#o.backend.startContainer(w.backendTask, id);
    } catch (err) {
      if (this.#o.closed()) return;
      if (err instanceof ContainerMissingError) recordVanished(w, c, clock.now());
      else failContainer(c, namedError("CannotStartContainerError", messageOf(err)), clock.now());
      return;
    }
    if (this.#o.closed()) return;
    if (observed === undefined) {
      // Started, but the runtime could not say more: it runs until an event says otherwise.
      raiseKnown(c, "RUNNING");
      return;
    }
    applyObserved(w, c, observed, clock.now());
    this.#o.commit(w);
    this.#o.started(w, name, observed);
  }

  async stop(w: Working, name: string, timeoutSec: number): Promise<void> {
    const c = w.state.containers.find((x) => x.name === name);
    if (c === undefined) return;
    const { clock } = this.#o;
    if (c.runtimeId === undefined) {
      c.known = "STOPPED";
      return;
    }
    const observed = await this.#o.backend.stopContainer(w.backendTask, c.runtimeId, timeoutSec);
    // An event may have recorded the exit while the stop was under way.
    if (this.#o.closed() || c.known === "STOPPED") return;
    if (observed === undefined) recordVanished(w, c, clock.now());
    else if (!observed.running) recordExit(w, c, observed.exitCode, observed.finishedAt ?? clock.now(), observed.oomKilled);
    // Still running after the stop: allow another attempt on the next step.
    else c.stopIssued = false;
  }

  #log(w: Working, container: string, event: string, reason: string | undefined): void {
    this.#o.logger.info(event, { taskArn: w.task.taskArn, container, reason });
  }
}

function mergeExtras(into: ContainerCreateExtras, more: ContainerCreateExtras): void {
  if (more.env !== undefined) into.env = { ...into.env, ...more.env };
  if (more.secretEnv !== undefined) into.secretEnv = { ...into.secretEnv, ...more.secretEnv };
  if (more.envFileEnv !== undefined) into.envFileEnv = { ...more.envFileEnv, ...into.envFileEnv };
  if (more.labels !== undefined) into.labels = { ...into.labels, ...more.labels };
  if (more.extraHosts !== undefined) into.extraHosts = [...(into.extraHosts ?? []), ...more.extraHosts];
  if (more.networks !== undefined) into.networks = [...(into.networks ?? []), ...more.networks];
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
