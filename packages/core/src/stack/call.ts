/**
 * A call is the protocol-neutral view of one logical request as it travels down the stack. Each
 * filter reads and writes the fields it owns; the protocol binding (HTTP, gRPC) extends it with its
 * payload. One object per call, reused across its attempts.
 */
import type { Context as OtelContext } from '@opentelemetry/api';
import type { EndpointState } from '../balancer/endpoint-state.ts';
import type { WeftContext } from '../context/context.ts';
import type { WeftError } from '../errors/errors.ts';
import type { RoutedBackend, RoutedRule } from '../route/routed.ts';
import type { Outcome } from './env.ts';

/** What a transport registers for the attempt in flight, so that it can be abandoned on its own. */
export interface AttemptHandle {
  /** Ends the attempt with `reason`: its response head, if still awaited, rejects with it. */
  abortAttempt(reason: WeftError): void;
}

/** Methods that RFC 9110 §9.2.2 defines as idempotent. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

export function isIdempotentMethod(method: string): boolean {
  return IDEMPOTENT.has(method);
}

export class Call {
  /** The destination service's logical name. */
  readonly destination: string;
  /** HTTP method, or the gRPC method path. */
  readonly method: string;
  /** The request path (HTTP path with query, or gRPC `/pkg.Service/Method`); a route may rewrite it. */
  path: string;
  /** Safe to send more than once. */
  idempotent: boolean;
  /** The body can be sent again (false for streams). */
  replayable: boolean;
  /** Outbound headers (lower-case names); filters add Weft's own before each attempt. */
  headers: Record<string, string>;
  /** Absolute deadline on the stack's clock; `Infinity` when none. Set by the deadline filter. */
  deadline = Number.POSITIVE_INFINITY;
  /** Aborts the whole call (caller cancellation or deadline). */
  signal: AbortSignal | undefined;
  /** Aborts the current attempt (the call's signal or the per-try timeout). */
  attemptSignal: AbortSignal | undefined;
  /** 1-based attempt number, set by the retry filter. */
  attempt = 1;
  /** The endpoint chosen for the current attempt, set by the balance filter. */
  endpoint: EndpointState | undefined;
  /** The context inherited from the request being handled, if any. */
  parent: WeftContext | undefined;
  /** The OpenTelemetry context of the current span (logical, then attempt). */
  otel: OtelContext | undefined;
  /** A per-call timeout from the caller, in ms (0 = none). */
  timeoutMs = 0;
  /**
   * A call that may rightly wait long (a gRPC server, client or bidi stream, whose first message may
   * wait for an event): neither the policy's total `timeoutMs` nor the adaptive per-try timeout
   * applies to it; its own `timeoutMs` (the gRPC deadline call option), a fixed `perTryTimeoutMs`
   * and inherited deadlines do.
   */
  longLived = false;
  /**
   * True when a failure of the current attempt could still be retried (idempotent, replayable,
   * attempts and budget left). Set by the retry filter before each attempt.
   */
  canRetry = false;
  /** True when a retry filter handles this call (so some calls of the destination can be retried). */
  retried = false;
  /** When the current attempt reached its endpoint, on the stack's clock. */
  attemptStart = 0;
  /** The transport's handle on the attempt in flight, set by the transport. */
  inflight: AttemptHandle | undefined;
  /** The verdict on {@link settled}, decided once by `outcomeOf` (env.ts). */
  outcome: Outcome | undefined;
  /** The response or error the {@link outcome} is for. */
  settled: unknown;
  /** The route rule the call matched, set by the `route` module; undefined without a route. */
  route: RoutedRule | undefined;
  /** The subset a travelling `weft-route` override pinned for this destination, if honoured. */
  routePin: RoutedBackend | undefined;
  /** The call's consistent-hashing key (the 32-bit hash of the rule's `hashOn` header), if any. */
  hash: number | undefined;
  /** The route backend (subset) of the current attempt, set by `balance`. */
  backend: RoutedBackend | undefined;
  /**
   * A mirrored copy (shadow traffic): never retried, counted by no retry budget or breaker, its
   * answer discarded. Set by the `route` module on the copies it sends.
   */
  shadow = false;

  constructor(
    destination: string,
    method: string,
    path: string,
    headers: Record<string, string>,
    signal?: AbortSignal,
  ) {
    this.destination = destination;
    this.method = method;
    this.path = path;
    this.headers = headers;
    this.signal = signal;
    this.idempotent = IDEMPOTENT.has(method);
    this.replayable = true;
  }
}
