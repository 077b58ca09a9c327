import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ROUTE_ACCESS } from '../src/server/auth.ts';
import { issueToken } from '../src/server/tokens.ts';
import { type InProcessService, rawCall, startInProcess } from './inproc.ts';
import { call, policy } from './service.ts';

/**
 * Spellings of one path that a router may decode or normalize to the same route: percent-encoded
 * letters (lower and upper hex), doubled slashes, dot segments (plain and encoded), a trailing
 * slash, another case, a query string.
 */
function variants(path: string): string[] {
  const segments = path.split('/').slice(1);
  const out = new Set<string>([path]);
  const hex = (c: string) => `%${c.charCodeAt(0).toString(16)}`;
  segments.forEach((segment, i) => {
    const at = (s: string) => `/${segments.map((x, j) => (j === i ? s : x)).join('/')}`;
    const letter = segment.search(/[a-z]/i);
    if (letter >= 0) {
      const c = segment[letter]!;
      out.add(at(segment.slice(0, letter) + hex(c) + segment.slice(letter + 1)));
      out.add(at(segment.slice(0, letter) + hex(c).toUpperCase() + segment.slice(letter + 1)));
    }
    out.add(at([...segment].map(hex).join('')));
    out.add(at(`${segment}/`).replace(/\/$/, i === segments.length - 1 ? '/' : ''));
    out.add(`/${segments.slice(0, i).join('/')}${i ? '/' : ''}/${segments.slice(i).join('/')}`);
    out.add(`/${segments.slice(0, i).join('/')}${i ? '/' : ''}./${segments.slice(i).join('/')}`);
    out.add(`/${segments.slice(0, i).join('/')}${i ? '/' : ''}x/../${segments.slice(i).join('/')}`);
    out.add(`/${segments.slice(0, i).join('/')}${i ? '/' : ''}x/%2e%2e/${segments.slice(i).join('/')}`);
    out.add(`/${segments.slice(0, i).join('/')}${i ? '/' : ''}%2e/${segments.slice(i).join('/')}`);
  });
  out.add(path.toUpperCase());
  out.add(`${path}?x=1`);
  out.add(`/${path}`);
  return [...out];
}

describe('authorization is decided on the matched route, and service tokens are scoped', () => {
  let svc: InProcessService;
  let users: string;
  let ordersInstance: string;
  let otherAdminId: string;

  const orders = async () =>
    (await call(svc.url, 'GET', '/v1/services/orders/endpoints', { token: svc.token })).body.instances as {
      id: string;
      address: string;
      port: number;
    }[];

  before(async () => {
    svc = await startInProcess();
    users = (await svc.newToken({ name: 'users', role: 'service' })).token;
    otherAdminId = (await svc.newToken({ name: 'ops', role: 'admin' })).id;
    const reg = await call(svc.url, 'POST', '/v1/services/orders/instances', {
      token: (await svc.newToken({ name: 'orders', role: 'service' })).token,
      body: { address: '127.0.0.1', port: 7001, ttlMs: 60_000 },
    });
    assert.equal(reg.status, 201);
    ordersInstance = reg.body.instance.id;
    await call(svc.url, 'PUT', '/v1/documents/DestinationPolicy/existing', {
      token: svc.token,
      body: policy('existing', {}),
    });
  });
  after(() => svc.close());

  test("the issue's attack: a users token can neither register into orders nor deregister orders' instance", async () => {
    const inject = await call(svc.url, 'POST', '/v1/services/orders/instances', {
      token: users,
      body: { address: '127.0.0.1', port: 6666 },
    });
    assert.equal(inject.status, 403);
    assert.match(inject.body.error.message, /scoped to service "users".*"orders"/);
    const remove = await call(svc.url, 'DELETE', `/v1/services/orders/instances/${ordersInstance}`, {
      token: users,
    });
    assert.equal(remove.status, 403);
    const renew = await call(svc.url, 'PUT', `/v1/services/orders/instances/${ordersInstance}/lease`, {
      token: users,
    });
    assert.equal(renew.status, 403);
    assert.deepEqual(
      (await orders()).map((i) => `${i.address}:${i.port}`),
      ['127.0.0.1:7001'],
      'orders keeps exactly its own instance',
    );
    // Its own service it may manage; reading others' endpoints stays allowed.
    const own = await call(svc.url, 'POST', '/v1/services/users/instances', {
      token: users,
      body: { address: '127.0.0.1', port: 7100, ttlMs: 60_000 },
    });
    assert.equal(own.status, 201);
    assert.equal(
      (
        await call(svc.url, 'PUT', `/v1/services/users/instances/${own.body.instance.id}/lease`, {
          token: users,
        })
      ).status,
      200,
    );
    assert.equal(
      (
        await call(svc.url, 'DELETE', `/v1/services/users/instances/${own.body.instance.id}`, {
          token: users,
        })
      ).status,
      200,
    );
    assert.equal((await call(svc.url, 'GET', '/v1/services/orders/endpoints', { token: users })).status, 200);
  });

  test('every write through the API records its token (id and name, not the secret) as the author', async () => {
    const issued = await svc.newToken({ name: 'payments', role: 'service' });
    const reg = await call(svc.url, 'POST', '/v1/services/payments/instances', {
      token: issued.token,
      body: { address: '127.0.0.1', port: 7301, ttlMs: 60_000 },
    });
    assert.equal(reg.status, 201);
    const put = await call(svc.url, 'PUT', '/v1/documents/DestinationPolicy/audited', {
      token: svc.token,
      body: policy('audited', {}),
    });
    assert.equal(put.status, 201);
    const adminId = /^weft_([0-9a-f]{16})_/.exec(svc.token)![1];
    const [registered, written] = (await svc.store.logSince(reg.body.revision - 1, 10)) ?? [];
    assert.deepEqual(registered?.author, { tokenId: issued.id, name: 'payments' });
    assert.deepEqual(written?.author, { tokenId: adminId, name: 'admin' });
    const history = await call(svc.url, 'GET', '/v1/history?name=audited', { token: svc.token });
    assert.deepEqual(history.body.entries[0].author, { tokenId: adminId, name: 'admin' });
    const secret = issued.token.slice('weft_'.length + 17);
    assert.equal(JSON.stringify(await svc.store.logSince(0, 1000)).includes(secret), false);
  });

  test('the scope is explicit or the token name; admins stay unscoped; a bad scope is a 400 naming the field', async () => {
    const deployer = await svc.newToken({ name: 'ci-users', role: 'service', service: 'users' });
    const reg = (service: string, token: string) =>
      call(svc.url, 'POST', `/v1/services/${service}/instances`, {
        token,
        body: { address: '127.0.0.1', port: 7200, ttlMs: 60_000 },
      });
    assert.equal((await reg('users', deployer.token)).status, 201);
    assert.equal((await reg('ci-users', deployer.token)).status, 403);
    assert.equal((await reg('anything', svc.token)).status, 201, 'admin tokens act for every service');
    const listed = await call(svc.url, 'GET', '/v1/tokens', { token: svc.token });
    assert.equal(listed.body.tokens.find((t: { id: string }) => t.id === deployer.id).service, 'users');
    for (const [body, field] of [
      [{ name: 'x', role: 'admin', service: 'users' }, 'service'],
      [{ name: 'x', role: 'service', service: 'a..b' }, 'service'],
      [{ name: 'Not_A_Service', role: 'service' }, 'service'],
      [{ name: 'x', role: 'service', extra: 1 }, 'extra'],
    ] as const) {
      const r = await call(svc.url, 'POST', '/v1/tokens', { token: svc.token, body });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.ok(
        r.body.error.issues.some((i: string) => i.startsWith(`${field}:`)),
        r.body.error.message,
      );
    }
    // A token stored before scopes existed (no service field) acts for the service of its name.
    const legacy = issueToken('payments', 'service');
    await svc.store.putToken(legacy.record);
    assert.equal((await reg('payments', legacy.token)).status, 201);
    assert.equal((await reg('orders', legacy.token)).status, 403);
  });

  test('every route has a declared access, and no spelling of a protected route lets a service token through', async () => {
    const before = await call(svc.url, 'GET', '/v1/snapshot', { token: svc.token });
    const tokensBefore = (await call(svc.url, 'GET', '/v1/tokens', { token: svc.token })).body.tokens;
    const cases: [string, string, unknown?][] = [
      ['GET', '/v1/tokens'],
      ['POST', '/v1/tokens', { name: 'evil', role: 'admin' }],
      ['DELETE', `/v1/tokens/${otherAdminId}`],
      ['PUT', '/v1/documents/DestinationPolicy/evil', { spec: {} }],
      ['DELETE', '/v1/documents/DestinationPolicy/existing'],
      ['POST', '/v1/apply', { documents: [policy('evil', {})] }],
      ['POST', '/v1/rollback', { revision: 0 }],
      ['POST', '/v1/services/orders/instances', { address: '127.0.0.1', port: 6666 }],
      ['PUT', `/v1/services/orders/instances/${ordersInstance}/lease`],
      ['DELETE', `/v1/services/orders/instances/${ordersInstance}`],
      ['POST', '/v1/services/orders/certificates', { csr: 'x' }],
      ['GET', '/v1/ca'],
      ['POST', '/v1/ca/rotate', {}],
      ['POST', '/v1/rollouts/orders/pause', {}],
      ['POST', '/v1/rollouts/orders/resume', {}],
      ['POST', '/v1/rollouts/orders/promote', {}],
      ['POST', '/v1/rollouts/orders/abort', {}],
    ];
    const declared = new Set(Object.keys(ROUTE_ACCESS).filter((k) => ROUTE_ACCESS[k] !== 'read'));
    const covered = new Set<string>();
    let tried = 0;
    let matchedByAdmin = 0;
    for (const [method, path, body] of cases) {
      const methods = method === 'GET' ? ['GET', 'HEAD'] : [method];
      for (const m of methods)
        for (const p of variants(path)) {
          tried++;
          const r = await rawCall(svc.port, m, p, users, body);
          assert.ok(
            r.status >= 400,
            `${m} ${p} answered ${r.status} to a service token: ${r.text.slice(0, 200)}`,
          );
          assert.ok(!r.text.includes(otherAdminId), `${m} ${p} leaked a token id`);
        }
      // The encoded spellings do reach the route: an admin gets the route's own answer there.
      const encoded = variants(path)[1]!;
      const viaAdmin = await rawCall(svc.port, method === 'GET' ? 'GET' : 'HEAD', encoded, svc.token);
      if (viaAdmin.status !== 404) matchedByAdmin++;
      const pattern = Object.keys(ROUTE_ACCESS).find((k) => {
        const [km, kp] = k.split(' ');
        const re = new RegExp(`^${kp!.replace(/:[a-z]+/g, '[^/]+')}$`);
        return km === method && re.test(path);
      });
      assert.ok(pattern, `${method} ${path} is a declared route`);
      covered.add(pattern!);
    }
    assert.deepEqual(
      [...declared].filter((k) => !covered.has(k) && ROUTE_ACCESS[k] !== 'public'),
      [],
    );
    assert.ok(tried > 150, `tried ${tried} spellings`);
    assert.ok(matchedByAdmin >= 1, 'the encoded spellings are routed (so the check above can fail)');
    const tokensAfter = (await call(svc.url, 'GET', '/v1/tokens', { token: svc.token })).body.tokens;
    assert.deepEqual(tokensAfter, tokensBefore, 'no token was made or revoked');
    const afterSnap = await call(svc.url, 'GET', '/v1/snapshot', { token: svc.token });
    assert.equal(afterSnap.body.revision, before.body.revision, 'nothing was written');
  });

  test('the issue spellings of GET /v1/tokens are 403 for a service token and 200 for an admin', async () => {
    for (const p of ['/v1/%74okens', '/v1/t%6Fkens', '/%761/tokens']) {
      assert.equal((await rawCall(svc.port, 'GET', p, users)).status, 403, p);
      assert.equal((await rawCall(svc.port, 'HEAD', p, users)).status, 403, `HEAD ${p}`);
      assert.equal((await rawCall(svc.port, 'GET', p, svc.token)).status, 200, `admin ${p}`);
    }
    assert.equal((await rawCall(svc.port, 'HEAD', '/v1/tokens', users)).status, 403);
    assert.equal(
      (await rawCall(svc.port, 'GET', '/v1/no-such-route', users)).status,
      403,
      'unmatched: admin only',
    );
    assert.equal((await rawCall(svc.port, 'GET', '/v1/no-such-route', svc.token)).status, 404);
    assert.equal((await rawCall(svc.port, 'GET', '/healthz', undefined)).status, 200);
  });
});
