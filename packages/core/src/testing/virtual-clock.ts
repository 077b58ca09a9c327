import type { Clock, TimerHandle } from '../time/clock.ts';

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
}

/**
 * A clock that only moves when told. Timers fire in order of due time (then creation order) as
 * {@link VirtualClock.advance} passes them, so timing logic is tested without waiting.
 */
export class VirtualClock implements Clock {
  #now: number;
  #seq = 0;
  readonly #timers = new Set<Timer>();

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number, _background?: boolean): TimerHandle {
    const timer: Timer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn };
    this.#timers.add(timer);
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle as Timer);
  }

  /** Number of timers waiting to fire. */
  get pending(): number {
    return this.#timers.size;
  }

  /** Due time of the earliest waiting timer, or undefined when none waits. */
  get nextDue(): number | undefined {
    let at: number | undefined;
    for (const t of this.#timers) if (at === undefined || t.at < at) at = t.at;
    return at;
  }

  /**
   * Moves time forward, timer by timer, until `promise` settles, and returns its value or throws its
   * error. Throws instead of waiting forever when the promise is still pending and no timer is left
   * to fire, or when `limitMs` of virtual time have passed.
   *
   * @param limitMs - The most virtual time to spend. Defaults to one hour.
   */
  async run<T>(promise: Promise<T>, limitMs = 3_600_000): Promise<T> {
    let settled = false;
    const observed = promise.then(
      (value) => {
        settled = true;
        return value;
      },
      (error: unknown) => {
        settled = true;
        throw error;
      },
    );
    observed.catch(() => {});
    const end = this.#now + limitMs;
    for (;;) {
      await flushMicrotasks();
      if (settled) return observed;
      const due = this.nextDue;
      if (due === undefined)
        throw new Error('VirtualClock.run: the promise is still pending and no timer is left to fire');
      if (due > end) throw new Error(`VirtualClock.run: still pending after ${limitMs} ms of virtual time`);
      await this.advance(Math.max(0, due - this.#now));
    }
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due on the way, and lets promise
   * callbacks run between timers so that async code scheduled by a timer sees the right time.
   */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    for (;;) {
      await flushMicrotasks();
      let next: Timer | undefined;
      for (const t of this.#timers) {
        if (t.at <= end && (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t;
      }
      if (!next) break;
      this.#timers.delete(next);
      this.#now = Math.max(this.#now, next.at);
      next.fn();
    }
    this.#now = end;
    await flushMicrotasks();
  }
}

/** Lets pending promise callbacks (and a macrotask turn) run. */
export async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}
