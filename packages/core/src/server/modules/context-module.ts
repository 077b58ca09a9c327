import { Header } from '../../context/wire.ts';
import type { Clock } from '../../time/clock.ts';
import type { ServerModule, ServerService } from '../binding.ts';
import type { ServerCall, ServerFinisher } from '../call.ts';
import { type InboundField, readInbound, ServerContext } from '../inbound.ts';
import { runInServerContext } from '../telemetry.ts';

class ContextLayer implements ServerFinisher {
  readonly service: ServerService;

  constructor(
    next: ServerService,
    clock: Clock,
    onMalformed: (field: InboundField) => void,
    routeOverrides: boolean,
  ) {
    this.service = (call) => {
      const inbound = readInbound(
        {
          traceparent: call.header(Header.traceparent),
          tracestate: call.header(Header.tracestate),
          baggage: call.header(Header.baggage),
          route: routeOverrides ? call.header(Header.route) : undefined,
        },
        onMalformed,
      );
      const ctx = new ServerContext(
        {
          deadline: call.deadline,
          traceparent: inbound.traceparent,
          tracestate: inbound.tracestate,
          baggage: inbound.baggage,
          route: inbound.route,
          otel: call.otel,
          peerSource: call,
        },
        clock,
      );
      call.ctx = ctx;
      call.defer(this);
      runInServerContext(ctx, next, call);
    };
  }

  finish(call: ServerCall): void {
    const ctx = call.ctx!;
    if (call.outcome === 'cancelled') ctx.cancel();
    ctx.end();
  }
}

/**
 * Role `context`: builds the {@link ServerContext} (the deadline `deadline` set, the inbound trace
 * and baggage, the span `telemetry` started) and runs the rest of the stack, the handler included,
 * inside it: AsyncLocalStorage for Weft (`currentContext()`, inherited by every outbound Weft call)
 * and OpenTelemetry's active context. When the client goes away, the context's signal aborts. The
 * handler needs it: a server stack without `context` is refused.
 */
export function serverContextModule(): ServerModule {
  return {
    role: 'context',
    sets: ['context'],
    description: 'build the request context; run the handler inside it (AsyncLocalStorage)',
    params: {},
    spec: {},
    make: (_params, next, env) =>
      new ContextLayer(next, env.clock, env.onMalformed, env.routeOverrides !== false).service,
  };
}
