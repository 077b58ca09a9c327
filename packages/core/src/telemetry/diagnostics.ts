/**
 * Weft's events on `node:diagnostics_channel`: free when nobody subscribes (publishers check
 * `hasSubscribers` first), and a stable way for tools and tests to watch the mesh's decisions.
 */
import { channel } from 'node:diagnostics_channel';

export const diagnostics = {
  /** `{ destination, endpoint, health, reason }` when an endpoint is ejected, probed or readmitted. */
  health: channel('weft:endpoint:health'),
  /** `{ destination, state }` when a circuit breaker opens, half-opens or closes. */
  breaker: channel('weft:breaker:state'),
  /** `{ destination, attempt, reason }` when a call is retried. */
  retry: channel('weft:retry'),
  /** `{ destination, reason }` when a retry was wanted but the budget was spent. */
  budgetExhausted: channel('weft:retry:budget-exhausted'),
  /**
   * `{ error, method, path }` when a server module threw something that is not a `WeftError` (a
   * bug): the call was refused as an internal error (500, gRPC INTERNAL) and this is its trace.
   */
  serverError: channel('weft:server:error'),
  /**
   * `{ service, policy, reason, peer, method, path }` when an `AuthorizationPolicy` denied a call:
   * `peer` is the caller's SPIFFE ID (undefined: unauthenticated), `path` has no query string (it
   * may carry secrets); no header is included.
   */
  authzDenied: channel('weft:server:authz-denied'),
} as const;
