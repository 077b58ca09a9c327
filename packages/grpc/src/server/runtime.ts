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
  type Admission,
  admission,
  createServerInstruments,
  type DrainResult,
  type DrainState,
  drainState,
  endServerSpan,
  Header,
  type InboundField,
  onShutdownSignal,
  readInbound,
  runInServerContext,
  ServerContext,
  type ServerInstruments,
  startServerSpan,
} from '@weft/core';
import {
  type GrpcServerOptions,
  type ResolvedGrpcServerOptions,
  resolveGrpcServerOptions,
} from './options.ts';

/** Why the server refused a call before its handler ran (`weft.reason` on the metric). */
export type ShedReason = 'concurrency' | 'rate' | 'draining' | 'deadline';

const SHED_ATTRS: Record<ShedReason, Attributes> = {
  concurrency: { 'weft.reason': 'concurrency', 'rpc.system': 'grpc' },
  rate: { 'weft.reason': 'rate', 'rpc.system': 'grpc' },
  draining: { 'weft.reason': 'draining', 'rpc.system': 'grpc' },
  deadline: { 'weft.reason': 'deadline', 'rpc.system': 'grpc' },
};

const MALFORMED_ATTRS: Record<InboundField, Attributes> = {
  deadline: { header: Header.deadline },
  traceparent: { header: Header.traceparent },
  tracestate: { header: Header.tracestate },
  baggage: { header: Header.baggage },
};

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

export class GrpcServerRuntime {
  readonly options: ResolvedGrpcServerOptions;
  readonly admission: Admission;
  readonly drainState: DrainState;
  readonly instruments: ServerInstruments;
  /** Calls refused before their handler ran, by reason (also the `weft.server.rejected` metric). */
  readonly shed: Record<ShedReason, number> = { concurrency: 0, rate: 0, draining: 0, deadline: 0 };
  /** Inbound values ignored because malformed (also the `weft.server.malformed_headers` metric). */
  malformed = 0;
  /** The grpc-js server interceptor: give it to `new Server({ interceptors: [runtime.interceptor] })`. */
  readonly interceptor: ServerInterceptor;
  #close: ((force: boolean) => Promise<void>) | undefined;
  #draining: Promise<DrainResult> | undefined;
  #removeSignals: (() => void) | undefined;
  readonly #onMalformed: (field: InboundField) => void;

  constructor(options?: GrpcServerOptions) {
    this.options = resolveGrpcServerOptions(options);
    this.admission = admission(this.options.admission);
    this.drainState = drainState({ timeoutMs: this.options.drainTimeoutMs, clock: this.options.clock });
    this.instruments = createServerInstruments('rpc');
    this.#onMalformed = (field) => {
      this.malformed++;
      this.instruments.malformed.add(1, MALFORMED_ATTRS[field]);
    };
    this.interceptor = (descriptor, call) => this.#intercept(descriptor.path, call);
  }

  /** Runs `fn` in the call's context: Weft's (deadline, trace, retry marker) and OpenTelemetry's. */
  run<T>(ctx: ServerContext, fn: () => T): T {
    return runInServerContext(ctx, fn);
  }

  /** How the binding stops its listener once drained (`force`: calls outlived the drain timeout). */
  onClose(close: (force: boolean) => Promise<void>): void {
    this.#close = close;
  }

  /** Starts draining on the configured signals (once). */
  listenForSignals(): void {
    if (this.#removeSignals || this.options.drainSignals.length === 0) return;
    this.#removeSignals = onShutdownSignal(this.options.drainSignals, () => this.drain());
  }

  /**
   * Drains: health turns NOT_SERVING, new calls get a retryable rejection, in-flight calls finish
   * (up to `drainTimeoutMs`), then the server shuts down. Calling it again returns the same promise.
   */
  drain(): Promise<DrainResult> {
    this.#draining ??= (async () => {
      const result = await this.drainState.drain();
      this.#removeSignals?.();
      this.#removeSignals = undefined;
      await this.#close?.(result.abandoned > 0);
      return result;
    })();
    return this.#draining;
  }

  describe(): object {
    return {
      state: this.drainState.state,
      inflight: this.drainState.inflight,
      admission: this.admission.snapshot(),
      shed: { ...this.shed },
      malformedHeaders: this.malformed,
    };
  }

  #shed(call: ServerInterceptingCallInterface, reason: ShedReason): void {
    this.shed[reason]++;
    this.instruments.rejected.add(1, SHED_ATTRS[reason]);
    this.instruments.duration.record(0, SHED_ATTRS[reason]);
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
      this.#onMalformed,
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
