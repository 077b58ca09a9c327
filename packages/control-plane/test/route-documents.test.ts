/**
 * The `Route` document through the config service, as the acceptance tests write it: `PUT
 * /v1/documents/Route/<name>` with `{ spec }` in exactly the issue's shape; read back, watched by a
 * config client, listed in history, rolled back, written with compare-and-set, and refused with a
 * 400 naming the field.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type ConfigClient, createConfigClient } from '@weft/core/config';
import { call, eventually, type ServiceProcess, startService, tempDir } from './service.ts';

/** The issue's example, as JSON. */
const catalogRoute = () => ({
  subsets: { v1: { version: 'v1' }, v2: { version: 'v2' } },
  rules: [
    { matches: [{ headers: [{ name: 'x-canary', value: 'yes' }] }], backends: [{ subset: 'v2' }] },
    {
      matches: [{ path: { type: 'PathPrefix', value: '/items' }, method: 'GET' }],
      backends: [
        { subset: 'v1', weight: 90 },
        { subset: 'v2', weight: 10 },
      ],
      timeoutMs: 800,
      retry: { maxAttempts: 2 },
      mirror: { subset: 'v2', percent: 5 },
      fault: { delay: { ms: 200, percent: 10 }, abort: { status: 503, percent: 1 } },
      requestHeaders: { set: { 'x-env': 'prod' }, add: {}, remove: ['x-debug'] },
      responseHeaders: { set: {}, add: {}, remove: [] },
      rewrite: { pathPrefix: '/v2/items' },
    },
    { backends: [{ subset: 'v1' }] },
  ],
});

// biome-ignore lint/suspicious/noExplicitAny: the spec is edited freely to make each invalid case
type Spec = any;

describe('Route documents in the config service (real process)', () => {
  const dir = tempDir();
  let svc: ServiceProcess;
  let config: ConfigClient;
  const admin = () => ({ token: svc.token });
  const put = (name: string, spec: unknown, headers: Record<string, string> = {}) =>
    call(svc.url, 'PUT', `/v1/documents/Route/${name}`, { ...admin(), headers, body: { spec } });
  const revision = async () => (await call(svc.url, 'GET', '/healthz')).body.revision as number;

  before(async () => {
    svc = await startService({ data: dir.path });
    config = createConfigClient({ urls: svc.url, token: svc.token });
    await config.ready();
  });
  after(async () => {
    await config.close();
    await svc.stop();
    dir.remove();
  });

  test("the issue's Route is stored, served with its ETag, and reaches a watching client", async () => {
    const created = await put('catalog', catalogRoute(), { 'if-none-match': '*' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const rev = created.body.revision as number;
    const got = await call(svc.url, 'GET', '/v1/documents/Route/catalog', admin());
    assert.equal(got.status, 200);
    assert.equal(got.headers.get('etag'), `"${rev}"`);
    assert.equal(got.body.kind, 'Route');
    const spec = got.body.spec;
    assert.deepEqual(spec.subsets, catalogRoute().subsets);
    // Stored as validated: the defaults written out (weight 1, header match type Exact).
    assert.deepEqual(spec.rules[0].backends, [{ subset: 'v2', weight: 1 }]);
    assert.deepEqual(spec.rules[0].matches[0].headers, [{ type: 'Exact', name: 'x-canary', value: 'yes' }]);
    assert.deepEqual(spec.rules[1].fault, catalogRoute().rules[1]!.fault);
    assert.deepEqual(spec.rules[1].mirror, { subset: 'v2', percent: 5 });
    assert.equal(spec.rules.length, 3);
    const listed = await call(svc.url, 'GET', '/v1/documents/Route', admin());
    assert.deepEqual(
      listed.body.documents.map((d: { name: string }) => d.name),
      ['catalog'],
    );
    await eventually(() => config.route('catalog') !== undefined, 10_000, 'the Route at the client');
    assert.deepEqual(config.route('catalog')?.rules[1]?.backends, [
      { subset: 'v1', weight: 90 },
      { subset: 'v2', weight: 10 },
    ]);
    assert.equal(config.policy('catalog'), undefined, 'a Route is not a policy');
  });

  test('compare-and-set, history and rollback work on Routes as on policies', async () => {
    const current = await call(svc.url, 'GET', '/v1/documents/Route/catalog', admin());
    const first = current.body.revision as number;
    const shifted = catalogRoute();
    shifted.rules[1]!.backends = [
      { subset: 'v1', weight: 50 },
      { subset: 'v2', weight: 50 },
    ];
    const stale = await put('catalog', shifted, { 'if-match': `"${first - 1}"` });
    assert.equal(stale.status, 412);
    assert.equal(stale.body.error.code, 'conflict');
    const ok = await put('catalog', shifted, { 'if-match': `"${first}"` });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const second = ok.body.revision as number;
    assert.ok(second > first);
    await eventually(
      () => config.route('catalog')?.rules[1]?.backends?.[0]?.weight === 50,
      10_000,
      'the new weights at the client',
    );
    const history = await call(svc.url, 'GET', '/v1/history?kind=Route&name=catalog', admin());
    assert.deepEqual(
      history.body.entries.map((e: { revision: number }) => e.revision),
      [second, first],
    );
    assert.equal(history.body.entries[0].changes[0].document.kind, 'Route');
    const rb = await call(svc.url, 'POST', '/v1/rollback', { ...admin(), body: { revision: first } });
    assert.equal(rb.status, 200);
    assert.deepEqual(rb.body.changed, ['Route/catalog']);
    const back = await call(svc.url, 'GET', '/v1/documents/Route/catalog', admin());
    assert.equal(back.body.spec.rules[1].backends[0].weight, 90);
    await eventually(
      () => config.route('catalog')?.rules[1]?.backends?.[0]?.weight === 90,
      10_000,
      'the rolled-back weights at the client',
    );
    const deleted = await call(svc.url, 'DELETE', '/v1/documents/Route/catalog', admin());
    assert.equal(deleted.status, 200);
    await eventually(() => config.route('catalog') === undefined, 10_000, 'the deletion at the client');
    const restored = await call(svc.url, 'POST', '/v1/rollback', { ...admin(), body: { revision: first } });
    assert.deepEqual(restored.body.changed, ['Route/catalog']);
  });

  test('an invalid Route gets a 400 naming the field, and nothing is stored', async () => {
    const before = await revision();
    const cases: [string, (s: Spec) => void, RegExp][] = [
      [
        'negative weight',
        (s) => (s.rules[1].backends[0].weight = -1),
        /^spec\.rules\.1\.backends\.0\.weight: must be ≥ 0$/,
      ],
      [
        'fractional weight',
        (s) => (s.rules[1].backends[1].weight = 2.5),
        /^spec\.rules\.1\.backends\.1\.weight: must be an integer$/,
      ],
      [
        'undefined backend subset',
        (s) => (s.rules[2].backends[0].subset = 'v3'),
        /^spec\.rules\.2\.backends\.0\.subset: subset "v3" is not defined in spec\.subsets \(defined: v1, v2\)$/,
      ],
      [
        'undefined mirror subset',
        (s) => (s.rules[1].mirror.subset = 'shadow'),
        /^spec\.rules\.1\.mirror\.subset: subset "shadow" is not defined/,
      ],
      [
        'no subsets at all',
        (s) => delete s.subsets,
        /^spec\.rules\.0\.backends\.0\.subset: subset "v2" is not defined in spec\.subsets$/,
      ],
      [
        'bad header regex',
        (s) =>
          (s.rules[0].matches[0].headers[0] = { name: 'x-canary', type: 'RegularExpression', value: '(' }),
        /^spec\.rules\.0\.matches\.0\.headers\.0\.value: not a valid regular expression/,
      ],
      [
        'bad path regex',
        (s) => (s.rules[0].matches[0] = { path: { type: 'RegularExpression', value: '[a-' } }),
        /^spec\.rules\.0\.matches\.0\.path\.value: not a valid regular expression/,
      ],
      [
        'mirror percent over 100',
        (s) => (s.rules[1].mirror.percent = 101),
        /^spec\.rules\.1\.mirror\.percent: must be from 0 to 100$/,
      ],
      [
        'delay percent under 0',
        (s) => (s.rules[1].fault.delay.percent = -0.5),
        /^spec\.rules\.1\.fault\.delay\.percent: must be from 0 to 100$/,
      ],
      [
        'abort percent over 100',
        (s) => (s.rules[1].fault.abort.percent = 100.01),
        /^spec\.rules\.1\.fault\.abort\.percent: must be from 0 to 100$/,
      ],
      ['unknown spec key', (s) => (s.rule = []), /^spec: Unrecognized key: "rule"$/],
      ['unknown rule key', (s) => (s.rules[1].timeout = 5), /^spec\.rules\.1: Unrecognized key: "timeout"$/],
      [
        'unknown backend key',
        (s) => (s.rules[1].backends[0].wieght = 5),
        /^spec\.rules\.1\.backends\.0: Unrecognized key: "wieght"$/,
      ],
      [
        'bad subset name',
        (s) => (s.subsets.V2 = { version: 'v2' }),
        /^spec\.subsets: invalid key "V2": must be lowercase letters/,
      ],
      [
        'bad header name',
        (s) => (s.rules[1].requestHeaders.set = { 'x env': 'prod' }),
        /^spec\.rules\.1\.requestHeaders\.set: invalid key "x env": must be an HTTP header name/,
      ],
      [
        'bad method',
        (s) => (s.rules[1].matches[0].method = 42),
        /^spec\.rules\.1\.matches\.0\.method: must be an HTTP method \("GET"\) or a gRPC method/,
      ],
    ];
    for (const [what, edit, pattern] of cases) {
      const spec = catalogRoute();
      edit(spec);
      const r = await put('bad-route', spec);
      assert.equal(r.status, 400, `${what}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, 'invalid');
      assert.ok(
        r.body.error.issues.some((i: string) => pattern.test(i)),
        `${what}: ${JSON.stringify(r.body.error.issues)} ~ ${pattern}`,
      );
    }
    const apply = await call(svc.url, 'POST', '/v1/apply', {
      ...admin(),
      body: {
        documents: [
          { kind: 'Route', name: 'fine', spec: catalogRoute() },
          { kind: 'Route', name: 'broken', spec: { rules: [{ backends: [{ subset: 'v9' }] }] } },
        ],
      },
    });
    assert.equal(apply.status, 400);
    assert.deepEqual(
      apply.body.error.issues.map((i: string) => i.split(':')[0]),
      ['documents.1.spec.rules.0.backends.0.subset'],
    );
    assert.equal(await revision(), before, 'nothing was stored');
    assert.equal((await call(svc.url, 'GET', '/v1/documents/Route/bad-route', admin())).status, 404);
    assert.equal((await call(svc.url, 'GET', '/v1/documents/Route/fine', admin())).status, 404);
  });
});
