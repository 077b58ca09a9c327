import { context as otelContext } from '@opentelemetry/api';
import { ErrorCode, isWeftError } from '../errors/errors.ts';
import type { Call } from '../stack/call.ts';
import type { Module } from '../stack/stack.ts';
import { currentContext, type WeftContext } from './context.ts';

/** Final errors that mean the failure lies beyond the destination, which already gave up on it. */
const EXHAUSTED_CODES = new Set<string>([
  ErrorCode.BudgetExhausted,
  ErrorCode.UpstreamExhausted,
  ErrorCode.CircuitOpen,
]);

/**
 * Role `context`: attaches the context of the request being handled (deadline, cancellation, trace,
 * baggage, retry marker) to the call, so the modules below inherit it without user code.
 *
 * On the way back it sets the retry marker on that context when the call's final failure means
 * retrying is pointless further up: the destination answered that it had already retried
 * (`weft-no-retry`), the retry budget was spent, or the breaker is open. The server handling the
 * request then marks its own failure response, so the marker travels hop by hop to the edge and
 * no caller along the chain multiplies attempts.
 */
export function contextModule(): Module<object> {
  return {
    role: 'context',
    description: 'inherit deadline, trace and baggage from the request being handled',
    params: {},
    spec: {},
    sets: ['parent', 'otel'],
    make(_params, next, env) {
      const { binding } = env;
      const marking = async (call: Call, parent: WeftContext) => {
        try {
          const response = await next(call);
          if (binding.upstreamExhausted?.(response)) parent.downstreamExhausted = true;
          return response;
        } catch (error) {
          if (isWeftError(error) && EXHAUSTED_CODES.has(error.code)) parent.downstreamExhausted = true;
          throw error;
        }
      };
      return (call) => {
        const parent = currentContext();
        call.parent = parent;
        call.otel = parent?.otel ?? otelContext.active();
        return parent === undefined ? next(call) : marking(call, parent);
      };
    },
  };
}
