import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Call,
  compileRoute,
  createContext,
  hash32,
  isRouteOverride,
  overrideFor,
  type PolicySource,
  queryParam,
  RouteSpec,
  type RouteSpecInput,
  readCallHeader,
  runWithContext,
} from '@weft/core';
import type { DestinationPolicy } from '@weft/core/config';
import { type FakeClient, fakeClient } from '@weft/core/testing';
import fc from 'fast-check';

/** Three v1 endpoints (10.0.0.1–3) and two v2 (10.0.0.4–5). */
const ENDPOINTS = [1, 2, 3, 4, 5].map((i) => ({
  address: `10.0.0.${i}`,
  port: 8080,
  labels: { version: i <= 3 ? 'v1' : 'v2' },
}));
const SUBSETS = { v1: { version: 'v1' }, v2: { version: 'v2' }, v3: { version: 'v3' } };

const versionOf = (endpoint: string) => (Number(endpoint.split('.')[3]!.split(':')[0]) <= 3 ? 'v1' : 'v2');

function client(route: RouteSpecInput, extra: Parameters<typeof fakeClient>[0] = {}): FakeClient {
  return fakeClient({ endpoints: ENDPOINTS, route, ...extra });
}

async function split(c: FakeClient, n: number, init: Parameters<FakeClient['run']>[0] = {}) {
  const counts = { v1: 0, v2: 0 };
  for (let i = 0; i < n; i++) {
    const r = await c.run(init);
    counts[versionOf(r.endpoint) as 'v1' | 'v2']++;
  }
  return counts;
}

const parse = (spec: RouteSpecInput) => RouteSpec.parse(spec);

describe('Route schema', () => {
  test('the issue example validates, with weights and percents defaulted', () => {
    const spec = parse({
      subsets: { v1: { version: 'v1' }, v2: { version: 'v2' } },
      rules: [
        { matches: [{ headers: [{ name: 'X-Canary', value: 'yes' }] }], backends: [{ subset: 'v2' }] },
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
    assert.equal(spec.rules[0]!.backends![0]!.weight, 1);
    assert.equal(spec.rules[0]!.matches![0]!.headers![0]!.name, 'x-canary', 'header names are lower-cased');
    assert.equal(spec.rules[0]!.matches![0]!.headers![0]!.type, 'Exact');
  });

  test('refusals name the field', () => {
    const issues = (spec: unknown) => {
      const r = RouteSpec.safeParse(spec);
      assert.equal(r.success, false);
      return r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    const sub = { subsets: { v1: { version: 'v1' } } };
    assert.match(
      issues({ ...sub, rules: [{ backends: [{ subset: 'v1', weight: -1 }] }] })[0]!,
      /^rules\.0\.backends\.0\.weight: must be ≥ 0/,
    );
    assert.match(
      issues({ ...sub, rules: [{ backends: [{ subset: 'v9' }] }] })[0]!,
      /^rules\.0\.backends\.0\.subset: subset "v9" is not defined/,
    );
    assert.match(
      issues({ ...sub, rules: [{ mirror: { subset: 'v9' } }] })[0]!,
      /^rules\.0\.mirror\.subset: subset "v9"/,
    );
    assert.match(
      issues({
        ...sub,
        rules: [{ matches: [{ headers: [{ name: 'a', type: 'RegularExpression', value: '(' }] }] }],
      })[0]!,
      /^rules\.0\.matches\.0\.headers\.0\.value: not a valid regular expression/,
    );
    assert.match(
      issues({ ...sub, rules: [{ mirror: { subset: 'v1', percent: 101 } }] })[0]!,
      /^rules\.0\.mirror\.percent: must be from 0 to 100/,
    );
    assert.match(
      issues({ ...sub, rules: [{ fault: { delay: { ms: 1, percent: -0.5 } } }] })[0]!,
      /^rules\.0\.fault\.delay\.percent/,
    );
    assert.match(issues({ ...sub, rules: [{ color: 'red' }] })[0]!, /^rules\.0: .*color/);
    assert.match(
      issues({ ...sub, rules: [{ matches: [{ path: { type: 'PathPrefix', value: 'items' } }] }] })[0]!,
      /^rules\.0\.matches\.0\.path\.value: must start with "\/"/,
    );
  });
});

describe('route table', () => {
  const call = (method: string, path: string, headers: Record<string, string> = {}) =>
    new Call('catalog', method, path, headers);

  test('the first rule whose matches match wins, in the order written', () => {
    const table = compileRoute(
      parse({
        rules: [
          { name: 'canary', matches: [{ headers: [{ name: 'x-canary', value: 'yes' }] }] },
          { name: 'items-get', matches: [{ path: { type: 'PathPrefix', value: '/items/' }, method: 'GET' }] },
          { name: 'exact', matches: [{ path: { type: 'Exact', value: '/items/special' } }] },
          { name: 'regex', matches: [{ path: { type: 'RegularExpression', value: '/users/\\d+' } }] },
          { name: 'query', matches: [{ queryParams: [{ name: 'beta', value: 'on' }] }] },
          { name: 'rest' },
        ],
      }),
      'verb',
    );
    const label = (c: Call) => table.match(c, readCallHeader)?.label;
    assert.equal(label(call('GET', '/items/1', { 'x-canary': 'yes' })), 'canary');
    assert.equal(label(call('GET', '/items')), 'items-get', 'a prefix matches its own path');
    assert.equal(
      label(call('GET', '/items/special')),
      'items-get',
      'an earlier rule wins over a later exact one',
    );
    assert.equal(label(call('POST', '/items/special')), 'exact');
    assert.equal(label(call('GET', '/itemsx')), 'rest', 'prefixes match whole segments');
    assert.equal(label(call('GET', '/users/42')), 'regex');
    assert.equal(label(call('GET', '/users/42x')), 'rest', 'a regular expression matches the whole path');
    assert.equal(label(call('GET', '/users/x?beta=on')), 'query');
    assert.equal(label(call('GET', '/items/1?x=1')), 'items-get', 'the query is not part of the path');
  });

  test('gRPC method matches apply to RPC paths only; HTTP methods to HTTP calls only', () => {
    const spec = parse({
      rules: [
        { name: 'svc', matches: [{ method: { service: 'shop.Catalog' } }] },
        { name: 'm', matches: [{ method: { method: 'Get' } }] },
        { name: 'get', matches: [{ method: 'GET' }] },
      ],
    });
    const rpc = compileRoute(spec, 'rpc');
    const grpcCall = (path: string) => new Call('catalog', path, path, {});
    assert.equal(rpc.match(grpcCall('/shop.Catalog/List'), readCallHeader)?.label, 'svc');
    assert.equal(rpc.match(grpcCall('/shop.Orders/Get'), readCallHeader)?.label, 'm');
    assert.equal(rpc.match(grpcCall('/shop.Catalogs/List'), readCallHeader), undefined);
    assert.equal(rpc.match(grpcCall('/shop.Orders/GetAll'), readCallHeader), undefined);
    const http = compileRoute(spec, 'verb');
    assert.equal(http.match(call('GET', '/shop.Catalog/List'), readCallHeader)?.label, 'get');
  });

  test('the path index never changes the answer (property: same rule as a plain first-match scan)', () => {
    const segment = fc.constantFrom('a', 'b', 'items', 'x1');
    const pathArb = fc.array(segment, { minLength: 0, maxLength: 4 }).map((s) => `/${s.join('/')}`);
    const matchArb = fc.record(
      {
        path: fc.oneof(
          pathArb.map((value) => ({ type: 'Exact' as const, value })),
          pathArb.map((value) => ({ type: 'PathPrefix' as const, value })),
          fc.constant({ type: 'RegularExpression' as const, value: '/a(/.*)?' }),
        ),
        method: fc.constantFrom('GET', 'POST'),
        headers: fc.constant([{ name: 'x-h', value: 'on' }]),
      },
      { requiredKeys: [] },
    );
    const specArb = fc.array(fc.record({ matches: fc.array(matchArb, { minLength: 0, maxLength: 3 }) }), {
      minLength: 1,
      maxLength: 12,
    });
    fc.assert(
      fc.property(
        specArb,
        pathArb,
        fc.constantFrom('GET', 'POST'),
        fc.boolean(),
        (rules, path, method, h) => {
          const spec = parse({ rules: rules as never });
          const table = compileRoute(spec, 'verb');
          const one = call(method, path, h ? { 'x-h': 'on' } : {});
          // The scan: every rule on its own (a one-rule table has nothing to index).
          const expected = spec.rules.findIndex(
            (r) =>
              compileRoute(parse({ rules: [r as never] }), 'verb').match(one, readCallHeader) !== undefined,
          );
          const got = table.match(one, readCallHeader)?.index ?? -1;
          assert.equal(got, expected);
        },
      ),
      { numRuns: 300, seed: 13 },
    );
  });

  test('query parameter names are case-sensitive, as in the Gateway API', () => {
    const table = compileRoute(
      parse({ rules: [{ matches: [{ queryParams: [{ name: 'Beta', value: 'on' }] }] }] }),
      'verb',
    );
    assert.equal(table.match(call('GET', '/x?Beta=on'), readCallHeader)?.index, 0);
    assert.equal(table.match(call('GET', '/x?beta=on'), readCallHeader), undefined);
    assert.ok(
      RouteSpec.safeParse({ rules: [{ matches: [{ queryParams: [{ name: 'a[b]', value: '1' }] }] }] })
        .success,
    );
  });

  test('query parameters are read without parsing the whole query', () => {
    assert.equal(queryParam('/p?a=1&b=x%20y', 2, 'b'), 'x y');
    assert.equal(queryParam('/p?a=1&b', 2, 'b'), '');
    assert.equal(queryParam('/p?ab=1', 2, 'a'), undefined);
    assert.equal(queryParam('/p', -1, 'a'), undefined);
  });

  test('the travelling override names subsets per service', () => {
    assert.equal(overrideFor('catalog=v2, users=v3', 'users'), 'v3');
    assert.equal(overrideFor('catalog=v2', 'users'), undefined);
    assert.ok(isRouteOverride('catalog=v2,users=v3'));
    for (const bad of ['catalog', '=v2', 'catalog=v2;x', 'a=b\r\nc: d', 'x'.repeat(2000)])
      assert.ok(!isRouteOverride(bad), bad);
  });
});

describe('weighted splits and subsets (fake client, seeded)', () => {
  test('90/10 over 20,000 calls lands within half a point', async () => {
    const c = client({
      subsets: SUBSETS,
      rules: [
        {
          backends: [
            { subset: 'v1', weight: 90 },
            { subset: 'v2', weight: 10 },
          ],
        },
      ],
    });
    const counts = await split(c, 20_000);
    assert.ok(Math.abs(counts.v2 / 20_000 - 0.1) < 0.005, JSON.stringify(counts));
    c.close();
  });

  test('a subset without endpoints is skipped: its share goes to the others', async () => {
    const c = client({
      subsets: SUBSETS,
      rules: [
        {
          backends: [
            { subset: 'v1', weight: 50 },
            { subset: 'v3', weight: 50 },
          ],
        },
      ],
    });
    const counts = await split(c, 200);
    assert.deepEqual(counts, { v1: 200, v2: 0 });
    c.close();
  });

  test('a rule whose subsets all lack endpoints fails with WEFT_NO_ENDPOINTS naming them', async () => {
    const c = client({ subsets: SUBSETS, rules: [{ backends: [{ subset: 'v3' }] }] });
    await assert.rejects(c.run(), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'WEFT_NO_ENDPOINTS');
      assert.match(e.message, /route rule 0 \(subsets: v3\)/);
      return true;
    });
    c.close();
  });

  test('a call no rule matches goes to the whole destination', async () => {
    const c = client({
      subsets: SUBSETS,
      rules: [{ matches: [{ method: 'POST' }], backends: [{ subset: 'v2' }] }],
    });
    const counts = await split(c, 500);
    assert.ok(counts.v1 > 200 && counts.v2 > 100, JSON.stringify(counts));
    c.close();
  });

  test('retries re-pick within the rule, never outside its subsets', async () => {
    const c = client(
      { subsets: SUBSETS, rules: [{ backends: [{ subset: 'v2' }] }] },
      { scripts: { '10.0.0.4:8080': { status: 503 } } },
    );
    const r = await c.run();
    assert.equal(r.endpoint, '10.0.0.5:8080');
    assert.ok(c.server.log.every((a) => versionOf(a.endpoint) === 'v2'));
    c.close();
  });

  test('hashOn keeps one key on one backend; keys split by weight', async () => {
    const c = client({
      subsets: SUBSETS,
      rules: [
        {
          hashOn: { header: 'x-user' },
          backends: [
            { subset: 'v1', weight: 80 },
            { subset: 'v2', weight: 20 },
          ],
        },
      ],
    });
    let canary = 0;
    for (let u = 0; u < 1000; u++) {
      const first = versionOf((await c.run({ headers: { 'x-user': `u${u}` } })).endpoint);
      for (let k = 0; k < 3; k++)
        assert.equal(
          versionOf((await c.run({ headers: { 'x-user': `u${u}` } })).endpoint),
          first,
          `user u${u}`,
        );
      if (first === 'v2') canary++;
    }
    assert.ok(canary > 150 && canary < 250, `canary users: ${canary}`);
    c.close();
  });

  test('ring-hash within a subset: one key, one endpoint; a leaving endpoint moves only its keys', async () => {
    const endpoints = Array.from({ length: 6 }, (_, i) => ({ address: `10.0.1.${i + 1}`, port: 80 }));
    const c = fakeClient({
      endpoints,
      policy: { balancer: { kind: 'ring-hash', hashHeader: 'x-session' } },
    });
    const owner = new Map<string, string>();
    for (let s = 0; s < 300; s++) {
      const key = `s${s}`;
      const ep = (await c.run({ headers: { 'x-session': key } })).endpoint;
      assert.equal((await c.run({ headers: { 'x-session': key } })).endpoint, ep);
      owner.set(key, ep);
    }
    c.close();
    const fewer = fakeClient({
      endpoints: endpoints.slice(1),
      policy: { balancer: { kind: 'ring-hash', hashHeader: 'x-session' } },
    });
    let moved = 0;
    for (const [key, ep] of owner) {
      const now = (await fewer.run({ headers: { 'x-session': key } })).endpoint;
      if (ep !== '10.0.1.1:80') assert.equal(now, ep, `${key} stayed`);
      else moved++;
    }
    assert.ok(moved > 20, `keys of the removed endpoint: ${moved}`);
    fewer.close();
  });

  test('hash32 spreads keys', () => {
    const buckets = new Array(10).fill(0);
    for (let i = 0; i < 10_000; i++) buckets[Math.floor((hash32(`user-${i}`) / 2 ** 32) * 10)]++;
    for (const b of buckets) assert.ok(b > 900 && b < 1100, String(buckets));
  });
});

/** A policy source whose Route tests change by hand. */
class ManualRoutes implements PolicySource {
  routes = new Map<string, RouteSpec>();
  #listeners = new Set<(e: { revision: number }) => void>();
  #revision = 0;
  policy(): DestinationPolicy | undefined {
    return undefined;
  }
  route(name: string): RouteSpec | undefined {
    return this.routes.get(name);
  }
  set(name: string, spec: RouteSpecInput | undefined): void {
    if (spec === undefined) this.routes.delete(name);
    else this.routes.set(name, parse(spec));
    for (const l of this.#listeners) l({ revision: ++this.#revision });
  }
  subscribe(listener: (e: { revision: number }) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

describe('live Route changes', () => {
  test('a new Route applies to the next call; removing it restores the whole destination', async () => {
    const source = new ManualRoutes();
    const c = fakeClient({ endpoints: ENDPOINTS, config: source });
    assert.equal(c.describe().route, undefined);
    source.set('fake', { subsets: SUBSETS, rules: [{ backends: [{ subset: 'v2' }] }] });
    assert.deepEqual(await split(c, 50), { v1: 0, v2: 50 });
    assert.equal(c.describe().route?.source, 'config');
    source.set('fake', { subsets: SUBSETS, rules: [{ backends: [{ subset: 'v1' }] }] });
    assert.deepEqual(await split(c, 50), { v1: 50, v2: 0 });
    source.set('fake', undefined);
    const after = await split(c, 200);
    assert.ok(after.v1 > 0 && after.v2 > 0);
    c.close();
  });

  test('a Route whose rule cannot be built is refused; the previous one stays and describe() says why', async () => {
    const source = new ManualRoutes();
    const c = fakeClient({ endpoints: ENDPOINTS, config: source });
    source.set('fake', { subsets: SUBSETS, rules: [{ backends: [{ subset: 'v2' }] }] });
    // Valid field by field, refused by the retry module's own rule (backoffMaxMs ≥ backoffInitialMs).
    source.set('fake', {
      subsets: SUBSETS,
      rules: [{ backends: [{ subset: 'v1' }], retry: { backoffInitialMs: 500, backoffMaxMs: 100 } }],
    });
    assert.match(c.describe().rejectedRoute ?? '', /backoffMaxMs/);
    assert.deepEqual(await split(c, 20), { v1: 0, v2: 20 });
    c.close();
  });

  test('describe() shows subsets with their endpoint counts and the rules', () => {
    const c = client({
      subsets: SUBSETS,
      rules: [{ name: 'main', backends: [{ subset: 'v1', weight: 3 }] }],
    });
    const route = c.describe().route!;
    assert.equal(route.source, 'code');
    assert.deepEqual(
      route.subsets.map((s) => [s.name, s.endpoints]),
      [
        ['v1', 3],
        ['v2', 2],
        ['v3', 0],
      ],
    );
    assert.deepEqual(route.rules, [
      { rule: 'main', matches: 0, backends: [{ subset: 'v1', weight: 3 }], overrides: undefined },
    ]);
    c.close();
  });

  test('an invalid Route in code is refused at once, naming the field', () => {
    assert.throws(
      () => client({ subsets: SUBSETS, rules: [{ backends: [{ subset: 'v1', weight: -2 }] }] }),
      /invalid option route: route\.rules\.0\.backends\.0\.weight: must be ≥ 0/,
    );
  });
});

describe('per-rule policy, header edits and rewrite', () => {
  test("a rule's retry and timeout override the destination's for its calls only", async () => {
    const c = client(
      {
        subsets: SUBSETS,
        rules: [{ matches: [{ path: { value: '/once' } }], retry: { maxAttempts: 1 }, timeoutMs: 50 }, {}],
      },
      { fallback: { status: 503 }, policy: { retry: { maxAttempts: 3 } } },
    );
    await c.run({ path: '/once' });
    assert.equal(c.server.attempts(), 1);
    c.server.reset();
    await c.run({ path: '/other' });
    assert.equal(c.server.attempts(), 3);
    c.server.setFallback({ hang: true });
    const started = c.clock.now();
    await assert.rejects(c.run({ path: '/once' }), /deadline/);
    assert.equal(Math.round(c.clock.now() - started), 50);
    c.close();
  });

  test('request headers are set, added and removed; the path is rewritten; response headers edited', async () => {
    const c = client({
      rules: [
        {
          matches: [{ path: { type: 'PathPrefix', value: '/items' } }],
          requestHeaders: { set: { 'x-env': 'prod' }, add: { 'x-tags': 'routed' }, remove: ['x-debug'] },
          responseHeaders: { set: { 'x-served-by': 'weft' } },
          rewrite: { pathPrefix: '/v2/items' },
        },
      ],
    });
    const r = await c.run({ path: '/items/7?q=1', headers: { 'x-debug': '1', 'x-tags': 'a' } });
    const sent = c.server.log.at(-1)!;
    assert.equal(sent.path, '/v2/items/7?q=1');
    assert.equal(sent.headers['x-env'], 'prod');
    assert.equal(sent.headers['x-tags'], 'a, routed');
    assert.equal(sent.headers['x-debug'], undefined);
    assert.equal(r.headers['x-served-by'], 'weft');
    c.close();
  });
});

describe('the travelling override', () => {
  const route = (overrides: boolean): RouteSpecInput => ({
    subsets: SUBSETS,
    overrides,
    rules: [{ backends: [{ subset: 'v1' }] }],
  });

  test('weft-route pins the subset where the Route allows overrides, from the request or its context', async () => {
    const c = client(route(true));
    assert.deepEqual(await split(c, 20, { headers: { 'weft-route': 'fake=v2' } }), { v1: 0, v2: 20 });
    const ctx = createContext({ route: 'other=v1, fake=v2' });
    const inherited = await runWithContext(ctx, () => c.run());
    assert.equal(versionOf(inherited.endpoint), 'v2');
    assert.equal(c.server.log.at(-1)!.headers['weft-route'], 'other=v1, fake=v2', 'carried downstream');
    c.close();
  });

  test('a pin to a subset without endpoints fails naming the rule and the subset', async () => {
    const c = client(route(true));
    await assert.rejects(c.run({ headers: { 'weft-route': 'fake=v3' } }), /route rule 0 \(subsets: v3\)/);
    c.close();
  });

  test('ignored where the Route does not allow overrides', async () => {
    const c = client(route(false));
    assert.deepEqual(await split(c, 20, { headers: { 'weft-route': 'fake=v2' } }), { v1: 20, v2: 0 });
    c.close();
  });
});

describe('mirroring', () => {
  test('a copy goes to the mirror subset; its answer is discarded; the primary never waits for it', async () => {
    const c = client(
      { subsets: SUBSETS, rules: [{ backends: [{ subset: 'v1' }], mirror: { subset: 'v2' } }] },
      { scripts: { '10.0.0.4:8080': { hang: true }, '10.0.0.5:8080': { hang: true } } },
    );
    for (let i = 0; i < 10; i++) {
      const r = await c.run();
      assert.equal(versionOf(r.endpoint), 'v1');
    }
    const mirrored = c.server.log.filter((a) => versionOf(a.endpoint) === 'v2');
    assert.equal(mirrored.length, 10);
    assert.ok(mirrored.every((a) => a.headers['weft-mirror'] === '1'));
    c.close();
  });

  test('a failing mirror never fails, retries or opens the breaker of the primary', async () => {
    const c = client(
      { subsets: SUBSETS, rules: [{ backends: [{ subset: 'v1' }], mirror: { subset: 'v2' } }] },
      {
        scripts: { '10.0.0.4:8080': { status: 503 }, '10.0.0.5:8080': { status: 503 } },
        policy: { circuitBreaker: { volumeThreshold: 5 } },
      },
    );
    for (let i = 0; i < 100; i++) assert.equal((await c.run()).status, 200);
    const mirrorAttempts = c.server.log.filter((a) => versionOf(a.endpoint) === 'v2');
    assert.equal(mirrorAttempts.length, 100, 'one attempt per copy: copies are not retried');
    assert.equal(c.describe().route!.mirrors!.sent, 100);
    c.close();
  });

  test('copies in flight are bounded; over the bound they are dropped and counted; non-replayable bodies are not mirrored', async () => {
    const c = client(
      {
        subsets: SUBSETS,
        mirrorMaxInflight: 3,
        rules: [{ backends: [{ subset: 'v1' }], mirror: { subset: 'v2' } }],
      },
      { scripts: { '10.0.0.4:8080': { hang: true }, '10.0.0.5:8080': { hang: true } } },
    );
    for (let i = 0; i < 10; i++) await c.run();
    await c.run({ replayable: false });
    const m = c.describe().route!.mirrors!;
    assert.equal(m.sent, 3);
    assert.equal(m['dropped-limit'], 7);
    assert.equal(m['dropped-body'], 1);
    assert.equal(m.inflight, 3);
    c.close();
  });

  test('percent mirrors a share of calls', async () => {
    const c = client({
      subsets: SUBSETS,
      rules: [{ backends: [{ subset: 'v1' }], mirror: { subset: 'v2', percent: 25 } }],
    });
    for (let i = 0; i < 2000; i++) await c.run();
    const sent = c.describe().route!.mirrors!.sent!;
    assert.ok(sent > 420 && sent < 580, String(sent));
    c.close();
  });
});

describe('fault injection', () => {
  test('an abort answers with the status without reaching any server, and is not retried', async () => {
    const c = client({ rules: [{ fault: { abort: { status: 503 } } }] });
    const r = await c.run();
    assert.equal(r.status, 503);
    assert.equal(r.headers['weft-fault'], 'abort');
    assert.equal(c.server.attempts(), 0);
    c.close();
  });

  test('a delay waits on the clock, and never past the deadline', async () => {
    const c = client({ rules: [{ timeoutMs: 1000, fault: { delay: { ms: 300 } } }] });
    let t = c.clock.now();
    await c.run();
    assert.equal(c.clock.now() - t, 300);
    c.close();
    const late = client({ rules: [{ timeoutMs: 100, fault: { delay: { ms: 300 } } }] });
    t = late.clock.now();
    await assert.rejects(late.run(), (e: Error & { code?: string }) => e.code === 'WEFT_DEADLINE_EXCEEDED');
    assert.equal(late.clock.now() - t, 100);
    assert.equal(late.server.attempts(), 0);
    late.close();
  });

  test('percentages are fractional', async () => {
    const c = client({ rules: [{ fault: { abort: { status: 500, percent: 2.5 } } }] });
    let aborted = 0;
    for (let i = 0; i < 4000; i++) if ((await c.run()).status === 500) aborted++;
    assert.ok(aborted > 60 && aborted < 140, String(aborted));
    c.close();
  });

  test('header faults only where the rule allows them', async () => {
    const allowed = client({ rules: [{ allowHeaderFaults: true }] });
    assert.equal((await allowed.run({ headers: { 'weft-fault-abort': '418' } })).status, 418);
    const t = allowed.clock.now();
    await allowed.run({ headers: { 'weft-fault-delay-ms': '250' } });
    assert.equal(allowed.clock.now() - t, 250);
    await allowed.run({ headers: { 'weft-fault-delay-ms': '0', 'x-keep': '1' } });
    const forwarded = allowed.server.log.at(-1)!.headers;
    assert.equal(forwarded['weft-fault-delay-ms'], undefined, 'a fault asked of this hop is not sent on');
    assert.equal(forwarded['x-keep'], '1');
    allowed.close();
    const refused = client({ rules: [{}] });
    assert.equal((await refused.run({ headers: { 'weft-fault-abort': '418' } })).status, 200);
    assert.equal(refused.server.attempts(), 1);
    refused.close();
  });
});
