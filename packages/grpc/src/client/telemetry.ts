/**
 * Role `telemetry` for gRPC: the logical call as one INTERNAL span and one `weft.client.calls`
 * count, like core's module, except that the span ends when the call ends — for streams, at the
 * final status, not at the first message — so a span covers the whole stream.
 */
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Module } from '@weft/core';
import type { GrpcCall } from './call.ts';
import type { GrpcExchange } from './exchange.ts';

export function streamTelemetryModule(): Module<object, GrpcCall, GrpcExchange> {
  return {
    role: 'telemetry',
    description: 'logical span over the whole call or stream, and call metrics',
    params: {},
    make(_params, next, env) {
      const { instruments, destination, classify } = env;
      const okAttrs = { 'server.address': destination, outcome: 'success' };
      const failAttrs = { 'server.address': destination, outcome: 'failure' };
      return async (call) => {
        const parent = call.otel;
        const span = instruments.tracingEnabled()
          ? instruments.tracer.startSpan(
              `weft ${destination}`,
              { kind: SpanKind.INTERNAL, attributes: { 'rpc.system': 'grpc', 'rpc.method': call.path } },
              parent,
            )
          : undefined;
        if (span && parent && span.isRecording()) call.otel = trace.setSpan(parent, span);
        let response: GrpcExchange;
        try {
          response = await next(call);
        } catch (error) {
          instruments.calls.add(1, failAttrs);
          if (span) {
            span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message });
            span.setAttribute('weft.attempts', call.attempt);
            span.end();
          }
          throw error;
        }
        response.onDone(() => {
          const ok = classify(call, response, undefined) === 'success' && (response.status?.code ?? 0) === 0;
          instruments.calls.add(1, ok ? okAttrs : failAttrs);
          if (!span) return;
          if (response.status) span.setAttribute('rpc.grpc.status_code', response.status.code);
          if (!ok) span.setStatus({ code: SpanStatusCode.ERROR, message: response.status?.details });
          span.setAttribute('weft.attempts', call.attempt);
          span.end();
        });
        return response;
      };
    },
  };
}
