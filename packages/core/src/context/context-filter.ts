import { context as otelContext } from '@opentelemetry/api';
import type { Module } from '../stack/stack.ts';
import { currentContext } from './context.ts';

/**
 * Role `context`: attaches the context of the request being handled (deadline, cancellation, trace,
 * baggage, retry marker) to the call, so the modules below inherit it without user code.
 */
export function contextModule(): Module<object> {
  return {
    role: 'context',
    description: 'inherit deadline, trace and baggage from the request being handled',
    params: {},
    make(_params, next) {
      return (call) => {
        const parent = currentContext();
        call.parent = parent;
        call.otel = parent?.otel ?? otelContext.active();
        return next(call);
      };
    },
  };
}
