/**
 * mTLS for gRPC, end to end: a real config service (CA, registry, documents) in its own process,
 * real identities from it, Weft gRPC servers serving mTLS and plaintext on one port, Weft clients
 * planning each channel, and plain grpc-js clients as the callers outside the mesh.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { credentials, Metadata, status as Status } from '@grpc/grpc-js';
import { type ServiceProcess, spiffe, startService, tempDir, testCa } from '@weft/control-plane/testing';
import { type MeshCredentials, StaticResolver } from '@weft/core';
import { type ConfigClient, createConfigClient } from '@weft/core/config';
import { type Identity, registryResolver } from '@weft/discovery';
import { createGrpcClient, createGrpcServer } from '../src/index.ts';
import { TestServiceClient, unary } from './helpers.ts';
import {
  call,
  fixedIdentity,
  type MeshServer,
  meshIdentity,
  meshServer,
  plaintextClient,
  until,
} from './mtls-helpers.ts';
import { installOtel, points, spans } from './otel.ts';

describe('gRPC mTLS', () => {
  let cp: ServiceProcess;
  let config: ConfigClient;
  let inventory!: Identity;
  let frontend!: Identity;
  let orders!: Identity;
  const dir = tempDir();
  const closers: (() => unknown)[] = [];
  const later = <T extends { close(): unknown }>(closable: T): T => {
    closers.push(() => closable.close());
    return closable;
  };

  let uninstallOtel: () => Promise<void>;

  before(async () => {
    uninstallOtel = installOtel();
    cp = await startService({ data: dir.path });
    config = createConfigClient({ urls: cp.url, token: cp.token, services: ['inventory'] });
    await config.ready();
    inventory = await meshIdentity(cp, 'inventory', config);
    frontend = await meshIdentity(cp, 'frontend', config);
    orders = await meshIdentity(cp, 'orders', config);
  });
  after(async () => {
    for (const close of closers.reverse()) await close();
    for (const identity of [inventory, frontend, orders]) identity?.close();
    await config.close();
    await cp.stop();
    dir.remove();
    await uninstallOtel();
  });

  const serve = async (...args: Parameters<typeof meshServer>): Promise<MeshServer> => {
    const s = await meshServer(...args);
    closers.push(() => s.server.server.forceShutdown());
    return s;
  };
  /** A Weft client of `inventory` at `port` with `frontend`'s identity; STRICT so that it uses mTLS. */
  const meshClient = (port: number, extra: object = {}) =>
    later(
      createGrpcClient(TestServiceClient, 'inventory', {
        endpoints: [`127.0.0.1:${port}`],
        mtls: { identity: frontend, mode: 'STRICT' },
        ...extra,
      }),
    );

  test('PERMISSIVE: one port serves plaintext and mTLS; the client finds mTLS by the registration label; the handler sees the caller', async () => {
    const s = await serve('inventory', inventory, config, undefined, { cp });
    const resolver = registryResolver({ service: 'inventory', client: config });
    const client = later(
      createGrpcClient(TestServiceClient, 'inventory', { resolver, config, mtls: { identity: frontend } }),
    );
    await until(() => call(client).then((o) => o.code === Status.OK), 'the registration');
    assert.deepEqual(await call(client), { code: Status.OK, username: spiffe('frontend') });
    assert.deepEqual(await call(later(plaintextClient(s.port))), { code: Status.OK, username: 'none' });
    const endpoint = (
      client as never as { getChannel(): { describe(): { endpoints: { labels: object }[] } } }
    )
      .getChannel()
      .describe().endpoints[0]!;
    assert.deepEqual(endpoint.labels, { 'weft/mtls': 'true' });
    const d = s.mtls();
    assert.equal(d.mode, 'PERMISSIVE');
    assert.equal(d.connections.mtls, 1);
    assert.equal(d.connections.plaintext, 1);
    assert.equal(d.connections.handshakeFailed, 0);
  });

  test('STRICT: a plaintext client is refused before any handler runs; mTLS is still served', async () => {
    const s = await serve('inventory', inventory, config, 'STRICT');
    // The GOAWAY's INADEQUATE_SECURITY, as grpc-js reports it.
    assert.deepEqual(await call(later(plaintextClient(s.port))), {
      code: Status.PERMISSION_DENIED,
      details: 'Protocol not secure enough',
    });
    assert.equal(s.handled(), 0);
    assert.ok(s.mtls().connections.refused! >= 1);
    assert.deepEqual(await call(meshClient(s.port)), { code: Status.OK, username: spiffe('frontend') });
  });

  test("a client refuses a server that presents another service's identity (unless serverIdentities lists it)", async () => {
    const impostor = await serve('orders', orders, config);
    const outcome = await call(meshClient(impostor.port, { retry: false }));
    assert.equal(outcome.code, Status.UNAVAILABLE);
    assert.match(outcome.details!, /presented spiffe:\/\/weft\.local\/service\/orders/);
    assert.equal(impostor.handled(), 0);
    const listed = meshClient(impostor.port, {
      mtls: { identity: frontend, mode: 'STRICT', serverIdentities: ['orders'] },
    });
    assert.deepEqual(await call(listed), { code: Status.OK, username: spiffe('frontend') });
  });

  test('a server refuses a client certificate of another CA, and an expired one, in the handshake', async () => {
    const s = await serve('inventory', inventory, config);
    const other = await testCa('Another CA');
    const leaf = await other.leaf(spiffe('frontend'));
    const real = frontend.credentials!;
    const foreign: MeshCredentials = { ...real, key: leaf.key, certificate: leaf.cert, chain: [] };
    // Each client is closed after its call, so that grpc-js does not try to connect again.
    const once = async (credentials: MeshCredentials) => {
      const client = meshClient(s.port, {
        retry: false,
        mtls: { identity: fixedIdentity(credentials), mode: 'STRICT' },
      });
      const outcome = await call(client);
      client.close();
      return outcome;
    };
    assert.equal((await once(foreign)).code, Status.UNAVAILABLE);
    const failedOnce = s.mtls().connections.handshakeFailed!;
    assert.ok(failedOnce >= 1);
    // A certificate of the mesh's CA that expired: its identity stopped renewing it.
    const shortLived = await meshIdentity(cp, 'frontend', config, 1000);
    const expiring = shortLived.credentials!;
    shortLived.close();
    await until(() => Date.now() > expiring.notAfter.getTime() + 50, 'the certificate to expire', 5000);
    assert.equal((await once(expiring)).code, Status.UNAVAILABLE);
    assert.ok(s.mtls().connections.handshakeFailed! > failedOnce);
    assert.equal(s.handled(), 0);
    assert.equal(s.mtls().connections.mtls, 0);
  });

  test('an endpoint that starts serving mTLS gets it for the next calls; a call in flight on its plaintext channel finishes', async () => {
    const s = await serve('inventory', inventory, config);
    const at = { address: '127.0.0.1', port: s.port };
    const resolver = new StaticResolver([at]);
    const client = later(
      createGrpcClient(TestServiceClient, 'inventory', { resolver, mtls: { identity: frontend } }),
    );
    assert.deepEqual(await call(client), { code: Status.OK, username: 'none' });
    const metadata = new Metadata();
    metadata.set('delay-ms', '400');
    const inFlight = unary(client, 'emptyCall', {}, metadata, { deadline: Date.now() + 5000 });
    await until(() => s.handled() === 2, 'the slow call to start');
    resolver.set([{ ...at, labels: { 'weft/mtls': 'true' } }]);
    assert.deepEqual(await call(client), { code: Status.OK, username: spiffe('frontend') });
    assert.deepEqual(await inFlight, {});
    assert.equal(s.mtls().connections.plaintext, 1);
    assert.equal(s.mtls().connections.mtls, 1);
  });

  test("the server span names the caller's service and SPIFFE ID over mTLS only; connections are counted by kind", async () => {
    const s = await serve('inventory', inventory, config);
    spans.reset();
    assert.equal((await call(meshClient(s.port))).code, Status.OK);
    assert.equal((await call(later(plaintextClient(s.port)))).code, Status.OK);
    const served = spans.getFinishedSpans().filter((span) => span.kind === 1 /* SERVER */);
    assert.equal(served.length, 2);
    const [secure, plain] = served.map((span) => span.attributes);
    assert.equal(secure!['weft.peer.service'], 'frontend');
    assert.equal(secure!['weft.peer.spiffe_id'], spiffe('frontend'));
    assert.equal(plain!['weft.peer.service'], undefined);
    const durations = (await points('rpc.server.duration')).map((p) => p.attributes);
    assert.ok(durations.some((a) => a['weft.peer.service'] === 'frontend'));
    const counted = (await points('weft.server.connections')).map((p) => p.attributes);
    for (const tls of ['mtls', 'plaintext'])
      assert.ok(
        counted.some(
          (a) =>
            a['weft.tls'] === tls && a['weft.outcome'] === 'accepted' && a['weft.service'] === 'inventory',
        ),
        tls,
      );
  });

  test('drain closes the mTLS port: no new connection is accepted', async () => {
    const s = await meshServer('inventory', inventory, config);
    assert.equal((await call(meshClient(s.port))).code, Status.OK);
    await s.server.drain();
    const refused = await new Promise<string>((resolve) =>
      connect(s.port, '127.0.0.1')
        .once('connect', () => resolve('connected'))
        .once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error')),
    );
    assert.equal(refused, 'ECONNREFUSED');
  });

  test('listen on a port in use rejects; an address that is not host:port is refused', async () => {
    const s = await serve('inventory', inventory, config);
    const second = createGrpcServer({ drainSignals: false, mtls: { identity: inventory } });
    await assert.rejects(second.listen(`127.0.0.1:${s.port}`), /EADDRINUSE/);
    assert.throws(() => second.listen('unix:weft.sock'), /host:port/);
    second.server.forceShutdown();
  });

  test('plaintext-only and mTLS clients side by side with the options checked', () => {
    assert.throws(
      () =>
        createGrpcClient(TestServiceClient, 'inventory', {
          endpoints: ['127.0.0.1:1'],
          mtls: { identity: frontend, strict: true } as never,
        }),
      /strict/,
    );
    assert.throws(
      () =>
        createGrpcClient(TestServiceClient, 'inventory', {
          endpoints: ['127.0.0.1:1'],
          mtls: { identity: frontend },
          credentials: credentials.createInsecure(),
        }),
      /credentials/,
    );
    assert.throws(
      () =>
        createGrpcClient(TestServiceClient, 'inventory', {
          endpoints: ['127.0.0.1:1'],
          mtls: { identity: {} } as never,
        }),
      /mtls\.identity/,
    );
  });
});
