/**
 * What the fetch conformance cases cannot show by comparison: an invalid request is the caller's
 * error (never retried, never counted against an endpoint, never wedging its pool); bodies are
 * replayed where that is safe; the dispatcher keeps the caller's header case and Host and forwards
 * `onResponseStarted`; a connection reset after the head reaches the body read as a `WeftError`.
 */
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import { ErrorCode, isWeftError } from '@weft/core';
import { createClient, createDispatcher } from '@weft/http';
import { type Dispatcher, request, fetch as undiciFetch } from 'undici';
import { closedPort, startServer, type TestServer } from './helpers.ts';

const servers: TestServer[] = [];
const closers: { close(): Promise<unknown> }[] = [];
after(async () => {
  await Promise.all(closers.map((c) => c.close()));
  await Promise.all(servers.map((s) => s.close()));
});

async function echo(): Promise<TestServer> {
  const s = await startServer(async (req, res) => {
    let body = '';
    for await (const c of req) body += c;
    const names: string[] = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2)
      if (/^x-|^host$/i.test(req.rawHeaders[i]!))
        names.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
    res.end(JSON.stringify({ body, names }));
  });
  servers.push(s);
  return s;
}

describe('an invalid request is the caller’s error', () => {
  test('expect: 100-continue fails at once, is not sent or retried, and wedges nothing', {
    timeout: 10_000,
  }, async () => {
    const s = await echo();
    const dispatcher = createDispatcher({
      services: { checked: { endpoints: [s.endpoint] } },
      fallback: false,
    });
    const client = createClient({ service: 'checked', endpoints: [s.endpoint] });
    closers.push(dispatcher, client);
    const init = { method: 'PUT', body: 'x', headers: { expect: '100-continue' } };
    // More calls than the endpoint's pool has connections (16): each used to wedge one.
    for (let i = 0; i < 20; i++) {
      await assert.rejects(undiciFetch('http://checked/', { ...init, dispatcher }), (err: Error) => {
        const cause = err.cause as Error;
        assert.ok(isWeftError(cause, ErrorCode.InvalidOption), String(cause));
        assert.equal((cause.cause as { code?: string }).code, 'UND_ERR_NOT_SUPPORTED');
        return true;
      });
      await assert.rejects(client.fetch('/', init), (err) => isWeftError(err, ErrorCode.InvalidOption));
    }
    assert.equal(s.requests.length, 0, 'never sent');
    for (const d of [dispatcher.describe()[0]!, client.describe()]) {
      const ep = (d as { endpoints: { key?: string; ejected?: boolean; failures?: number }[] }).endpoints[0]!;
      assert.notEqual(ep.ejected, true, 'the endpoint is not ejected');
    }
    // Other requests undici refuses to send, through undici.request.
    const refused = [
      { headers: { 'content-length': 'ten' } },
      { headers: { 'transfer-encoding': 'chunked' } },
      { headers: { 'bad name': 'x' } },
      { method: 'BAD METHOD' },
      { method: 'POST', body: { not: 'a body' } },
    ];
    // Each as often as the expect header above: one that reached the pool would wedge it.
    for (const opts of refused)
      for (let i = 0; i < 20; i++)
        await assert.rejects(request('http://checked/', { ...opts, dispatcher } as never), (err) =>
          isWeftError(err, ErrorCode.InvalidOption),
        );
    assert.equal(s.requests.length, 0, 'none sent');
    const ok = await undiciFetch('http://checked/after', { dispatcher });
    assert.equal(ok.status, 200);
    assert.equal((await client.fetch('/after')).status, 200);
  });
});

describe('bodies are replayed where that is safe', () => {
  test('through the dispatcher, a string PUT to a refusing endpoint is sent again elsewhere', async () => {
    const good = await echo();
    const refusing = `127.0.0.1:${await closedPort()}`;
    const dispatcher = createDispatcher({
      services: {
        replay: { endpoints: [refusing, good.endpoint], balancer: 'round-robin', circuitBreaker: false },
      },
      fallback: false,
    });
    closers.push(dispatcher);
    for (let i = 0; i < 8; i++) {
      const res = await undiciFetch('http://replay/', { method: 'PUT', body: `body ${i}`, dispatcher });
      assert.equal(res.status, 200, `call ${i}`);
      assert.equal(JSON.parse(await res.text()).body, `body ${i}`);
    }
  });

  test('through createClient, a ReadableStream nothing has read yet is sent again elsewhere', async () => {
    const good = await echo();
    const refusing = `127.0.0.1:${await closedPort()}`;
    const client = createClient({
      service: 'replay-stream',
      endpoints: [refusing, good.endpoint],
      // Round robin: the retry goes to the other endpoint whatever the latency estimates say.
      balancer: 'round-robin',
      circuitBreaker: false,
    });
    closers.push(client);
    for (let i = 0; i < 8; i++) {
      const body = new ReadableStream({
        start(c) {
          c.enqueue(new TextEncoder().encode(`stream ${i}`));
          c.close();
        },
      });
      const res = await client.fetch('/', { method: 'POST', body, duplex: 'half' } as RequestInit);
      assert.equal(JSON.parse(await res.text()).body, `stream ${i}`, `call ${i}`);
    }
  });
});

describe('the dispatcher keeps what the caller sent', () => {
  test('header case and the Host as given; the URL authority as the default Host', async () => {
    const s = await echo();
    const dispatcher = createDispatcher({
      services: { users: { endpoints: [s.endpoint] } },
      fallback: false,
    });
    closers.push(dispatcher);
    const own = await request('http://users/', {
      dispatcher,
      headers: { 'X-Mixed-Case': 'v', Host: 'users.example' },
    });
    // undici writes the Host first, in lower case, whoever sets it.
    assert.deepEqual(JSON.parse(await own.body.text()).names, ['host: users.example', 'X-Mixed-Case: v']);
    const plain = await request('http://users/', { dispatcher, headers: { 'X-Other': '1' } });
    assert.deepEqual(JSON.parse(await plain.body.text()).names, ['host: users', 'X-Other: 1']);
  });

  test('the handler sees onResponseStarted, then the raw head, body and raw trailers', async () => {
    const s = await startServer((_req, res) => {
      res.writeHead(200, { 'Set-Cookie': ['a=1', 'b=2'], Trailer: 'x-sum' });
      res.write('body');
      res.addTrailers({ 'x-sum': '42' });
      res.end();
    });
    servers.push(s);
    const dispatcher = createDispatcher({ services: { raw: { endpoints: [s.endpoint] } }, fallback: false });
    closers.push(dispatcher);
    const events: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const handler: Dispatcher.DispatchHandler = {
        onRequestStart: () => events.push('start'),
        onResponseStarted: () => events.push('started'),
        onResponseStart: (controller, status) => {
          const raw = (controller.rawHeaders ?? []) as Buffer[];
          const names = raw.filter((_, i) => i % 2 === 0).map(String);
          events.push(`head ${status} ${names.filter((n) => n === 'Set-Cookie').length} set-cookie`);
        },
        onResponseData: (_c, chunk) => events.push(`data ${chunk}`),
        onResponseEnd: (controller) => {
          events.push(`end ${((controller.rawTrailers ?? []) as Buffer[]).map(String).join(' ')}`);
          resolve();
        },
        onResponseError: (_c, err) => reject(err),
      };
      dispatcher.dispatch({ origin: 'http://raw', path: '/', method: 'GET' }, handler);
    });
    assert.deepEqual(events, ['start', 'started', 'head 200 2 set-cookie', 'data body', 'end x-sum 42']);
  });
});

describe('a connection reset after the head', () => {
  async function resetting(): Promise<TestServer> {
    const s = await startServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first chunk');
      setTimeout(() => (req.socket as Socket).resetAndDestroy(), 20);
    });
    servers.push(s);
    return s;
  }
  const isBodyFailure = (err: unknown) =>
    isWeftError(err, ErrorCode.RequestFailed) &&
    /response body from reset/.test(err.message) &&
    ['UND_ERR_SOCKET', 'ECONNRESET'].includes((err.cause as { code?: string }).code ?? '');

  test('reaches createClient().fetch’s body read as a WeftError', async () => {
    const s = await resetting();
    const client = createClient({ service: 'reset', endpoints: [s.endpoint] });
    closers.push(client);
    const res = await client.fetch('/');
    assert.equal(res.status, 200);
    await assert.rejects(res.text(), isBodyFailure);
  });

  test('a corrupt content coding also reaches createClient().fetch’s body read as a WeftError', async () => {
    const s = await startServer((_req, res) => {
      res.setHeader('content-encoding', 'gzip');
      res.end('this is not gzip at all');
    });
    servers.push(s);
    const client = createClient({ service: 'corrupt', endpoints: [s.endpoint] });
    closers.push(client);
    const res = await client.fetch('/');
    await assert.rejects(
      res.text(),
      (err) => isWeftError(err, ErrorCode.RequestFailed) && /decoding/.test(err.message),
    );
  });

  test('reaches the dispatcher’s caller as a WeftError (fetch: TypeError “terminated” with it as cause)', async () => {
    const s = await resetting();
    const dispatcher = createDispatcher({
      services: { reset: { endpoints: [s.endpoint] } },
      fallback: false,
    });
    closers.push(dispatcher);
    const viaRequest = await request('http://reset/', { dispatcher });
    await assert.rejects(viaRequest.body.text(), isBodyFailure);
    const viaFetch = await undiciFetch('http://reset/', { dispatcher });
    await assert.rejects(
      viaFetch.text(),
      (err: Error) => err instanceof TypeError && isBodyFailure(err.cause),
    );
  });
});
