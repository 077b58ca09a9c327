/**
 * Weft's server half on HTTP/2 (Fastify with `http2: true`, cleartext h2c): the inbound context,
 * admission's retryable rejection, drain, and a Weft client calling it with `protocol: 'h2c'`.
 * HTTP/2 forbids connection-specific headers (`connection: close`), so what the HTTP/1.1 path does
 * with them must not break an HTTP/2 response.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { type ClientHttp2Session, connect, constants } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { currentContext, Header, isWeftError } from '@weft/core';
import { createClient } from '@weft/http';
import { weft } from '@weft/http/fastify';
import Fastify from 'fastify';

const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

interface H2Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function h2get(
  session: ClientHttp2Session,
  path: string,
  headers: Record<string, string> = {},
): Promise<H2Answer> {
  return new Promise((resolve, reject) => {
    const req = session.request({ [constants.HTTP2_HEADER_PATH]: path, ...headers });
    let status = 0;
    let got: H2Answer['headers'] = {};
    let body = '';
    req.setEncoding('utf8');
    req.on('response', (h) => {
      status = Number(h[constants.HTTP2_HEADER_STATUS]);
      got = h as H2Answer['headers'];
    });
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => resolve({ status, headers: got, body }));
    req.on('error', reject);
    req.end();
  });
}

async function h2App(options: Parameters<typeof weft>[1]) {
  const app = Fastify({ http2: true });
  await app.register(weft, { drainSignals: false, ...options });
  let release: () => void = () => {};
  const held = () =>
    new Promise<void>((r) => {
      release = r;
    });
  app.get('/context', async () => {
    const ctx = currentContext();
    return {
      deadline: ctx?.deadline,
      traceparent: ctx?.traceparent,
      remaining: ctx ? ctx.deadline - performance.now() : undefined,
    };
  });
  app.get('/hold', async () => {
    await held();
    return { held: true };
  });
  app.get('/hello', async () => 'hello over h2');
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as AddressInfo).port;
  return { app, url: `http://127.0.0.1:${port}`, port, release: () => release() };
}

describe('the server half on HTTP/2 (h2c)', () => {
  let s: Awaited<ReturnType<typeof h2App>>;
  let session: ClientHttp2Session;
  before(async () => {
    s = await h2App({ concurrency: 1 });
    session = connect(s.url);
  });
  after(async () => {
    session.close();
    await s.app.close();
  });

  test('the handler runs in the inbound deadline and trace', async () => {
    const r = await h2get(session, '/context', { [Header.deadline]: '2000', traceparent: TRACEPARENT });
    assert.equal(r.status, 200, r.body);
    const body = JSON.parse(r.body);
    assert.ok(body.remaining > 1000 && body.remaining <= 2000, `remaining ${body.remaining}`);
    assert.equal(body.traceparent.split('-')[1], TRACEPARENT.split('-')[1]);
    const late = await h2get(session, '/context', { [Header.deadline]: '0' });
    assert.equal(late.status, 504);
    assert.equal(late.headers[Header.noRetry], '1');
  });

  test('over the concurrency limit: 503 with weft-rejected (no retry-after: the refusal is momentary), on the same HTTP/2 session', async () => {
    const holding = h2get(session, '/hold');
    await new Promise((r) => setTimeout(r, 50));
    const shed = await h2get(session, '/hello');
    assert.equal(shed.status, 503);
    assert.equal(shed.headers[Header.rejected], '1');
    assert.equal(shed.headers['retry-after'], undefined);
    s.release();
    assert.equal((await holding).status, 200);
    assert.equal((await h2get(session, '/hello')).body, 'hello over h2');
  });

  test('a Weft client with protocol h2c calls it', async () => {
    const client = createClient({
      service: 'h2-server',
      endpoints: [`127.0.0.1:${s.port}`],
      protocol: 'h2c',
    });
    try {
      // One after the other: this server admits one request at a time (concurrency 1), so parallel
      // calls would pass only when their retries won a race against each other on a loaded machine.
      for (let i = 0; i < 5; i++) assert.equal(await (await client.fetch('/hello')).text(), 'hello over h2');
    } finally {
      await client.close();
    }
  });
});

test('drain on HTTP/2: in-flight requests finish, new ones are refused as retryable, no HTTP/1 header is sent', async () => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
  process.on('warning', onWarning);
  const s = await h2App({ drainTimeoutMs: 5000 });
  const session = connect(s.url);
  session.on('error', () => {});
  try {
    const holding = h2get(session, '/hold');
    await new Promise((r) => setTimeout(r, 50));
    const drained = s.app.weft.drain();
    await new Promise((r) => setTimeout(r, 50));
    const refused = await h2get(session, '/hello').catch((error: Error) => error);
    if (!(refused instanceof Error)) {
      assert.equal(refused.status, 503);
      assert.equal(refused.headers[Header.rejected], '1');
    }
    s.release();
    const finished = await holding;
    assert.equal(finished.status, 200, finished.body);
    const result = await drained;
    assert.equal(result.abandoned, 0);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(warnings, [], 'no connection header was given to an HTTP/2 response');
  } finally {
    process.off('warning', onWarning);
    session.destroy();
    await s.app.close().catch(() => {});
  }
});

describe('the server half on HTTP/2 over TLS (ALPN), called with the HTTPS client options', () => {
  const fixture = (name: string) => readFileSync(new URL(`./fixtures/tls/${name}`, import.meta.url), 'utf8');
  const cert = fixture('server.crt'); // self-signed for 127.0.0.1
  let app: { close(): PromiseLike<unknown> };
  let port = 0;
  before(async () => {
    const server = Fastify({ http2: true, https: { key: fixture('server.key'), cert, allowHTTP1: true } });
    await server.register(weft, { drainSignals: false });
    server.get('/version', async (request) => ({
      version: request.raw.httpVersion,
      deadline: currentContext()?.deadline !== undefined,
    }));
    await server.listen({ port: 0, host: '127.0.0.1' });
    port = (server.server.address() as AddressInfo).port;
    app = server;
  });
  after(async () => {
    await app.close();
  });

  test("scheme 'https' with protocol 'h2' speaks HTTP/2; 'http1' on the same server speaks HTTP/1.1", async () => {
    for (const [protocol, version] of [
      ['h2', '2.0'],
      ['http1', '1.1'],
    ] as const) {
      const client = createClient({
        service: `tls-${protocol}`,
        endpoints: [`127.0.0.1:${port}`],
        scheme: 'https',
        protocol,
        tls: { ca: cert },
      });
      try {
        const res = await client.fetch('/version', { headers: { [Header.deadline]: '3000' } });
        assert.equal(res.status, 200);
        assert.deepEqual(await res.json(), { version, deadline: true });
      } finally {
        await client.close();
      }
    }
  });

  test('a certificate the client does not trust fails the call with a WeftError', async () => {
    const client = createClient({
      service: 'tls-untrusted',
      endpoints: [`127.0.0.1:${port}`],
      scheme: 'https',
      protocol: 'h2',
    });
    try {
      await assert.rejects(client.fetch('/version'), (error: unknown) => isWeftError(error));
    } finally {
      await client.close();
    }
  });
});
