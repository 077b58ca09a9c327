import assert from 'node:assert/strict';
import type { Resolver as NodeDnsResolver } from 'node:dns/promises';
import { test } from 'node:test';
import type { Endpoint } from '@weft/core';
import { hostIssue } from '@weft/core/config';
import { propertyRuns as fuzz } from '@weft/core/testing';
import fc from 'fast-check';
import { stringify as toYaml } from 'yaml';
import { lookup } from '../src/dns/query.ts';
import { parseEndpointFile } from '../src/file/parse.ts';
import { sliceEndpoints } from '../src/kubernetes/slices.ts';

/** Every endpoint a parser lets through can be dialled. */
function assertUsable(endpoints: readonly Endpoint[]): void {
  for (const e of endpoints) {
    assert.equal(hostIssue(e.address), undefined, `address ${JSON.stringify(e.address)}`);
    assert.ok(Number.isInteger(e.port) && e.port >= 1 && e.port <= 65535, `port ${e.port}`);
    if (e.weight !== undefined) assert.ok(Number.isFinite(e.weight) && e.weight > 0);
    for (const v of Object.values(e.labels ?? {})) assert.equal(typeof v, 'string');
  }
}

/** A parser's own refusal is a plain `Error` with a message, never a TypeError or RangeError from a bug. */
function assertRefusal(error: unknown): void {
  assert.ok(error instanceof Error, String(error));
  assert.equal(error.constructor, Error, `${error.constructor.name}: ${error.message}`);
  assert.ok(error.message.length > 0);
}

const address = fc.oneof(
  fc.ipV4(),
  fc.ipV6(),
  fc.domain(),
  fc.constantFrom('127.0.0.1:8080', 'http://x', ' 10.0.0.1', 'a b', 'h\r\nx', '[::1]', '', '999.0.0.1'),
  fc.jsonValue({ maxDepth: 1 }),
);
const endpoint = fc.oneof(
  { weight: 3, arbitrary: fc.record({ address, port: fc.integer({ min: 1, max: 65535 }) }) },
  fc.record(
    {
      address,
      port: fc.oneof(fc.integer({ min: -1, max: 70_000 }), fc.double(), fc.string({ maxLength: 4 })),
      labels: fc.oneof(
        fc.dictionary(fc.string({ maxLength: 5 }), fc.oneof(fc.string({ maxLength: 5 }), fc.integer())),
        fc.jsonValue({ maxDepth: 1 }),
      ),
      weight: fc.oneof(fc.double(), fc.integer({ min: -1, max: 5 })),
    },
    { requiredKeys: ['address', 'port'] },
  ),
  fc.jsonValue({ maxDepth: 1 }),
);

test('file-resolver files: endpoints that can be dialled, or a refusal naming the problem', () => {
  const file = fc.oneof(
    fc.record({ endpoints: fc.array(endpoint, { maxLength: 4 }) }),
    fc.record({
      services: fc.dictionary(
        fc.constantFrom('users', 'orders'),
        fc.oneof(
          fc.record({ endpoints: fc.array(endpoint, { maxLength: 3 }) }),
          fc.jsonValue({ maxDepth: 1 }),
        ),
      ),
    }),
    fc.jsonValue({ maxDepth: 3 }),
  );
  const text = fc.oneof(
    fc.tuple(file, fc.constantFrom('json', 'yaml') as fc.Arbitrary<'json' | 'yaml'>).map(([f, format]) => ({
      text: format === 'json' ? JSON.stringify(f) : toYaml(f),
      format,
    })),
    fc.record({
      text: fc.string({ unit: 'binary', maxLength: 80 }),
      format: fc.constantFrom('json', 'yaml') as fc.Arbitrary<'json' | 'yaml'>,
    }),
  );
  fc.assert(
    fc.property(text, fc.constantFrom(undefined, 'users'), ({ text: t, format }, service) => {
      try {
        const content = parseEndpointFile(t, format, service);
        if (content.kind === 'bound') assertUsable(content.endpoints);
      } catch (error) {
        assertRefusal(error);
      }
    }),
    fuzz(5),
  );
});

/** A stand-in for node:dns's Resolver that answers whatever the property generated. */
function fakeDns(answers: { a: unknown; aaaa: unknown; srv: unknown }): NodeDnsResolver {
  const answer = (value: unknown) =>
    value instanceof Error ? Promise.reject(value) : Promise.resolve(value);
  return {
    resolve4: () => answer(answers.a),
    resolve6: () => answer(answers.aaaa),
    resolveSrv: () => answer(answers.srv),
  } as unknown as NodeDnsResolver;
}

test('DNS answers (A, AAAA, SRV): usable endpoints with a TTL, a negative, or a failure; never a throw', async () => {
  const failure = fc
    .constantFrom('ENOTFOUND', 'ENODATA', 'ESERVFAIL', 'ETIMEOUT', undefined)
    .map((code) => Object.assign(new Error(`dns ${code}`), { code }));
  const addresses = fc.oneof(
    fc.array(
      fc.record({
        address: fc.oneof(fc.ipV4(), fc.ipV6(), fc.string({ maxLength: 8 })),
        ttl: fc.oneof(fc.nat(), fc.double(), fc.constant(-1)),
      }),
      { maxLength: 3 },
    ),
    failure,
  );
  const srv = fc.oneof(
    fc.array(
      fc.record({
        name: fc.oneof(
          fc.constantFrom('.', '', 'a.example', '10.0.0.7'),
          fc.domain(),
          fc.string({ maxLength: 6 }),
        ),
        port: fc.oneof(fc.integer({ min: -1, max: 70_000 }), fc.double()),
        priority: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.double()),
        weight: fc.oneof(fc.integer({ min: 0, max: 5 }), fc.double()),
      }),
      { maxLength: 4 },
    ),
    failure,
  );
  await fc.assert(
    fc.asyncProperty(
      fc.record({ a: addresses, aaaa: addresses, srv }),
      fc.constantFrom('A', 'AAAA', 'A+AAAA', 'SRV') as fc.Arbitrary<'A' | 'AAAA' | 'A+AAAA' | 'SRV'>,
      async (answers, type) => {
        const r = await lookup(fakeDns(answers), {
          name: 'svc.example',
          type,
          port: 8080,
          labels: { zone: 'z' },
          srvRefreshMs: 30_000,
        });
        if (r.kind === 'bound') {
          assert.ok(r.endpoints.length > 0);
          assertUsable(r.endpoints);
          assert.ok(r.ttlMs >= 0 && !Number.isNaN(r.ttlMs), `ttl ${r.ttlMs}`);
        } else if (r.kind === 'failed') assert.ok(r.error instanceof Error);
        else assert.equal(r.kind, 'negative');
      },
    ),
    fuzz(5),
  );
});

test('EndpointSlice objects of any shape (as watch events carry them): usable endpoints, never a throw', () => {
  const slice = fc.oneof(
    fc.record(
      {
        metadata: fc.oneof(fc.record({ name: fc.string({ maxLength: 5 }) }), fc.jsonValue({ maxDepth: 1 })),
        addressType: fc.constantFrom('IPv4', 'IPv6', 'FQDN'),
        endpoints: fc.oneof(
          fc.array(
            fc.oneof(
              fc.record(
                {
                  addresses: fc.oneof(fc.array(address, { maxLength: 2 }), fc.jsonValue({ maxDepth: 1 })),
                  conditions: fc.oneof(
                    fc.record(
                      {
                        ready: fc.option(fc.boolean()),
                        serving: fc.option(fc.boolean()),
                        terminating: fc.option(fc.boolean()),
                      },
                      { requiredKeys: [] },
                    ),
                    fc.jsonValue({ maxDepth: 1 }),
                  ),
                  zone: fc.oneof(fc.string({ maxLength: 4 }), fc.integer()),
                  nodeName: fc.oneof(fc.string({ maxLength: 4 }), fc.jsonValue({ maxDepth: 1 })),
                },
                { requiredKeys: [] },
              ),
              fc.jsonValue({ maxDepth: 1 }),
            ),
            { maxLength: 4 },
          ),
          fc.jsonValue({ maxDepth: 2 }),
        ),
        ports: fc.oneof(
          fc.array(
            fc.oneof(
              fc.record(
                {
                  name: fc.option(fc.constantFrom('http', 'grpc', '')),
                  port: fc.oneof(fc.integer({ min: -1, max: 70_000 }), fc.constant(null)),
                },
                { requiredKeys: [] },
              ),
              fc.jsonValue({ maxDepth: 1 }),
            ),
            { maxLength: 3 },
          ),
          fc.jsonValue({ maxDepth: 2 }),
        ),
      },
      { requiredKeys: [] },
    ),
    fc.jsonValue({ maxDepth: 3 }),
  );
  fc.assert(
    fc.property(slice, fc.constantFrom(undefined, 'http', 8080), (s, wanted) => {
      const r = sliceEndpoints(s as never, wanted);
      assertUsable(r.ready);
      assertUsable(r.terminating);
      if (!r.portFound) assert.equal(r.ready.length + r.terminating.length, 0);
    }),
    fuzz(5),
  );
});
