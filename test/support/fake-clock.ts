import type { Clock, Timers } from "../../src/runtime/clock.ts";

/** A clock that only moves when the test says so, with the timers that fire as it moves. */
export class FakeClock implements Clock, Timers {
  #now: number;
  #timers: Array<{ at: number; fn: () => void; cancelled: boolean }> = [];

  constructor(start: Date | number = Date.parse("2026-01-01T00:00:00Z")) {
    this.#now = typeof start === "number" ? start : start.getTime();
  }

  now(): Date {
    return new Date(this.#now);
  }

  after(delayMs: number, fn: () => void): () => void {
    const timer = { at: this.#now + Math.max(0, delayMs), fn, cancelled: false };
    this.#timers.push(timer);
    return () => {
      timer.cancelled = true;
    };
  }

  /** Moves time forward, firing every timer that comes due, in time order. */
  advance(ms: number): void {
    const until = this.#now + ms;
    for (;;) {
      const due = this.#timers.filter((t) => !t.cancelled && t.at <= until).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      this.#now = Math.max(this.#now, due.at);
      due.cancelled = true;
      due.fn();
    }
    this.#now = until;
    this.#timers = this.#timers.filter((t) => !t.cancelled);
  }

  /** Timers still waiting. */
  pending(): number {
    return this.#timers.filter((t) => !t.cancelled).length;
  }
}
