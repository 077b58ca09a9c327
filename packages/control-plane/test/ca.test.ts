import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createConfigClient, type TrustBundle } from '@weft/core/config';
import * as x509 from '../src/ca/x509.ts';
import { sqliteStore } from '../src/store/sqlite.ts';
import { chainVerifies, makeCsr, makeOperatorCa, makeRsaCsr, tamper, uriSans } from './ca-kit.ts';
import { call, eventually, type ServiceProcess, startService, tempDir } from './service.ts';

const issue = (svc: ServiceProcess, service: string, token: string, body: unknown) =>
  call(svc.url, 'POST', `/v1/services/${service}/certificates`, { token, body });

const newToken = async (svc: ServiceProcess, name: string) =>
  (await call(svc.url, 'POST', '/v1/tokens', { token: svc.token, body: { name, role: 'service' } })).body
    .token as string;

describe('the config service is the mesh CA', () => {
  const dir = tempDir();
  let svc: ServiceProcess;
  let users: string;

  before(async () => {
    svc = await startService({ data: dir.path, args: ['--cert-lifetime-ms', '3600000'] });
    users = await newToken(svc, 'users');
  });
  after(async () => {
    await svc?.stop();
    dir.remove();
  });

  test("signs a CSR made here: the URI SAN is the token's service whatever the CSR asks, and the chain verifies against the bundle", async () => {
    const r = await issue(svc, 'users', users, { csr: await makeCsr('spiffe://weft.local/service/orders') });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.spiffeId, 'spiffe://weft.local/service/users');
    assert.deepEqual(uriSans(r.body.certificate), ['spiffe://weft.local/service/users']);
    assert.deepEqual(r.body.chain, []);
    const bundle = (await call(svc.url, 'GET', '/v1/ca/bundle')).body as TrustBundle;
    assert.deepEqual(r.body.trustBundle, bundle);
    assert.equal(bundle.trustDomain, 'weft.local');
    assert.equal(bundle.certificates.length, 1);
    assert.ok(await chainVerifies(r.body.certificate, r.body.chain, bundle.certificates));
    const cert = new x509.X509Certificate(r.body.certificate);
    assert.equal(cert.getExtension(x509.BasicConstraintsExtension)?.ca, false);
    // The service's lifetime (1 h here) is the default and the bound; a shorter one may be asked.
    const life = cert.notAfter.getTime() - Date.now();
    assert.ok(life > 3_590_000 && life <= 3_600_000, `lifetime ${life}`);
    const short = await issue(svc, 'users', users, { csr: await makeCsr(), lifetimeMs: 5000 });
    assert.ok(new x509.X509Certificate(short.body.certificate).notAfter.getTime() - Date.now() <= 5000);
    const long = await issue(svc, 'users', users, { csr: await makeCsr(), lifetimeMs: 7_200_000 });
    assert.equal(long.status, 400);
    assert.match(long.body.error.message, /lifetimeMs: expected an integer from 1000 to 3600000/);
  });

  test('a users token cannot get an orders certificate; an admin token can', async () => {
    const denied = await issue(svc, 'orders', users, { csr: await makeCsr() });
    assert.equal(denied.status, 403);
    assert.match(denied.body.error.message, /scoped to service "users"/);
    const admin = await issue(svc, 'orders', svc.token, { csr: await makeCsr() });
    assert.equal(admin.status, 201);
    assert.deepEqual(uriSans(admin.body.certificate), ['spiffe://weft.local/service/orders']);
    assert.equal((await issue(svc, 'users', '', { csr: await makeCsr() })).status, 401);
  });

  test('a bad CSR is refused with a 400 naming what is wrong', async () => {
    const cases: [unknown, RegExp][] = [
      [{ csr: 'hello' }, /csr: not a PEM PKCS#10 certificate request/],
      [{ csr: await makeRsaCsr() }, /csr: the key must be ECDSA P-256 \(got RSASSA-PKCS1-v1_5\)/],
      [{ csr: tamper(await makeCsr()) }, /csr: its signature does not verify/],
      [{}, /csr: expected a PEM certificate request/],
      [{ csr: await makeCsr(), key: 'x' }, /key: unknown field/],
    ];
    for (const [body, message] of cases) {
      const r = await issue(svc, 'users', users, body);
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.match(r.body.error.message, message);
    }
  });

  test('the bundle is in the watch snapshot and changes on rotation; both roots verify during the overlap', async () => {
    const client = createConfigClient({ urls: svc.url, token: users });
    try {
      await client.ready();
      const first = client.trustBundle();
      assert.ok(first);
      assert.deepEqual(first, (await call(svc.url, 'GET', '/v1/ca/bundle')).body);
      const seen: (TrustBundle | undefined)[] = [];
      client.watchTrustBundle((b) => seen.push(b));
      const before = await issue(svc, 'users', users, { csr: await makeCsr() });

      const rotated = await call(svc.url, 'POST', '/v1/ca/rotate', { token: svc.token, body: {} });
      assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
      assert.deepEqual(
        rotated.body.authorities.map((a: { role: string }) => a.role),
        ['signing', 'retiring'],
      );
      assert.ok(rotated.body.overlap.endsAfter > rotated.body.overlap.since);
      await eventually(() => seen.length === 1, 5000, 'the rotated bundle on the watch stream');
      const during = seen[0]!;
      assert.equal(during.generation, first.generation + 1);
      assert.equal(during.certificates.length, 2);
      assert.equal(during.certificates[1], first.certificates[0]);

      const afterRotation = await issue(svc, 'users', users, { csr: await makeCsr() });
      assert.deepEqual(afterRotation.body.trustBundle, during);
      // Old certificates verify through the old root, new ones through the new: both are in the bundle.
      assert.ok(await chainVerifies(before.body.certificate, [], during.certificates));
      assert.ok(await chainVerifies(afterRotation.body.certificate, [], during.certificates));
      assert.ok(await chainVerifies(before.body.certificate, [], [first.certificates[0]!]));
      assert.equal(await chainVerifies(afterRotation.body.certificate, [], [first.certificates[0]!]), false);

      const again = await call(svc.url, 'POST', '/v1/ca/rotate', { token: svc.token, body: {} });
      assert.equal(again.status, 409);
      const early = await call(svc.url, 'POST', '/v1/ca/rotate', {
        token: svc.token,
        body: { finish: true },
      });
      assert.equal(early.status, 409);
      assert.equal(early.body.error.code, 'too_early');
      assert.equal((await call(svc.url, 'POST', '/v1/ca/rotate', { token: users, body: {} })).status, 403);

      const finished = await call(svc.url, 'POST', '/v1/ca/rotate', {
        token: svc.token,
        body: { finish: true, force: true },
      });
      assert.equal(finished.status, 200, JSON.stringify(finished.body));
      assert.equal(finished.body.overlap, null);
      await eventually(() => seen.length === 2, 5000, 'the finished bundle on the watch stream');
      assert.deepEqual(seen[1]!.certificates, [during.certificates[0]]);
      assert.equal(
        client.describe().trustBundle &&
          (client.describe().trustBundle as { certificates: number }).certificates,
        1,
      );
    } finally {
      await client.close();
    }
  });

  test('a restart keeps the same CA', async () => {
    const bundle = (await call(svc.url, 'GET', '/v1/ca/bundle')).body;
    await svc.stop();
    svc = await startService({ data: dir.path, token: svc.token });
    assert.deepEqual((await call(svc.url, 'GET', '/v1/ca/bundle')).body, bundle);
    const r = await issue(svc, 'users', users, { csr: await makeCsr() });
    assert.ok(await chainVerifies(r.body.certificate, r.body.chain, bundle.certificates));
    // Another store makes another root.
    const other = await startService();
    try {
      assert.notDeepEqual(
        (await call(other.url, 'GET', '/v1/ca/bundle')).body.certificates,
        bundle.certificates,
      );
    } finally {
      await other.stop();
    }
  });
});

describe('a store made before the CA', () => {
  test('gets its CA as a revision, so that a watcher resuming from before it sees the bundle', async () => {
    const dir = tempDir();
    const store = sqliteStore({ file: join(dir.path, 'weft.db') });
    await store.commit([{ op: 'put', kind: 'DestinationPolicy', name: 'users', spec: {} }]);
    await store.close();
    const svc = await startService({ data: dir.path });
    try {
      assert.equal((await call(svc.url, 'GET', '/healthz')).body.revision, 2);
      const res = await fetch(`${svc.url}/v1/watch?since=${svc.storeId}.1`, {
        headers: { authorization: `Bearer ${svc.token}` },
      });
      const reader = res.body!.getReader();
      let text = '';
      while (!text.includes('\n\n')) text += new TextDecoder().decode((await reader.read()).value);
      await reader.cancel();
      assert.match(text, /^event: change\n/);
      const entry = JSON.parse(/data: (.*)/.exec(text)![1]!);
      assert.equal(entry.revision, 2);
      assert.deepEqual(entry.changes[0].bundle, (await call(svc.url, 'GET', '/v1/ca/bundle')).body);
    } finally {
      await svc.stop();
      dir.remove();
    }
  });
});

describe('an intermediate the operator gives with --ca-cert/--ca-key', () => {
  const dir = tempDir();
  let svc: ServiceProcess | undefined;
  after(async () => {
    await svc?.stop();
    dir.remove();
  });

  test("signs, and the chain verifies up to the operator's root", async () => {
    const op = await makeOperatorCa();
    writeFileSync(join(dir.path, 'ca.pem'), `${op.intermediate}\n${op.root}\n`);
    writeFileSync(join(dir.path, 'ca-key.pem'), op.key, { mode: 0o600 });
    svc = await startService({
      data: join(dir.path, 'data'),
      args: [
        '--ca-cert',
        join(dir.path, 'ca.pem'),
        '--ca-key',
        join(dir.path, 'ca-key.pem'),
        '--trust-domain',
        'acme.internal',
      ],
    });
    const bundle = (await call(svc.url, 'GET', '/v1/ca/bundle')).body as TrustBundle;
    assert.equal(bundle.trustDomain, 'acme.internal');
    assert.deepEqual(bundle.certificates, [new x509.X509Certificate(op.root).toString('pem')]);
    const r = await issue(svc, 'users', svc.token, { csr: await makeCsr() });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.deepEqual(uriSans(r.body.certificate), ['spiffe://acme.internal/service/users']);
    assert.equal(r.body.chain.length, 1);
    assert.ok(await chainVerifies(r.body.certificate, r.body.chain, [op.root]));
    assert.equal(await chainVerifies(r.body.certificate, [], [op.root]), false);

    // Rotating to another operator intermediate: both operator roots are trusted during the overlap.
    const next = await makeOperatorCa();
    const rotated = await call(svc.url, 'POST', '/v1/ca/rotate', {
      token: svc.token,
      body: { certificate: `${next.intermediate}${next.root}`, privateKey: next.key },
    });
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    const during = (await call(svc.url, 'GET', '/v1/ca/bundle')).body as TrustBundle;
    assert.equal(during.certificates.length, 2);
    const after = await issue(svc, 'users', svc.token, { csr: await makeCsr() });
    assert.ok(await chainVerifies(after.body.certificate, after.body.chain, [next.root]));
    assert.ok(await chainVerifies(r.body.certificate, r.body.chain, during.certificates));
    assert.ok(await chainVerifies(after.body.certificate, after.body.chain, during.certificates));
    const bad = await call(svc.url, 'POST', '/v1/ca/rotate', {
      token: svc.token,
      body: { certificate: next.root },
    });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /certificate, privateKey: give both or neither/);
  });

  test('a key that does not match the certificate is refused at start', async () => {
    const a = await makeOperatorCa();
    const b = await makeOperatorCa();
    writeFileSync(join(dir.path, 'a.pem'), a.intermediate);
    writeFileSync(join(dir.path, 'b-key.pem'), b.key);
    await assert.rejects(
      startService({ args: ['--ca-cert', join(dir.path, 'a.pem'), '--ca-key', join(dir.path, 'b-key.pem')] }),
      /CA key: does not match the CA certificate/,
    );
  });
});
