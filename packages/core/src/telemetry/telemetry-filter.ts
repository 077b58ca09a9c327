/**
 * Role `telemetry`: the logical call. One INTERNAL span per user call (the attempts are its CLIENT
 * children, as the OpenTelemetry HTTP conventions ask for retries) and one `weft.client.calls`
 * count with the final outcome — and, for a routed call, its route rule and subset
 * (`weft.route.rule`, `weft.route.subset`), so a canary's numbers stand beside the stable's.
 */
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Call } from '../stack/call.ts';
import { outcomeOf } from '../stack/env.ts';
import type { Module } from '../stack/stack.ts';

export function telemetryModule(): Module<object> {
  return {
    role: 'telemetry',
    description: 'logical span and call metrics (OpenTelemetry API; free without an SDK)',
    params: {},
    spec: {},
    make(_params, next, env) {
      const { instruments, destination, classify } = env;
      const okAttrs = { 'server.address': destination, outcome: 'success' };
      const failAttrs = { 'server.address': destination, outcome: 'failure' };
      const cancelAttrs = { 'server.address': destination, outcome: 'cancelled' };
      const observed = async (call: Call) => {
        const parent = call.otel;
        const span = instruments.tracingEnabled()
          ? instruments.tracer.startSpan(`weft ${destination}`, { kind: SpanKind.INTERNAL }, parent)
          : undefined;
        if (span && parent && span.isRecording()) call.otel = trace.setSpan(parent, span);
        try {
          const response = await next(call);
          const ok = outcomeOf(classify, call, response, undefined) === 'success';
          const routed = call.backend?.attributes ?? call.route?.attributes;
          instruments.calls.add(1, ok ? (routed?.success ?? okAttrs) : (routed?.failure ?? failAttrs));
          if (!ok) span?.setStatus({ code: SpanStatusCode.ERROR });
          return response;
        } catch (error) {
          const routed = call.backend?.attributes ?? call.route?.attributes;
          instruments.calls.add(
            1,
            outcomeOf(classify, call, undefined, error) === 'ignored'
              ? (routed?.cancelled ?? cancelAttrs)
              : (routed?.failure ?? failAttrs),
          );
          span?.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message });
          throw error;
        } finally {
          if (span) {
            span.setAttribute('weft.attempts', call.attempt);
            if (call.route) span.setAttribute('weft.route.rule', call.route.rule.label);
            if (call.backend) span.setAttribute('weft.route.subset', call.backend.subset);
            span.end();
          }
        }
      };
      // Not async when there is nothing to record: no promise of its own per call.
      return (call) =>
        instruments.metricsEnabled || instruments.tracingEnabled() ? observed(call) : next(call);
    },
  };
}
