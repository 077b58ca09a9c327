import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { call, eventually, policy, type ServiceProcess, startService, tempDir } from './service.ts';

describe('config service HTTP API (real process, real SQLite file)', () => {
  const dir = tempDir();
  let svc: ServiceProcess;
  const admin = () => ({ token: svc.token });

  before(async () => {
    svc = await startService({ data: dir.path, args: ['--log-level', 'info', '--body-limit', '65536'] });
  });
  after(async () => {
    await svc.stop();
    dir.remove();
  });

  test('first start prints an admin token once, as a JSON line', () => {
    assert.match(svc.token, /^weft_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    assert.equal(svc.output.filter((l) => l.includes(svc.token)).length, 1);
  });

  test('reads and writes need a valid bearer token; services cannot write documents', async () => {
    assert.equal((await call(svc.url, 'GET', '/v1/documents')).status, 401);
    assert.equal(
      (await call(svc.url, 'GET', '/v1/documents', { token: `${svc.token.slice(0, -1)}x` })).status,
      401,
    );
    assert.equal((await call(svc.url, 'GET', '/healthz')).status, 200);
    const created = await call(svc.url, 'POST', '/v1/tokens', {
      ...admin(),
      body: { name: 'users', role: 'service' },
    });
    assert.equal(created.status, 201);
    const service = created.body.token as string;
    assert.equal((await call(svc.url, 'GET', '/v1/documents', { token: service })).status, 200);
    const write = await call(svc.url, 'PUT', '/v1/documents/DestinationPolicy/a', {
      token: service,
      body: { spec: {} },
    });
    assert.equal(write.status, 403);
    assert.equal((await call(svc.url, 'GET', '/v1/tokens', { token: service })).status, 403);
    const listed = await call(svc.url, 'GET', '/v1/tokens', admin());
    assert.ok(
      listed.body.tokens.every((t: Record<string, unknown>) => t.hash === undefined && t.token === undefined),
    );
    const adminId = svc.token.split('_')[1]!;
    const last = await call(svc.url, 'DELETE', `/v1/tokens/${adminId}`, admin());
    assert.equal(last.status, 409, 'the last admin token cannot be deleted');
    assert.equal((await call(svc.url, 'DELETE', `/v1/tokens/${created.body.id}`, admin())).status, 200);
    assert.equal((await call(svc.url, 'GET', '/v1/documents', { token: service })).status, 401, 'revoked');
  });

  test('a document is created, read with its ETag, and updated with compare-and-set', async () => {
    const put = await call(svc.url, 'PUT', '/v1/documents/DestinationPolicy/users', {
      ...admin(),
      headers: { 'if-none-match': '*' },
      body: { spec: { timeoutMs: 1000 } },
    });
    assert.equal(put.status, 201);
    const rev = put.body.revision as number;
    const got = await call(svc.url, 'GET', '/v1/documents/DestinationPolicy/users', admin());
    assert.equal(got.headers.get('etag'), `"${rev}"`);
    assert.deepEqual(got.body.spec, { timeoutMs: 1000 });
    const again = await call(svc.url, 'PUT', '/v1/documents/DestinationPolicy/users', {
      ...admin(),
      headers: { 'if-none-match': '*' },
      body: { spec: {} },
    });
    assert.equal(again.status, 412);
    const stale = await call(svc.url, 'PUT', '/v1/documents/DestinationPolicy/users', {
      ...admin(),
      headers: { 'if-match': `"${rev - 1}"` },
      body: { spec: { timeoutMs: 5 } },
    });
    assert.equal(stale.status, 412);
    assert.match(stale.body.error.message, new RegExp(`at revision ${rev}`));
    const ok = await call(svc.url, 'PUT', '/v1/documents/DestinationPolicy/users', {
      ...admin(),
      headers: { 'if-match': `"${rev}"` },
      body: { spec: { timeoutMs: 2000 } },
    });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.document.createRevision, rev);
  });

  test('every invalid document gets a 400 naming the field path and reason, and nothing is stored', async () => {
    const before = (await call(svc.url, 'GET', '/healthz')).body.revision;
    const cases: [unknown, RegExp][] = [
      [{ spec: { retry: { maxAttempts: 50 } } }, /^spec\.retry\.maxAttempts: .*10/],
      [{ spec: { timeoutMs: 'soon' } }, /^spec\.timeoutMs: .*number/],
      [{ spec: { balancer: { kind: 'random' } } }, /^spec\.balancer\.kind: /],
      [{ spec: { retries: 3 } }, /^spec: .*retries/],
      [{ spec: {}, extra: 1 }, /^\(root\): .*extra/],
      [{ kind: 'Route', spec: {} }, /^kind: does not match the URL/],
      [[], /^\(root\): expected an object/],
    ];
    for (const [body, pattern] of cases) {
      const r = await call(svc.url, 'PUT', '/v1/documents/DestinationPolicy/bad', { ...admin(), body });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.body.error.code, 'invalid');
      assert.ok(
        r.body.error.issues.some((i: string) => pattern.test(i)),
        `${JSON.stringify(r.body)} ~ ${pattern}`,
      );
    }
    const badName = await call(svc.url, 'PUT', '/v1/documents/DestinationPolicy/Bad_Name', {
      ...admin(),
      body: { spec: {} },
    });
    assert.equal(badName.status, 400);
    assert.match(badName.body.error.issues[0], /^name: /);
    const apply = await call(svc.url, 'POST', '/v1/apply', {
      ...admin(),
      body: {
        documents: [
          policy('fine', {}),
          policy('broken', { perTryTimeoutMs: -1 }),
          { kind: 'Nope', name: 'x', spec: {} },
        ],
      },
    });
    assert.equal(apply.status, 400);
    assert.deepEqual(
      apply.body.error.issues.map((i: string) => i.split(':')[0]),
      ['documents.1.spec.perTryTimeoutMs', 'documents.2.kind'],
    );
    const malformed = await call(svc.url, 'PUT', '/v1/documents/DestinationPolicy/x', {
      ...admin(),
      raw: '{"spec":',
    });
    assert.equal(malformed.status, 400);
    const big = await call(svc.url, 'POST', '/v1/apply', {
      ...admin(),
      body: { documents: [policy('big', { retry: { retryOnStatuses: new Array(20000).fill(503) } })] },
    });
    assert.equal(big.status, 413);
    assert.equal(big.body.error.code, 'payload_too_large');
    assert.equal((await call(svc.url, 'GET', '/healthz')).body.revision, before);
    assert.equal((await call(svc.url, 'GET', '/v1/documents/DestinationPolicy/fine', admin())).status, 404);
  });

  test('apply is atomic and idempotent; history lists changes; rollback restores a revision', async () => {
    const first = await call(svc.url, 'POST', '/v1/apply', {
      ...admin(),
      body: { documents: [policy('h1', { timeoutMs: 1 }), policy('h2', { timeoutMs: 2 })] },
    });
    assert.equal(first.status, 200);
    assert.deepEqual(first.body.changed, ['DestinationPolicy/h1', 'DestinationPolicy/h2']);
    const same = await call(svc.url, 'POST', '/v1/apply', {
      ...admin(),
      body: { documents: [policy('h1', { timeoutMs: 1 })] },
    });
    assert.equal(same.body.revision, first.body.revision);
    assert.deepEqual(same.body.unchanged, ['DestinationPolicy/h1']);
    const second = await call(svc.url, 'PUT', '/v1/documents/DestinationPolicy/h1', {
      ...admin(),
      body: { spec: { timeoutMs: 99 } },
    });
    await call(svc.url, 'DELETE', '/v1/documents/DestinationPolicy/h2', admin());
    const history = await call(svc.url, 'GET', '/v1/history?kind=DestinationPolicy&name=h1', admin());
    assert.deepEqual(
      history.body.entries.map((e: { revision: number }) => e.revision),
      [second.body.revision, first.body.revision],
    );
    const rb = await call(svc.url, 'POST', '/v1/rollback', {
      ...admin(),
      body: { revision: first.body.revision },
    });
    assert.equal(rb.status, 200);
    assert.deepEqual(rb.body.changed.sort(), ['DestinationPolicy/h1', 'DestinationPolicy/h2']);
    const h1 = await call(svc.url, 'GET', '/v1/documents/DestinationPolicy/h1', admin());
    const h2 = await call(svc.url, 'GET', '/v1/documents/DestinationPolicy/h2', admin());
    assert.deepEqual([h1.body.spec, h2.body.spec], [{ timeoutMs: 1 }, { timeoutMs: 2 }]);
    const future = await call(svc.url, 'POST', '/v1/rollback', { ...admin(), body: { revision: 10_000 } });
    assert.equal(future.status, 400);
    assert.match(future.body.error.issues[0], /^revision: /);
  });

  test('registry: register, list, heartbeat, expiry and graceful deregistration', async () => {
    const reg = (port: number, ttlMs: number) =>
      call(svc.url, 'POST', '/v1/services/pay/instances', {
        ...admin(),
        body: { address: '127.0.0.1', port, labels: { version: 'v1', zone: 'a' }, ttlMs },
      });
    assert.equal((await reg(9001, 60_000)).status, 201);
    assert.equal((await reg(9002, 300)).status, 201);
    const list = await call(svc.url, 'GET', '/v1/services/pay/endpoints', admin());
    assert.deepEqual(list.body.instances.map((i: { port: number }) => i.port).sort(), [9001, 9002]);
    assert.deepEqual(list.body.instances[0].labels, { version: 'v1', zone: 'a' });
    // 9002 is not renewed and expires; 9001 is renewed.
    assert.equal(
      (await call(svc.url, 'PUT', '/v1/services/pay/instances/127.0.0.1:9001/lease', admin())).status,
      200,
    );
    await eventually(
      async () => {
        const r = await call(svc.url, 'GET', '/v1/services/pay/endpoints', admin());
        return r.body.instances.length === 1;
      },
      5000,
      'lease expiry',
    );
    assert.equal(
      (await call(svc.url, 'PUT', '/v1/services/pay/instances/127.0.0.1:9002/lease', admin())).status,
      404,
    );
    assert.equal(
      (await call(svc.url, 'DELETE', '/v1/services/pay/instances/127.0.0.1:9001', admin())).status,
      200,
    );
    assert.equal(
      (await call(svc.url, 'GET', '/v1/services/pay/endpoints', admin())).body.instances.length,
      0,
    );
    const bad = await call(svc.url, 'POST', '/v1/services/pay/instances', {
      ...admin(),
      body: { address: '', port: 70000 },
    });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.error.issues.map((i: string) => i.split(':')[0]).sort(), ['address', 'port']);
  });

  test('a second process on the same data directory refuses to start', async () => {
    await assert.rejects(startService({ data: dir.path }), /in use by another config service process/);
  });

  test('tokens never appear in the logs', async () => {
    await call(svc.url, 'GET', '/v1/documents', admin());
    const logged = svc.output.filter((l) => l.includes('"req"'));
    assert.ok(logged.length > 0, 'request logging is on in this test');
    assert.equal(
      svc.output.filter((l) => l.includes(svc.token)).length,
      1,
      'only the first-start line shows it',
    );
    assert.ok(!svc.output.some((l) => /authorization|Bearer/i.test(l)));
  });
});
