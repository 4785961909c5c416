// Task scale-in protection state, shared by the agent endpoint (ECS_AGENT_URI/task-protection/v1/state) and
// the GetTaskProtection/UpdateTaskProtection API operations, so both views always agree.
import { systemClock, type Clock } from "../clock.ts";

export interface TaskProtection {
  taskArn: string;
  protectionEnabled: boolean;
  /** Set only while protection is enabled. */
  expirationDate: Date | undefined;
}

export interface TaskProtectionStore {
  get(taskArn: string): TaskProtection;
  /** `expiresInMinutes` defaults to 120 (the ECS default) and must be 1..2880 when enabling. */
  update(taskArn: string, protectionEnabled: boolean, expiresInMinutes?: number): TaskProtection;
  delete(taskArn: string): void;
}

export const DEFAULT_PROTECTION_MINUTES = 120;
export const MAX_PROTECTION_MINUTES = 2880;

export class TaskProtectionRangeError extends Error {
  override name = "TaskProtectionRangeError";
}

export class MemoryTaskProtectionStore implements TaskProtectionStore {
  readonly #clock: Clock;
  readonly #byTask = new Map<string, Date>();

  constructor(clock: Clock = systemClock) {
    this.#clock = clock;
  }

  get(taskArn: string): TaskProtection {
    const expiration = this.#byTask.get(taskArn);
    if (expiration === undefined || expiration.getTime() <= this.#clock.now().getTime()) {
      // Expired protection is simply off, as ECS reports it.
      this.#byTask.delete(taskArn);
      return { taskArn, protectionEnabled: false, expirationDate: undefined };
    }
    return { taskArn, protectionEnabled: true, expirationDate: expiration };
  }

  update(taskArn: string, protectionEnabled: boolean, expiresInMinutes?: number): TaskProtection {
    if (!protectionEnabled) {
      this.#byTask.delete(taskArn);
      return { taskArn, protectionEnabled: false, expirationDate: undefined };
    }
    const minutes = expiresInMinutes ?? DEFAULT_PROTECTION_MINUTES;
    if (!Number.isInteger(minutes) || minutes < 1 || minutes > MAX_PROTECTION_MINUTES) {
      throw new TaskProtectionRangeError(`expiresInMinutes must be between 1 and ${MAX_PROTECTION_MINUTES}; got ${minutes}`);
    }
    const expiration = new Date(this.#clock.now().getTime() + minutes * 60_000);
    this.#byTask.set(taskArn, expiration);
    return { taskArn, protectionEnabled: true, expirationDate: expiration };
  }

  delete(taskArn: string): void {
    this.#byTask.delete(taskArn);
  }
}
