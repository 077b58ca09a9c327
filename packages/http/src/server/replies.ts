/**
 * The responses the server middleware writes itself: rejections (shed, draining, deadline passed),
 * health and admin. Rejection bodies are made once, so shedding a request costs no serialization.
 */
import { Header, type RejectReason } from '@weft/core';

export interface Reply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** The same headers without the connection-specific ones, which HTTP/2 forbids (RFC 9113 §8.2.2). */
  readonly h2Headers: Readonly<Record<string, string>>;
  readonly body: string;
}

function json(status: number, headers: Record<string, string>, body: unknown): Reply {
  const text = JSON.stringify(body);
  const all: Record<string, string> = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  };
  const { connection: _c, ...h2Headers } = all;
  return { status, headers: all, h2Headers, body: text };
}

/** The headers of `reply` for a request of HTTP major version `httpVersionMajor`. */
export function replyHeaders(
  reply: Reply,
  httpVersionMajor: number | undefined,
): Readonly<Record<string, string>> {
  return httpVersionMajor === 2 ? reply.h2Headers : reply.headers;
}

/** Why the server refused a request before its handler ran (`weft.reason` on the metric). */
export type ShedReason = RejectReason | 'draining' | 'deadline';

const rejected = (reason: string, extra: Record<string, string> = {}) =>
  json(
    503,
    { [Header.rejected]: '1', ...extra },
    { error: 'WEFT_REJECTED', reason, message: 'request not processed; safe to retry on another endpoint' },
  );

/**
 * Only a rate-limit refusal carries `Retry-After`: the bucket refills over seconds, so every client
 * (Weft's honours it) should hold off this instance. A concurrency refusal is momentary — a slot
 * frees as soon as any request ends — and a draining instance is going away: a `Retry-After` there
 * would make a client with no other endpoint wait a whole second for nothing.
 */
export const REJECTIONS: Readonly<Record<ShedReason, Reply>> = {
  concurrency: rejected('concurrency'),
  rate: rejected('rate', { 'retry-after': '1' }),
  // Closing the connection moves the client's keep-alive pool off this instance.
  draining: rejected('draining', { connection: 'close' }),
  // The caller has given up already: answering quickly frees the connection; retrying is pointless.
  deadline: json(
    504,
    { [Header.noRetry]: '1' },
    { error: 'WEFT_DEADLINE_EXCEEDED', message: 'the deadline of the request had passed on arrival' },
  ),
};

export const LIVE = json(200, { 'cache-control': 'no-store' }, { status: 'live' });
export const READY = json(200, { 'cache-control': 'no-store' }, { status: 'ready' });
export const NOT_READY = json(503, { 'cache-control': 'no-store' }, { status: 'draining' });

export function adminReply(body: unknown): Reply {
  return json(200, { 'cache-control': 'no-store' }, body);
}
