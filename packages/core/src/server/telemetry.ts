/**
 * The server span and the context a handler runs in, protocol-free: the HTTP middleware passes its
 * headers, the gRPC interceptor its metadata (with a getter). Through `@opentelemetry/api` only;
 * without an SDK the span is a no-op and the raw `traceparent` in the {@link ServerContext} is what
 * outbound calls forward.
 */
import {
  type Attributes,
  defaultTextMapGetter,
  type Context as OtelContext,
  context as otelContext,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  trace,
} from '@opentelemetry/api';
import { runWithContext } from '../context/context.ts';
import type { ServerContext } from './inbound.ts';
import type { ServerInstruments } from './instruments.ts';

export interface ServerSpan {
  readonly span: Span;
  /** The OpenTelemetry context holding the span: the `otel` of the {@link ServerContext}. */
  readonly otel: OtelContext;
}

/** Starts the SERVER span of one request, its parent extracted from the carrier by the global propagator. */
export function startServerSpan<C>(
  instruments: ServerInstruments,
  name: string,
  attributes: Attributes,
  carrier: C,
  getter: TextMapGetter<C> = defaultTextMapGetter as TextMapGetter<C>,
): ServerSpan {
  const parent = propagation.extract(ROOT_CONTEXT, carrier, getter);
  const span = instruments.tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, parent);
  return { span, otel: trace.setSpan(parent, span) };
}

/** Ends a server span with its final attributes; `failed` marks it as an error. */
export function endServerSpan(span: Span, attributes: Attributes, failed: boolean, name?: string): void {
  if (name !== undefined) span.updateName(name);
  span.setAttributes(attributes);
  if (failed) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
}

/**
 * Runs `fn(arg)` inside the request's context: Weft's (deadline, trace, retry marker, for outbound
 * Weft calls) and OpenTelemetry's active context (for the application's own spans). No closure is
 * made.
 */
export function runInServerContext<T, A = undefined>(ctx: ServerContext, fn: (arg: A) => T, arg?: A): T {
  return otelContext.with(
    ctx.otel ?? ROOT_CONTEXT,
    runWithContext as (c: ServerContext, f: (arg: A) => T, a: A | undefined) => T,
    undefined,
    ctx,
    fn,
    arg,
  );
}
