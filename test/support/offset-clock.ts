// Real time plus an offset a test can move forward: timers fire when real time reaches them *or* when the
// test advances past them. For engine tests on real Docker, whose containers report real timestamps, so a
// frozen clock would not do; `advance` still spares the test real seconds of waiting.
import type { Clock, Timer } from "../../src/runtime/clock.ts";

interface Pending {
  due: number;
  fn: () => void;
  real: NodeJS.Timeout;
  done: boolean;
}

export class OffsetClock implements Clock {
  #offset = 0;
  #pending = new Set<Pending>();

  now(): Date {
    return new Date(Date.now() + this.#offset);
  }

  setTimeout(fn: () => void, ms: number): Timer {
    const p: Pending = { due: this.now().getTime() + ms, fn, real: undefined as unknown as NodeJS.Timeout, done: false };
    p.real = setTimeout(() => this.#fire(p), Math.max(0, ms));
    p.real.unref();
    this.#pending.add(p);
    return { cancel: () => this.#cancel(p) };
  }

  setInterval(fn: () => void, ms: number): Timer {
    let timer: Timer;
    const again = (): void => {
      timer = this.setTimeout(() => {
        again();
        fn();
      }, ms);
    };
    again();
    return { cancel: () => timer.cancel() };
  }

  /** Moves time forward, firing every timer that is due by then. */
  advance(ms: number): void {
    this.#offset += ms;
    const now = this.now().getTime();
    for (const p of [...this.#pending].sort((a, b) => a.due - b.due)) if (p.due <= now) this.#fire(p);
  }

  #fire(p: Pending): void {
    if (p.done) return;
    this.#cancel(p);
    p.fn();
  }

  #cancel(p: Pending): void {
    p.done = true;
    clearTimeout(p.real);
    this.#pending.delete(p);
  }
}
