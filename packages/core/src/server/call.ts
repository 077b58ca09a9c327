/**
 * A server call is the protocol-neutral view of one inbound request as it travels down the server
 * stack. The protocol binding subclasses it: how to read a header (HTTP) or metadata value (gRPC),
 * the matched route, the deadline the transport itself carries. Each server module reads and writes
 * the fields it owns. One object per request.
 *
 * The server stack runs synchronously on the way in: each module does its work and calls the next,
 * and the handler's continuation runs at the bottom. What a module must do when the call ends
 * (return a permit, end a span) it registers with {@link ServerCall.defer}, passing itself: the call
 * runs those finishers once, last registered first, when the binding reports the response done, or
 * at once when a module refused the call. So no module keeps a closure or a promise per request.
 */
import type { Context as OtelContext, Span } from '@opentelemetry/api';
import type { Sample } from '../admission/limit.ts';
import type { PeerIdentity } from '../authz/peer.ts';
import type { WeftError } from '../errors/errors.ts';
import type { ServerContext } from './inbound.ts';

/** How a call ended, as the protocol binding classifies it. */
export type ServerOutcome =
  /** Answered, and not a server fault (HTTP below 500; gRPC OK and the codes that blame the caller). */
  | 'success'
  /** Answered with a server fault (HTTP 5xx; gRPC UNKNOWN, INTERNAL, UNAVAILABLE, …). */
  | 'failure'
  /** Answered "deadline exceeded" (HTTP 504, gRPC DEADLINE_EXCEEDED). */
  | 'expired'
  /** The client went away before the response was done. */
  | 'cancelled'
  /** A module of the server stack refused it before the handler ran. */
  | 'rejected';

/** What a module registers with {@link ServerCall.defer}: its work for the end of the call. */
export interface ServerFinisher {
  finish(call: ServerCall): void;
}

/** A route's own admission limit, checked after the server's (see `routeAdmission`). */
export interface RouteLimit {
  /** Admits `call` (and registers the release) or returns why not. */
  tryAdmit(call: ServerCall): 'concurrency' | 'rate' | undefined;
}

export abstract class ServerCall {
  /** HTTP method, or the gRPC method path. */
  readonly method: string;
  /** The request path (HTTP path with query, or gRPC `/pkg.Service/Method`). */
  readonly path: string;
  /** When the call arrived, on the server's clock. */
  readonly start: number;
  /** Absolute deadline on the server's clock; `Infinity` when none. Set by the `deadline` module. */
  deadline = Number.POSITIVE_INFINITY;
  /** The route's own limit, when the binding knows the route before the stack runs (Fastify). */
  routeLimit: RouteLimit | undefined;
  /** The server span, set by the `telemetry` module. */
  span: Span | undefined;
  /** The OpenTelemetry context holding the server span, set by the `telemetry` module. */
  otel: OtelContext | undefined;
  /** The context the handler runs in, set by the `context` module. */
  ctx: ServerContext | undefined;
  /** True once the call reached the handler (the protocol's terminal). */
  started = false;
  /** Why a module refused the call, if one did. */
  rejection: WeftError | undefined;
  /** How the call ended, once it ended. */
  outcome: ServerOutcome | undefined;
  /** The protocol's status once it ended (HTTP status code, gRPC status code). */
  status: number | string | undefined;
  /** When the call ended, on the server's clock (0 until then). */
  endedAt = 0;
  #finishers: ServerFinisher[] | undefined;
  #finished = false;
  /** `null` until first read. */
  #peer: PeerIdentity | undefined | null = null;

  constructor(method: string, path: string, start: number) {
    this.method = method;
    this.path = path;
    this.start = start;
  }

  /** An inbound header (HTTP) or metadata (gRPC) value by lower-case name; an array when repeated. */
  abstract header(name: string): string | string[] | undefined;

  /** The names of the inbound headers or metadata keys (for OpenTelemetry propagators). */
  abstract headerNames(): string[];

  /**
   * The caller's identity from its verified TLS certificate (SPIFFE ID), read on first use;
   * undefined for plaintext and for a caller without a verified certificate. Never from a header.
   */
  get peer(): PeerIdentity | undefined {
    if (this.#peer === null) this.#peer = this.readPeer();
    return this.#peer;
  }

  /** How the binding reads the verified peer identity (once per call). Defaults to none. */
  protected readPeer(): PeerIdentity | undefined {
    return undefined;
  }

  /** The matched route template (`/users/:id`), when the framework knows it. */
  get route(): string | undefined {
    return undefined;
  }

  /** The remaining budget the transport itself carries (gRPC's deadline), in ms; `Infinity` for none. */
  transportRemainingMs(): number {
    return Number.POSITIVE_INFINITY;
  }

  /** How long the call took, in ms (once ended). */
  get elapsedMs(): number {
    return this.endedAt - this.start;
  }

  /** True once the call ended (its finishers ran). */
  get finished(): boolean {
    return this.#finished;
  }

  /** Registers `finisher` to run when the call ends (finishers run last registered first). */
  defer(finisher: ServerFinisher): void {
    if (this.#finishers === undefined) this.#finishers = [finisher];
    else this.#finishers.push(finisher);
  }

  /**
   * Ends the call: records how and when, then runs the finishers (once; later calls do nothing).
   * A finisher that throws does not stop the others; the first error is thrown after them.
   */
  finish(outcome: ServerOutcome, status: number | string | undefined, now: number): void {
    if (this.#finished) return;
    this.#finished = true;
    this.outcome = outcome;
    this.status = status;
    this.endedAt = now;
    const finishers = this.#finishers;
    if (finishers === undefined) return;
    let failure: unknown;
    for (let i = finishers.length - 1; i >= 0; i--) {
      try {
        finishers[i]!.finish(this);
      } catch (error) {
        failure ??= error;
      }
    }
    if (failure !== undefined) throw failure;
  }
}

/**
 * What an ended call says about the server's load, for a concurrency limit: the one rule of every
 * protocol. A call that ran to or past its deadline (whatever its outcome: finished late, answered
 * "deadline exceeded", or abandoned by a caller who gave up) says the server is too slow: `dropped`
 * (an adaptive limit shrinks). A complete success is a latency sample: `success`. Anything else — a
 * failure, a cancellation before the deadline, a refusal — says nothing about load: `ignored`.
 */
export function latencySample(call: ServerCall): Sample {
  const outcome = call.outcome;
  if (outcome === 'rejected') return 'ignored';
  if (outcome === 'expired' || call.endedAt >= call.deadline) return 'dropped';
  return outcome === 'success' ? 'success' : 'ignored';
}
