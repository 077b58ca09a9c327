/**
 * What HTTP gives the route and fault modules: header reads and edits that ignore the case of the
 * caller's header names (HTTP names are case-insensitive; Weft keeps the caller's spelling of its
 * own headers), response header edits that reach `fetch` (which reads the raw head), copies of a
 * call for mirroring, and the answer of an injected abort.
 */
import { type CompiledEdits, type FaultAbort, Header } from '@weft/core';
import type { Dispatcher } from 'undici';
import { HttpCall, isReplayable } from './call.ts';
import { HttpExchange } from './exchange.ts';

type Headers = Record<string, string | string[] | undefined>;

/** The key of `name` in `headers`, whatever its case; undefined when absent. */
function keyOf(headers: Record<string, unknown>, name: string): string | undefined {
  if (headers[name] !== undefined) return name;
  for (const key in headers) if (key.length === name.length && key.toLowerCase() === name) return key;
  return undefined;
}

export function requestHeader(call: HttpCall, name: string): string | undefined {
  const key = keyOf(call.headers, name);
  return key === undefined ? undefined : call.headers[key];
}

function removeAll(headers: Record<string, unknown>, name: string): void {
  for (let key = keyOf(headers, name); key !== undefined; key = keyOf(headers, name)) delete headers[key];
}

/**
 * Applies `edits` to a header record whatever the case of its names: remove drops, set replaces,
 * add appends with `append(previous, value)`.
 */
function editHeaders<V>(
  headers: Record<string, V>,
  edits: CompiledEdits,
  append: (previous: V | undefined, value: string) => V,
): void {
  for (const name of edits.remove) removeAll(headers, name);
  for (const [name, value] of edits.set) {
    removeAll(headers, name);
    headers[name] = append(undefined, value);
  }
  for (const [name, value] of edits.add) {
    const key = keyOf(headers, name) ?? name;
    headers[key] = append(headers[key], value);
  }
}

/** A request header added to: one value, comma-joined (what HTTP means by a repeated field). */
const joined = (previous: string | undefined, value: string) =>
  previous === undefined ? value : `${previous}, ${value}`;

/** A response header added to: one more field line. */
const listed = (previous: string | string[] | undefined, value: string): string | string[] =>
  previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];

export function editRequestHeaders(call: HttpCall, edits: CompiledEdits): void {
  editHeaders(call.headers, edits, joined);
}

/** The raw head (name/value buffers) of a parsed head, for handlers that read the raw one (fetch). */
function rawHead(headers: Headers): Buffer[] {
  const raw: Buffer[] = [];
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value])
      raw.push(Buffer.from(name, 'latin1'), Buffer.from(v, 'latin1'));
  }
  return raw;
}

export function editResponseHeaders(exchange: HttpExchange, edits: CompiledEdits): void {
  const headers = exchange.headers as Record<string, string | string[]>;
  editHeaders(headers, edits, listed);
  exchange.rawHeaders = rawHead(headers);
}

/**
 * A copy of the call for its mirror: method, path and headers, and the body when it can be sent
 * again (a string, bytes or a Blob); a streamed body is never copied (undefined).
 */
export function mirror(call: HttpCall): HttpCall | undefined {
  if (call.streamed || !isReplayable(call.body)) return undefined;
  const copy = new HttpCall(
    call.destination,
    call.method,
    call.path,
    { ...call.headers },
    call.body,
    undefined,
  );
  copy.idempotent = call.idempotent;
  return copy;
}

/** The controller of a response no connection carries. */
const LOCAL: Dispatcher.DispatchController = {
  aborted: false,
  paused: false,
  reason: null,
  rawHeaders: null,
  rawTrailers: null,
  abort() {},
  pause() {},
  resume() {},
} as unknown as Dispatcher.DispatchController;

/** An injected abort's answer: the rule's status, an empty body, `weft-fault: abort`. */
export function faultResponse(call: HttpCall, abort: FaultAbort): HttpExchange {
  const exchange = new HttpExchange(call.destination);
  const headers = { [Header.fault]: 'abort', 'content-length': '0' };
  exchange.onResponseStart(LOCAL, abort.status ?? 503, headers, 'Fault Injected');
  exchange.rawHeaders = rawHead(headers);
  exchange.onResponseEnd(LOCAL, {});
  return exchange;
}
