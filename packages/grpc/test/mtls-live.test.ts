/**
 * gRPC mTLS while things change: AuthorizationPolicy decided on the peer of the handshake, a
 * PeerAuthentication document flipping the mode, certificates of a few seconds' life renewed under
 * steady load, and a CA rotation with its overlap — no call may fail that should not.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { status as Status } from '@grpc/grpc-js';
import {
  controlPlaneApi,
  type ServiceProcess,
  setPolicies,
  spiffe,
  startService,
  tempDir,
} from '@weft/control-plane/testing';
import { type ConfigClient, createConfigClient } from '@weft/core/config';
import { createGrpcClient } from '../src/index.ts';
import { type TestClient, TestServiceClient } from './helpers.ts';
import {
  applyDocument,
  call,
  type MeshServer,
  meshIdentity,
  meshServer,
  type Outcome,
  plaintextClient,
} from './mtls-helpers.ts';

/**
 * Certificates of a few seconds: renewed at about half of it, so that each test sees several
 * renewals, with room for a certificate request on a loaded machine.
 */
const LIFETIME_MS = 4000;

describe('gRPC mTLS, live', () => {
  let cp: ServiceProcess;
  let config: ConfigClient;
  const dir = tempDir();
  const closers: (() => unknown)[] = [];
  const later = <T extends { close(): unknown }>(closable: T): T => {
    closers.push(() => closable.close());
    return closable;
  };

  before(async () => {
    cp = await startService({ data: dir.path });
    config = createConfigClient({ urls: cp.url, token: cp.token, services: ['inventory'] });
    await config.ready();
  });
  after(async () => {
    for (const close of closers.reverse()) await close();
    await config.close();
    await cp.stop();
    dir.remove();
  });

  const identity = async (service: string, lifetimeMs?: number) =>
    later(await meshIdentity(cp, service, config, lifetimeMs));
  const serve = async (...args: Parameters<typeof meshServer>): Promise<MeshServer> => {
    const s = await meshServer(...args);
    closers.push(() => s.server.server.forceShutdown());
    return s;
  };
  /** A Weft client of `inventory` at `port` following the config service. */
  const weftClient = (port: number, options: object = {}) =>
    later(
      createGrpcClient(TestServiceClient, 'inventory', {
        endpoints: [`127.0.0.1:${port}`],
        config,
        ...options,
      }),
    );

  test('AuthorizationPolicy allows and denies on the SPIFFE ID of the verified client certificate', async () => {
    const s = await serve('inventory', await identity('inventory'), config);
    const frontend = weftClient(s.port, { mtls: { identity: await identity('frontend'), mode: 'STRICT' } });
    const orders = weftClient(s.port, { mtls: { identity: await identity('orders'), mode: 'STRICT' } });
    const outsider = later(plaintextClient(s.port));
    const from = (who: object) => [{ from: [who] }];
    try {
      await setPolicies(cp, config, {
        readers: { service: 'inventory', action: 'ALLOW', rules: from({ services: ['frontend'] }) },
      });
      assert.deepEqual(await call(frontend), { code: Status.OK, username: spiffe('frontend') });
      assert.equal((await call(orders)).code, Status.PERMISSION_DENIED);
      assert.equal((await call(outsider)).code, Status.PERMISSION_DENIED);
      assert.equal(s.handled(), 1);
      await setPolicies(cp, config, {
        nofrontend: {
          service: 'inventory',
          action: 'DENY',
          rules: from({ principals: [spiffe('frontend')] }),
        },
      });
      assert.equal((await call(frontend)).code, Status.PERMISSION_DENIED);
      assert.deepEqual(await call(orders), { code: Status.OK, username: spiffe('orders') });
      assert.deepEqual(await call(outsider), { code: Status.OK, username: 'none' });
      assert.equal(s.handled(), 3);
    } finally {
      await setPolicies(cp, config, {});
    }
  });

  test('a PeerAuthentication document flips the mode live, on both sides, and back', async () => {
    const s = await serve('inventory', await identity('inventory'), config);
    const frontend = await identity('frontend');
    // PERMISSIVE, and the endpoint is not labelled: plaintext, until the destination turns STRICT.
    const mesh = weftClient(s.port, { mtls: { identity: frontend } });
    const plain = weftClient(s.port);
    const outsider = later(plaintextClient(s.port));
    assert.deepEqual(await call(mesh), { code: Status.OK, username: 'none' });
    assert.deepEqual(await call(plain), { code: Status.OK, username: 'none' });
    assert.deepEqual(await call(outsider), { code: Status.OK, username: 'none' });
    const openPlaintext = s.mtls().connections.plaintextOpen;
    assert.ok(openPlaintext! >= 2, `plaintext connections open: ${openPlaintext}`);

    await applyDocument(cp, config, 'PeerAuthentication', 'inventory', { mode: 'STRICT' });
    try {
      assert.equal(s.mtls().mode, 'STRICT');
      assert.equal(s.mtls().connections.plaintextOpen, 0, 'the open plaintext connections were closed');
      const handled = s.handled();
      // The mesh client's next channel is mTLS; the one without an identity sends nothing.
      assert.deepEqual(await call(mesh), { code: Status.OK, username: spiffe('frontend') });
      const refused = await call(plain);
      assert.equal(refused.code, Status.FAILED_PRECONDITION);
      assert.equal(refused.weftError, 'WEFT_MTLS_REQUIRED');
      const outside = await call(outsider);
      assert.equal(outside.code, Status.PERMISSION_DENIED, JSON.stringify(outside));
      assert.equal(s.handled(), handled + 1);
    } finally {
      await applyDocument(cp, config, 'PeerAuthentication', 'inventory', undefined);
    }
    assert.equal(s.mtls().mode, 'PERMISSIVE');
    assert.deepEqual(await call(plain), { code: Status.OK, username: 'none' });
    assert.deepEqual(await call(outsider), { code: Status.OK, username: 'none' });
  });

  /**
   * Steady calls from one client (its connection made once) and from a new client every
   * `freshEveryMs` (a new handshake each), until `stop()`; resolves with every outcome.
   */
  async function steadyLoad(
    port: number,
    options: object,
    stop: () => boolean,
    freshEveryMs = 300,
  ): Promise<{ outcomes: Outcome[]; fresh: number }> {
    const outcomes: Outcome[] = [];
    const steady = weftClient(port, options);
    const loop = async (client: TestClient) => {
      while (!stop()) outcomes.push(await call(client));
    };
    let fresh = 0;
    const renew = async () => {
      while (!stop()) {
        const client = createGrpcClient(TestServiceClient, 'inventory', {
          endpoints: [`127.0.0.1:${port}`],
          ...options,
        });
        outcomes.push(await call(client));
        fresh++;
        client.close();
        await new Promise((r) => setTimeout(r, freshEveryMs));
      }
    };
    await Promise.all([loop(steady), loop(steady), renew()]);
    return { outcomes, fresh };
  }

  const failed = (outcomes: Outcome[]) => outcomes.filter((o) => o.code !== Status.OK);

  test('certificates of four seconds renewed under steady load: no call lost, no handshake failed', async () => {
    const server = await identity('inventory', LIFETIME_MS);
    const client = await identity('frontend', LIFETIME_MS);
    const s = await serve('inventory', server, config);
    const done = () => server.describe().renewals >= 3 && client.describe().renewals >= 3;
    const { outcomes, fresh } = await steadyLoad(
      s.port,
      { mtls: { identity: client, mode: 'STRICT' } },
      done,
    );
    assert.deepEqual(failed(outcomes), [], JSON.stringify([server.describe(), client.describe()]));
    assert.ok(outcomes.length > 50, `calls: ${outcomes.length}`);
    assert.ok(outcomes.every((o) => o.username === spiffe('frontend')));
    assert.equal(s.mtls().connections.handshakeFailed, 0);
    assert.ok(s.mtls().connections.mtls! >= fresh);
  });

  test('CA rotation: with the overlap and the renewals after it, no call lost; new certificates chain to the new root', async () => {
    const server = await identity('inventory', LIFETIME_MS);
    const client = await identity('frontend', LIFETIME_MS);
    const s = await serve('inventory', server, config);
    const before = client.credentials!.trustBundle.certificates;
    assert.equal(before.length, 1);
    const oldRoot = new X509Certificate(before[0]!);
    let rotated = false;
    let renewedAfter = 0;
    const onRenewal = () => {
      if (rotated) renewedAfter++;
    };
    later({ close: client.onChange(onRenewal) });
    later({ close: server.onChange(onRenewal) });
    const load = steadyLoad(
      s.port,
      { mtls: { identity: client, mode: 'STRICT' } },
      () => rotated && renewedAfter >= 6,
    );
    await new Promise((r) => setTimeout(r, 500));
    const res = await controlPlaneApi(cp, 'POST', '/v1/ca/rotate', {});
    assert.equal(res.status, 200, await res.clone().text());
    rotated = true;
    const { outcomes } = await load;
    assert.deepEqual(failed(outcomes), [], JSON.stringify([server.describe(), client.describe()]));
    const bundle = client.credentials!.trustBundle.certificates;
    assert.equal(bundle.length, 2, 'old and new roots during the overlap');
    const newRoot = new X509Certificate(
      bundle.find((pem) => new X509Certificate(pem).fingerprint256 !== oldRoot.fingerprint256)!,
    );
    for (const who of [client, server]) {
      const leaf = new X509Certificate(who.credentials!.certificate);
      assert.ok(leaf.verify(newRoot.publicKey), 'signed by the new CA');
      assert.ok(!leaf.verify(oldRoot.publicKey));
    }
    assert.equal(s.mtls().connections.handshakeFailed, 0);
  });
});
