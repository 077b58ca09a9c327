import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createConfigClient, type TrustBundle } from '@weft/core/config';
import { chainVerifies, makeCsr } from './ca-kit.ts';
import { type EtcdProcess, startEtcd } from './etcd.ts';
import { call, eventually, type ServiceProcess, startService } from './service.ts';

describe('the CA on etcd: every replica signs with the same CA and serves the same bundle', () => {
  let etcd: EtcdProcess;
  let a: ServiceProcess;
  let b: ServiceProcess;

  before(async () => {
    etcd = await startEtcd();
    // Started together: both find no CA and race to make one; one commit wins.
    [a, b] = await Promise.all([startService({ etcd: etcd.url }), startService({ etcd: etcd.url })]);
  });
  after(async () => {
    await a?.kill();
    await b?.kill();
    await etcd?.stop();
  });

  const token = () => a.token || b.token;
  const bundle = async (s: ServiceProcess) => (await call(s.url, 'GET', '/v1/ca/bundle')).body as TrustBundle;

  test('both replicas serve one bundle, and certificates from either verify against it', async () => {
    const shared = await bundle(a);
    assert.deepEqual(await bundle(b), shared);
    assert.equal(shared.generation, 1);
    for (const s of [a, b]) {
      const r = await call(s.url, 'POST', '/v1/services/users/certificates', {
        token: token(),
        body: { csr: await makeCsr() },
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.ok(await chainVerifies(r.body.certificate, r.body.chain, shared.certificates));
    }
  });

  test('a rotation on one replica reaches the other and its watchers; the new CA signs on both', async () => {
    const client = createConfigClient({ urls: b.url, token: token() });
    try {
      await client.ready();
      const old = client.trustBundle()!;
      const r = await call(a.url, 'POST', '/v1/ca/rotate', { token: token(), body: {} });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      await eventually(
        () => client.trustBundle()?.generation === old.generation + 1,
        5000,
        'rotated bundle on b',
      );
      const now = client.trustBundle()!;
      assert.deepEqual(await bundle(b), now);
      assert.equal(now.certificates.length, 2);
      const fromB = await call(b.url, 'POST', '/v1/services/users/certificates', {
        token: token(),
        body: { csr: await makeCsr() },
      });
      assert.ok(await chainVerifies(fromB.body.certificate, [], [now.certificates[0]!]));
      assert.equal(await chainVerifies(fromB.body.certificate, [], old.certificates), false);
      // A second rotation on the other replica while the overlap is open is refused.
      assert.equal((await call(b.url, 'POST', '/v1/ca/rotate', { token: token(), body: {} })).status, 409);
    } finally {
      await client.close();
    }
  });
});
