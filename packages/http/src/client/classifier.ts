/**
 * HTTP response classification. Retryable: a response marked `weft-rejected` (the server shed it
 * unprocessed, whatever the method), and statuses in `retryOnStatuses` (502, 503, 504 by default) on
 * idempotent requests. Never retried: a response marked `weft-no-retry` (its server already retried
 * downstream). Other 5xx are failures; everything else is a success (a 404 is an answer, not a
 * fault of the endpoint). An accepted upgrade is a success whatever its status and the policy say:
 * its connection is the caller's, and a retry would open a second one.
 */
import { type Classifier, classifyError, Header } from '@weft/core';
import type { HttpCall } from './call.ts';
import type { HttpExchange } from './exchange.ts';

export const DEFAULT_RETRY_STATUSES: readonly number[] = [502, 503, 504];

export function httpClassifier(
  retryOnStatuses: readonly number[] = DEFAULT_RETRY_STATUSES,
): Classifier<HttpCall, HttpExchange> {
  const retryable = new Set(retryOnStatuses);
  return (call, response, error) => {
    if (response === undefined) return classifyError(call, error);
    const status = response.statusCode;
    if (status < 500 && !retryable.has(status)) return 'success';
    if (response.socket !== undefined) return 'success';
    const headers = response.headers;
    if (headers[Header.noRetry] !== undefined) return 'failure';
    if (headers[Header.rejected] !== undefined) return 'retryable';
    if (call.idempotent && retryable.has(status)) return 'retryable';
    return status >= 500 ? 'failure' : 'success';
  };
}
