/**
 * The error half of classification, shared by every protocol. A protocol's classifier handles its
 * responses and defers errors to {@link classifyError}.
 *
 * Safe to retry whatever the method: failures before the request reached the server
 * (`WEFT_CONNECT_FAILED`) and requests a server shed unprocessed (`WEFT_REJECTED`). Retried only
 * when idempotent: a timed-out attempt or a failure after the request may have been sent.
 * Never retried: the call's own deadline, an open breaker, and an upstream that says it already
 * retried (`WEFT_UPSTREAM_EXHAUSTED`). The caller's cancellation is `ignored`: it counts for nothing.
 */
import { ErrorCode, isWeftError } from '../errors/errors.ts';
import type { Call } from '../stack/call.ts';
import type { Outcome } from '../stack/env.ts';

export function classifyError(call: Call, error: unknown): Outcome {
  if (!isWeftError(error)) return call.idempotent ? 'retryable' : 'failure';
  switch (error.code) {
    case ErrorCode.ConnectFailed:
    case ErrorCode.Rejected:
      return 'retryable';
    case ErrorCode.AttemptTimeout:
    case ErrorCode.RequestFailed:
      return call.idempotent ? 'retryable' : 'failure';
    case ErrorCode.Cancelled:
      return 'ignored';
    case ErrorCode.DeadlineExceeded:
    case ErrorCode.CircuitOpen:
    case ErrorCode.UpstreamExhausted:
    case ErrorCode.NoEndpoints:
    case ErrorCode.BudgetExhausted:
      return 'failure';
    default:
      return error.retryable ? 'retryable' : 'failure';
  }
}

/** True when the error is the caller's own doing (cancellation), which says nothing of the endpoint. */
export function isCallerCancellation(error: unknown): boolean {
  return isWeftError(error, ErrorCode.Cancelled) || isWeftError(error, ErrorCode.DeadlineExceeded);
}
