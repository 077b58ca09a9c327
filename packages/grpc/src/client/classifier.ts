/**
 * gRPC response classification.
 *
 * - OK, and any status after the first streamed message, is a success: the stream is committed.
 * - `weft-no-retry` in the trailers: the server already retried downstream; never retried here.
 * - `weft-rejected`: the server shed the call unprocessed (admission control, draining): retried
 *   whatever the method.
 * - UNAVAILABLE before anything came back on a channel that was not yet connected: the request was
 *   never sent; retried whatever the method.
 * - Codes in `retryableCodes` (UNAVAILABLE by default): retried only for idempotent methods.
 * - Server faults (UNKNOWN, DEADLINE_EXCEEDED, INTERNAL, UNAVAILABLE, DATA_LOSS) are failures and
 *   count against the endpoint; other codes (NOT_FOUND, INVALID_ARGUMENT, …) are answers.
 */
import { status as Status } from '@grpc/grpc-js';
import { type Classifier, classifyError, Header } from '@weft/core';
import type { GrpcCall } from './call.ts';
import type { GrpcExchange } from './exchange.ts';

export const DEFAULT_RETRYABLE_CODES: readonly Status[] = [Status.UNAVAILABLE];

const SERVER_FAULTS = new Set<Status>([
  Status.UNKNOWN,
  Status.DEADLINE_EXCEEDED,
  Status.INTERNAL,
  Status.UNAVAILABLE,
  Status.DATA_LOSS,
]);

export function grpcClassifier(
  retryableCodes: readonly Status[] = DEFAULT_RETRYABLE_CODES,
): Classifier<GrpcCall, GrpcExchange> {
  const retryable = new Set(retryableCodes);
  return (call, response, error) => {
    if (response === undefined) return classifyError(call, error);
    const st = response.status;
    if (st === undefined || st.code === Status.OK || response.received > 0) return 'success';
    const md = st.metadata;
    if (md.get(Header.noRetry).length > 0) return 'failure';
    if (md.get(Header.rejected).length > 0) return 'retryable';
    if (response.notSent) return 'retryable';
    if (retryable.has(st.code) && call.idempotent) return 'retryable';
    return SERVER_FAULTS.has(st.code) || retryable.has(st.code) ? 'failure' : 'success';
  };
}
