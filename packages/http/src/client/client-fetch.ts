/**
 * `client.fetch` after the call is made: sends it through the destination and follows redirects as
 * the fetch standard's "HTTP-redirect fetch" does (§4.4): 301/302 turn a POST into a GET, 303 turns
 * anything but GET and HEAD into a GET, both without the body and its headers; 307/308 resend the
 * same method and body (only a body that can be sent again); at most 20 redirects; `redirect:
 * 'error'` fails and `'manual'` returns the redirect itself. A client talks to one service, so it
 * follows only redirects that stay with it (a relative `Location`, the service's own name, or the
 * endpoint that answered); one that leaves fails with `WEFT_REQUEST_FAILED`.
 */
import { ErrorCode, Header, WeftError } from '@weft/core';
import { HttpCall } from './call.ts';
import type { HttpDestination } from './destination.ts';
import type { HttpExchange } from './exchange.ts';
import { toResponse } from './response.ts';

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 20;
/** Headers describing a request body, dropped with it when a redirect turns the request into a GET. */
const BODY_HEADERS = [
  'content-type',
  'content-length',
  'content-encoding',
  'content-language',
  'content-location',
];
/** Headers the mesh writes on every attempt; a redirect's new call writes its own. */
const MESH_HEADERS: string[] = [Header.deadline, Header.attempt, Header.traceparent, Header.tracestate];

/**
 * The response to a call whose head has arrived: the `Response` itself when it is no redirect to
 * follow (no extra promise on the usual path), else the redirects followed.
 */
export function respond(
  destination: HttpDestination,
  call: HttpCall,
  exchange: HttpExchange,
  url: string,
  init: RequestInit,
): Response | Promise<Response> {
  if (
    !REDIRECT_STATUSES.has(exchange.statusCode) ||
    exchange.headers.location === undefined ||
    init.redirect === 'manual'
  )
    return toResponse(exchange, call.method, url, false);
  return follow(destination, call, exchange, url, init);
}

async function follow(
  destination: HttpDestination,
  first: HttpCall,
  head: HttpExchange,
  url: string,
  init: RequestInit,
): Promise<Response> {
  let call = first;
  let exchange = head;
  for (let hops = 0; ; hops++) {
    const location = REDIRECT_STATUSES.has(exchange.statusCode) ? exchange.headers.location : undefined;
    if (location === undefined) return toResponse(exchange, call.method, url, hops > 0);
    exchange.discard();
    const target = String(location);
    if (init.redirect === 'error')
      throw refused(call, `${exchange.statusCode} redirect to ${target} (redirect is 'error')`);
    if (hops >= MAX_REDIRECTS) throw refused(call, `more than ${MAX_REDIRECTS} redirects`);
    let next: URL;
    try {
      next = new URL(target, url);
    } catch {
      throw refused(call, `redirect to an invalid URL ${JSON.stringify(target)}`);
    }
    if (next.protocol !== 'http:' && next.protocol !== 'https:')
      throw refused(call, `redirect to a ${next.protocol} URL`);
    const here = new URL(url);
    if (next.host !== here.host && next.hostname !== call.destination && next.host !== exchange.endpoint)
      throw refused(
        call,
        `redirect to ${next.origin} leaves the service (use redirect: 'manual' to handle it)`,
      );
    call = redirected(call, exchange, next, init.signal ?? undefined);
    url = next.href;
    exchange = await destination.call(call);
  }
}

/** The next hop's call: same caller headers and signal; method and body as §4.4 says. */
function redirected(
  call: HttpCall,
  exchange: HttpExchange,
  next: URL,
  signal: AbortSignal | undefined,
): HttpCall {
  const status = exchange.statusCode;
  const headers = { ...call.headers };
  for (const name of MESH_HEADERS) delete headers[name];
  let method = call.method;
  let body = call.body;
  if (
    (status === 303 && method !== 'GET' && method !== 'HEAD') ||
    ((status === 301 || status === 302) && method === 'POST')
  ) {
    method = 'GET';
    body = undefined;
    for (const name of BODY_HEADERS) delete headers[name];
  } else if (call.streamed || (body !== undefined && body !== null && !call.replayable)) {
    throw refused(
      call,
      `a ${status} redirect needs the request body again, and a stream cannot be sent twice`,
    );
  }
  const hop = new HttpCall(call.destination, method, `${next.pathname}${next.search}`, headers, body, signal);
  hop.timeoutMs = call.timeoutMs;
  if (method === call.method) hop.idempotent = call.idempotent;
  return hop;
}

function refused(call: HttpCall, why: string): WeftError {
  return new WeftError(ErrorCode.RequestFailed, `request to ${call.destination} failed: ${why}`);
}
