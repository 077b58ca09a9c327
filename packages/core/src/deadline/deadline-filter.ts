/**
 * Role `deadline`: the call's total time, retries included. The effective deadline is the earliest
 * of the call's own timeout and the inherited deadline; when it passes, the call and everything
 * below it is aborted through one AbortSignal. A call whose deadline has already passed is never
 * sent. The timer runs until the response body is done, not just until its head.
 */
import { ErrorCode, WeftError } from '../errors/errors.ts';
import type { Call } from '../stack/call.ts';
import type { Module } from '../stack/stack.ts';
import type { Clock, TimerHandle } from '../time/clock.ts';
import { DEADLINE_DEFAULTS, DEADLINE_PARAMS, type DeadlineParams } from './deadline-params.ts';
import { DeadlineQueue, type Expiring } from './deadline-queue.ts';

export type { DeadlineParams } from './deadline-params.ts';
export { DEADLINE_DEFAULTS } from './deadline-params.ts';

export function deadlineExceeded(call: Call): WeftError {
  return new WeftError(
    ErrorCode.DeadlineExceeded,
    `deadline exceeded calling ${call.destination} ${call.method} ${call.path}`,
  );
}

export function deadlineModule(params: Partial<DeadlineParams> = {}): Module<DeadlineParams> {
  return {
    role: 'deadline',
    description: 'total timeout: min(own, inherited); aborts everything below',
    params: { ...DEADLINE_DEFAULTS, ...params },
    spec: DEADLINE_PARAMS,
    sets: ['deadline', 'signal'],
    make(params, next, env) {
      const { clock, binding } = env;
      // Calls under this module's own timeout expire in the order they start: one timer for all.
      const queue = new DeadlineQueue(clock);
      const ownTimeoutMs = params.timeoutMs;

      /** The guarded path: one AbortController and one guard object per call, no closure. */
      const guarded = async (call: Call, guard: DeadlineGuard) => {
        call.signal = guard.controller.signal;
        try {
          const response = await next(call);
          binding.onBodyDone(response, guard.release);
          return response;
        } catch (error) {
          guard.release();
          const signal = guard.controller.signal;
          throw signal.aborted && !(error instanceof WeftError) ? signal.reason : error;
        }
      };

      // Not async: a call with no deadline passes straight through, with no promise of its own (every
      // async layer's promise lives as long as the request and costs GC work). A caller's own signal
      // goes down as it is: whatever waits on it reports its abort through `abortError`, as
      // WEFT_CANCELLED, so no endpoint or breaker counts a cancellation as a failure.
      return (call) => {
        const now = clock.now();
        const timeoutMs = call.timeoutMs > 0 ? call.timeoutMs : call.longLived ? 0 : params.timeoutMs;
        const own = timeoutMs > 0 ? now + timeoutMs : Number.POSITIVE_INFINITY;
        const inherited = call.parent?.deadline ?? Number.POSITIVE_INFINITY;
        const deadline = Math.min(own, inherited);
        call.deadline = deadline;
        const callerSignal = call.signal;
        const parentSignal = call.parent?.signal;
        if (deadline === Number.POSITIVE_INFINITY && !parentSignal) {
          return callerSignal?.aborted ? Promise.reject(cancelled(call, callerSignal.reason)) : next(call);
        }
        if (deadline <= now) return Promise.reject(deadlineExceeded(call));
        if (callerSignal?.aborted || parentSignal?.aborted)
          return Promise.reject(cancelled(call, callerSignal?.reason ?? parentSignal?.reason));
        const guard = new DeadlineGuard(call, deadline, clock, callerSignal, parentSignal);
        if (deadline !== Number.POSITIVE_INFINITY) {
          if (deadline === own && timeoutMs === ownTimeoutMs) queue.add(guard);
          // A per-call or inherited deadline: its own timer (the rarer path).
          else
            guard.timer = clock.setTimeout(() => {
              guard.timer = undefined;
              guard.expire();
            }, deadline - now);
        }
        return guarded(call, guard);
      };
    },
  };
}

/**
 * One guarded call: the controller its signal comes from, what it follows (the caller's and the
 * parent request's signals, as an event-listener object: no closure), and its place in the queue
 * or its own timer.
 */
class DeadlineGuard implements Expiring {
  readonly controller = new AbortController();
  readonly #call: Call;
  readonly #clock: Clock;
  readonly #callerSignal: AbortSignal | undefined;
  readonly #parentSignal: AbortSignal | undefined;
  deadline: number;
  prev: Expiring | undefined = undefined;
  next: Expiring | undefined = undefined;
  queue: DeadlineQueue | undefined = undefined;
  timer: TimerHandle | undefined = undefined;
  /** Ends the guard (the response body is done, or the call failed): shared by both paths. */
  readonly release = (): void => {
    this.queue?.remove(this);
    if (this.timer !== undefined) {
      this.#clock.clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.#callerSignal?.removeEventListener('abort', this);
    this.#parentSignal?.removeEventListener('abort', this);
  };

  constructor(
    call: Call,
    deadline: number,
    clock: Clock,
    callerSignal: AbortSignal | undefined,
    parentSignal: AbortSignal | undefined,
  ) {
    this.#call = call;
    this.deadline = deadline;
    this.#clock = clock;
    this.#callerSignal = callerSignal;
    this.#parentSignal = parentSignal;
    callerSignal?.addEventListener('abort', this);
    parentSignal?.addEventListener('abort', this);
  }

  /** The caller's or the parent's signal aborted. */
  handleEvent(event: Event): void {
    this.controller.abort(cancelled(this.#call, (event.target as AbortSignal).reason));
  }

  expire(): void {
    this.controller.abort(deadlineExceeded(this.#call));
  }
}

function cancelled(call: Call, reason: unknown): WeftError {
  if (reason instanceof WeftError) return reason;
  return new WeftError(ErrorCode.Cancelled, `call to ${call.destination} was cancelled`, { cause: reason });
}
