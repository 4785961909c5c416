// Per-task credentials ids, as the ECS backend hands them to the agent: an unguessable UUID per (task, role
// kind). Isolation rests only on the id being secret (the real agent authenticates nothing else), so ids
// are random UUIDs, only ever injected into the owning task, and die with the task.
import { randomUUID } from "node:crypto";

export type CredentialsKind = "task" | "execution";

export interface CredentialsBinding {
  readonly id: string;
  readonly taskArn: string;
  readonly roleArn: string;
  readonly kind: CredentialsKind;
}

export interface TaskCredentialsIds {
  /** Put into the task's containers as AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/credentials/<id>. */
  taskCredentialsId?: string;
  /** Never injected into containers; the agent side uses it for secrets, logs and pulls. */
  executionCredentialsId?: string;
}

export interface CredentialsRegistryOptions {
  /** Called for every new binding, e.g. to start AssumeRole early (RoleCredentialsProvider.prefetch). */
  onRegister?: (binding: CredentialsBinding) => void;
  /** Called when a task's ids are removed, e.g. RoleCredentialsProvider.forgetTask. */
  onUnregisterTask?: (taskArn: string) => void;
  newId?: () => string;
}

export class CredentialsRegistry {
  readonly #byId = new Map<string, CredentialsBinding>();
  readonly #byTask = new Map<string, Set<string>>();
  readonly #onRegister: ((binding: CredentialsBinding) => void) | undefined;
  readonly #onUnregisterTask: ((taskArn: string) => void) | undefined;
  readonly #newId: () => string;

  constructor(options: CredentialsRegistryOptions = {}) {
    this.#onRegister = options.onRegister;
    this.#onUnregisterTask = options.onUnregisterTask;
    this.#newId = options.newId ?? randomUUID;
  }

  register(taskArn: string, roleArn: string, kind: CredentialsKind): string {
    for (const id of this.#byTask.get(taskArn) ?? []) {
      const existing = this.#byId.get(id);
      if (existing !== undefined && existing.kind === kind && existing.roleArn === roleArn) return id;
    }
    const binding: CredentialsBinding = { id: this.#newId(), taskArn, roleArn, kind };
    this.#byId.set(binding.id, binding);
    let ids = this.#byTask.get(taskArn);
    if (ids === undefined) {
      ids = new Set();
      this.#byTask.set(taskArn, ids);
    }
    ids.add(binding.id);
    this.#onRegister?.(binding);
    return binding.id;
  }

  /** Registers the task role and the execution role (either may be absent) in one call. */
  registerTask(task: { taskArn: string; taskRoleArn?: string | undefined; executionRoleArn?: string | undefined }): TaskCredentialsIds {
    const ids: TaskCredentialsIds = {};
    if (task.taskRoleArn) ids.taskCredentialsId = this.register(task.taskArn, task.taskRoleArn, "task");
    if (task.executionRoleArn) ids.executionCredentialsId = this.register(task.taskArn, task.executionRoleArn, "execution");
    return ids;
  }

  /**
   * Re-binds an id handed out before a restart (re-adopted containers still carry it in their env).
   * Idempotent; an id already bound to another task or role is left alone and reported as false.
   */
  restore(binding: CredentialsBinding): boolean {
    const existing = this.#byId.get(binding.id);
    if (existing !== undefined) {
      return existing.taskArn === binding.taskArn && existing.roleArn === binding.roleArn && existing.kind === binding.kind;
    }
    const restored: CredentialsBinding = { id: binding.id, taskArn: binding.taskArn, roleArn: binding.roleArn, kind: binding.kind };
    this.#byId.set(restored.id, restored);
    let ids = this.#byTask.get(restored.taskArn);
    if (ids === undefined) {
      ids = new Set();
      this.#byTask.set(restored.taskArn, ids);
    }
    ids.add(restored.id);
    this.#onRegister?.(restored);
    return true;
  }

  lookup(id: string): CredentialsBinding | undefined {
    return this.#byId.get(id);
  }

  idsForTask(taskArn: string): CredentialsBinding[] {
    return [...(this.#byTask.get(taskArn) ?? [])].flatMap((id) => this.#byId.get(id) ?? []);
  }

  /** Call when the task stops: its ids stop resolving at once (→ 400 InvalidIdInRequest). */
  unregisterTask(taskArn: string): void {
    const ids = this.#byTask.get(taskArn);
    if (ids === undefined) return;
    for (const id of ids) this.#byId.delete(id);
    this.#byTask.delete(taskArn);
    this.#onUnregisterTask?.(taskArn);
  }
}
