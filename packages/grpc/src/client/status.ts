/**
 * How Weft's typed errors reach a gRPC caller: as a status with the closest gRPC code, the error's
 * message as details, and its stable code in the `weft-error` trailer.
 */
import { Metadata, status as Status, type StatusObject } from '@grpc/grpc-js';
import { ErrorCode, isWeftError } from '@weft/core';

/** Trailer carrying the Weft error code of a locally generated status. */
export const WEFT_ERROR_KEY = 'weft-error';

const CODES: Record<string, Status> = {
  [ErrorCode.DeadlineExceeded]: Status.DEADLINE_EXCEEDED,
  [ErrorCode.AttemptTimeout]: Status.DEADLINE_EXCEEDED,
  [ErrorCode.Cancelled]: Status.CANCELLED,
  [ErrorCode.CircuitOpen]: Status.UNAVAILABLE,
  [ErrorCode.NoEndpoints]: Status.UNAVAILABLE,
  [ErrorCode.ConnectFailed]: Status.UNAVAILABLE,
  [ErrorCode.Rejected]: Status.UNAVAILABLE,
  [ErrorCode.BudgetExhausted]: Status.UNAVAILABLE,
  [ErrorCode.UpstreamExhausted]: Status.UNAVAILABLE,
  [ErrorCode.Closed]: Status.UNAVAILABLE,
  [ErrorCode.InvalidOption]: Status.INVALID_ARGUMENT,
  [ErrorCode.ResolutionFailed]: Status.UNAVAILABLE,
  [ErrorCode.TrafficStopped]: Status.UNAVAILABLE,
  // Not UNAVAILABLE, which callers and proxies retry: no retry can succeed until the client gets
  // an identity (or the destination leaves STRICT), which is what FAILED_PRECONDITION says.
  [ErrorCode.MtlsRequired]: Status.FAILED_PRECONDITION,
};

/**
 * Core names a call by its method and its path; a gRPC method is its path, so the pair reads
 * `/pkg.Service/Method /pkg.Service/Method`: said once here.
 */
function details(message: string): string {
  return message.replace(/ (\/\S+) \1(?=$|[\s:,])/, ' $1');
}

export function statusFromError(error: unknown): StatusObject {
  const metadata = new Metadata();
  if (isWeftError(error)) {
    metadata.set(WEFT_ERROR_KEY, error.code);
    return { code: CODES[error.code] ?? Status.UNKNOWN, details: details(error.message), metadata };
  }
  return { code: Status.INTERNAL, details: (error as Error | undefined)?.message ?? String(error), metadata };
}
