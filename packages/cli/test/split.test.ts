import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type ServiceProcess, startService, tempDir } from '@weft/control-plane/testing';
import type { DocumentSpecs } from '@weft/core/config';
import { parse } from 'yaml';
import { type Api, api } from '../src/api.ts';
import { UsageError } from '../src/commands.ts';
import { CommandError } from '../src/errors.ts';
import { parseDocuments } from '../src/files.ts';
import { main } from '../src/main.ts';
import { defaultRuleIndex, parseWeights, split, splitSpec } from '../src/split.ts';

type RouteSpec = DocumentSpecs['Route'];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const CATALOG_ROUTE = `kind: Route
name: catalog
spec:
  subsets:
    v1: { version: v1 }
    v2: { version: v2 }
  rules:
    - matches:
        - headers: [{ name: x-canary, value: "yes" }]
      backends: [{ subset: v2 }]
    - matches:
        - path: { type: PathPrefix, value: /items }
          method: GET
      backends:
        - { subset: v1, weight: 90 }
        - { subset: v2, weight: 10 }
      timeoutMs: 800
      retry: { maxAttempts: 2 }
      mirror: { subset: v2, percent: 5 }
      fault:
        delay: { ms: 200, percent: 10 }
        abort: { status: 503, percent: 1 }
      requestHeaders: { set: { x-env: prod }, add: {}, remove: [x-debug] }
      responseHeaders: { set: {}, add: {}, remove: [] }
      rewrite: { pathPrefix: /v2/items }
    - backends: [{ subset: v1 }]
      timeoutMs: 1500
`;

describe('weft split and Route documents against a real config service', () => {
  const dir = tempDir();
  let svc: ServiceProcess;
  let request: Api;
  const file = (name: string, text: string) => {
    const path = join(dir.path, name);
    writeFileSync(path, text);
    return path;
  };
  const cli = async (args: string[]): Promise<Run> => {
    let stdout = '';
    let stderr = '';
    const code = await main(['--server', svc.url, '--token', svc.token, ...args], {
      out: (t) => {
        stdout += t;
      },
      err: (t) => {
        stderr += t;
      },
    });
    return { code, stdout, stderr };
  };
  const route = async (name: string) =>
    (await request('GET', `/v1/documents/Route/${name}`)).body as { revision: number; spec: RouteSpec };
  const revision = async () => ((await request('GET', '/healthz')).body as { revision: number }).revision;

  before(async () => {
    svc = await startService({ data: join(dir.path, 'data') });
    request = api({ urls: [svc.url], token: svc.token, timeoutMs: 5000 });
  });
  after(async () => {
    await svc.stop();
    dir.remove();
  });

  test('apply takes Route documents (YAML and JSON, several per file); get route shows one as YAML', async () => {
    const yaml = file(
      'catalog.yaml',
      `${CATALOG_ROUTE}---\nkind: DestinationPolicy\nname: catalog\nspec:\n  timeoutMs: 2000\n`,
    );
    const applied = await cli(['apply', '-f', yaml]);
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(
      applied.stdout,
      /^Route\/catalog configured\nDestinationPolicy\/catalog configured\nrevision 1$/m,
    );
    const json = file(
      'more.json',
      JSON.stringify({
        documents: [
          { kind: 'Route', name: 'orders', spec: { subsets: { a: { track: 'a' } }, rules: [] } },
          {
            kind: 'Route',
            name: 'users',
            spec: {
              subsets: { blue: { color: 'blue' }, green: { color: 'green' } },
              rules: [{ matches: [{ method: { service: 'shop.Users' } }], backends: [{ subset: 'green' }] }],
            },
          },
        ],
      }),
    );
    assert.equal((await cli(['apply', '-f', json])).code, 0);
    const list = await cli(['get', 'routes']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(
      list.stdout,
      /^NAME\s+REVISION\s+CREATED\ncatalog\s+1\s+1\norders\s+2\s+2\nusers\s+2\s+2\n$/,
    );
    const one = await cli(['get', 'route', 'catalog']);
    assert.equal(one.code, 0, one.stderr);
    assert.match(
      one.stdout,
      /^kind: Route\nname: catalog\nrevision: 1\nspec:\n {2}subsets:\n {4}v1:\n {6}version: v1\n/,
    );
    assert.deepEqual(parse(one.stdout).spec.rules[1].backends, [
      { subset: 'v1', weight: 90 },
      { subset: 'v2', weight: 10 },
    ]);
    const viaAlias = await cli(['-o', 'json', 'get', 'rt', 'catalog']);
    assert.equal(JSON.parse(viaAlias.stdout).spec.rules[2].timeoutMs, 1500);
    const again = await cli(['apply', '-f', file('got.yaml', one.stdout)]);
    assert.match(again.stdout, /Route\/catalog unchanged\nrevision 2/, 'what get prints applies unchanged');
  });

  test("split rewrites only the default rule's backends, with the revision bumped", async () => {
    const before = await route('catalog');
    const r = await cli(['split', 'catalog', 'v1=50', 'v2=50']);
    assert.equal(r.code, 0, r.stderr);
    const after = await route('catalog');
    assert.equal(after.revision, await revision());
    assert.ok(after.revision > before.revision, 'revision bumped');
    assert.equal(
      r.stdout,
      `Route/catalog: default rule (rule 2): v1=50 v2=50 (was v1=1)\nrevision ${after.revision}\n`,
    );
    assert.deepEqual(after.spec.rules[2], {
      backends: [
        { subset: 'v1', weight: 50 },
        { subset: 'v2', weight: 50 },
      ],
      timeoutMs: 1500,
    });
    assert.deepEqual(after.spec.rules.slice(0, 2), before.spec.rules.slice(0, 2), 'other rules untouched');
    assert.deepEqual(after.spec.subsets, before.spec.subsets);
    const json = await cli(['split', 'catalog', 'v2=100', '--output', 'json']);
    assert.equal(json.code, 0, json.stderr);
    const body = JSON.parse(json.stdout);
    assert.equal(body.revision, after.revision + 1);
    assert.equal(body.rule, 2);
    assert.deepEqual(body.before, after.spec.rules[2]!.backends);
    assert.deepEqual(
      body.document.spec.rules[2].backends,
      [{ subset: 'v2', weight: 100 }],
      'exactly those given',
    );
    const history = await cli(['history', 'route', 'catalog']);
    assert.match(
      history.stdout,
      new RegExp(`^${body.revision}\\s+\\S+\\s+admin \\(\\w+\\)\\s+put Route/catalog$`, 'm'),
    );
  });

  test('split appends a default rule to a Route that has none; an unchanged split writes nothing', async () => {
    const r = await cli(['split', 'users', 'blue=1', 'green=0']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Route\/users: default rule appended as rule 1: blue=1 green=0\n/);
    const users = await route('users');
    assert.deepEqual(users.spec.rules, [
      { matches: [{ method: { service: 'shop.Users' } }], backends: [{ subset: 'green', weight: 1 }] },
      {
        backends: [
          { subset: 'blue', weight: 1 },
          { subset: 'green', weight: 0 },
        ],
      },
    ]);
    const at = await revision();
    const same = await cli(['split', 'users', 'blue=1', 'green=0']);
    assert.equal(same.code, 0, same.stderr);
    assert.equal(same.stdout, 'Route/users unchanged: blue=1 green=0\n');
    assert.equal(await revision(), at, 'nothing written');
  });

  test('--dry-run prints the document that would be written, which apply takes, and writes nothing', async () => {
    const at = await revision();
    const r = await cli(['split', 'catalog', 'v1=90', 'v2=10', '--dry-run']);
    assert.equal(r.code, 0, r.stderr);
    const [doc] = parseDocuments(r.stdout, 'stdout');
    assert.equal(doc?.kind, 'Route');
    assert.deepEqual((doc!.spec as RouteSpec).rules[2]?.backends, [
      { subset: 'v1', weight: 90 },
      { subset: 'v2', weight: 10 },
    ]);
    assert.match(
      r.stderr,
      /default rule \(rule 2\): v1=90 v2=10 \(was v2=100\)\n\(dry run: nothing was written\)/,
    );
    const json = await cli(['-o', 'json', 'split', 'catalog', 'v1=90', 'v2=10', '--dry-run']);
    assert.equal(JSON.parse(json.stdout).document.spec.rules[2].backends[0].weight, 90);
    assert.equal(await revision(), at, 'nothing written');
    assert.deepEqual((await route('catalog')).spec.rules[2]!.backends, [{ subset: 'v2', weight: 100 }]);
  });

  test('a write between the read and the write is a conflict, and is never overwritten', async () => {
    const read = await route('catalog');
    const theirs = structuredClone(read.spec);
    theirs.rules[2]!.backends = [{ subset: 'v1', weight: 7 }];
    // Another operator writes just before this split's write reaches the service.
    const racing: Api = async (method, path, body, headers) => {
      if (method === 'PUT') await request('PUT', path, { spec: theirs });
      return request(method, path, body, headers);
    };
    const o = { json: false, write: () => assert.fail('nothing is printed on a conflict') };
    const refused = await split(racing, o, 'catalog', ['v1=10', 'v2=90']).then(
      () => assert.fail('the split must not succeed'),
      (error: unknown) => error,
    );
    const written = await route('catalog');
    assert.deepEqual(written.spec, theirs, 'the other write stands');
    assert.ok(refused instanceof CommandError);
    assert.equal(refused.code, 'conflict');
    assert.equal(refused.message, `catalog changed since read (revision ${read.revision}); run again`);
    assert.match(refused.issues[0]!, new RegExp(`Route/catalog is at revision ${written.revision}\\b`));

    const stale = await cli(['split', 'catalog', 'v1=10', 'v2=90', '--if-revision', String(read.revision)]);
    assert.equal(stale.code, 1);
    assert.equal(
      stale.stderr,
      `error: catalog changed since read (revision ${read.revision}); run again\n  Route/catalog is at revision ${written.revision}\n`,
    );
    const json = await cli(['-o', 'json', 'split', 'catalog', 'v1=1', '--if-revision', '1']);
    assert.equal(JSON.parse(json.stderr).error.code, 'conflict');
    const current = await route('catalog');
    assert.deepEqual(current.spec, theirs, 'still not overwritten');
    const fresh = await cli([
      'split',
      'catalog',
      'v1=10',
      'v2=90',
      '--if-revision',
      String(current.revision),
    ]);
    assert.equal(fresh.code, 0, fresh.stderr);
  });

  test('refusals name the problem and write nothing', async () => {
    const at = await revision();
    const unknown = await cli(['split', 'catalog', 'v1=90', 'v3=10', 'canary=1']);
    assert.equal(unknown.code, 1);
    assert.match(
      unknown.stderr,
      /^error: Route\/catalog does not define subsets "v3", "canary"\n {2}spec\.subsets defines v1, v2\n/,
    );
    const noRoute = await cli(['split', 'billing', 'v1=90', 'v2=10']);
    assert.equal(noRoute.code, 1);
    assert.match(noRoute.stderr, /^error: no Route for service "billing": nothing to split\n/);
    assert.match(noRoute.stderr, /weft apply -f route\.yaml/);
    const example = noRoute.stderr.split('\n').slice(2).join('\n');
    const [suggested] = parseDocuments(example, 'hint');
    assert.deepEqual(suggested?.name, 'billing', 'the example is a valid Route for the service');
    const noRouteJson = await cli(['-o', 'json', 'split', 'billing', 'v1=1']);
    assert.equal(JSON.parse(noRouteJson.stderr).error.code, 'not_found');
    const usage: [string[], RegExp][] = [
      [['v1=1.5'], /v1: the weight must be an integer ≥ 0, got "1\.5"/],
      [['v1=-10', 'v2=110'], /v1: the weight must be an integer ≥ 0, got "-10"/],
      [['v1=ten'], /got "ten"/],
      [['v1'], /expected <subset>=<weight>, got "v1"/],
      [['=5'], /expected <subset>=<weight>, got "=5"/],
      [['v1=0', 'v2=0'], /every weight is 0/],
      [['v1=1', 'v1=2'], /v1: given twice/],
    ];
    for (const [weights, pattern] of usage) {
      const r = await cli(['split', 'catalog', ...weights]);
      assert.equal(r.code, 2, weights.join(' '));
      assert.match(r.stderr, pattern);
    }
    const tooBig = await cli(['split', 'catalog', 'v1=2000000']);
    assert.equal(tooBig.code, 1);
    assert.match(tooBig.stderr, /spec\.rules\.2\.backends\.0\.weight: Too big/);
    assert.equal((await cli(['split', 'catalog'])).code, 2, 'weights are required');
    const badName = await cli(['split', 'Catalog', 'v1=1']);
    assert.equal(badName.code, 2);
    assert.match(badName.stderr, /^error: Catalog: /);
    assert.equal(await revision(), at, 'nothing written');
  });
});

describe('the default rule of a split', () => {
  const spec = (rules: RouteSpec['rules']): RouteSpec => ({ subsets: { a: {}, b: {} }, rules });

  test('is the first rule without matches (an empty list counts as none), the one that runs', () => {
    const m = [{ method: 'GET' }];
    assert.equal(defaultRuleIndex([{ matches: m }, { matches: [] }, {}]), 1);
    assert.equal(defaultRuleIndex([{}, { matches: m }, {}]), 0);
    assert.equal(defaultRuleIndex([{ matches: m }]), -1);
    assert.equal(defaultRuleIndex([]), -1);
  });

  test('keeps the rule’s other fields and every other rule; appends one when there is none', () => {
    const mirror = { subset: 'b', percent: 5 };
    const original = spec([
      { matches: [{ method: 'GET' }], backends: [{ subset: 'b', weight: 1 }] },
      { mirror },
    ]);
    const change = splitSpec(original, [{ subset: 'a', weight: 3 }]);
    assert.deepEqual(change.spec.rules[1], { mirror, backends: [{ subset: 'a', weight: 3 }] });
    assert.equal(change.spec.rules[0], original.rules[0]);
    assert.equal(change.before, undefined);
    assert.equal(original.rules[1]!.backends, undefined, 'the input is not modified');
    const appended = splitSpec(spec([{ matches: [{ method: 'GET' }] }]), [{ subset: 'b', weight: 1 }]);
    assert.deepEqual([appended.rule, appended.appended], [1, true]);
    assert.deepEqual(appended.spec.rules[1], { backends: [{ subset: 'b', weight: 1 }] });
  });

  test('weights are parsed in the order given', () => {
    assert.deepEqual(parseWeights(['v2=10', 'v1=090']), [
      { subset: 'v2', weight: 10 },
      { subset: 'v1', weight: 90 },
    ]);
    assert.throws(() => parseWeights([]), UsageError);
  });
});
