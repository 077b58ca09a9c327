/**
 * A dispatcher request's headers as the call carries them. What the caller sent is kept: names in
 * their own case and its `Host`; when it sent none, the `Host` a plain fetch would send (the URL's
 * host and port). Only the names the mesh itself reads or writes (trace context, baggage, `weft-*`)
 * are lower-cased, so that a caller's `Traceparent` is the one the attempt filter sees.
 *
 * The request is checked here as undici checks it before sending: a request undici would refuse
 * (a bad method, path, header name or value; `expect`, `upgrade`, `transfer-encoding`, …) fails with
 * `WEFT_INVALID_OPTION` before the stack sees it, so it is never retried, never counted against an
 * endpoint, and never reaches an endpoint's pool (where undici marks a connection busy for it).
 * An upgrade is asked for with the dispatch option `upgrade`, as undici asks for it, never with a
 * header; `CONNECT` opens a tunnel to some other host, which is no call to a service, and is refused.
 */
import { ErrorCode, WeftError } from '@weft/core';
import { type Dispatcher, errors } from 'undici';

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
const INVALID_PATH = /[^\u0021-\u00ff]/;
const KNOWN_METHODS = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'OPTIONS',
  'PATCH',
  'TRACE',
  'CONNECT',
]);
/** Names that undici sets itself and refuses from a caller. */
const REFUSED = new Set(['transfer-encoding', 'keep-alive', 'upgrade']);
/** Names the mesh reads or writes by their lower-case spelling. */
const MESH_NAMES = new Set(['traceparent', 'tracestate', 'baggage']);

function invalid(destination: string, cause: Error): WeftError {
  return new WeftError(ErrorCode.InvalidOption, `invalid request to ${destination}: ${cause.message}`, {
    cause,
  });
}

/**
 * The headers to send. `authority` is the default `Host` (undefined to let the endpoint's address
 * stand, as over TLS, where the `Host` also names the server for SNI). Throws a `WeftError`.
 */
export function requestHeaders(
  destination: string,
  headers: Dispatcher.DispatchOptions['headers'],
  authority: string | undefined,
  method: string,
  path: string,
): Record<string, string> {
  checkTarget(destination, method, path);
  const out: Record<string, string> = {};
  let hosts = 0;
  if (Array.isArray(headers)) {
    if (headers.length > 0 && Array.isArray(headers[0]))
      for (const [n, v] of headers as unknown as [string, string][]) hosts += add(out, destination, n, v);
    else
      for (let i = 0; i + 1 < headers.length; i += 2)
        hosts += add(out, destination, headers[i], headers[i + 1]);
  } else if (headers && typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function') {
    for (const [n, v] of headers as Iterable<[string, string]>) hosts += add(out, destination, n, v);
  } else if (headers) {
    for (const n in headers) hosts += add(out, destination, n, (headers as Record<string, unknown>)[n]);
  }
  if (hosts > 1) throw invalid(destination, new errors.InvalidArgumentError('duplicate host header'));
  if (hosts === 0 && authority !== undefined) out.host = authority;
  return out;
}

/** Checks and adds one header; returns 1 for a `Host`, else 0. */
function add(out: Record<string, string>, destination: string, name: unknown, value: unknown): number {
  if (value === undefined || value === null) return 0;
  let key = String(name);
  const text = Array.isArray(value) ? value.join(', ') : String(value);
  if (!TOKEN.test(key)) throw invalid(destination, new errors.InvalidArgumentError('invalid header key'));
  if (INVALID_VALUE.test(text))
    throw invalid(destination, new errors.InvalidArgumentError(`invalid ${key} header`));
  const lower = key.toLowerCase();
  checkHeader(destination, lower, text);
  if (MESH_NAMES.has(lower) || lower.startsWith('weft-')) key = lower;
  out[key] = out[key] === undefined ? text : `${out[key]}, ${text}`;
  return lower === 'host' ? 1 : 0;
}

/** Throws when undici would refuse the method or path, or the method is `CONNECT`. */
export function checkTarget(destination: string, method: string, path: string): void {
  if (method === 'CONNECT')
    throw invalid(destination, new errors.NotSupportedError('CONNECT tunnels are not mesh calls'));
  if (!KNOWN_METHODS.has(method) && !TOKEN.test(method))
    throw invalid(destination, new errors.InvalidArgumentError('invalid request method'));
  if (typeof path !== 'string' || path[0] !== '/' || INVALID_PATH.test(path))
    throw invalid(destination, new errors.InvalidArgumentError('invalid request path'));
}

/** Throws when undici would refuse a header (by its lower-case name) that is otherwise well formed. */
export function checkHeader(destination: string, lower: string, value: string): void {
  if (REFUSED.has(lower))
    throw invalid(destination, new errors.InvalidArgumentError(`invalid ${lower} header`));
  if (lower === 'expect')
    throw invalid(destination, new errors.NotSupportedError('expect header not supported'));
  if (lower === 'content-length' && !/^\d+$/.test(value))
    throw invalid(destination, new errors.InvalidArgumentError('invalid content-length header'));
  if (lower === 'connection')
    for (const token of value.split(','))
      if (!TOKEN.test(token.trim()))
        throw invalid(destination, new errors.InvalidArgumentError('invalid connection header'));
}

/**
 * The protocol of an upgrade request (the dispatch option `upgrade`), or undefined for none; throws
 * when undici would refuse it, or when the caller's handler cannot take the upgraded connection.
 */
export function checkUpgrade(destination: string, upgrade: unknown, upgradable: boolean): string | undefined {
  if (!upgrade) return undefined;
  if (typeof upgrade !== 'string')
    throw invalid(destination, new errors.InvalidArgumentError('upgrade must be a string'));
  if (INVALID_VALUE.test(upgrade))
    throw invalid(destination, new errors.InvalidArgumentError('invalid upgrade header'));
  if (!upgradable)
    throw invalid(destination, new errors.InvalidArgumentError('invalid onRequestUpgrade method'));
  return upgrade;
}

/** Throws when undici would refuse the body's type (it takes bytes, strings, Blobs, FormData, streams and iterables). */
export function checkBody(destination: string, body: unknown): void {
  if (body === undefined || body === null || typeof body === 'string') return;
  if (typeof body === 'object') {
    if (
      ArrayBuffer.isView(body) ||
      body instanceof ArrayBuffer ||
      body instanceof Blob ||
      body instanceof FormData
    )
      return;
    if (Symbol.asyncIterator in body || Symbol.iterator in body) return;
    // undici's own FormData (a class of its own when undici is not Node's bundled copy).
    if (typeof (body as { append?: unknown }).append === 'function') return;
  }
  throw invalid(
    destination,
    new errors.InvalidArgumentError(
      'body must be a string, a Buffer, a Readable stream, an iterable, or an async iterable',
    ),
  );
}
