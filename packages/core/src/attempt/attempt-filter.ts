/**
 * Role `attempt`: one physical try. Opens the attempt's CLIENT span (W3C `traceparent` injected),
 * has the binding write the remaining deadline budget (HTTP: `weft-deadline-ms`), enforces the
 * per-try timeout, and records the binding's attempt duration (`http.client.request.duration`, …).
 * Span and attribute names are the binding's semantic conventions. The per-try timeout bounds the wait for the
 * response head; the total deadline (role `deadline`) bounds the body too.
 */
import {
  context as otelContext,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { Header } from '../context/wire.ts';
import { ATTEMPT_DEFAULTS, ATTEMPT_PARAMS, type AttemptParams } from '../deadline/deadline-params.ts';
import { WeftError } from '../errors/errors.ts';
import type { Call } from '../stack/call.ts';
import { outcomeOf } from '../stack/env.ts';
import type { Module } from '../stack/stack.ts';
import { formatTraceparent, headerSetter } from '../telemetry/propagation.ts';
import { attemptTimeout } from './watchdog.ts';

export type { AttemptParams } from '../deadline/deadline-params.ts';
export { ATTEMPT_DEFAULTS } from '../deadline/deadline-params.ts';

export function attemptModule(params: Partial<AttemptParams> = {}): Module<AttemptParams> {
  return {
    role: 'attempt',
    description: 'per-try timeout, attempt span, deadline and trace headers',
    params: { ...ATTEMPT_DEFAULTS, ...params },
    spec: ATTEMPT_PARAMS,
    sets: ['attemptSignal', 'wire'],
    make(params, next, env) {
      const { clock, instruments, binding, classify, destination } = env;
      const perTry = params.perTryTimeoutMs;
      const semconv = binding.semconv;
      const { methodKey, statusKey, resendCountKey } = semconv;
      const unitMs = instruments.attemptDurationUnitMs;

      const observed = async (call: Call) => {
        const start = clock.now();
        let span: Span | undefined;
        if (instruments.tracingEnabled()) {
          const parentOtel = call.otel ?? otelContext.active();
          span = instruments.tracer.startSpan(
            semconv.spanName(call),
            {
              kind: SpanKind.CLIENT,
              attributes: { 'server.address': destination, [methodKey]: call.method },
            },
            parentOtel,
          );
          if (call.attempt > 1 && resendCountKey !== undefined)
            span.setAttribute(resendCountKey, call.attempt - 1);
          injectTrace(call, span, parentOtel);
        } else {
          passTrace(call);
        }
        if (call.attempt > 1) call.headers[Header.attempt] = String(call.attempt);
        if (call.deadline !== Number.POSITIVE_INFINITY)
          binding.writeDeadline(call, Math.max(0, Math.floor(call.deadline - start)));

        let controller: AbortController | undefined;
        let timer: unknown;
        // With a per-try timeout the attempt gets its own signal, which follows the call's until the
        // attempt's body is done (then the listener goes, so none pile up on a long-lived signal).
        let unlink: (() => void) | undefined;
        if (perTry > 0 && start + perTry < call.deadline) {
          const own = new AbortController();
          controller = own;
          const parent = call.signal;
          if (parent) {
            if (parent.aborted) own.abort(parent.reason);
            else {
              const follow = () => own.abort(parent.reason);
              parent.addEventListener('abort', follow, { once: true });
              unlink = () => parent.removeEventListener('abort', follow);
            }
          }
          timer = clock.setTimeout(() => controller!.abort(attemptTimeout(call, perTry)), perTry);
          call.attemptSignal = controller.signal;
        } else {
          call.attemptSignal = call.signal;
        }

        let status: number | string | undefined;
        let errorType: string | undefined;
        try {
          const response = await next(call);
          if (unlink) binding.onBodyDone(response, unlink);
          status = binding.status(response);
          if (outcomeOf(classify, call, response, undefined) !== 'success') {
            errorType = String(status);
            span?.setStatus({ code: SpanStatusCode.ERROR });
          }
          return response;
        } catch (error) {
          const e =
            controller?.signal.aborted && !(error instanceof WeftError) ? controller.signal.reason : error;
          unlink?.();
          errorType = (e as { code?: string } | null)?.code ?? (e as Error)?.name ?? 'error';
          if (span) {
            span.recordException(e as Error);
            span.setStatus({ code: SpanStatusCode.ERROR, message: (e as Error)?.message });
          }
          throw e;
        } finally {
          if (timer !== undefined) clock.clearTimeout(timer);
          if (span) {
            if (status !== undefined) span.setAttribute(statusKey, status);
            if (call.endpoint) span.setAttribute('network.peer.address', call.endpoint.key);
            if (call.backend) span.setAttribute('weft.route.subset', call.backend.subset);
            span.end();
          }
          if (instruments.metricsEnabled) {
            const attributes: Record<string, string | number> = {
              'server.address': destination,
              'weft.destination': destination,
              [methodKey]: call.method,
            };
            // The endpoint this attempt went to, so a slow replica shows in the metric (semantic
            // conventions: `server.address` is the URL's host — the service — and the peer is the
            // physical endpoint), and its version label, so canaries can be compared.
            const ep = call.endpoint?.endpoint;
            if (ep) {
              attributes['network.peer.address'] = ep.address;
              attributes['network.peer.port'] = ep.port;
              const version = ep.labels?.version;
              if (version !== undefined) attributes['weft.version'] = version;
            }
            if (call.route) attributes['weft.route.rule'] = call.route.rule.label;
            if (call.backend) attributes['weft.route.subset'] = call.backend.subset;
            if (call.shadow) attributes['weft.mirror'] = 'true';
            if (status !== undefined) attributes[statusKey] = status;
            if (errorType !== undefined) attributes['error.type'] = errorType;
            instruments.attemptDuration.record((clock.now() - start) / unitMs, attributes);
          }
        }
      };
      // Not async when there is no span, no metric and no per-try timeout: only the headers.
      return (call) => {
        if (perTry > 0 || instruments.metricsEnabled || instruments.tracingEnabled()) return observed(call);
        passTrace(call);
        if (call.attempt > 1) call.headers[Header.attempt] = String(call.attempt);
        if (call.deadline !== Number.POSITIVE_INFINITY)
          binding.writeDeadline(call, Math.max(0, Math.floor(call.deadline - clock.now())));
        call.attemptSignal = call.signal;
        return next(call);
      };
    },
  };
}

/** Writes the attempt span's context into the headers: the global propagator's, or W3C by hand when none is set. */
function injectTrace(call: Call, span: Span, parent: import('@opentelemetry/api').Context): void {
  // The headers outlive an attempt: drop the previous attempt's traceparent so a retry carries its own.
  const previous = call.headers[Header.traceparent];
  if (previous !== undefined) delete call.headers[Header.traceparent];
  if (propagation.fields().length > 0)
    propagation.inject(trace.setSpan(parent, span), call.headers, headerSetter);
  if (call.headers[Header.traceparent] === undefined) {
    const sc = span.spanContext();
    if (trace.isSpanContextValid(sc)) call.headers[Header.traceparent] = formatTraceparent(sc);
    else if (call.parent?.traceparent) call.headers[Header.traceparent] = call.parent.traceparent;
    else if (previous !== undefined) call.headers[Header.traceparent] = previous;
  }
  passInherited(call);
}

/**
 * What a call carries on from the request being handled besides the trace: the baggage and the
 * travelling `weft-route` override (unless the caller set its own).
 */
function passInherited(call: Call): void {
  const parent = call.parent;
  if (parent === undefined) return;
  if (call.headers[Header.baggage] === undefined && parent.baggage)
    call.headers[Header.baggage] = parent.baggage;
  if (call.headers[Header.route] === undefined && parent.route) call.headers[Header.route] = parent.route;
}

/**
 * With no tracer provider there are no spans to make; the trace still must not break at this hop:
 * forward the inbound `traceparent` (or the span context the caller put in the OpenTelemetry context).
 */
function passTrace(call: Call): void {
  if (call.headers[Header.traceparent] === undefined) {
    const inbound = call.parent?.traceparent;
    if (inbound !== undefined) call.headers[Header.traceparent] = inbound;
    else {
      const sc = call.otel && trace.getSpanContext(call.otel);
      if (sc && trace.isSpanContextValid(sc)) call.headers[Header.traceparent] = formatTraceparent(sc);
    }
    if (call.parent?.tracestate !== undefined && call.headers[Header.tracestate] === undefined)
      call.headers[Header.tracestate] = call.parent.tracestate;
  }
  passInherited(call);
}
