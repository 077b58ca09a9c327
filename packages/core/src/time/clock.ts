/**
 * Time and randomness are injected everywhere so that tests run on virtual time and simulations are
 * deterministic. {@link systemClock} is the default.
 */

/** An opaque timer handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = unknown;

export interface Clock {
  /** Milliseconds on a monotonic scale (not wall-clock time). */
  now(): number;
  /**
   * Calls `fn` after `ms`. A timer that something awaits (a backoff, a deadline, a start timeout)
   * keeps the process alive until it fires, as Node's own timers do; `background` timers (heartbeats,
   * decay, reapers, refreshes) never hold the process open.
   */
  setTimeout(fn: () => void, ms: number, background?: boolean): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** A source of uniform random numbers in [0, 1). */
export type Random = () => number;

/**
 * The process clock: `performance.now()` and Node's timers. Awaited timers are ref'd (a pending call
 * keeps the process alive, so a script's top-level `await` settles instead of exiting with code 13);
 * background timers are unref'd.
 */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout(fn, ms, background) {
    const t = setTimeout(fn, ms);
    if (background === true) t.unref();
    return t;
  },
  clearTimeout(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};

/**
 * Resolves after `ms` on `clock`, or rejects with the signal's reason when `signal` aborts first.
 * A `background` sleep (a reconnect or heartbeat loop) does not keep the process alive.
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal, background?: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clock.clearTimeout(handle);
      reject(signal?.reason);
    };
    const handle = clock.setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      ms,
      background,
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
