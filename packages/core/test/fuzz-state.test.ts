import assert from 'node:assert/strict';
import { test } from 'node:test';
import { propertyRuns as fuzz } from '@weft/core/testing';
import fc from 'fast-check';
import { ConfigState, hostIssue } from '../src/config/index.ts';
import { parseWatchData } from '../src/config/wire-check.ts';
import { isWeftError } from '../src/errors/errors.ts';

const good = (id: string, address = '127.0.0.1', port = 8080) => ({
  service: 'users',
  id,
  address,
  port,
  labels: {},
  ttlMs: 10_000,
  revision: 1,
});

test('a malformed instance in a snapshot or a change is skipped and reported; the good ones stay', () => {
  const state = new ConfigState();
  state.load({
    storeId: 's',
    revision: 3,
    documents: [],
    instances: [
      good('a'),
      good('b', 'http://127.0.0.1:8080'),
      good('c', '127.0.0.1:8080'),
      good('d', '10.0.0.1', 0),
    ],
  });
  assert.deepEqual(
    state.endpoints('users')?.map((e) => `${e.address}:${e.port}`),
    ['127.0.0.1:8080'],
  );
  assert.ok(state.problems.some((p) => p.startsWith('users/b: skipped: address')));
  const applied = state.apply({
    revision: 4,
    at: 'now',
    changes: [
      { op: 'register', instance: good('e', 'bad host\r\n') },
      { op: 'register', instance: good('f', '::1', 9000) },
    ],
  });
  assert.ok(applied);
  assert.deepEqual(
    state.endpoints('users')?.map((e) => e.address),
    ['127.0.0.1', '::1'],
  );
});

test('watch messages and snapshots of any shape: a WeftError or a state of valid endpoints, never a half-applied one', () => {
  const instance = fc.oneof(
    fc.record(
      {
        service: fc.oneof(fc.constantFrom('users', 'orders', 'a..b'), fc.string({ maxLength: 6 })),
        id: fc.oneof(fc.string({ maxLength: 6 }), fc.integer()),
        address: fc.oneof(
          fc.ipV4(),
          fc.domain(),
          fc.string({ maxLength: 12 }),
          fc.constant('h:1'),
          fc.integer(),
        ),
        port: fc.oneof(fc.integer({ min: -1, max: 70_000 }), fc.string()),
        labels: fc.oneof(fc.constant({}), fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.integer()))),
        ttlMs: fc.oneof(fc.constant(1000), fc.integer()),
        revision: fc.nat(),
      },
      { requiredKeys: [] },
    ),
    fc.jsonValue({ maxDepth: 1 }),
  );
  const change = fc.oneof(
    fc.record({ op: fc.constant('register'), instance }),
    fc.record({
      op: fc.constant('deregister'),
      service: fc.constantFrom('users', 'orders'),
      id: fc.string({ maxLength: 6 }),
    }),
    fc.record({
      op: fc.constant('put'),
      document: fc.oneof(
        fc.record({
          kind: fc.constant('DestinationPolicy'),
          name: fc.constantFrom('users', 'x'),
          spec: fc.jsonValue({ maxDepth: 2 }),
          revision: fc.nat(),
          createRevision: fc.nat(),
        }),
        fc.jsonValue({ maxDepth: 1 }),
      ),
    }),
    fc.record({
      op: fc.constant('delete'),
      kind: fc.constantFrom('DestinationPolicy', 1),
      name: fc.constant('users'),
    }),
    fc.jsonValue({ maxDepth: 1 }),
  );
  const message = fc.oneof(
    fc.record({
      event: fc.constant('snapshot'),
      data: fc
        .oneof(
          fc.record({
            storeId: fc.constant('s'),
            revision: fc.nat(),
            documents: fc.constant([]),
            instances: fc.array(instance, { maxLength: 4 }),
          }),
          fc.record(
            {
              storeId: fc.oneof(fc.string(), fc.integer()),
              revision: fc.oneof(fc.nat(), fc.double()),
              documents: fc.jsonValue({ maxDepth: 1 }),
              instances: fc.jsonValue({ maxDepth: 1 }),
            },
            { requiredKeys: [] },
          ),
        )
        .map((v) => JSON.stringify(v)),
    }),
    fc.record({
      event: fc.constant('change'),
      data: fc
        .oneof(
          fc.record({
            revision: fc.nat({ max: 50 }),
            at: fc.constant('t'),
            changes: fc.array(change, { maxLength: 4 }),
          }),
          fc.jsonValue({ maxDepth: 2 }),
        )
        .map((v) => JSON.stringify(v)),
    }),
    fc.record({ event: fc.constantFrom('snapshot', 'change'), data: fc.string({ maxLength: 20 }) }),
  );
  fc.assert(
    fc.property(fc.array(message, { maxLength: 8 }), (messages) => {
      const state = new ConfigState();
      for (const m of messages) {
        const before = JSON.stringify(state.snapshot());
        try {
          const data = parseWatchData(m);
          if (m.event === 'snapshot') state.load(data as never);
          else state.apply(data as never);
        } catch (error) {
          assert.ok(isWeftError(error), `not a WeftError: ${error}`);
          assert.equal(JSON.stringify(state.snapshot()), before, 'a refused message changed the state');
        }
        for (const service of state.services())
          for (const e of state.endpoints(service) ?? []) {
            assert.equal(hostIssue(e.address), undefined, e.address);
            assert.ok(Number.isInteger(e.port) && e.port >= 1 && e.port <= 65535);
          }
      }
    }),
    fuzz(5),
  );
});
