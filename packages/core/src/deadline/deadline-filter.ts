/**
 * Role `deadline`: the call's total time, retries included. The effective deadline is the earliest
 * of the call's own timeout and the inherited deadline; when it passes, the call and everything
 * below it is aborted through one AbortSignal. A call whose deadline has already passed is never
 * sent. The timer runs until the response body is done, not just until its head.
 */
import { ErrorCode, WeftError } from '../errors/errors.ts';
import type { Call } from '../stack/call.ts';
import type { Module } from '../stack/stack.ts';
import { DEADLINE_DEFAULTS, DEADLINE_PARAMS, type DeadlineParams } from './deadline-params.ts';

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
      /** The guarded path: one AbortController for the call, a timer for its deadline. */
      const guarded = async (
        call: Call,
        now: number,
        deadline: number,
        callerSignal: AbortSignal | undefined,
        parentSignal: AbortSignal | undefined,
      ) => {
        const controller = new AbortController();
        const onCancel = (event: Event) =>
          controller.abort(cancelled(call, (event.target as AbortSignal).reason));
        callerSignal?.addEventListener('abort', onCancel);
        parentSignal?.addEventListener('abort', onCancel);
        const timer =
          deadline === Number.POSITIVE_INFINITY
            ? undefined
            : clock.setTimeout(() => controller.abort(deadlineExceeded(call)), deadline - now);
        const cleanup = () => {
          if (timer !== undefined) clock.clearTimeout(timer);
          callerSignal?.removeEventListener('abort', onCancel);
          parentSignal?.removeEventListener('abort', onCancel);
        };
        call.signal = controller.signal;
        try {
          const response = await next(call);
          binding.onBodyDone(response, cleanup);
          return response;
        } catch (error) {
          cleanup();
          throw controller.signal.aborted && !(error instanceof WeftError) ? controller.signal.reason : error;
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
        return guarded(call, now, deadline, callerSignal, parentSignal);
      };
    },
  };
}

function cancelled(call: Call, reason: unknown): WeftError {
  if (reason instanceof WeftError) return reason;
  return new WeftError(ErrorCode.Cancelled, `call to ${call.destination} was cancelled`, { cause: reason });
}
