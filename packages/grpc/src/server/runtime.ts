/**
 * The server half of Weft over gRPC, as a grpc-js server interceptor. Per call:
 *
 *   exempt (health) → drain (refuse while draining) → deadline (refuse if already passed)
 *   → admission (concurrency, rate) → server span (parent from `traceparent`) → handler in context
 *
 * Refusals are answered before the handler runs: UNAVAILABLE with `weft-rejected: 1` (safe to retry
 * elsewhere whatever the method), or DEADLINE_EXCEEDED with `weft-no-retry: 1`. The deadline is
 * gRPC's own (`grpc-timeout`), so an inbound HTTP deadline that became a gRPC deadline carries on
 * into the handler's outbound calls. Every listener event (metadata, messages, half-close, cancel)
 * runs inside the call's context, so handlers of all four call shapes — including stream `data`
 * handlers — inherit the deadline and the trace. A failure status of a handler whose downstream
 * calls gave up on retries gets `weft-no-retry: 1`.
 */

import {
  Metadata,
  ServerInterceptingCall,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
  status as Status,
} from '@grpc/grpc-js';
import type { Attributes, Span, TextMapGetter } from '@opentelemetry/api';
import {
  endServerSpan,
  Header,
  readInbound,
  ServerContext,
  ServerRuntimeBase,
  type ShedReason,
  startServerSpan,
} from '@weft/core';
import {
  type GrpcServerOptions,
  type ResolvedGrpcServerOptions,
  resolveGrpcServerOptions,
} from './options.ts';

/** Reads OpenTelemetry propagation fields from gRPC metadata. */
const metadataGetter: TextMapGetter<Metadata> = {
  keys: (carrier) => Object.keys(carrier.getMap()),
  get(carrier, key) {
    const values = carrier.get(key);
    if (values.length === 0) return undefined;
    return values.length === 1 ? String(values[0]) : values.map(String);
  },
};

function first(metadata: Metadata, key: string): string | string[] | undefined {
  const values = metadata.get(key);
  if (values.length === 0) return undefined;
  return values.length === 1 ? String(values[0]) : values.map(String);
}

function rejection(reason: ShedReason): { code: Status; details: string; metadata: Metadata } {
  const metadata = new Metadata();
  if (reason === 'deadline') {
    metadata.set(Header.noRetry, '1');
    return {
      code: Status.DEADLINE_EXCEEDED,
      details: 'the deadline of the call had passed on arrival',
      metadata,
    };
  }
  metadata.set(Header.rejected, '1');
  return {
    code: Status.UNAVAILABLE,
    details: `call not processed (${reason}); safe to retry on another endpoint`,
    metadata,
  };
}

/** One admitted call: its context, span, and what to release when it ends. */
class InboundCall {
  readonly ctx: ServerContext;
  readonly span: Span;
  readonly start: number;
  readonly #runtime: GrpcServerRuntime;
  readonly #attrs: Attributes;
  #ended = false;

  constructor(runtime: GrpcServerRuntime, ctx: ServerContext, span: Span, start: number, attrs: Attributes) {
    this.#runtime = runtime;
    this.ctx = ctx;
    this.span = span;
    this.start = start;
    this.#attrs = attrs;
  }

  run<T>(fn: () => T): T {
    return this.#runtime.run(this.ctx, fn);
  }

  end(code: Status | 'cancelled'): void {
    if (this.#ended) return;
    this.#ended = true;
    const rt = this.#runtime;
    const now = rt.options.clock.now();
    const elapsed = now - this.start;
    const cancelled = code === 'cancelled';
    if (cancelled) this.ctx.cancel('the client cancelled the call');
    this.ctx.end();
    const failed = !cancelled && code !== Status.OK;
    const sample =
      cancelled || failed
        ? code === Status.DEADLINE_EXCEEDED || (cancelled && this.ctx.deadline <= now)
          ? 'dropped'
          : 'ignored'
        : this.ctx.deadline <= now
          ? 'dropped'
          : 'success';
    rt.admission.release(elapsed, sample);
    rt.drainState.leave();
    rt.instruments.inflight.add(-1);
    const attributes: Attributes = {
      ...this.#attrs,
      'rpc.grpc.status_code': cancelled ? Status.CANCELLED : code,
    };
    if (cancelled) attributes['error.type'] = 'cancelled';
    else if (failed) attributes['error.type'] = Status[code] ?? String(code);
    endServerSpan(this.span, attributes, attributes['error.type'] !== undefined);
    rt.instruments.duration.record(elapsed / 1000, attributes);
  }
}

export class GrpcServerRuntime extends ServerRuntimeBase {
  readonly options: ResolvedGrpcServerOptions;
  /** The grpc-js server interceptor: give it to `new Server({ interceptors: [runtime.interceptor] })`. */
  readonly interceptor: ServerInterceptor;

  constructor(options?: GrpcServerOptions) {
    const resolved = resolveGrpcServerOptions(options);
    super({ server: resolved, protocol: 'rpc', shedAttributes: { 'rpc.system': 'grpc' } });
    this.options = resolved;
    this.interceptor = (descriptor, call) => this.#intercept(descriptor.path, call);
  }

  describe(): object {
    return this.describeState();
  }

  #shed(call: ServerInterceptingCallInterface, reason: ShedReason): void {
    this.countShed(reason);
    call.sendStatus(rejection(reason));
  }

  /** Admits the call or answers it; returns the admitted call's state. */
  #admit(path: string, metadata: Metadata, call: ServerInterceptingCallInterface): InboundCall | undefined {
    if (!this.drainState.enter()) {
      this.#shed(call, 'draining');
      return undefined;
    }
    const clock = this.options.clock;
    const start = clock.now();
    const inbound = readInbound(
      {
        deadline: first(metadata, Header.deadline),
        traceparent: first(metadata, Header.traceparent),
        tracestate: first(metadata, Header.tracestate),
        baggage: first(metadata, Header.baggage),
      },
      this.onMalformed,
    );
    // gRPC's own deadline first; `weft-deadline-ms` only narrows it (a peer that sent both).
    const native = call.getDeadline();
    const nativeAt = native instanceof Date ? native.getTime() : native;
    let remaining = Number.isFinite(nativeAt) ? nativeAt - Date.now() : Number.POSITIVE_INFINITY;
    if (inbound.remainingMs !== undefined) remaining = Math.min(remaining, inbound.remainingMs);
    if (remaining <= 0) {
      this.drainState.leave();
      this.#shed(call, 'deadline');
      return undefined;
    }
    const reason = this.admission.tryAdmit();
    if (reason !== undefined) {
      this.drainState.leave();
      this.#shed(call, reason);
      return undefined;
    }
    const slash = path.lastIndexOf('/');
    const attrs: Attributes = {
      'rpc.system': 'grpc',
      'rpc.service': path.slice(1, slash),
      'rpc.method': path.slice(slash + 1),
    };
    const { span, otel } = startServerSpan(this.instruments, path.slice(1), attrs, metadata, metadataGetter);
    const ctx = new ServerContext(
      {
        deadline: start + remaining,
        traceparent: inbound.traceparent,
        tracestate: inbound.tracestate,
        baggage: inbound.baggage,
        otel,
      },
      clock,
    );
    this.instruments.inflight.add(1);
    return new InboundCall(this, ctx, span, start, attrs);
  }

  #intercept(path: string, call: ServerInterceptingCallInterface): ServerInterceptingCall {
    if (this.options.exemptPrefixes.some((p) => path.startsWith(p))) return new ServerInterceptingCall(call);
    let state: InboundCall | undefined;
    return new ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, nextMetadata) => {
            state = this.#admit(path, metadata, call);
            if (state) state.run(() => nextMetadata(metadata));
          },
          onReceiveMessage: (message, nextMessage) => {
            if (state) state.run(() => nextMessage(message));
          },
          onReceiveHalfClose: (nextHalfClose) => {
            if (state) state.run(nextHalfClose);
          },
          onCancel: () => {
            state?.end('cancelled');
          },
        }),
      sendStatus: (status, nextStatus) => {
        if (state) {
          if (status.code !== Status.OK && state.ctx.downstreamExhausted) {
            const metadata = status.metadata ?? new Metadata();
            metadata.set(Header.noRetry, '1');
            status = { ...status, metadata };
          }
          state.end(status.code);
        }
        nextStatus(status);
      },
    });
  }
}

/** Makes the server runtime (admission, drain, telemetry) and its interceptor. */
export function grpcServerRuntime(options?: GrpcServerOptions): GrpcServerRuntime {
  return new GrpcServerRuntime(options);
}
