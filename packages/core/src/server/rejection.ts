/**
 * Refusals. A server module refuses a call by throwing a {@link WeftError}; the protocol binding
 * turns it into its reply by code, so a module written once refuses the same way over HTTP and gRPC:
 *
 * | code                     | HTTP                             | gRPC                                  |
 * | ------------------------ | -------------------------------- | ------------------------------------- |
 * | `WEFT_REJECTED`          | 503 + `weft-rejected: 1`         | UNAVAILABLE + `weft-rejected: 1`      |
 * | `WEFT_DEADLINE_EXCEEDED` | 504 + `weft-no-retry: 1`         | DEADLINE_EXCEEDED + `weft-no-retry: 1`|
 * | `WEFT_PERMISSION_DENIED` | 403 + `weft-no-retry: 1`         | PERMISSION_DENIED + `weft-no-retry: 1`|
 * | `WEFT_UNAUTHORIZED`      | 401                              | UNAUTHENTICATED                       |
 * | `WEFT_TRAFFIC_STOPPED`   | 503 + `weft-no-retry: 1`         | UNAVAILABLE + `weft-no-retry: 1`      |
 * | any other                | 500                              | INTERNAL                              |
 *
 * `weft-rejected` says "not processed, safe to retry elsewhere whatever the method"; a denial is
 * never retried (another endpoint would decide the same). The kill switch answers 503/UNAVAILABLE
 * (the service is out of service on purpose, for a while — not "you may not") with the no-retry
 * marker: every endpoint of the service is stopped too, so trying another would only add load.
 */
import { ErrorCode, WeftError } from '../errors/errors.ts';

export interface ServerRejectionOptions {
  /** The `weft.reason` of the refusal metric. Defaults to the code without its prefix (`permission_denied`). */
  reason?: string;
  /** Whether a retry elsewhere may succeed. Defaults to true for `WEFT_REJECTED`, else false. */
  retryable?: boolean;
  /** Seconds the client should hold off this instance (HTTP `Retry-After`). Defaults to none. */
  retryAfterSeconds?: number;
  cause?: unknown;
}

/** A refusal with the reason it is counted under and an optional pushback. */
export class ServerRejection extends WeftError {
  readonly reason: string;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, message: string, options: ServerRejectionOptions = {}) {
    super(code, message, {
      retryable: options.retryable ?? code === ErrorCode.Rejected,
      cause: options.cause,
    });
    this.reason = options.reason ?? reasonOfCode(code);
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** Why the built-in modules refuse a call. */
export type BuiltInRejection = 'draining' | 'concurrency' | 'rate' | 'deadline';

/**
 * The built-in modules' refusals, made once: refusing a call allocates nothing (so their stack
 * traces say where they were made, not where they were thrown). Bindings precompute their replies.
 */
export const SERVER_REJECTIONS: Readonly<Record<BuiltInRejection, ServerRejection>> = {
  draining: new ServerRejection(ErrorCode.Rejected, 'the server is draining: not processed', {
    reason: 'draining',
  }),
  concurrency: new ServerRejection(ErrorCode.Rejected, 'over the concurrency limit: not processed', {
    reason: 'concurrency',
  }),
  // Only a rate refusal asks clients to hold off: the bucket refills over seconds, while a
  // concurrency slot frees as soon as any call ends, and a draining server is going away.
  rate: new ServerRejection(ErrorCode.Rejected, 'over the rate limit: not processed', {
    reason: 'rate',
    retryAfterSeconds: 1,
  }),
  // The caller has given up already: answering at once frees the connection; retrying is pointless.
  deadline: new ServerRejection(ErrorCode.DeadlineExceeded, 'the deadline had passed on arrival', {
    reason: 'deadline',
  }),
};

/** The `weft.reason` a refusal is counted under. */
export function rejectionReason(error: WeftError): string {
  return error instanceof ServerRejection ? error.reason : reasonOfCode(error.code);
}

/** What a refusal asks of the client, in seconds (`undefined` for nothing). */
export function retryAfterSeconds(error: WeftError): number | undefined {
  return error instanceof ServerRejection ? error.retryAfterSeconds : undefined;
}

/** A module threw something that is not a WeftError (a bug): the call is refused as an internal error. */
export function internalRejection(cause: unknown): ServerRejection {
  return new ServerRejection(ErrorCode.RequestFailed, 'a server module failed before the handler ran', {
    reason: 'error',
    cause,
  });
}

function reasonOfCode(code: string): string {
  return code.replace(/^WEFT_/, '').toLowerCase();
}
