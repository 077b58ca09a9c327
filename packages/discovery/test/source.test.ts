import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ResolverState } from '@weft/core';
import { EndpointSource, staticResolver } from '@weft/discovery';
import { keysOf, manyEndpoints } from './helpers.ts';

describe('endpoint source state machine', () => {
  test('starts pending, binds, fails keeping the last good set, goes negative', () => {
    const source = new EndpointSource('test', 'svc');
    const seen: ResolverState[] = [];
    source.subscribe((s) => seen.push(s));
    assert.equal(seen[0]?.kind, 'pending');
    source.bind([{ address: '10.0.0.1', port: 80 }]);
    source.fail(new Error('boom'));
    const failed = source.state;
    assert.equal(failed.kind, 'failed');
    assert.deepEqual(keysOf(failed), ['10.0.0.1:80']);
    assert.equal(source.fail(new Error('boom')), false, 'the same failure again does not notify');
    source.negative();
    source.fail(new Error('after negative'));
    assert.deepEqual(keysOf(source.state), [], 'a failure after negative keeps the (empty) negative set');
    assert.deepEqual(
      seen.map((s) => s.kind),
      ['pending', 'bound', 'failed', 'negative', 'failed'],
    );
    source.close();
  });

  test('an unchanged set does not notify, and unchanged endpoints keep their identity', () => {
    const source = new EndpointSource('test', 'svc');
    let calls = 0;
    source.subscribe(() => calls++);
    source.bind([
      { address: '10.0.0.1', port: 80, labels: { zone: 'a' } },
      { address: '10.0.0.2', port: 80 },
    ]);
    const first = source.state.kind === 'bound' ? source.state.endpoints : [];
    // Same content in new objects and another order: no change.
    assert.equal(
      source.bind([
        { address: '10.0.0.2', port: 80, weight: 1 },
        { address: '10.0.0.1', port: 80, labels: { zone: 'a' } },
      ]),
      false,
    );
    assert.equal(calls, 2);
    // A label change is a change; the other endpoint keeps its object.
    assert.equal(
      source.bind([
        { address: '10.0.0.1', port: 80, labels: { zone: 'b' } },
        { address: '10.0.0.2', port: 80 },
      ]),
      true,
    );
    const second = source.state.kind === 'bound' ? source.state.endpoints : [];
    assert.equal(second[1], first[1]);
    assert.notEqual(second[0], first[0]);
    assert.equal(calls, 3);
    source.close();
  });

  test('10 updates of 10,000 endpoints take linear work: fast, and unchanged sets notify nobody', (t) => {
    const source = new EndpointSource('test', 'svc');
    let calls = 0;
    source.subscribe(() => calls++);
    const sets = Array.from({ length: 10 }, (_, u) => manyEndpoints(10_000, 8080, u * 1000));
    const start = performance.now();
    for (const set of sets) source.bind(set);
    const elapsed = performance.now() - start;
    assert.equal(calls, 11);
    t.diagnostic(`10 updates of 10,000 endpoints: ${elapsed.toFixed(1)} ms`);
    // Quadratic work would take minutes here; the bound is generous so a loaded machine passes.
    assert.ok(elapsed < 5000, `10 updates of 10,000 endpoints took ${elapsed.toFixed(1)} ms`);
    // Re-offering the same 10,000 (fresh objects) is detected as unchanged.
    const again = manyEndpoints(10_000, 8080, 9000);
    assert.equal(source.bind(again), false);
    assert.equal(calls, 11);
    assert.deepEqual(source.stats, { notifications: 10, updates: 11 });
    source.close();
  });
});

describe('staticResolver', () => {
  test('accepts objects and host:port strings', () => {
    const r = staticResolver(['10.0.0.1:80', '[::1]:8080', { address: 'b.local', port: 81, weight: 2 }]);
    assert.deepEqual(keysOf(r.state), ['10.0.0.1:80', '[::1]:8080', 'b.local:81']);
  });

  test('names the bad entry and field', () => {
    assert.throws(
      () =>
        staticResolver([
          { address: '10.0.0.1', port: 80 },
          { address: '10.0.0.2', port: 70000 },
        ]),
      { code: 'WEFT_INVALID_OPTION', message: /endpoints\[1\]\.port: must be an integer in 1\.\.65535/ },
    );
    assert.throws(
      () => staticResolver(['10.0.0.1:80', '10.0.0.1:80']),
      /endpoints\[1\]: duplicates endpoints\[0\]/,
    );
  });
});

test('a throwing subscriber does not keep the others from the update; the error surfaces as a process warning', async () => {
  const source = new EndpointSource('test', 'svc');
  const seen: string[] = [];
  source.subscribe((s) => {
    if (s.kind === 'bound') throw new Error('subscriber bug');
  });
  source.subscribe((s) => seen.push(s.kind));
  const warned = new Promise<Error>((resolve) => process.once('warning', resolve));
  source.bind([{ address: '10.0.0.1', port: 80 }]);
  assert.deepEqual(seen, ['pending', 'bound']);
  assert.equal(source.state.kind, 'bound');
  assert.equal((await warned).message, 'subscriber bug');
  source.close();
});
