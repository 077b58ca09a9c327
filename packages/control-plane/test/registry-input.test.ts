import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type InProcessService, startInProcess } from './inproc.ts';
import { call, policy } from './service.ts';

describe('the registry refuses malformed registrations and names, storing nothing of them', () => {
  let svc: InProcessService;
  const revision = async () => (await call(svc.url, 'GET', '/healthz')).body.revision as number;
  before(async () => {
    svc = await startInProcess();
  });
  after(() => svc.close());

  test('an address that is not a host is a 400 naming address; nothing is registered', async () => {
    const start = await revision();
    const bad = [
      '127.0.0.1:8080',
      'http://127.0.0.1',
      'http://users.internal:8080/',
      'users.internal/path',
      '127.0.0.1\r\nx-evil: 1',
      'a b',
      ' 127.0.0.1',
      '127.0.0.1 ',
      '',
      '999.1.1.1',
      '1.2.3',
      '[::1',
      '::1]',
      '[127.0.0.1]',
      'a..b',
      '-a.example',
      'user@host',
      'x'.repeat(254),
    ];
    for (const address of bad) {
      const r = await call(svc.url, 'POST', '/v1/services/users/instances', {
        token: svc.token,
        body: { address, port: 8080 },
      });
      assert.equal(r.status, 400, JSON.stringify(address));
      assert.ok(
        r.body.error.issues.some((i: string) => i.startsWith('address:')),
        `${JSON.stringify(address)}: ${r.body.error.message}`,
      );
    }
    for (const port of [0, 65536, 80.5, '80', -1])
      assert.equal(
        (
          await call(svc.url, 'POST', '/v1/services/users/instances', {
            token: svc.token,
            body: { address: '127.0.0.1', port },
          })
        ).status,
        400,
      );
    assert.equal(await revision(), start, 'no revision was made');
    const listed = await call(svc.url, 'GET', '/v1/services/users/endpoints', { token: svc.token });
    assert.deepEqual(listed.body.instances, []);
  });

  test('labels with control characters or too many keys are refused, naming labels', async () => {
    const start = await revision();
    for (const labels of [
      { version: 'v1\r\nx: y' },
      { version: 'v1\u0000' },
      { 'bad key': 'v' },
      { '': 'v' },
      Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v'])),
    ]) {
      const r = await call(svc.url, 'POST', '/v1/services/users/instances', {
        token: svc.token,
        body: { address: '127.0.0.1', port: 8080, labels },
      });
      assert.equal(r.status, 400, JSON.stringify(labels).slice(0, 80));
      assert.ok(
        r.body.error.issues.some((i: string) => i.startsWith('labels')),
        r.body.error.message,
      );
    }
    assert.equal(await revision(), start);
  });

  test('IPv4, IPv6 (bare or bracketed, stored bare) and DNS names are accepted', async () => {
    const ok = [
      ['10.1.2.3', '10.1.2.3'],
      ['::1', '::1'],
      ['[fe80::1]', 'fe80::1'],
      ['users-1.internal', 'users-1.internal'],
      ['Users-2.Example.COM.', 'Users-2.Example.COM.'],
      ['shop_web_1', 'shop_web_1'],
    ];
    for (const [address, stored] of ok) {
      const r = await call(svc.url, 'POST', '/v1/services/hosts/instances', {
        token: svc.token,
        body: { address, port: 9000, labels: { zone: 'eu-1', 'app.kubernetes.io/version': 'v1.2' } },
      });
      assert.equal(r.status, 201, `${address}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.instance.address, stored);
    }
    const v6 = (
      await call(svc.url, 'GET', '/v1/services/hosts/endpoints', { token: svc.token })
    ).body.instances.find((i: { address: string }) => i.address === 'fe80::1');
    assert.equal(v6.id, '[fe80::1]:9000');
  });

  test('names with empty labels (a..b) are refused for services and documents', async () => {
    const start = await revision();
    for (const name of ['a..b', '.a', 'a.', 'a.-b', 'A', 'a_b']) {
      const path = `/v1/services/${encodeURIComponent(name)}/instances`;
      const reg = await call(svc.url, 'POST', path, {
        token: svc.token,
        body: { address: '127.0.0.1', port: 1 },
      });
      assert.equal(reg.status, 400, name);
      assert.ok(
        reg.body.error.issues.some((i: string) => i.startsWith('service:')),
        reg.body.error.message,
      );
      const doc = await call(svc.url, 'PUT', `/v1/documents/DestinationPolicy/${encodeURIComponent(name)}`, {
        token: svc.token,
        body: policy(name, {}),
      });
      assert.equal(doc.status, 400, `document ${name}`);
      const applied = await call(svc.url, 'POST', '/v1/apply', {
        token: svc.token,
        body: { documents: [policy('fine', {}), policy(name, {})] },
      });
      assert.equal(applied.status, 400, `apply ${name}`);
      assert.ok(
        applied.body.error.issues.some((i: string) => /name/.test(i)),
        applied.body.error.message,
      );
    }
    assert.equal(await revision(), start, 'nothing stored, not even the valid document of a refused apply');
  });
});
