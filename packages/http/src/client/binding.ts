/**
 * The HTTP binding: what core needs from HTTP over undici. The terminal sends an attempt on its
 * endpoint's Pool; the deadline travels as `weft-deadline-ms`; spans and metrics carry the
 * OpenTelemetry HTTP conventions' names; `weft-no-retry` and `Retry-After` are read from the head.
 */
import {
  type ClientMtls,
  discardExchange,
  Header,
  onExchangeDone,
  type ProtocolBinding,
  type ProtocolSemconv,
  parseRetryAfter,
  writeDeadlineHeader,
} from '@weft/core';
import type { DestinationPolicy } from '@weft/core/config';
import type { Pool } from 'undici';
import type { HttpCall } from './call.ts';
import { httpClassifier } from './classifier.ts';
import type { HttpExchange } from './exchange.ts';
import {
  editRequestHeaders,
  editResponseHeaders,
  faultResponse,
  mirror,
  requestHeader,
} from './route-hooks.ts';
import { createPool, retirePool, send, type TransportOptions } from './transport.ts';

/** The names of the OpenTelemetry HTTP semantic conventions (stable) for client spans and metrics. */
export const HTTP_SEMCONV: ProtocolSemconv<HttpCall> = {
  spanName: (call) => call.method,
  methodKey: 'http.request.method',
  statusKey: 'http.response.status_code',
  resendCountKey: 'http.request.resend_count',
  attemptDuration: { name: 'http.client.request.duration', unit: 's' },
};

function classifier(policy: DestinationPolicy) {
  return httpClassifier(policy.retry?.retryOnStatuses);
}

/** A removed endpoint's pool closes once its requests in flight have finished. */
function closePool(pool: Pool): void {
  pool
    .close()
    .catch(() => {})
    .finally(() => retirePool(pool));
}

function status(response: HttpExchange): number {
  return response.statusCode;
}

function upstreamExhausted(response: HttpExchange): boolean {
  return response.headers[Header.noRetry] !== undefined;
}

function pushbackMs(response: HttpExchange): number | undefined {
  return parseRetryAfter(response.headers['retry-after'], Date.now());
}

function terminal() {
  return send;
}

/** The binding of one HTTP client: one undici Pool per endpoint, made with `transport`. */
export function httpBinding(
  transport: TransportOptions,
  mtls?: ClientMtls,
): ProtocolBinding<HttpCall, HttpExchange, Pool> {
  return {
    name: 'http',
    semconv: HTTP_SEMCONV,
    terminal,
    classifier,
    connect: (endpoint) => createPool(endpoint, transport, mtls),
    disconnect: closePool,
    writeDeadline: writeDeadlineHeader,
    status,
    discard: discardExchange,
    onBodyDone: onExchangeDone,
    upstreamExhausted,
    pushbackMs,
    methodKind: 'verb',
    requestHeader,
    editRequestHeaders,
    editResponseHeaders,
    rewritesPaths: true,
    mirror,
    faultResponse,
  };
}
