import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ROUTE_ACCESS } from '../src/server/auth.ts';
import { type InProcessService, rawCall, startInProcess } from './inproc.ts';
import { call, policy } from './service.ts';

/** A concrete path for a route pattern, with parameters that name things that exist. */
const concrete = (pattern: string, instance: string) =>
  pattern
    .replace(':kind', 'DestinationPolicy')
    .replace(':name', 'existing')
    .replace(':service', 'orders')
    .replace(':id', instance);

describe('viewer tokens read everything and change nothing', () => {
  let svc: InProcessService;
  let viewer: { token: string; id: string };
  let instance: string;

  before(async () => {
    svc = await startInProcess();
    const put = await call(svc.url, 'PUT', '/v1/documents/DestinationPolicy/existing', {
      token: svc.token,
      body: policy('existing', { timeoutMs: 1000 }),
    });
    assert.equal(put.status, 201);
    const reg = await call(svc.url, 'POST', '/v1/services/orders/instances', {
      token: svc.token,
      body: { address: '127.0.0.1', port: 7001, ttlMs: 60_000 },
    });
    instance = reg.body.id;
    // Named like a service, so that a viewer read back as a service token would act for "orders".
    viewer = await svc.newToken({ name: 'orders', role: 'viewer' });
  });
  after(() => svc.close());
  /** Whether the app has the route of a `METHOD pattern` entry (entries may precede their route). */
  const registered = (key: string) => {
    const [method, url] = key.split(' ') as [string, string];
    return svc.app.hasRoute({ method: method as 'GET', url });
  };

  test('the store keeps the role, and a viewer token takes no service scope', async () => {
    assert.equal((await svc.store.getToken(viewer.id))?.role, 'viewer');
    const listed = await call(svc.url, 'GET', '/v1/tokens', { token: svc.token });
    const record = listed.body.tokens.find((t: { id: string }) => t.id === viewer.id);
    assert.equal(record.role, 'viewer');
    assert.equal(record.service, undefined);
    const scoped = await call(svc.url, 'POST', '/v1/tokens', {
      token: svc.token,
      body: { name: 'x', role: 'viewer', service: 'orders' },
    });
    assert.equal(scoped.status, 400);
    assert.ok(scoped.body.error.issues.some((i: string) => i.startsWith('service:')));
  });

  test('every GET read route answers a viewer', async () => {
    const reads = Object.entries(ROUTE_ACCESS).filter(
      ([k, a]) => a === 'read' && k.startsWith('GET ') && k !== 'GET /v1/watch' && registered(k),
    );
    assert.ok(reads.length >= 6);
    for (const [key] of reads) {
      const path = concrete(key.slice(4), instance);
      const r = await rawCall(svc.port, 'GET', path, viewer.token);
      // Answered for the viewer: found, or not found (a rollout the service has not got), never refused.
      const answered = r.status < 400 || (r.status === 404 && r.text.includes('"not_found"'));
      assert.ok(answered, `${key} answered ${r.status}: ${r.text.slice(0, 200)}`);
    }
  });

  test('every route that is not a GET read route refuses a viewer with 403, and nothing changes', async () => {
    const snapshot = await call(svc.url, 'GET', '/v1/snapshot', { token: svc.token });
    const tokens = (await call(svc.url, 'GET', '/v1/tokens', { token: svc.token })).body.tokens;
    const writes = Object.entries(ROUTE_ACCESS).filter(
      ([k, a]) =>
        registered(k) && (a === 'service' || a === 'admin' || (a === 'read' && !k.startsWith('GET '))),
    );
    assert.ok(
      writes.some(([k]) => k === 'POST /v1/traffic/reports'),
      'a read route taken by POST is refused too',
    );
    assert.ok(writes.length >= 10);
    for (const [key] of writes) {
      const [method, pattern] = key.split(' ') as [string, string];
      const path = concrete(pattern, instance);
      const body = method === 'GET' || method === 'DELETE' ? undefined : {};
      const r = await rawCall(svc.port, method, path, viewer.token, body);
      assert.equal(r.status, 403, `${key} answered ${r.status} to a viewer: ${r.text.slice(0, 200)}`);
      assert.match(r.text, /viewer token: it may only read/);
    }
    const after = await call(svc.url, 'GET', '/v1/snapshot', { token: svc.token });
    assert.deepEqual(after.body, snapshot.body, 'nothing was written');
    const tokensAfter = (await call(svc.url, 'GET', '/v1/tokens', { token: svc.token })).body.tokens;
    assert.deepEqual(tokensAfter, tokens, 'no token was made or revoked');
  });
});
