/**
 * mTLS on the wire for HTTP, with real parts only: a real config-service process is the CA, real
 * identities (`createIdentity`) get and renew their certificates from it, real Express and Fastify
 * servers serve mTLS and plaintext on one port through Weft, and Weft's HTTP client connects with
 * its identity. What is checked is what an operator relies on: strict refuses plaintext before any
 * handler, each side refuses the other's wrong identity, an expired certificate is refused, and
 * neither renewal nor a CA rotation under steady traffic loses a request.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { TLSSocket } from 'node:tls';
import {
  controlPlaneApi,
  type ServiceProcess,
  setPolicies,
  spiffe,
  startService,
  tempDir,
  testCa,
} from '@weft/control-plane/testing';
import { currentContext, isWeftError, type MeshCredentials, type MeshIdentity } from '@weft/core';
import { type ConfigClient, createConfigClient } from '@weft/core/config';
import { createIdentity, type Identity } from '@weft/discovery';
import { createClient, type WeftClient } from '@weft/http';
import { weft as weftExpress } from '@weft/http/express';
import { weft as weftFastify } from '@weft/http/fastify';
import express from 'express';
import Fastify from 'fastify';
import { Agent, request } from 'undici';
import type { ServerOptions } from '../src/server/options.ts';
import { installOtel, points, spans } from './chain-otel.ts';
import { KINDS, type Kind } from './server-apps.ts';

const stopOtel = installOtel();

let cp: ServiceProcess;
let config: ConfigClient;
const dir = tempDir();
const identities: Identity[] = [];

before(async () => {
  cp = await startService({ data: dir.path });
  config = createConfigClient({ urls: cp.url, token: cp.token, cacheFile: `${dir.path}/cache.json` });
  await config.ready();
});
after(async () => {
  await stopOtel();
  for (const identity of identities) identity.close();
  await config.close();
  await cp.stop();
  dir.remove();
});

/** An identity for `service` from the real CA (the admin token may ask for any service). */
async function identity(service: string, lifetimeMs?: number): Promise<Identity> {
  const made = createIdentity({ service, urls: cp.url, token: cp.token, lifetimeMs, config });
  identities.push(made);
  await made.ready();
  return made;
}

/** A fixed identity made of a certificate from some other CA (never changes). */
function fixedIdentity(credentials: MeshCredentials): MeshIdentity {
  return { credentials, onChange: () => () => {} };
}

interface TestServer {
  port: number;
  handled: number;
  peers: (string | null)[];
  /** Serial numbers of the client certificates seen (Express only). */
  serials: Set<string>;
  server: http.Server;
  close(): Promise<void>;
}

async function startServer(kind: Kind, options: ServerOptions): Promise<TestServer> {
  const state = { handled: 0, peers: [] as (string | null)[], serials: new Set<string>() };
  const whoami = () => {
    state.handled++;
    const peer = currentContext()?.peer?.spiffeId ?? null;
    state.peers.push(peer);
    return { peer };
  };
  let server: http.Server;
  if (kind === 'express') {
    const app = express();
    const mesh = weftExpress({ drainSignals: false, ...options });
    app.use(mesh);
    app.all('/{*any}', (req, res) => {
      const cert = (req.socket as TLSSocket).getPeerCertificate?.();
      if (cert?.serialNumber) state.serials.add(cert.serialNumber);
      // `?close`: this connection ends after the answer, so the next request makes a new handshake.
      if ('close' in req.query) res.set('connection', 'close');
      res.json(whoami());
    });
    server = http.createServer(app);
    mesh.attach(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  } else {
    const app = Fastify();
    await app.register(weftFastify, { drainSignals: false, ...options });
    app.all('/*', async () => whoami());
    await app.listen({ port: 0, host: '127.0.0.1' });
    server = app.server as http.Server;
  }
  return {
    port: (server.address() as AddressInfo).port,
    get handled() {
      return state.handled;
    },
    peers: state.peers,
    serials: state.serials,
    server,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

const MTLS_LABELS = { 'weft/mtls': 'true' };

function meshClient(
  service: string,
  port: number,
  extra: Partial<Parameters<typeof createClient>[0]> = {},
): WeftClient {
  return createClient({
    service,
    endpoints: [{ address: '127.0.0.1', port, labels: MTLS_LABELS }],
    retry: false,
    outlierDetection: false,
    circuitBreaker: false,
    ...extra,
  });
}

async function plaintext(
  port: number,
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  const agent = new Agent();
  try {
    const res = await request(`http://127.0.0.1:${port}/plain`, { dispatcher: agent });
    return { status: res.statusCode, body: await res.body.text(), headers: res.headers };
  } finally {
    await agent.close();
  }
}

async function json(res: Response): Promise<{ peer: string | null }> {
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as { peer: string | null };
}

const writeDoc = async (kind: string, name: string, spec: unknown) => {
  const res = await controlPlaneApi(cp, 'PUT', `/v1/documents/${kind}/${name}`, { spec });
  const body = (await res.json()) as { revision: number };
  assert.ok(res.status === 200 || res.status === 201, `${res.status} ${JSON.stringify(body)}`);
  const revision = body.revision;
  while (config.revision < revision) await new Promise((r) => setTimeout(r, 10));
};
const deleteDoc = async (kind: string, name: string) => {
  const res = await controlPlaneApi(cp, 'DELETE', `/v1/documents/${kind}/${name}`);
  const revision = ((await res.json()) as { revision?: number }).revision ?? 0;
  while (config.revision < revision) await new Promise((r) => setTimeout(r, 10));
};

for (const kind of KINDS) {
  describe(`mTLS through Weft on ${kind}`, () => {
    let catalog: Identity;
    let frontend: Identity;
    before(async () => {
      [catalog, frontend] = await Promise.all([identity('catalog'), identity('frontend')]);
    });

    test('PERMISSIVE serves plaintext and mTLS on one port; the peer comes from the handshake', async () => {
      const server = await startServer(kind, {
        service: 'catalog',
        config,
        mtls: { identity: catalog },
        adminPath: '/weft/admin',
      });
      const client = meshClient('catalog', server.port, { mtls: { identity: frontend } });
      try {
        const plain = await plaintext(server.port);
        assert.equal(plain.status, 200);
        assert.deepEqual(JSON.parse(plain.body), { peer: null });
        // A header claiming an identity over mTLS changes nothing: the certificate says who.
        const res = await client.fetch('/secure', { headers: { 'x-spiffe-id': spiffe('orders') } });
        assert.deepEqual(await json(res), { peer: spiffe('frontend') });
        const described = (await (await fetch(`http://127.0.0.1:${server.port}/weft/admin`)).json()) as {
          server: { mtls: { mode: string; connections: { mtls: number; plaintext: number } }[] };
        };
        const front = described.server.mtls[0]!;
        assert.equal(front.mode, 'PERMISSIVE');
        assert.ok(front.connections.mtls >= 1 && front.connections.plaintext >= 1, JSON.stringify(front));
        // The caller is on the server span and the duration metric; connections are counted by kind.
        const span = spans
          .getFinishedSpans()
          .find((s) => s.kind === 1 && s.attributes['weft.peer.spiffe_id'] === spiffe('frontend'));
        assert.ok(span, 'a SERVER span carries the peer');
        assert.equal(span.attributes['weft.peer.service'], 'frontend');
        const durations = await points('http.server.request.duration');
        assert.ok(durations.some((p) => p.attributes['weft.peer.service'] === 'frontend'));
        const connections = await points('weft.server.connections');
        for (const tls of ['mtls', 'plaintext'])
          assert.ok(
            connections.some(
              (p) => p.attributes['weft.tls'] === tls && p.attributes['weft.outcome'] === 'accepted',
            ),
            `weft.server.connections{weft.tls=${tls}}`,
          );
      } finally {
        await client.close();
        await server.close();
      }
    });

    test('STRICT refuses plaintext with 403 before any handler runs, and serves mTLS', async () => {
      const server = await startServer(kind, {
        service: 'catalog',
        config,
        mtls: { identity: catalog, mode: 'STRICT' },
      });
      const client = meshClient('catalog', server.port, { mtls: { identity: frontend } });
      try {
        const plain = await plaintext(server.port);
        assert.equal(plain.status, 403);
        assert.equal(plain.headers['weft-no-retry'], '1');
        assert.match(plain.body, /only mTLS/);
        assert.equal(server.handled, 0);
        assert.deepEqual(await json(await client.fetch('/secure')), { peer: spiffe('frontend') });
        assert.equal(server.handled, 1);
      } finally {
        await client.close();
        await server.close();
      }
    });

    test('the client refuses a server whose SPIFFE ID is not the destination’s, unless listed', async () => {
      const orders = await identity('orders');
      const server = await startServer(kind, { service: 'orders', config, mtls: { identity: orders } });
      const wrong = meshClient('catalog', server.port, { mtls: { identity: frontend } });
      const listed = meshClient('catalog', server.port, {
        mtls: { identity: frontend, serverIdentities: ['orders'] },
      });
      try {
        const error = await wrong.fetch('/x').then(
          () => assert.fail('a server with the wrong identity answered'),
          (e: unknown) => e,
        );
        assert.ok(isWeftError(error), String(error));
        assert.match(describeError(error), /presented spiffe:\/\/weft\.local\/service\/orders/);
        assert.equal(server.handled, 0);
        assert.deepEqual(await json(await listed.fetch('/x')), { peer: spiffe('frontend') });
      } finally {
        await wrong.close();
        await listed.close();
        await server.close();
      }
    });

    test('the server refuses a client certificate of another CA, none, and an expired one', async () => {
      const server = await startServer(kind, { service: 'catalog', config, mtls: { identity: catalog } });
      const foreignCa = await testCa('Not the mesh');
      const foreignLeaf = await foreignCa.leaf(spiffe('frontend'));
      const bundle = frontend.credentials!.trustBundle;
      const foreign = meshClient('catalog', server.port, {
        mtls: {
          identity: fixedIdentity({
            key: foreignLeaf.key,
            certificate: foreignLeaf.cert,
            chain: [],
            spiffeId: spiffe('frontend'),
            notAfter: new Date(Date.now() + 3_600_000),
            trustBundle: bundle,
          }),
        },
      });
      // A short-lived certificate, left to expire: its identity stops renewing.
      const shortLived = await identity('frontend', 1000);
      shortLived.close();
      const expiredCredentials = shortLived.credentials!;
      await new Promise((r) =>
        setTimeout(r, Math.max(0, expiredCredentials.notAfter.getTime() - Date.now()) + 200),
      );
      const expired = meshClient('catalog', server.port, {
        mtls: { identity: fixedIdentity(expiredCredentials) },
      });
      const noCert = new Agent({
        connect: { ca: [...bundle.certificates], checkServerIdentity: () => undefined },
      });
      try {
        for (const client of [foreign, expired]) {
          const error = await client.fetch('/x').then(
            () => assert.fail('the server accepted a certificate it must refuse'),
            (e: unknown) => e,
          );
          assert.ok(isWeftError(error), String(error));
        }
        await assert.rejects(request(`https://127.0.0.1:${server.port}/x`, { dispatcher: noCert }));
        assert.equal(server.handled, 0);
        const front = server.server.listenerCount('connection');
        assert.equal(front, 1);
      } finally {
        await foreign.close();
        await expired.close();
        await noCert.close();
        await server.close();
      }
    });
  });
}

function describeError(error: unknown): string {
  const parts: string[] = [];
  for (let e = error as { message?: string; cause?: unknown } | undefined; e; e = e.cause as never)
    parts.push(String(e.message));
  return parts.join(' <- ');
}

describe('mTLS modes from the config service (PeerAuthentication)', () => {
  let catalog: Identity;
  let frontend: Identity;
  before(async () => {
    [catalog, frontend] = await Promise.all([identity('catalog'), identity('frontend')]);
  });

  test('a STRICT document closes open plaintext connections, refuses new ones, and clients stop sending plaintext', async () => {
    const server = await startServer('express', { service: 'catalog', config, mtls: { identity: catalog } });
    // A client without an identity, steered by the same config service.
    const anonymous = createClient({
      service: 'catalog',
      endpoints: [{ address: '127.0.0.1', port: server.port }],
      config,
      retry: false,
    });
    const socket = await keepAliveSocket(server.port);
    try {
      assert.equal((await anonymous.fetch('/before')).status, 200);
      await writeDoc('PeerAuthentication', 'catalog', { mode: 'STRICT' });
      if (!socket.closed) await once(socket, 'close'); // the plaintext connection open before the change is closed
      assert.equal((await plaintext(server.port)).status, 403);
      const error = await anonymous.fetch('/after').then(
        () => assert.fail('a STRICT destination got plaintext'),
        (e: unknown) => e,
      );
      assert.ok(isWeftError(error), describeError(error));
      assert.match(describeError(error), /accepts only mTLS \(mode STRICT\)/);
      // A client with an identity now uses mTLS even with an endpoint that advertises nothing.
      const meshed = createClient({
        service: 'catalog',
        endpoints: [{ address: '127.0.0.1', port: server.port }],
        config,
        mtls: { identity: frontend },
      });
      assert.deepEqual(await json(await meshed.fetch('/strict')), { peer: spiffe('frontend') });
      await meshed.close();
      // The service's own document overrides the mesh-wide one.
      await writeDoc('PeerAuthentication', 'mesh', { mode: 'STRICT' });
      await writeDoc('PeerAuthentication', 'catalog', { mode: 'PERMISSIVE' });
      assert.equal((await plaintext(server.port)).status, 200);
      await deleteDoc('PeerAuthentication', 'catalog');
      assert.equal((await plaintext(server.port)).status, 403);
    } finally {
      await deleteDoc('PeerAuthentication', 'catalog');
      await deleteDoc('PeerAuthentication', 'mesh');
      socket.destroy();
      await anonymous.close();
      await server.close();
    }
  });

  test('code says STRICT: a PERMISSIVE document cannot loosen it', async () => {
    await writeDoc('PeerAuthentication', 'mesh', { mode: 'PERMISSIVE' });
    const server = await startServer('fastify', {
      service: 'catalog',
      config,
      mtls: { identity: catalog, mode: 'STRICT' },
    });
    try {
      assert.equal((await plaintext(server.port)).status, 403);
    } finally {
      await deleteDoc('PeerAuthentication', 'mesh');
      await server.close();
    }
  });

  test('an AuthorizationPolicy decides on the identity of the mTLS handshake', async () => {
    const orders = await identity('orders');
    const server = await startServer('express', { service: 'catalog', config, mtls: { identity: catalog } });
    const asFrontend = meshClient('catalog', server.port, { mtls: { identity: frontend } });
    const asOrders = meshClient('catalog', server.port, { mtls: { identity: orders } });
    try {
      await setPolicies(cp, config, {
        'catalog-readers': {
          service: 'catalog',
          action: 'ALLOW',
          rules: [{ from: [{ services: ['frontend'] }] }],
        },
      });
      assert.equal((await asFrontend.fetch('/items')).status, 200);
      const denied = await asOrders.fetch('/items');
      assert.equal(denied.status, 403);
      assert.equal(denied.headers.get('weft-no-retry'), '1');
      assert.equal((await plaintext(server.port)).status, 403);
    } finally {
      await setPolicies(cp, config, {});
      await asFrontend.close();
      await asOrders.close();
      await server.close();
    }
  });
});

/** A plaintext keep-alive connection that has completed one request. */
async function keepAliveSocket(port: number): Promise<Socket> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const req = http.get({ host: '127.0.0.1', port, path: '/keep', agent });
  const [res] = (await once(req, 'response')) as [http.IncomingMessage];
  res.resume();
  await once(res, 'end');
  return req.socket as Socket;
}

describe('mTLS under steady traffic', () => {
  test('renewal (certificates of 4 s) and a CA rotation with overlap lose no request', async () => {
    // 4 s: renewal at half-life leaves about 2 s for the request, room on a loaded machine.
    const catalog = await identity('catalog', 4000);
    const frontend = await identity('frontend', 4000);
    const server = await startServer('express', {
      service: 'catalog',
      config,
      mtls: { identity: catalog, mode: 'STRICT' },
    });
    // Short keep-alive: new connections (and handshakes) keep being made during the test.
    const client = meshClient('catalog', server.port, {
      mtls: { identity: frontend },
      keepAliveTimeoutMs: 100,
      connections: 4,
    });
    let ok = 0;
    let n = 0;
    const failures: string[] = [];
    let running = true;
    const worker = async () => {
      while (running) {
        try {
          const res = await client.fetch(n++ % 8 === 0 ? '/load?close' : '/load');
          if (res.status === 200) ok++;
          else failures.push(`status ${res.status}`);
          await res.arrayBuffer();
        } catch (error) {
          failures.push(describeError(error));
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    const workers = Array.from({ length: 4 }, worker);
    try {
      const serialsBefore = catalog.describe().serialNumber;
      await new Promise((r) => setTimeout(r, 4500));
      assert.ok(catalog.describe().renewals >= 1, JSON.stringify(catalog.describe()));
      assert.notEqual(catalog.describe().serialNumber, serialsBefore);
      const generation = config.trustBundle()!.generation;
      const rotated = await controlPlaneApi(cp, 'POST', '/v1/ca/rotate', {});
      assert.equal(rotated.status, 200, await rotated.text());
      while ((config.trustBundle()?.generation ?? 0) <= generation)
        await new Promise((r) => setTimeout(r, 10));
      const renewalsAtRotation = frontend.describe().renewals + catalog.describe().renewals;
      // Both sides renew under the new CA while the old one is still trusted.
      await new Promise((r) => setTimeout(r, 4500));
      assert.ok(frontend.describe().renewals + catalog.describe().renewals >= renewalsAtRotation + 2);
      assert.equal(catalog.credentials!.trustBundle.certificates.length, 2);
    } finally {
      running = false;
      await Promise.all(workers);
      await client.close();
      await server.close();
      catalog.close();
      frontend.close();
    }
    assert.deepEqual(failures.slice(0, 5), []);
    assert.ok(ok > 100, `only ${ok} requests succeeded`);
    // The server saw the client's first certificate, its renewals, and those the new CA signed.
    assert.ok(server.serials.size >= 4, `client certificates seen: ${server.serials.size}`);
  });
});

describe('mtls options are checked', () => {
  const identity: MeshIdentity = { credentials: undefined, onChange: () => () => {} };
  test('clients refuse unknown keys, a bad mode, a bad server identity and a non-identity', () => {
    const make = (mtls: unknown) => () =>
      createClient({ service: 'catalog', endpoints: ['127.0.0.1:1'], mtls: mtls as never });
    assert.throws(make({ identity, strict: true }), /mtls has no option "strict"/);
    assert.throws(make({ identity, mode: 'LAX' }), /mtls\.mode: must be PERMISSIVE or STRICT/);
    assert.throws(make({ identity, serverIdentities: ['spiffe://x/y'] }), /mtls\.serverIdentities/);
    assert.throws(make({ identity: {} }), /mtls\.identity: must be an identity/);
  });

  test('servers and serveMtls refuse them too, and an https server', async () => {
    assert.throws(() => weftExpress({ mtls: { identity, mode: 'OFF' as never } }), /mtls\.mode/);
    assert.throws(
      () => weftExpress({ mtls: { identity, firstByteTimeoutMs: 0 } }),
      /mtls\.firstByteTimeoutMs/,
    );
    const { serveMtls } = await import('@weft/http');
    const server = http.createServer();
    assert.throws(
      () => serveMtls(server, { identity, extra: 1 } as never),
      /serveMtls has no option "extra"/,
    );
    const https = await import('node:https');
    assert.throws(() => serveMtls(https.createServer() as never, { identity }), /already an https server/);
  });

  test('a STRICT client without a certificate yet sends nothing', async () => {
    const client = createClient({
      service: 'catalog',
      endpoints: ['127.0.0.1:1'],
      mtls: { identity, mode: 'STRICT' },
      retry: false,
    });
    try {
      const error = await client.fetch('/').then(
        () => assert.fail('sent'),
        (e: unknown) => e,
      );
      assert.match(describeError(error), /accepts only mTLS.*no certificate yet/);
    } finally {
      await client.close();
    }
  });
});
