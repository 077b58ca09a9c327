/**
 * The inbound half of the context, protocol-free: reads the deadline, trace and baggage values a
 * request arrived with (HTTP headers, gRPC metadata), drops malformed ones with a report instead of
 * failing, and builds the {@link ServerContext} the handler runs in.
 */
import type { Context as OtelContext } from '@opentelemetry/api';
import type { PeerIdentity } from '../authz/peer.ts';
import type { WeftContext } from '../context/context.ts';
import { parseDeadlineHeader, parseTraceparent } from '../context/wire.ts';
import { ErrorCode, WeftError } from '../errors/errors.ts';
import { isRouteOverride } from '../route/route-table.ts';
import type { Clock, TimerHandle } from '../time/clock.ts';

/** The raw inbound values; a header repeated arrives as an array. */
export interface InboundValues {
  /** `weft-deadline-ms`: the caller's remaining budget in ms. */
  deadline?: string | string[] | undefined;
  traceparent?: string | string[] | undefined;
  tracestate?: string | string[] | undefined;
  baggage?: string | string[] | undefined;
  /** `weft-route`: the travelling subset override (`catalog=v2,users=v3`). */
  route?: string | string[] | undefined;
}

/** Which inbound value was malformed (the `header` attribute of `weft.server.malformed_headers`). */
export type InboundField = 'deadline' | 'traceparent' | 'tracestate' | 'baggage' | 'route';

export interface Inbound {
  /** Remaining budget in ms, `undefined` when none was sent (or it was malformed). */
  remainingMs: number | undefined;
  traceparent: string | undefined;
  tracestate: string | undefined;
  baggage: string | undefined;
  route: string | undefined;
}

/** W3C Trace Context: `tracestate` is at most 32 members; 512 characters is the size vendors must keep. */
export const MAX_TRACESTATE_LENGTH = 512;
/** W3C Baggage: at most 8192 bytes in total. */
export const MAX_BAGGAGE_LENGTH = 8192;

// Printable ASCII only: what the W3C grammars allow (and what is safe to forward as a header).
const PRINTABLE = /^[\x20-\x7e]*$/;

/**
 * Reads the inbound values. A malformed one is dropped (as if absent) and reported through
 * `onMalformed`; this never throws. A `tracestate` without a valid `traceparent` is dropped too
 * (W3C: it has no meaning alone), without a report.
 */
export function readInbound(values: InboundValues, onMalformed: (field: InboundField) => void): Inbound {
  let remainingMs = parseDeadlineHeader(values.deadline);
  if (remainingMs !== undefined && Number.isNaN(remainingMs)) {
    onMalformed('deadline');
    remainingMs = undefined;
  }
  const rawTraceparent = single(values.traceparent);
  let traceparent: string | undefined;
  if (rawTraceparent !== undefined) {
    // A later version is read as version 00 (W3C), and forwarded as such.
    traceparent = rawTraceparent === null ? undefined : parseTraceparent(rawTraceparent);
    if (traceparent === undefined) onMalformed('traceparent');
  }
  let tracestate = single(values.tracestate);
  if (tracestate === null || (tracestate !== undefined && !checkLength(tracestate, MAX_TRACESTATE_LENGTH))) {
    onMalformed('tracestate');
    tracestate = undefined;
  }
  if (traceparent === undefined) tracestate = undefined;
  let baggage = single(values.baggage);
  if (baggage === null || (baggage !== undefined && !checkLength(baggage, MAX_BAGGAGE_LENGTH))) {
    onMalformed('baggage');
    baggage = undefined;
  }
  let route = single(values.route);
  if (route === null || (route !== undefined && !isRouteOverride(route))) {
    onMalformed('route');
    route = undefined;
  }
  return {
    remainingMs,
    traceparent: traceparent ?? undefined,
    tracestate: tracestate ?? undefined,
    baggage: baggage ?? undefined,
    route: route ?? undefined,
  };
}

/** One value; `null` for a repeated header (ambiguous, so malformed). */
function single(value: string | string[] | undefined): string | undefined | null {
  if (value === undefined || typeof value === 'string') return value;
  return value.length === 1 ? value[0] : null;
}

function checkLength(value: string, max: number): boolean {
  return value.length <= max && PRINTABLE.test(value);
}

export interface ServerContextFields {
  /** Absolute deadline on `clock` (`Infinity` for none). */
  deadline: number;
  traceparent?: string | undefined;
  tracestate?: string | undefined;
  baggage?: string | undefined;
  /** The inbound `weft-route` override, carried to outbound calls. */
  route?: string | undefined;
  /** The OpenTelemetry context holding the server span. */
  otel?: OtelContext | undefined;
  /** Where the caller's verified identity is read, on first use (the server call). */
  peerSource?: { readonly peer: PeerIdentity | undefined } | undefined;
}

/**
 * The context one inbound request is handled in. Its `signal` is made on first use (most handlers
 * never read it, so most requests cost no AbortController and no timer); it aborts when the
 * deadline passes or when the server calls {@link ServerContext.cancel} (the client went away).
 * The server calls {@link ServerContext.end} when the response is done.
 */
export class ServerContext implements WeftContext {
  readonly deadline: number;
  readonly traceparent: string | undefined;
  readonly tracestate: string | undefined;
  readonly baggage: string | undefined;
  readonly route: string | undefined;
  otel: OtelContext | undefined;
  downstreamExhausted = false;
  readonly #clock: Clock;
  #controller: AbortController | undefined;
  #timer: TimerHandle | undefined;
  #cancelled: WeftError | undefined;
  #ended = false;
  readonly #peerSource: { readonly peer: PeerIdentity | undefined } | undefined;

  constructor(fields: ServerContextFields, clock: Clock) {
    this.deadline = fields.deadline;
    this.traceparent = fields.traceparent;
    this.tracestate = fields.tracestate;
    this.baggage = fields.baggage;
    this.route = fields.route;
    this.otel = fields.otel;
    this.#peerSource = fields.peerSource;
    this.#clock = clock;
  }

  /** The caller's verified identity (see {@link WeftContext.peer}). */
  get peer(): PeerIdentity | undefined {
    return this.#peerSource?.peer;
  }

  get signal(): AbortSignal {
    if (this.#controller) return this.#controller.signal;
    const controller = new AbortController();
    this.#controller = controller;
    if (this.#cancelled) controller.abort(this.#cancelled);
    else if (this.deadline !== Number.POSITIVE_INFINITY && !this.#ended) {
      const left = this.deadline - this.#clock.now();
      if (left <= 0) controller.abort(deadlinePassed());
      else this.#timer = this.#clock.setTimeout(() => this.#expire(), left);
    }
    return controller.signal;
  }

  /** Milliseconds left before the deadline (`Infinity` for none, ≤ 0 once passed). */
  remainingMs(): number {
    return this.deadline - this.#clock.now();
  }

  /** The client went away: aborts the signal (now, or as soon as it is made). */
  cancel(reason?: string): void {
    if (this.#cancelled) return;
    this.#cancelled = new WeftError(ErrorCode.Cancelled, reason ?? 'the client cancelled the request');
    this.#clearTimer();
    this.#controller?.abort(this.#cancelled);
  }

  /** The response is done: stops the deadline timer. The signal stays as it is. */
  end(): void {
    this.#ended = true;
    this.#clearTimer();
  }

  #expire(): void {
    this.#timer = undefined;
    this.#controller?.abort(deadlinePassed());
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) {
      this.#clock.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }
}

function deadlinePassed(): WeftError {
  return new WeftError(ErrorCode.DeadlineExceeded, 'the deadline of the request being handled passed');
}
