/**
 * Typed errors. Every error Weft raises is a {@link WeftError} with a stable `code`, a `retryable`
 * flag that the retry filter and callers can trust, and the underlying `cause`.
 */

/** Stable error codes. Never renamed once released: users match on them. */
export const ErrorCode = {
  /** The call's deadline (own or inherited) passed before a response arrived. */
  DeadlineExceeded: 'WEFT_DEADLINE_EXCEEDED',
  /** A single attempt ran past its per-try timeout. */
  AttemptTimeout: 'WEFT_ATTEMPT_TIMEOUT',
  /** The destination's circuit breaker is open: failing fast. */
  CircuitOpen: 'WEFT_CIRCUIT_OPEN',
  /** No endpoint is known for the destination. */
  NoEndpoints: 'WEFT_NO_ENDPOINTS',
  /** A retry was wanted but the destination's retry budget is spent. */
  BudgetExhausted: 'WEFT_BUDGET_EXHAUSTED',
  /** The connection could not be made or broke before the request was written. */
  ConnectFailed: 'WEFT_CONNECT_FAILED',
  /** The call was cancelled by its caller. */
  Cancelled: 'WEFT_CANCELLED',
  /** A route rule's fault injection aborted the call (protocols without a response form for it). */
  FaultInjected: 'WEFT_FAULT_INJECTED',
  /** A server shed the request before processing it (admission control, draining). */
  Rejected: 'WEFT_REJECTED',
  /** A downstream service already retried and failed; do not retry again. */
  UpstreamExhausted: 'WEFT_UPSTREAM_EXHAUSTED',
  /** The request failed after it may have reached the server. */
  RequestFailed: 'WEFT_REQUEST_FAILED',
  /** An option or config document was invalid. */
  InvalidOption: 'WEFT_INVALID_OPTION',
  /** This Node.js is older than the package needs (thrown when the package is first imported). */
  UnsupportedRuntime: 'WEFT_UNSUPPORTED_RUNTIME',
  /** A resolver could not produce endpoints. */
  ResolutionFailed: 'WEFT_RESOLUTION_FAILED',
  /** The client was closed. */
  Closed: 'WEFT_CLOSED',
  /** The config service refused the token (401) or its role (403): a wrong or revoked token, not an outage. */
  Unauthorized: 'WEFT_UNAUTHORIZED',
  /**
   * A server's authorization refused the call before its handler ran (HTTP 403, gRPC
   * PERMISSION_DENIED). Never retried: another endpoint would decide the same.
   */
  PermissionDenied: 'WEFT_PERMISSION_DENIED',
  /**
   * The kill switch is on (a `TrafficSwitch` document, mesh-wide or for the service): a client fails
   * the call before sending it, a server refuses it before its handler runs (HTTP 503, gRPC
   * UNAVAILABLE, both with `weft-no-retry`). Never retried: every endpoint is stopped too.
   */
  TrafficStopped: 'WEFT_TRAFFIC_STOPPED',
  /**
   * A destination accepts only mTLS (`PeerAuthentication` mode `STRICT`, or the client's own `mtls.mode`)
   * and this client cannot make an mTLS connection (no identity, or no certificate yet): nothing is
   * sent in plaintext. Not retried.
   */
  MtlsRequired: 'WEFT_MTLS_REQUIRED',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface WeftErrorOptions {
  /** Whether a retry of the same request may succeed. Defaults to false. */
  retryable?: boolean;
  /** The underlying error. */
  cause?: unknown;
}

/** The base class of every error Weft raises. */
export class WeftError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options: WeftErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'WeftError';
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

/** True when `value` is a {@link WeftError}, optionally with the given code. */
export function isWeftError(value: unknown, code?: ErrorCode): value is WeftError {
  return value instanceof WeftError && (code === undefined || value.code === code);
}

/** An option failed validation: the message names the option and the allowed range. */
export function invalidOption(name: string, reason: string): WeftError {
  return new WeftError(ErrorCode.InvalidOption, `invalid option ${name}: ${reason}`);
}

/**
 * The error an aborted call reports: Weft's own abort reasons (deadline, per-try timeout) as they
 * are, anything else (a caller's `AbortController.abort()`) as `WEFT_CANCELLED` with the reason as
 * its cause. Transports and every place that waits on a call's signal use it, so no layer mistakes
 * a caller's cancellation for a failure of the destination.
 */
export function abortError(reason: unknown): WeftError {
  return reason instanceof WeftError
    ? reason
    : new WeftError(ErrorCode.Cancelled, 'the call was cancelled by its caller', { cause: reason });
}
