// Injectable time: what "now" is and when timers fire. Production uses the system clock; tests use a
// ManualClock and move time forward themselves, so nothing waits out real timeouts, retention or
// back-off. Timers never keep the process alive.

/** Where code only reads the time. */
export interface TimeSource {
  now(): Date;
}

export interface Timer {
  cancel(): void;
}

export interface Clock extends TimeSource {
  /** Runs `fn` once `ms` have passed on this clock. */
  setTimeout(fn: () => void, ms: number): Timer;
  /** Runs `fn` every `ms` on this clock. */
  setInterval(fn: () => void, ms: number): Timer;
}

/** Longest delay Node's timers take (about 24.8 days); longer ones are re-armed. */
const MAX_DELAY = 2 ** 31 - 1;

export const systemClock: Clock = {
  now: () => new Date(),
  setTimeout(fn, ms) {
    let handle: NodeJS.Timeout;
    const due = Date.now() + ms;
    const arm = (delay: number): void => {
      handle = setTimeout(() => (Date.now() >= due ? fn() : arm(due - Date.now())), Math.min(Math.max(0, delay), MAX_DELAY));
      handle.unref();
    };
    arm(ms);
    return { cancel: () => clearTimeout(handle) };
  },
  setInterval(fn, ms) {
    const handle = setInterval(fn, Math.min(Math.max(1, ms), MAX_DELAY));
    handle.unref();
    return { cancel: () => clearInterval(handle) };
  },
};

interface Pending {
  due: number;
  seq: number;
  fn: () => void;
  every: number | undefined;
  cancelled: boolean;
}

/** A clock that moves only when told to; timers fire, in order, as `advance` passes them. */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  #pending: Pending[] = [];

  constructor(start: Date | number = Date.UTC(2026, 0, 1)) {
    this.#now = typeof start === "number" ? start : start.getTime();
  }

  now(): Date {
    return new Date(this.#now);
  }

  setTimeout(fn: () => void, ms: number): Timer {
    return this.#add(fn, ms, undefined);
  }

  setInterval(fn: () => void, ms: number): Timer {
    return this.#add(fn, ms, Math.max(1, ms));
  }

  /** Timers not yet fired (for tests that check nothing is left armed). */
  get pendingTimers(): number {
    return this.#pending.filter((p) => !p.cancelled).length;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way (each at its own time). */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      this.#pending = this.#pending.filter((p) => !p.cancelled);
      const next = this.#pending.reduce<Pending | undefined>((a, p) => (p.due <= target && (a === undefined || p.due < a.due || (p.due === a.due && p.seq < a.seq)) ? p : a), undefined);
      if (next === undefined) break;
      this.#now = Math.max(this.#now, next.due);
      if (next.every === undefined) next.cancelled = true;
      else next.due += next.every;
      next.fn();
    }
    this.#now = target;
  }

  /** Sets the time without firing timers (like a wall clock that jumped). */
  set(time: Date | number): void {
    this.#now = typeof time === "number" ? time : time.getTime();
  }

  #add(fn: () => void, ms: number, every: number | undefined): Timer {
    const p: Pending = { due: this.#now + Math.max(0, ms), seq: this.#seq++, fn, every, cancelled: false };
    this.#pending.push(p);
    return { cancel: () => void (p.cancelled = true) };
  }
}
