/**
 * The drain state machine of one server, protocol-free:
 *
 *   serving ──drain()──▶ draining ──in flight reaches 0 (and delayMs passed), or timeout──▶ closed
 *
 * While serving, `enter()` admits requests; once draining it refuses them (the server answers with
 * a retryable rejection, so a Weft client sends them to another endpoint) and readiness turns false.
 * `drain()` resolves when every request in flight has left, or when `timeoutMs` passes first (the
 * server then closes the stragglers' connections). The protocol binding stops its listener after.
 */
import { invalidOption } from '../errors/errors.ts';
import { type Clock, systemClock } from '../time/clock.ts';

export type ServingState = 'serving' | 'draining' | 'closed';

export interface DrainOptions {
  /** Longest wait for in-flight requests once draining, in ms. Defaults to 30000. */
  timeoutMs?: number;
  /**
   * Least time spent draining before closing, in ms: the instance keeps answering (readiness false,
   * requests refused with a retryable rejection) so discovery and load balancers take it out before
   * its port stops answering (the idea of a Kubernetes preStop delay). Defaults to 0.
   */
  delayMs?: number;
  /** Injected time (tests). Defaults to the process clock. */
  clock?: Clock;
}

export const DRAIN_DEFAULTS = { timeoutMs: 30_000, delayMs: 0 } as const;

export interface DrainResult {
  /** Requests in flight when draining began. */
  inflightAtStart: number;
  /** Requests still in flight when the wait ended (0 unless the timeout cut it short). */
  abandoned: number;
  /** How long the wait took, in ms. */
  durationMs: number;
}

export interface DrainState {
  readonly state: ServingState;
  /** True while serving: what a readiness probe reports. */
  readonly ready: boolean;
  readonly inflight: number;
  /** Counts a request in; false when draining or closed (the caller rejects it, and must not `leave()`). */
  enter(): boolean;
  /** Counts a request entered with `enter()` out. */
  leave(): void;
  /** Starts draining (once; later calls return the same promise). */
  drain(): Promise<DrainResult>;
  /** Calls `listener` on every state change. Returns the unsubscribe function. */
  onChange(listener: (state: ServingState) => void): () => void;
}

export function drainState(options: DrainOptions = {}): DrainState {
  const timeoutMs = options.timeoutMs ?? DRAIN_DEFAULTS.timeoutMs;
  if (!(timeoutMs >= 0 && timeoutMs <= 86_400_000))
    throw invalidOption('drain.timeoutMs', 'must be within 0–86400000');
  const delayMs = options.delayMs ?? DRAIN_DEFAULTS.delayMs;
  if (!(delayMs >= 0 && delayMs <= timeoutMs))
    throw invalidOption('drain.delayMs', 'must be within 0 and drain.timeoutMs');
  const clock = options.clock ?? systemClock;
  const listeners = new Set<(state: ServingState) => void>();
  let state: ServingState = 'serving';
  let inflight = 0;
  let draining: Promise<DrainResult> | undefined;
  let finish: (() => void) | undefined;
  let delayed = false;

  const set = (next: ServingState) => {
    state = next;
    for (const l of listeners) l(next);
  };

  return {
    get state() {
      return state;
    },
    get ready() {
      return state === 'serving';
    },
    get inflight() {
      return inflight;
    },
    enter() {
      if (state !== 'serving') return false;
      inflight++;
      return true;
    },
    leave() {
      if (inflight > 0) inflight--;
      if (inflight === 0 && delayed) finish?.();
    },
    drain() {
      if (draining) return draining;
      const start = clock.now();
      const inflightAtStart = inflight;
      set('draining');
      draining = new Promise<DrainResult>((resolve) => {
        let timer: unknown;
        let delayTimer: unknown;
        finish = () => {
          finish = undefined;
          if (timer !== undefined) clock.clearTimeout(timer);
          if (delayTimer !== undefined) clock.clearTimeout(delayTimer);
          const result = { inflightAtStart, abandoned: inflight, durationMs: clock.now() - start };
          set('closed');
          resolve(result);
        };
        const afterDelay = () => {
          delayed = true;
          delayTimer = undefined;
          if (inflight === 0) finish?.();
        };
        timer = clock.setTimeout(() => finish?.(), timeoutMs);
        if (delayMs > 0) delayTimer = clock.setTimeout(afterDelay, delayMs);
        else afterDelay();
      });
      return draining;
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
