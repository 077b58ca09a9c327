/**
 * The request context: what a call inherits from the request that caused it. A server runs each
 * handler inside a context (AsyncLocalStorage), and every outbound Weft call made while handling it
 * takes the deadline, the trace and the baggage from there with no user code.
 */

import { AsyncLocalStorage } from 'node:async_hooks';
import type { Context as OtelContext } from '@opentelemetry/api';
import type { PeerIdentity } from '../authz/peer.ts';

export interface WeftContext {
  /** Absolute deadline on the process clock (`performance.now()` scale); `Infinity` when none. */
  readonly deadline: number;
  /** Aborts when the inbound request is cancelled or its deadline passes. */
  readonly signal: AbortSignal | undefined;
  /** The OpenTelemetry context holding the inbound (server) span: the parent of outbound spans. */
  readonly otel: OtelContext | undefined;
  /** The inbound `baggage` header, forwarded unchanged when no OpenTelemetry propagator is set. */
  readonly baggage: string | undefined;
  /** The inbound `tracestate`/`traceparent`, forwarded when no OpenTelemetry SDK runs. */
  readonly traceparent: string | undefined;
  readonly tracestate: string | undefined;
  /**
   * The retry marker. Set by the client's retry filter when a downstream call made in this context
   * failed after its retries (or its budget) ran out. The server then marks its failure response as
   * not-to-be-retried, so retries do not multiply across hops.
   */
  downstreamExhausted: boolean;
  /**
   * The inbound `weft-route` override (`catalog=v2`), carried to every outbound call made in this
   * context, so one request runs against the same subsets at every hop.
   */
  readonly route?: string | undefined;
  /**
   * The caller of the inbound request, from its verified TLS certificate (`{ spiffeId, service,
   * trustDomain }`); undefined for plaintext or an unverified caller. Never read from a header.
   */
  readonly peer?: PeerIdentity | undefined;
}

const storage = new AsyncLocalStorage<WeftContext>();

/** The context of the request being handled, if any. */
export function currentContext(): WeftContext | undefined {
  return storage.getStore();
}

/**
 * Runs `fn` inside `context`; outbound Weft calls made by `fn` inherit it. `arg` is passed to `fn`,
 * so a caller with per-request data need not make a closure.
 */
export function runWithContext<T, A = undefined>(context: WeftContext, fn: (arg: A) => T, arg?: A): T {
  return storage.run(context, fn, arg as A);
}

/** Makes a context; fields left out take their neutral value. */
export function createContext(fields: Partial<WeftContext> = {}): WeftContext {
  return {
    deadline: fields.deadline ?? Number.POSITIVE_INFINITY,
    signal: fields.signal,
    otel: fields.otel,
    baggage: fields.baggage,
    traceparent: fields.traceparent,
    tracestate: fields.tracestate,
    downstreamExhausted: fields.downstreamExhausted ?? false,
    route: fields.route,
  };
}
