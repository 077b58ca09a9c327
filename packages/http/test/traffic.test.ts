/**
 * Traffic control on real servers, steered by a real config-service process: weighted splits
 * changed live, matches in order, empty subsets, sticky hashing, mirroring, fault injection, header
 * edits and rewrites — measured at the backends.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { type ServiceProcess, startService, tempDir } from '@weft/control-plane/testing';
import { currentContext, ErrorCode, isWeftError } from '@weft/core';
import { type ConfigClient, createConfigClient } from '@weft/core/config';
import { createClient, createDispatcher, type WeftClient } from '@weft/http';
import { weft } from '@weft/http/express';
import express from 'express';
import { delay, eventually, startServer, type TestServer } from './helpers.ts';

let cp: ServiceProcess;
let config: ConfigClient;
const dir = tempDir();
const servers: TestServer[] = [];
const clients: WeftClient[] = [];

/** A backend answering `{ version, path }` after `ms`, recording what it got. */
async function backend(version: string, ms = 0, status = 200) {
  const s = await startServer(async (req: IncomingMessage, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    (req as IncomingMessage & { body?: string }).body = body;
    if (ms > 0) await delay(ms);
    res.statusCode = status;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ version, path: req.url }));
  });
  servers.push(s);
  const [address, port] = s.endpoint.split(':');
  return { server: s, endpoint: { address: address!, port: Number(port), labels: { version } } };
}

async function putRoute(name: string, spec: unknown): Promise<Response> {
  return fetch(`${cp.url}/v1/documents/Route/${name}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${cp.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ spec }),
  });
}

function client(
  service: string,
  endpoints: { address: string; port: number; labels: Record<string, string> }[],
) {
  const c = createClient({ service, endpoints, config, retry: { backoffInitialMs: 0 } });
  clients.push(c);
  return c;
}

async function versions(c: WeftClient, n: number, init: RequestInit = {}, path = '/') {
  const counts: Record<string, number> = {};
  const one = async () => {
    const body = (await (await c.fetch(path, init)).json()) as { version: string };
    counts[body.version] = (counts[body.version] ?? 0) + 1;
  };
  for (let i = 0; i < n; i += 20) await Promise.all(Array.from({ length: Math.min(20, n - i) }, one));
  return counts;
}

const SUBSETS = {
  v1: { version: 'v1' },
  v2: { version: 'v2' },
  shadow: { version: 'shadow' },
  empty: { version: 'v9' },
};

before(async () => {
  cp = await startService({ data: dir.path });
  config = createConfigClient({ urls: cp.url, token: cp.token });
  await config.ready();
});
after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await config.close();
  await cp.stop();
  await Promise.all(servers.map((s) => s.close()));
  dir.remove();
});

describe('traffic control over HTTP (real servers, config service)', () => {
  test('a 80/20 split from the config service holds at the backends, and a live change applies to the next calls', async () => {
    const eps = [
      (await backend('v1')).endpoint,
      (await backend('v1')).endpoint,
      (await backend('v2')).endpoint,
    ];
    const c = client('split', eps);
    assert.equal(
      (
        await putRoute('split', {
          subsets: SUBSETS,
          rules: [
            {
              backends: [
                { subset: 'v1', weight: 80 },
                { subset: 'v2', weight: 20 },
              ],
            },
          ],
        })
      ).status,
      201,
    );
    await eventually(() => assert.equal(c.describe().route?.rules[0]?.backends?.[1]?.weight, 20));
    const counts = await versions(c, 2000);
    const share = (counts.v2 ?? 0) / 2000;
    assert.ok(Math.abs(share - 0.2) < 0.03, `v2 share ${share}`);
    assert.equal(
      (await putRoute('split', { subsets: SUBSETS, rules: [{ backends: [{ subset: 'v2' }] }] })).status,
      200,
    );
    await eventually(() => assert.equal(c.describe().route?.rules[0]?.backends?.length, 1));
    assert.deepEqual(await versions(c, 100), { v2: 100 });
  });

  test('matches are tried in order: header, then path prefix with method, then the rest; an empty subset is skipped', async () => {
    const eps = [(await backend('v1')).endpoint, (await backend('v2')).endpoint];
    const c = client('matching', eps);
    await putRoute('matching', {
      subsets: SUBSETS,
      rules: [
        {
          name: 'canary',
          matches: [{ headers: [{ name: 'x-canary', value: 'yes' }] }],
          backends: [{ subset: 'v2' }],
        },
        {
          name: 'writes',
          matches: [{ path: { type: 'PathPrefix', value: '/items' }, method: 'POST' }],
          backends: [{ subset: 'v2' }],
        },
        {
          name: 'rest',
          backends: [
            { subset: 'v1', weight: 1 },
            { subset: 'empty', weight: 99 },
          ],
        },
      ],
    });
    await eventually(() => assert.equal(c.describe().route?.rules.length, 3));
    assert.deepEqual(await versions(c, 20, { headers: { 'X-Canary': 'yes' } }), { v2: 20 });
    assert.deepEqual(await versions(c, 20, { method: 'POST', body: 'x' }, '/items/3'), { v2: 20 });
    assert.deepEqual(await versions(c, 20, { method: 'POST', body: 'x' }, '/itemsx'), { v1: 20 });
    assert.deepEqual(await versions(c, 40, {}, '/items/3'), { v1: 40 }, 'the empty subset takes no share');
  });

  test('hashOn keeps each user on one version', async () => {
    const eps = [(await backend('v1')).endpoint, (await backend('v2')).endpoint];
    const c = client('sticky', eps);
    await putRoute('sticky', {
      subsets: SUBSETS,
      rules: [
        {
          hashOn: { header: 'x-user' },
          backends: [
            { subset: 'v1', weight: 70 },
            { subset: 'v2', weight: 30 },
          ],
        },
      ],
    });
    await eventually(() => assert.ok(c.describe().route));
    let onV2 = 0;
    for (let u = 0; u < 150; u++) {
      const seen = await versions(c, 3, { headers: { 'x-user': `user-${u}` } });
      assert.equal(Object.keys(seen).length, 1, `user-${u}: ${JSON.stringify(seen)}`);
      if (seen.v2) onV2++;
    }
    assert.ok(onV2 > 20 && onV2 < 75, `users on v2: ${onV2}`);
  });

  test('a slow, failing or hung mirror never delays or fails the primary; copies are bounded and counted', async () => {
    const primary = await backend('v1');
    const slow = await backend('shadow', 400, 500);
    const c = client('mirrored', [primary.endpoint, slow.endpoint]);
    await putRoute('mirrored', {
      subsets: SUBSETS,
      mirrorMaxInflight: 3,
      rules: [{ backends: [{ subset: 'v1' }], mirror: { subset: 'shadow' } }],
    });
    await eventually(() => assert.ok(c.describe().route));
    const started = performance.now();
    for (let i = 0; i < 10; i++) {
      const r = await c.fetch('/m', { method: 'POST', body: `payload-${i}` });
      assert.equal(r.status, 200);
      assert.equal(((await r.json()) as { version: string }).version, 'v1');
    }
    // Ten primaries answered well inside one mirror's 400 ms each would have cost.
    assert.ok(performance.now() - started < 1500, `primaries took ${performance.now() - started} ms`);
    const mirrors = c.describe().route!.mirrors!;
    assert.equal(mirrors.sent, 3);
    assert.equal(mirrors['dropped-limit'], 7);
    await eventually(() => assert.equal(c.describe().route!.mirrors!.inflight, 0));
    const copies = slow.server.requests;
    assert.equal(copies.length, 3);
    assert.ok(copies.every((r) => r.headers['weft-mirror'] === '1' && r.method === 'POST'));
    assert.equal((copies[0] as IncomingMessage & { body?: string }).body, 'payload-0');
    // A streamed body cannot be sent twice: not mirrored, counted.
    const stream = new ReadableStream({
      start(ctrl) {
        ctrl.enqueue(new TextEncoder().encode('streamed'));
        ctrl.close();
      },
    });
    const r = await c.fetch('/m', { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    assert.equal(r.status, 200);
    await r.arrayBuffer();
    assert.equal(c.describe().route!.mirrors!['dropped-body'], 1);
    // The mirror's 500s opened no breaker and ejected nothing of the primary's.
    assert.equal(c.describe().endpoints.find((e) => e.labels.version === 'v1')?.health, 'healthy');
  });

  test('faults: an abort never reaches a server and is not retried; a delay respects the deadline; header faults only where allowed', async () => {
    const b = await backend('v1');
    const c = client('faulty', [b.endpoint]);
    await putRoute('faulty', {
      rules: [
        { matches: [{ path: { value: '/abort' } }], fault: { abort: { status: 503 } } },
        { matches: [{ path: { value: '/slow' } }], fault: { delay: { ms: 200 } }, timeoutMs: 1000 },
        { matches: [{ path: { value: '/late' } }], fault: { delay: { ms: 500 } }, timeoutMs: 100 },
        { matches: [{ path: { value: '/drill' } }], allowHeaderFaults: true },
        {},
      ],
    });
    await eventually(() => assert.equal(c.describe().route?.rules.length, 5));
    const before = b.server.requests.length;
    const aborted = await c.fetch('/abort');
    assert.equal(aborted.status, 503);
    assert.equal(aborted.headers.get('weft-fault'), 'abort');
    await aborted.arrayBuffer();
    assert.equal(b.server.requests.length, before, 'the abort reached no server');
    let t = performance.now();
    assert.equal((await c.fetch('/slow')).status, 200);
    assert.ok(performance.now() - t >= 195, `delayed ${performance.now() - t} ms`);
    t = performance.now();
    await assert.rejects(c.fetch('/late'), (e) => isWeftError(e, ErrorCode.DeadlineExceeded));
    assert.ok(performance.now() - t < 450, 'the delay ended at the deadline');
    assert.equal((await c.fetch('/drill', { headers: { 'weft-fault-abort': '429' } })).status, 429);
    const ok = await c.fetch('/other', { headers: { 'weft-fault-abort': '429' } });
    assert.equal(ok.status, 200, 'a rule without allowHeaderFaults ignores the header');
    await ok.arrayBuffer();
    assert.equal(b.server.requests.at(-1)?.url, '/other');
  });

  test('request header edits and a path rewrite reach the server; response header edits reach fetch, through the client and the dispatcher', async () => {
    let seen: IncomingMessage | undefined;
    const s = await startServer((req, res) => {
      seen = req;
      res.setHeader('x-internal', 'secret');
      res.end('ok');
    });
    servers.push(s);
    const [address, port] = s.endpoint.split(':');
    const endpoints = [{ address: address!, port: Number(port) }];
    await putRoute('edited', {
      rules: [
        {
          matches: [{ path: { type: 'PathPrefix', value: '/api' } }],
          requestHeaders: { set: { 'x-env': 'prod' }, add: { 'x-tags': 'mesh' }, remove: ['x-debug'] },
          responseHeaders: { set: { 'x-served-by': 'weft' }, remove: ['x-internal'] },
          rewrite: { pathPrefix: '/v2' },
        },
      ],
    });
    const c = createClient({ service: 'edited', endpoints, config });
    clients.push(c);
    await eventually(() => assert.ok(c.describe().route));
    const r = await c.fetch('/api/items?q=1', { headers: { 'X-Debug': '1', 'X-Tags': 'a' } });
    assert.equal(await r.text(), 'ok');
    assert.equal(seen?.url, '/v2/items?q=1');
    assert.equal(seen?.headers['x-env'], 'prod');
    assert.equal(seen?.headers['x-tags'], 'a, mesh');
    assert.equal(seen?.headers['x-debug'], undefined);
    assert.equal(r.headers.get('x-served-by'), 'weft');
    assert.equal(r.headers.get('x-internal'), null);

    const dispatcher = createDispatcher({ services: { edited: { endpoints } }, config, fallback: false });
    try {
      await eventually(() => assert.ok(dispatcher.describe()[0]?.route));
      const viaFetch = await fetch('http://edited/api/x', { dispatcher } as RequestInit);
      assert.equal(await viaFetch.text(), 'ok');
      assert.equal(viaFetch.headers.get('x-served-by'), 'weft');
      assert.equal(viaFetch.headers.get('x-internal'), null);
      assert.equal(seen?.url, '/v2/x');
    } finally {
      await dispatcher.close();
    }
  });

  test('an edge server with routeOverrides: false drops inbound weft-route overrides; by default they enter the context', async () => {
    const seen = async (routeOverrides: boolean | undefined) => {
      const app = express();
      const mesh = weft({ drainSignals: false, ...(routeOverrides === undefined ? {} : { routeOverrides }) });
      app.use(mesh);
      app.get('/r', (_req, res) => {
        res.json({ route: currentContext()?.route ?? null });
      });
      const server = app.listen(0, '127.0.0.1');
      await once(server, 'listening');
      mesh.attach(server);
      try {
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/r`;
        return (
          (await (await fetch(url, { headers: { 'weft-route': 'catalog=v2' } })).json()) as { route: unknown }
        ).route;
      } finally {
        server.closeAllConnections();
        server.close();
      }
    };
    assert.equal(await seen(undefined), 'catalog=v2');
    assert.equal(await seen(false), null);
    assert.throws(() => weft({ routeOverrides: 'no' as never }), /routeOverrides/);
  });
});
