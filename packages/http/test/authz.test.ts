/**
 * AuthorizationPolicy on real HTTPS servers (Express and Fastify) with client certificates made by
 * a test CA: a real config-service process holds the policies, the servers follow it live through
 * a config client, and real undici clients present their certificates. The caller's identity comes
 * only from the verified certificate: headers claiming one change nothing.
 */
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import http2 from 'node:http2';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  controlPlaneApi,
  type Leaf,
  type ServiceProcess,
  type Spec,
  setPolicies,
  spiffe,
  startService,
  tempDir,
  testCa,
} from '@weft/control-plane/testing';
import { currentContext } from '@weft/core';
import { type ConfigClient, createConfigClient } from '@weft/core/config';
import { weft as weftExpress } from '@weft/http/express';
import { weft as weftFastify } from '@weft/http/fastify';
import express from 'express';
import Fastify from 'fastify';
import { Agent, request } from 'undici';
import { KINDS, type Kind } from './server-apps.ts';

let cp: ServiceProcess;
let config: ConfigClient;
const dir = tempDir();
const agents: Record<'frontend' | 'orders' | 'anonymous' | 'noSpiffe' | 'foreign', Agent> = {} as never;
let serverLeaf: Leaf;
let frontendLeaf: Leaf;
let ordersLeaf: Leaf;
let ca: string;

before(async () => {
  cp = await startService({ data: dir.path });
  config = createConfigClient({ urls: cp.url, token: cp.token, cacheFile: `${dir.path}/cache.json` });
  await config.ready();
  const mesh = await testCa();
  const other = await testCa('Another CA');
  ca = mesh.ca;
  serverLeaf = await mesh.leaf(spiffe('catalog'));
  const agent = (leaf?: Leaf) =>
    new Agent({ connect: { ca: mesh.ca, ...(leaf ? { cert: leaf.cert, key: leaf.key } : {}) } });
  frontendLeaf = await mesh.leaf(spiffe('frontend'));
  ordersLeaf = await mesh.leaf(spiffe('orders'));
  agents.frontend = agent(frontendLeaf);
  agents.orders = agent(ordersLeaf);
  agents.anonymous = agent();
  agents.noSpiffe = agent(await mesh.leaf(undefined));
  // Signed by a CA the server does not trust, claiming to be frontend.
  agents.foreign = agent(await other.leaf(spiffe('frontend')));
});
after(async () => {
  await Promise.all(Object.values(agents).map((a) => a.close()));
  await config.close();
  await cp.stop();
  dir.remove();
});

const api = (method: string, path: string, body?: unknown) => controlPlaneApi(cp, method, path, body);
const policies = (docs: Record<string, Spec>) => setPolicies(cp, config, docs);

interface Server {
  url: string;
  handled: number;
  close(): Promise<void>;
}

const tls = () => ({
  key: serverLeaf.key,
  cert: serverLeaf.cert,
  ca,
  requestCert: true,
  rejectUnauthorized: false,
});
const options = () => ({ service: 'catalog', config, drainSignals: false as const });

async function startServer(kind: Kind): Promise<Server> {
  const state = { handled: 0 };
  const whoami = () => {
    state.handled++;
    return { peer: currentContext()?.peer ?? null };
  };
  let server: https.Server;
  if (kind === 'express') {
    const app = express();
    app.use(weftExpress(options()));
    app.all('/{*any}', (_req, res) => {
      res.json(whoami());
    });
    server = https.createServer(tls(), app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  } else {
    const app = Fastify({ https: tls() });
    await app.register(weftFastify, options());
    app.all('/*', async () => whoami());
    await app.listen({ port: 0, host: '127.0.0.1' });
    server = app.server as https.Server;
  }
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get handled() {
      return state.handled;
    },
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

for (const kind of KINDS) {
  describe(`AuthorizationPolicy on ${kind} over mutual TLS`, () => {
    let server: Server;
    before(async () => {
      server = await startServer(kind);
    });
    after(() => server.close());

    const call = async (
      who: keyof typeof agents,
      path = '/items/1',
      init: { method?: string; headers?: Record<string, string> } = {},
    ) => {
      const r = await request(`${server.url}${path}`, {
        dispatcher: agents[who],
        method: (init.method ?? 'GET') as 'GET',
        headers: init.headers ?? {},
      });
      const text = await r.body.text();
      return { status: r.statusCode, headers: r.headers, body: text ? JSON.parse(text) : undefined };
    };
    const status = async (...args: Parameters<typeof call>) => (await call(...args)).status;

    test('no policy: every caller is allowed, and the handler sees the verified peer (or none)', async () => {
      await policies({});
      const fromFrontend = await call('frontend');
      assert.equal(fromFrontend.status, 200);
      assert.deepEqual(fromFrontend.body.peer, {
        spiffeId: spiffe('frontend'),
        trustDomain: 'weft.local',
        service: 'frontend',
      });
      for (const who of ['anonymous', 'noSpiffe', 'foreign'] as const) {
        const r = await call(who);
        assert.deepEqual([r.status, r.body.peer], [200, null], who);
      }
    });

    test('ALLOW by service: only that caller; the others get 403 with weft-no-retry before the handler', async () => {
      await policies({
        readers: { service: 'catalog', action: 'ALLOW', rules: [{ from: [{ services: ['frontend'] }] }] },
      });
      assert.equal(await status('frontend'), 200);
      const before = server.handled;
      const denied = await call('orders');
      assert.equal(denied.status, 403);
      assert.equal(denied.headers['weft-no-retry'], '1');
      assert.equal(denied.body.error, 'WEFT_PERMISSION_DENIED');
      assert.equal(server.handled, before, 'the handler did not run');
    });

    test('ALLOW by principal (the full SPIFFE ID)', async () => {
      await policies({
        orders: {
          service: 'catalog',
          action: 'ALLOW',
          rules: [{ from: [{ principals: [spiffe('orders')] }] }],
        },
      });
      assert.equal(await status('orders'), 200);
      assert.equal(await status('frontend'), 403);
    });

    test('ALLOW by method and path glob: the query is ignored, a percent-encoded path is decoded', async () => {
      await policies({
        get: {
          service: 'catalog',
          action: 'ALLOW',
          rules: [{ to: [{ methods: ['GET'], paths: ['/items/*'] }] }],
        },
      });
      assert.equal(await status('frontend', '/items/1'), 200);
      assert.equal(await status('anonymous', '/items/1?x=/admin'), 200, 'no from: anyone');
      assert.equal(await status('frontend', '/items/1', { method: 'POST' }), 403);
      assert.equal(await status('frontend', '/admin'), 403);
      assert.equal(await status('frontend', '/%69tems/1'), 200);
    });

    test('ALLOW by header (when): every condition must hold', async () => {
      await policies({
        tenant: {
          service: 'catalog',
          action: 'ALLOW',
          rules: [
            {
              from: [{ services: ['frontend'] }],
              when: [{ header: 'X-Tenant', values: ['acme', 'beta-*'] }],
            },
          ],
        },
      });
      assert.equal(await status('frontend', '/items/1', { headers: { 'x-tenant': 'acme' } }), 200);
      assert.equal(await status('frontend', '/items/1', { headers: { 'x-tenant': 'beta-2' } }), 200);
      assert.equal(await status('frontend', '/items/1', { headers: { 'x-tenant': 'other' } }), 403);
      assert.equal(await status('frontend'), 403, 'no header');
      assert.equal(
        await status('orders', '/items/1', { headers: { 'x-tenant': 'acme' } }),
        403,
        'wrong caller',
      );
    });

    test('DENY wins over ALLOW', async () => {
      await policies({
        readers: { service: 'catalog', action: 'ALLOW', rules: [{ from: [{ services: ['frontend'] }] }] },
        'no-admin': {
          service: 'catalog',
          action: 'DENY',
          rules: [{ to: [{ paths: ['/admin', '/admin/*'] }] }],
        },
      });
      assert.equal(await status('frontend', '/items/1'), 200);
      assert.equal(await status('frontend', '/admin'), 403);
      assert.equal(await status('frontend', '/admin/users'), 403);
    });

    test('a policy for another service does not select this server', async () => {
      await policies({ other: { service: 'payments', action: 'ALLOW', rules: [] } });
      assert.equal(await status('anonymous'), 200);
    });

    test('mesh default deny: an ALLOW policy for "*" without rules; a service policy then opens what it names', async () => {
      await policies({ 'default-deny': { service: '*', action: 'ALLOW' } });
      assert.equal(await status('frontend'), 403);
      assert.equal(await status('anonymous'), 403);
      await policies({
        'default-deny': { service: '*', action: 'ALLOW' },
        readers: { service: 'catalog', action: 'ALLOW', rules: [{ from: [{ services: ['frontend'] }] }] },
      });
      assert.equal(await status('frontend'), 200);
      assert.equal(await status('orders'), 403);
    });

    test('an unauthenticated caller never matches from: no certificate, no SPIFFE ID, an untrusted CA', async () => {
      await policies({
        anyone: { service: 'catalog', action: 'ALLOW', rules: [{ from: [{ services: ['*'] }] }] },
      });
      assert.equal(await status('frontend'), 200);
      assert.equal(await status('orders'), 200);
      for (const who of ['anonymous', 'noSpiffe', 'foreign'] as const)
        assert.equal(await status(who), 403, who);
    });

    test('headers claiming an identity have no effect (denial and peer)', async () => {
      await policies({
        readers: { service: 'catalog', action: 'ALLOW', rules: [{ from: [{ services: ['frontend'] }] }] },
      });
      const spoof = {
        'x-spiffe-id': spiffe('frontend'),
        'x-forwarded-client-cert': `By=${spiffe('catalog')};URI=${spiffe('frontend')}`,
        'x-weft-peer': 'frontend',
      };
      assert.equal(await status('anonymous', '/items/1', { headers: spoof }), 403);
      assert.equal(await status('orders', '/items/1', { headers: spoof }), 403);
      await policies({});
      const r = await call('orders', '/items/1', { headers: spoof });
      assert.equal(r.body.peer.spiffeId, spiffe('orders'), 'the certificate, not the header');
      assert.equal((await call('anonymous', '/items/1', { headers: spoof })).body.peer, null);
    });

    test('a change applies to the next request; an invalid policy is refused with 400 and changes nothing', async () => {
      await policies({
        readers: { service: 'catalog', action: 'ALLOW', rules: [{ from: [{ services: ['frontend'] }] }] },
      });
      assert.equal(await status('orders'), 403);
      await policies({
        readers: { service: 'catalog', action: 'ALLOW', rules: [{ from: [{ services: ['orders'] }] }] },
      });
      assert.equal(await status('orders'), 200, 'the first request after the change');
      assert.equal(await status('frontend'), 403);
      const bad = await api('PUT', '/v1/documents/AuthorizationPolicy/readers', {
        spec: { service: 'catalog', action: 'MAYBE', rules: [{ to: [{ paths: ['items'] }] }] },
      });
      assert.equal(bad.status, 400);
      const issues = JSON.stringify(await bad.json());
      assert.match(issues, /spec\.action/);
      assert.match(issues, /spec\.rules\.0\.to\.0\.paths\.0/);
      assert.equal(await status('orders'), 200);
      assert.equal(await status('frontend'), 403);
    });

    test('a denial is published without the query string or headers', async () => {
      await policies({
        readers: { service: 'catalog', action: 'ALLOW', rules: [{ from: [{ services: ['frontend'] }] }] },
      });
      const events: unknown[] = [];
      const listener = (e: unknown) => events.push(e);
      subscribe('weft:server:authz-denied', listener);
      try {
        assert.equal(
          await status('orders', '/items/1?token=s3cret', { headers: { authorization: 'Bearer s3cret' } }),
          403,
        );
      } finally {
        unsubscribe('weft:server:authz-denied', listener);
      }
      assert.deepEqual(events, [
        {
          service: 'catalog',
          policy: 'readers',
          reason: 'no_allow_match',
          peer: spiffe('orders'),
          method: 'GET',
          path: '/items/1',
        },
      ]);
      assert.equal(JSON.stringify(events).includes('s3cret'), false);
    });
  });
}

describe('AuthorizationPolicy on Fastify over HTTP/2 with TLS', () => {
  test('the peer is the connection certificate for every stream; policies decide as over HTTP/1.1', async () => {
    const app = Fastify({ http2: true, https: { ...tls(), allowHTTP1: true } });
    await app.register(weftFastify, options());
    app.get('/*', async () => ({ peer: currentContext()?.peer?.spiffeId ?? null }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (app.server.address() as AddressInfo).port;
    const get = (session: http2.ClientHttp2Session, path: string, headers: Record<string, string> = {}) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const stream = session.request({ ':path': path, ...headers });
        let body = '';
        let status = 0;
        stream.on('response', (h) => {
          status = Number(h[':status']);
        });
        stream.on('data', (d) => {
          body += d;
        });
        stream.on('end', () => resolve({ status, body }));
        stream.on('error', reject);
      });
    const session = (leaf: Leaf) =>
      http2.connect(`https://localhost:${port}`, { ca, cert: leaf.cert, key: leaf.key });
    const frontend = session(frontendLeaf);
    const orders = session(ordersLeaf);
    try {
      await policies({
        readers: { service: 'catalog', action: 'ALLOW', rules: [{ from: [{ services: ['frontend'] }] }] },
      });
      for (let i = 0; i < 3; i++) {
        const r = await get(frontend, `/items/${i}`);
        assert.deepEqual([r.status, JSON.parse(r.body).peer], [200, spiffe('frontend')]);
      }
      assert.equal((await get(orders, '/items/1', { 'x-spiffe-id': spiffe('frontend') })).status, 403);
    } finally {
      frontend.close();
      orders.close();
      await app.close();
    }
  });
});
