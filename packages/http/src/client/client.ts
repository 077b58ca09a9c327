/**
 * `createClient`: a fetch-compatible client for one destination service. Every call goes through the
 * Weft stack: inherited deadline and trace, breaker, budgeted retries, per-try timeout, P2C-EWMA
 * over healthy endpoints, one undici Pool per endpoint.
 */

import { checkServiceName, type DestinationDescription, ErrorCode, WeftError } from '@weft/core';
import type { Dispatcher } from 'undici';
import { type HttpBody, HttpCall } from './call.ts';
import { ClientDispatcher } from './client-dispatcher.ts';
import { respond } from './client-fetch.ts';
import { closeHttpDestination, createHttpDestination } from './destination.ts';
import { type ClientOptions, checkClientKeys } from './options.ts';
import { checkHeader, checkTarget } from './request-headers.ts';

/** `RequestInit` plus Weft's per-call settings. */
export interface WeftRequestInit extends RequestInit {
  /** Total time for this call in ms, overriding the client's `timeoutMs`. */
  timeoutMs?: number;
  /** Declares the request safe to repeat (e.g. a POST with an idempotency key). Defaults by method. */
  idempotent?: boolean;
}

export interface WeftClient {
  readonly service: string;
  /**
   * Sends a request to the service. `input` is a path (`/users/1`) or a URL whose path is used
   * (`http://users/users/1`). Resolves with a standard Response; rejects with a `WeftError`.
   */
  fetch(input: string | URL, init?: WeftRequestInit): Promise<Response>;
  /**
   * The client as an undici Dispatcher, for what `fetch` cannot do: HTTP upgrades and WebSockets
   * (`undici.upgrade(url, { dispatcher })`, `new WebSocket(url, { dispatcher })`) and undici's own
   * `request`/`stream`/`pipeline`. Every request goes to this client's service, whatever the URL's
   * host, through the same stack as `fetch`: balanced, and an upgrade retried only when it never
   * left (a refused connection), never once the server answered it. The default `Host` is the
   * URL's (the endpoint's address over `https`). Closing it closes the client.
   */
  readonly dispatcher: Dispatcher;
  /** The effective policy, stack and endpoint state. */
  describe(): DestinationDescription;
  /** Releases connections and watchers; in-flight requests finish first. */
  close(): Promise<void>;
}

/** The init of a call given none, shared (a call without init allocates no object for it). */
const NO_INIT: WeftRequestInit = Object.freeze({});

export function createClient(options: ClientOptions): WeftClient {
  checkClientKeys('createClient', options);
  const service = checkServiceName(options?.service);
  const destination = createHttpDestination(service, options, 'createClient');
  const tls = options.scheme === 'https';
  const close = () => closeHttpDestination(destination);
  let dispatcher: ClientDispatcher | undefined;
  return {
    service,
    async fetch(input, init) {
      const made = toCall(service, input, init, tls);
      const call = made instanceof HttpCall ? made : await made;
      const exchange = await destination.call(call);
      return respond(destination, call, exchange, requestUrl(service, input), init ?? NO_INIT);
    },
    get dispatcher() {
      dispatcher ??= new ClientDispatcher(destination, tls, close);
      return dispatcher;
    },
    describe: () => destination.describe(),
    close,
  };
}

/**
 * Turns fetch arguments into a call: method, path, lower-case headers, a body undici can send.
 * Synchronous for the usual bodies (none, string, bytes, stream), so a call costs no extra promise.
 */
export function toCall(
  service: string,
  input: string | URL,
  init: WeftRequestInit = {},
  tls = false,
): HttpCall | Promise<HttpCall> {
  const path = toPath(input);
  const method = (init.method ?? 'GET').toUpperCase();
  const headers: Record<string, string> = {};
  checkTarget(service, method, path);
  if (init.headers)
    for (const [name, value] of new Headers(init.headers)) {
      // Refused here, before the stack, as the dispatcher does (see request-headers.ts).
      checkHeader(service, name, value);
      headers[name] = value;
    }
  fetchDefaults(headers, tls);
  const make = (body: HttpBody) => {
    const call = new HttpCall(service, method, path, headers, body, init.signal ?? undefined);
    if (init.timeoutMs !== undefined) call.timeoutMs = checkCallTimeout(init.timeoutMs);
    if (init.idempotent !== undefined) call.idempotent = init.idempotent;
    return call;
  };
  // Only bodies the platform must serialize (Blob, FormData, URLSearchParams) need to wait.
  const body = toBody(init.body, headers);
  return body instanceof Promise ? body.then(make) : make(body);
}

/** A per-call `timeoutMs`: a finite number of ms ≥ 0 (0 = only the inherited deadline). */
function checkCallTimeout(ms: unknown): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0 || ms > 86_400_000)
    throw new WeftError(
      ErrorCode.InvalidOption,
      `invalid option timeoutMs: the per-call timeout must be a number of ms from 0 to 86400000, got ${String(ms)}`,
    );
  return ms;
}

/** The request's URL as `Response.url` reports it: a path is taken as `http://<service><path>`. */
function requestUrl(service: string, input: string | URL): string {
  if (typeof input === 'string' && input.startsWith('/')) return `http://${service}${input}`;
  const url = new URL(input);
  url.hash = '';
  return url.href;
}

/**
 * The request headers fetch adds when the caller did not set them (Fetch §4.1 main fetch, steps 12
 * and 13; §4.5 HTTP-network-or-cache fetch, `Accept-Encoding` and `Sec-Fetch-Mode`), so a server
 * sees the same request from `client.fetch` as from `fetch`. No default `User-Agent`: the two
 * fetches themselves disagree on it (`undici`, `node`).
 */
function fetchDefaults(headers: Record<string, string>, tls: boolean): void {
  if (headers.accept === undefined) headers.accept = '*/*';
  if (headers['accept-language'] === undefined) headers['accept-language'] = '*';
  headers['sec-fetch-mode'] = 'cors';
  if (headers.range !== undefined) headers['accept-encoding'] = 'identity';
  else if (headers['accept-encoding'] === undefined)
    headers['accept-encoding'] = tls ? 'br, gzip, deflate, zstd' : 'gzip, deflate';
}

function toPath(input: string | URL): string {
  if (typeof input === 'string' && input.startsWith('/')) return input;
  try {
    const url = typeof input === 'string' ? new URL(input) : input;
    return `${url.pathname}${url.search}`;
  } catch {
    throw new WeftError(
      ErrorCode.InvalidOption,
      `invalid request target ${JSON.stringify(String(input))}: give a path or a URL`,
    );
  }
}

function toBody(
  body: BodyInit | null | undefined,
  headers: Record<string, string>,
): HttpBody | Promise<HttpBody> {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') {
    // As the platform's fetch does.
    if (headers['content-type'] === undefined) headers['content-type'] = 'text/plain;charset=UTF-8';
    return body;
  }
  if (body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  // Streams and async iterables go out as they are read (fetch's `duplex: 'half'`); HttpCall keeps
  // them replayable while nothing was read.
  if (body instanceof ReadableStream || Symbol.asyncIterator in body) return body as unknown as HttpBody;
  // URLSearchParams, Blob, FormData: let the platform serialize them (and choose the content type).
  const request = new Request('http://weft.invalid/', { method: 'POST', body });
  const type = request.headers.get('content-type');
  if (type && headers['content-type'] === undefined) headers['content-type'] = type;
  return request.arrayBuffer().then((bytes) => new Uint8Array(bytes));
}
