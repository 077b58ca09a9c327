/**
 * Fetch through Weft is fetch. Every case runs through plain fetch and through Weft — the Weft
 * dispatcher under undici's `fetch`, the same dispatcher under Node's built-in `fetch`, and
 * `createClient().fetch` — and what a caller can observe must be the same: status and status text,
 * headers (several Set-Cookie, Latin-1 and UTF-8 bytes read as Latin-1 "byte strings"), body,
 * `url` and `redirected`, and whether the call or its body read fails.
 *
 * The behaviours come from the WHATWG Fetch standard: HTTP-redirect fetch (§4.4: 301/302 POST→GET,
 * 303→GET, 307/308 keep method and body, a stream body cannot be resent, at most 20 redirects,
 * `redirect: 'manual' | 'error'`), HTTP-network fetch (interim 1xx responses are skipped; content
 * codings are decoded and `Content-Encoding` kept; null body statuses 204/304 and HEAD), body
 * extraction (content types of string, URLSearchParams, Blob, FormData bodies; streams sent
 * chunked with `duplex: 'half'`), and aborts (before and during the body).
 *
 * Plain undici is the reference for undici's fetch and `createClient`; for Node's fetch it is Node's
 * fetch over a plain undici Agent. Under Node's fetch a dispatcher is installed as users install it,
 * with `setGlobalDispatcher` (which adapts it to the handler API Node's own undici speaks).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createClient, createDispatcher, type WeftClient, type WeftDispatcher } from '@weft/http';
import {
  Agent,
  getGlobalDispatcher,
  setGlobalDispatcher,
  FormData as UndiciFormData,
  fetch as undiciFetch,
} from 'undici';
import { type Origin, startOrigin, TEXT } from './fetch-origin.ts';

/** undici's fetch knows only undici's own FormData class; Node's fetch and createClient take Node's. */
type Realm = { FormData: typeof FormData };
const UNDICI: Realm = { FormData: UndiciFormData as unknown as typeof FormData };
const NODE: Realm = { FormData };

interface Case {
  name: string;
  path: string;
  init?: (realm: Realm) => RequestInit;
  /** What to do with the response (default: read it as text). */
  read?: 'abort-mid-body';
  /** Not through createClient (see docs/client.md: it sends lower-case header names). */
  dispatcherOnly?: boolean;
}

const stream = (...parts: string[]) =>
  new ReadableStream<Uint8Array>({
    start(c) {
      for (const p of parts) c.enqueue(new TextEncoder().encode(p));
      c.close();
    },
  });
async function* iterable() {
  yield new TextEncoder().encode('async ');
  yield new TextEncoder().encode('iterable');
}
const form = (realm: Realm) => {
  const f = new realm.FormData();
  f.append('field', 'välue');
  f.append('file', new Blob(['file body'], { type: 'text/plain' }), 'a.txt');
  return f;
};
/** A body is made afresh for every run (a stream can be read once), in the caller's realm. */
const post =
  (body: unknown, extra: object = {}) =>
  (realm: Realm) =>
    ({ method: 'POST', body: typeof body === 'function' ? body(realm) : body, ...extra }) as RequestInit;

const CASES: Case[] = [
  { name: 'body and content type', path: '/text' },
  { name: 'status and status text', path: '/status' },
  { name: 'several Set-Cookie, list headers, Latin-1 and UTF-8 bytes', path: '/cookies' },
  { name: 'gzip is decoded, Content-Encoding kept', path: '/gzip' },
  { name: 'br is decoded', path: '/br' },
  { name: 'deflate is decoded', path: '/deflate' },
  { name: 'two codings are decoded in order', path: '/gzip-deflate' },
  { name: 'an unknown coding is left as sent', path: '/unknown-coding' },
  { name: 'a corrupt coding fails the body read', path: '/bad-gzip' },
  { name: '103 Early Hints is skipped, the final response returned', path: '/early-hints' },
  { name: '102 Processing is skipped', path: '/processing' },
  { name: '204 has a null body', path: '/no-content' },
  { name: '304 has a null body', path: '/etag', init: () => ({ headers: { 'if-none-match': '"v1"' } }) },
  { name: 'HEAD has headers and no body', path: '/head', init: () => ({ method: 'HEAD' }) },
  { name: 'a body with trailers', path: '/trailers' },
  { name: 'a truncated body fails its read', path: '/truncated' },
  { name: 'a connection reset mid-body fails its read', path: '/reset' },
  { name: 'a 404 is an answer', path: '/nowhere' },
  { name: 'abort before the response', path: '/hang', init: () => ({ signal: AbortSignal.timeout(100) }) },
  { name: 'abort during the body', path: '/slow', read: 'abort-mid-body' },
  { name: 'redirect 301 turns POST into GET', path: '/redirect/301', init: post('gone') },
  { name: 'redirect 302 turns POST into GET', path: '/redirect/302', init: post('gone') },
  { name: 'redirect 303 turns PUT into GET', path: '/redirect/303', init: post('gone', { method: 'PUT' }) },
  { name: 'redirect 307 resends method and body', path: '/redirect/307', init: post('kept body') },
  { name: 'redirect 308 resends bytes', path: '/redirect/308', init: post(new Uint8Array([104, 105])) },
  {
    name: 'redirect 307 with a stream body fails',
    path: '/redirect/307',
    init: post(() => stream('once'), { duplex: 'half' }),
  },
  { name: 'a chain of three redirects', path: '/redirect/302/3' },
  { name: 'more than 20 redirects fail', path: '/redirect/302/21' },
  {
    name: "redirect: 'manual' returns the redirect",
    path: '/redirect/302',
    init: () => ({ redirect: 'manual' }),
  },
  { name: "redirect: 'error' fails", path: '/redirect/302', init: () => ({ redirect: 'error' }) },
  { name: 'upload a string', path: '/echo', init: post('plain ü text') },
  { name: 'upload bytes', path: '/echo', init: post(new Uint8Array([119, 101, 102, 116])) },
  { name: 'upload an ArrayBuffer', path: '/echo', init: post(new Uint8Array([97, 98]).buffer) },
  { name: 'upload a DataView', path: '/echo', init: post(new DataView(new Uint8Array([99]).buffer)) },
  { name: 'upload a Blob', path: '/echo', init: post(new Blob(['blob'], { type: 'application/x-blob' })) },
  { name: 'upload URLSearchParams', path: '/echo', init: post(new URLSearchParams({ q: 'wéft', n: '1' })) },
  { name: 'upload FormData', path: '/echo', init: post(form) },
  {
    name: 'upload a ReadableStream',
    path: '/echo',
    init: post(() => stream('a ', 'stream'), { duplex: 'half' }),
  },
  {
    name: 'upload an async iterable',
    path: '/echo',
    init: () => ({ method: 'PUT', body: iterable(), duplex: 'half' }) as unknown as RequestInit,
  },
  {
    name: 'request header names keep their case',
    path: '/echo-headers',
    init: () => ({
      headers: [
        ['X-Mixed-Case', 'v'],
        ['accept', 'text/x-weft'],
      ],
    }),
    dispatcherOnly: true,
  },
  {
    name: "fetch drops the caller's Host",
    path: '/echo-headers',
    init: () => ({ headers: { host: 'example.test' } }),
    dispatcherOnly: true,
  },
  { name: 'the headers fetch adds', path: '/echo-headers' },
  { name: 'the default Host is the URL authority', path: '/echo-headers', dispatcherOnly: true },
];

type Fetch = (url: string, init?: RequestInit) => Promise<Response>;
interface Observed {
  rejected?: boolean;
  status?: number;
  statusText?: string;
  headers?: [string, string][];
  setCookie?: string[];
  body?: string;
  url?: string;
  redirected?: boolean;
}

/** Per-connection headers that plain fetch and Weft may legitimately differ on. */
const VOLATILE = new Set(['date', 'keep-alive', 'connection']);

async function observe(fetch: Fetch, url: string, c: Case, realm = NODE): Promise<Observed> {
  const controller = new AbortController();
  let init = c.init?.(realm) ?? {};
  if (c.read === 'abort-mid-body') init = { ...init, signal: controller.signal };
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch {
    return { rejected: true };
  }
  const seen: Observed = {
    status: res.status,
    statusText: res.statusText,
    headers: [...res.headers].filter(([n]) => !VOLATILE.has(n)),
    setCookie: res.headers.getSetCookie(),
    url: res.url,
    redirected: res.redirected,
  };
  try {
    if (c.read === 'abort-mid-body') {
      const reader = res.body!.getReader();
      await reader.read();
      controller.abort();
      await reader.read();
      seen.body = '<read after abort succeeded>';
    } else seen.body = await res.text();
  } catch {
    seen.body = '<body read failed>';
  }
  return seen;
}

let origin: Origin;
let plain: Agent;
let plainH2: Agent;
let weft: WeftDispatcher;
let weftH2: WeftDispatcher;
let client: WeftClient;
let clientH2: WeftClient;
const previous = getGlobalDispatcher();

before(async () => {
  origin = await startOrigin();
  const endpoint = `127.0.0.1:${origin.port}`;
  const h2 = `127.0.0.1:${origin.h2Port}`;
  plain = new Agent();
  plainH2 = new Agent({ useH2c: true } as Agent.Options);
  // The URL's host names the service, so plain and Weft fetch the very same URL.
  weft = createDispatcher({ services: { '127.0.0.1': { endpoints: [endpoint] } }, fallback: false });
  weftH2 = createDispatcher({
    services: { '127.0.0.1': { endpoints: [h2], protocol: 'h2c' } },
    fallback: false,
  });
  client = createClient({ service: '127.0.0.1', endpoints: [endpoint] });
  clientH2 = createClient({ service: '127.0.0.1', endpoints: [h2], protocol: 'h2c' });
});

after(async () => {
  setGlobalDispatcher(previous);
  await Promise.all([
    plain.close(),
    plainH2.close(),
    weft.close(),
    weftH2.close(),
    client.close(),
    clientH2.close(),
  ]);
  await origin.close();
});

describe('fetch through Weft is fetch', () => {
  for (const c of CASES) {
    test(c.name, { timeout: 5_000 }, async () => {
      const url = `http://127.0.0.1:${origin.port}${c.path}`;
      const viaUndici = await observe(
        (u, i) => undiciFetch(u, { ...i, dispatcher: plain } as never) as never,
        url,
        c,
        UNDICI,
      );
      setGlobalDispatcher(plain);
      const viaNode = await observe(fetch, url, c);
      const weftUndici = await observe(
        (u, i) => undiciFetch(u, { ...i, dispatcher: weft } as never) as never,
        url,
        c,
        UNDICI,
      );
      assert.deepEqual(weftUndici, viaUndici, 'the dispatcher under undici fetch');
      setGlobalDispatcher(weft);
      const weftNode = await observe(fetch, url, c);
      setGlobalDispatcher(previous);
      assert.deepEqual(weftNode, viaNode, "the dispatcher under Node's fetch");
      if (!c.dispatcherOnly) {
        const weftClient = await observe((u, i) => client.fetch(u, i), url, c);
        assert.deepEqual(weftClient, viaUndici, 'createClient().fetch');
      }
    });
  }

  test('HTTP/2 (cleartext): status, headers, Set-Cookie, body', { timeout: 5_000 }, async () => {
    const url = `http://127.0.0.1:${origin.h2Port}/over/h2?x=1`;
    const c: Case = { name: 'h2', path: '/over/h2?x=1' };
    const reference = await observe(
      (u, i) => undiciFetch(u, { ...i, dispatcher: plainH2 } as never) as never,
      url,
      c,
    );
    assert.equal(reference.body, 'h2 says /over/h2?x=1');
    const viaDispatcher = await observe(
      (u, i) => undiciFetch(u, { ...i, dispatcher: weftH2 } as never) as never,
      url,
      c,
    );
    assert.deepEqual(viaDispatcher, reference, 'the dispatcher under undici fetch');
    assert.deepEqual(
      await observe((u, i) => clientH2.fetch(u, i), url, c),
      reference,
      'createClient().fetch',
    );
  });

  test('the reference really decodes and follows (the cases can fail)', async () => {
    const seen = await observe(
      (u, i) => undiciFetch(u, { ...i, dispatcher: plain } as never) as never,
      `http://127.0.0.1:${origin.port}/redirect/302/3`,
      { name: 'check', path: '' },
    );
    assert.equal(seen.redirected, true);
    assert.match(seen.url ?? '', /\/echo$/);
    const gzip = await observe(
      (u, i) => undiciFetch(u, { ...i, dispatcher: plain } as never) as never,
      `http://127.0.0.1:${origin.port}/gzip`,
      { name: 'check', path: '' },
    );
    assert.equal(gzip.body, TEXT);
  });
});
