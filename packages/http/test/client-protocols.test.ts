import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createH2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { ErrorCode, isWeftError } from '@weft/core';
import { createClient, createDispatcher } from '@weft/http';
import { Agent, getGlobalDispatcher, setGlobalDispatcher, request as undiciRequest } from 'undici';
import { startServer, type TestServer } from './helpers.ts';

const servers: TestServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

describe('protocols and entry points', () => {
  test('h2c: cleartext HTTP/2 to every endpoint', async () => {
    const h2 = createH2Server((req, res) => {
      res.setHeader('x-version', req.httpVersion);
      res.end(`h2 ${req.url}`);
    });
    h2.listen(0, '127.0.0.1');
    await once(h2, 'listening');
    const port = (h2.address() as AddressInfo).port;
    const client = createClient({ service: 'h2', endpoints: [`127.0.0.1:${port}`], protocol: 'h2c' });
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => client.fetch(`/n/${i}`)));
    for (const [i, res] of results.entries()) {
      assert.equal(res.headers.get('x-version'), '2.0');
      assert.equal(await res.text(), `h2 /n/${i}`);
    }
    await client.close();
    await new Promise<void>((r) => h2.close(() => r()));
  });

  test('bodies, headers and statuses pass through unchanged', async () => {
    const s = await startServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      res.statusCode = req.url === '/missing' ? 404 : 201;
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.setHeader('x-echo-type', req.headers['content-type'] ?? '');
      res.end(Buffer.concat(chunks));
    });
    servers.push(s);
    const client = createClient({ service: 'echo', endpoints: [s.endpoint] });
    const json = await client.fetch('/x', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ a: 1 }),
    });
    assert.equal(json.status, 201);
    assert.deepEqual(await json.json(), { a: 1 });
    assert.deepEqual(json.headers.getSetCookie(), ['a=1', 'b=2']);
    const form = await client.fetch('http://echo/form', {
      method: 'POST',
      body: new URLSearchParams({ q: 'weft' }),
    });
    assert.equal(await form.text(), 'q=weft');
    assert.match(form.headers.get('x-echo-type') ?? '', /x-www-form-urlencoded/);
    const big = new Uint8Array(4 * 1024 * 1024).fill(7);
    const echoed = new Uint8Array(
      await (await client.fetch('/big', { method: 'PUT', body: big })).arrayBuffer(),
    );
    assert.equal(echoed.length, big.length);
    assert.equal((await client.fetch('/missing')).status, 404);
    await assert.rejects(client.fetch('not a url'), (err) => isWeftError(err, ErrorCode.InvalidOption));
    await client.close();
  });

  test('createDispatcher makes plain fetch("http://<service>/…") a mesh call; other hosts pass through', async () => {
    const a = await startServer((req, res) => res.end(`mesh ${req.url}`));
    const b = await startServer((_req, res) => res.end('plain'));
    servers.push(a, b);
    const previous = getGlobalDispatcher();
    const dispatcher = createDispatcher({ services: { users: { endpoints: [a.endpoint] } } });
    setGlobalDispatcher(dispatcher);
    try {
      const res = await fetch('http://users/u/1?x=2');
      assert.equal(await res.text(), 'mesh /u/1?x=2');
      const other = await fetch(`http://${b.endpoint}/`);
      assert.equal(await other.text(), 'plain');
      const viaUndici = await undiciRequest('http://users/direct');
      assert.equal(await viaUndici.body.text(), 'mesh /direct');
      assert.equal(dispatcher.describe()[0]?.destination, 'users');
    } finally {
      setGlobalDispatcher(previous instanceof Agent ? previous : new Agent());
      await dispatcher.close();
    }
  });

  test('options are checked when the client is built, naming the field', () => {
    assert.throws(
      () => createClient({ service: 'bad', endpoints: ['127.0.0.1:1'], retry: { maxAttempts: 0 } }),
      (err) => isWeftError(err, ErrorCode.InvalidOption) && /retry\.maxAttempts/.test(err.message),
    );
    assert.throws(
      () => createClient({ service: 'bad', endpoints: ['127.0.0.1:1'], balancer: 'fastest' as never }),
      (err) => isWeftError(err, ErrorCode.InvalidOption) && /balancer\.kind/.test(err.message),
    );
    assert.throws(
      () => createClient({ service: 'bad name!', endpoints: [] }),
      (err) => isWeftError(err, ErrorCode.InvalidOption) && /service/.test(err.message),
    );
    assert.throws(
      () => createClient({ service: 'bad', endpoints: ['127.0.0.1:99999'] }),
      (err) => isWeftError(err, ErrorCode.InvalidOption) && /endpoints\[0\]/.test(err.message),
    );
  });
});
