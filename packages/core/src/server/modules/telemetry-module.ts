import { propagation, ROOT_CONTEXT, SpanKind, type TextMapGetter, trace } from '@opentelemetry/api';
import type { ServerBinding, ServerModule, ServerService } from '../binding.ts';
import type { ServerCall, ServerFinisher } from '../call.ts';
import type { ServerInstruments } from '../instruments.ts';
import { endServerSpan } from '../telemetry.ts';

/** Reads propagation fields (`traceparent`, `baggage`, …) from any protocol's call. */
const callGetter: TextMapGetter<ServerCall> = {
  keys: (call) => call.headerNames(),
  get: (call, key) => call.header(key),
};

class TelemetryLayer implements ServerFinisher {
  readonly service: ServerService;
  readonly #instruments: ServerInstruments;
  readonly #binding: ServerBinding;

  constructor(next: ServerService, instruments: ServerInstruments, binding: ServerBinding) {
    this.#instruments = instruments;
    this.#binding = binding;
    const tracer = instruments.tracer;
    this.service = (call) => {
      const parent = propagation.extract(ROOT_CONTEXT, call, callGetter);
      const span = tracer.startSpan(
        binding.spanName(call),
        { kind: SpanKind.SERVER, attributes: binding.spanAttributes(call) },
        parent,
      );
      call.span = span;
      // The caller's verified identity, only on spans that are kept (reading it costs a little on gRPC).
      if (span.isRecording()) {
        const peer = call.peer;
        if (peer !== undefined) {
          span.setAttribute('weft.peer.service', peer.service);
          span.setAttribute('weft.peer.spiffe_id', peer.spiffeId);
        }
      }
      call.otel = trace.setSpan(parent, span);
      instruments.inflight.add(1);
      call.defer(this);
      next(call);
    };
  }

  finish(call: ServerCall): void {
    const instruments = this.#instruments;
    instruments.inflight.add(-1);
    const attributes = this.#binding.endAttributes(call);
    // Who called, on the duration metric too (one value per calling service: bounded), as a mesh's
    // per-source metrics are; only a verified certificate names it.
    const peer = call.peer;
    if (peer !== undefined) attributes['weft.peer.service'] = peer.service;
    const span = call.span;
    if (span !== undefined)
      endServerSpan(
        span,
        attributes,
        attributes['error.type'] !== undefined,
        this.#binding.endSpanName(call),
      );
    instruments.duration.record(call.elapsedMs / 1000, attributes);
  }
}

/**
 * Role `telemetry`: the SERVER span (with `weft.peer.service` and `weft.peer.spiffe_id` when the
 * caller has a verified certificate), its parent extracted from the call's headers or metadata by the
 * registered OpenTelemetry propagator; the duration histogram (with `weft.peer.service`, likewise)
 * and `weft.server.inflight`. The
 * names and attributes are the binding's (semantic conventions of HTTP or RPC). Above `context`,
 * so the handler runs with the span active.
 */
export function serverTelemetryModule(): ServerModule {
  return {
    role: 'telemetry',
    sets: ['span'],
    description: 'server span (parent from traceparent), duration and in-flight metrics',
    params: {},
    spec: {},
    make: (_params, next, env) => new TelemetryLayer(next, env.instruments, env.binding).service,
  };
}
