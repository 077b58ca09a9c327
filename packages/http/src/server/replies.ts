/**
 * The responses the server middleware writes itself: refusals (by the error's code, see
 * rejection.ts in @weft/core), health and admin. The built-in refusals' replies are made once, so
 * shedding a request costs no serialization.
 */
import {
  type BuiltInRejection,
  ErrorCode,
  Header,
  rejectionReason,
  retryAfterSeconds,
  SERVER_REJECTIONS,
  type WeftError,
} from '@weft/core';

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
export type ShedReason = BuiltInRejection;

/**
 * The reply refusing a request with `error`, by its code: `WEFT_REJECTED` 503 + `weft-rejected`
 * (safe to retry elsewhere whatever the method; `Retry-After` only when the refusal asks clients to
 * hold off), `WEFT_DEADLINE_EXCEEDED` 504 + `weft-no-retry`, `WEFT_PERMISSION_DENIED` 403 + `weft-no-retry`,
 * `WEFT_UNAUTHORIZED` 401, `WEFT_TRAFFIC_STOPPED` (the kill switch) 503 + `weft-no-retry`,
 * anything else 500.
 */
function makeReply(error: WeftError, extra: Record<string, string> = {}): Reply {
  const reason = rejectionReason(error);
  switch (error.code) {
    case ErrorCode.Rejected: {
      const wait = retryAfterSeconds(error);
      return json(
        503,
        { [Header.rejected]: '1', ...(wait === undefined ? {} : { 'retry-after': String(wait) }), ...extra },
        { error: error.code, reason, message: 'request not processed; safe to retry on another endpoint' },
      );
    }
    case ErrorCode.DeadlineExceeded:
      return json(504, { [Header.noRetry]: '1', ...extra }, { error: error.code, message: error.message });
    case ErrorCode.PermissionDenied:
      // Another endpoint would decide the same: never retried.
      return json(
        403,
        { [Header.noRetry]: '1', ...extra },
        { error: error.code, reason, message: error.message },
      );
    case ErrorCode.Unauthorized:
      return json(401, extra, { error: error.code, reason, message: error.message });
    case ErrorCode.TrafficStopped:
      return json(
        503,
        { [Header.noRetry]: '1', ...extra },
        { error: error.code, reason, message: error.message },
      );
    default:
      return json(500, extra, { error: error.code, reason, message: 'refused before the handler ran' });
  }
}

/** The built-in refusals' replies, made once. */
export const REJECTIONS: Readonly<Record<BuiltInRejection, Reply>> = {
  concurrency: makeReply(SERVER_REJECTIONS.concurrency),
  rate: makeReply(SERVER_REJECTIONS.rate),
  // Closing the connection moves the client's keep-alive pool off this instance.
  draining: makeReply(SERVER_REJECTIONS.draining, { connection: 'close' }),
  deadline: json(
    504,
    { [Header.noRetry]: '1' },
    { error: ErrorCode.DeadlineExceeded, message: 'the deadline of the request had passed on arrival' },
  ),
};

const BUILT_IN = new Map<WeftError, Reply>(
  (Object.keys(REJECTIONS) as BuiltInRejection[]).map((r) => [SERVER_REJECTIONS[r], REJECTIONS[r]]),
);

/** The reply refusing a request with `error` (a built-in refusal's is made once). */
export function replyFor(error: WeftError): Reply {
  const built = BUILT_IN.get(error);
  if (built !== undefined) return built;
  // The kill switch refuses every call with one error per flip: its reply is made once too.
  if (error.code !== ErrorCode.TrafficStopped) return makeReply(error);
  if (lastStop?.error !== error) lastStop = { error, reply: makeReply(error) };
  return lastStop.reply;
}

let lastStop: { error: WeftError; reply: Reply } | undefined;

export const LIVE = json(200, { 'cache-control': 'no-store' }, { status: 'live' });
export const READY = json(200, { 'cache-control': 'no-store' }, { status: 'ready' });
export const NOT_READY = json(503, { 'cache-control': 'no-store' }, { status: 'draining' });

export function adminReply(body: unknown): Reply {
  return json(200, { 'cache-control': 'no-store' }, body);
}
