import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fullJitterBackoff, parseWatchEventId, validateDocument, watchEventId } from '@weft/core/config';

describe('validateDocument', () => {
  test('accepts a destination policy and returns the parsed document', () => {
    const r = validateDocument({
      kind: 'DestinationPolicy',
      name: 'users.v2',
      spec: { retry: { maxAttempts: 2 } },
    });
    assert.deepEqual(r, {
      ok: true,
      document: { kind: 'DestinationPolicy', name: 'users.v2', spec: { retry: { maxAttempts: 2 } } },
    });
  });

  test('accepts what `weft get` prints: the stored revisions are ignored', () => {
    const r = validateDocument({
      kind: 'DestinationPolicy',
      name: 'users',
      spec: { timeoutMs: 500 },
      revision: 12,
      createRevision: 3,
    });
    assert.deepEqual(r, {
      ok: true,
      document: { kind: 'DestinationPolicy', name: 'users', spec: { timeoutMs: 500 } },
    });
    const bad = validateDocument({ kind: 'DestinationPolicy', name: 'users', spec: {}, revision: -1 });
    assert.equal(bad.ok, false);
  });

  test('names every invalid field as path: reason, with the prefix', () => {
    const r = validateDocument(
      { kind: 'DestinationPolicy', name: 'ok', spec: { timeoutMs: -1, retry: { budget: { percent: 'x' } } } },
      'documents.3',
    );
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.deepEqual(
      r.issues.map((i) => i.split(':')[0]),
      ['documents.3.spec.timeoutMs', 'documents.3.spec.retry.budget.percent'],
    );
  });

  test('rejects unknown kinds, bad names, missing specs and extra envelope fields', () => {
    const issues = (input: unknown) => {
      const r = validateDocument(input);
      return r.ok ? [] : r.issues;
    };
    assert.match(
      issues({ kind: 'Gateway', name: 'a', spec: {} })[0]!,
      /^kind: unsupported kind "Gateway" \(supported: DestinationPolicy, Route, TrafficSwitch, AuthorizationPolicy, PeerAuthentication, Telemetry, Rollout, RolloutStatus\)/,
    );
    assert.match(issues({ kind: 'DestinationPolicy', name: 'Upper', spec: {} })[0]!, /^name: /);
    assert.match(issues({ kind: 'DestinationPolicy', name: 'a' })[0]!, /^spec: /);
    assert.match(issues({ kind: 'DestinationPolicy', name: 'a', spec: {}, x: 1 })[0]!, /^\(root\): .*"x"/);
    assert.match(issues('text')[0]!, /^\(root\): /);
  });
});

describe('watch event ids', () => {
  test('round-trip storeId.revision and reject malformed ids', () => {
    assert.deepEqual(parseWatchEventId(watchEventId('a-b.c', 42)), { storeId: 'a-b.c', revision: 42 });
    for (const bad of [undefined, '', 'nodot', '.5', 'x.-1', 'x.1.5e3x', 'x.abc'])
      assert.equal(parseWatchEventId(bad), undefined, String(bad));
  });
});

describe('fullJitterBackoff', () => {
  test('draws uniformly below an exponentially growing cap', () => {
    const max = fullJitterBackoff({ initialMs: 100, maxMs: 1000, random: () => 0.999999 });
    assert.deepEqual([0, 1, 2, 3, 4, 10].map(max), [99, 199, 399, 799, 999, 999]);
    const min = fullJitterBackoff({ initialMs: 100, maxMs: 1000, random: () => 0 });
    assert.equal(min(5), 0);
  });

  test('checks its options', () => {
    assert.throws(() => fullJitterBackoff({ initialMs: 0 }), /backoffInitialMs/);
    assert.throws(() => fullJitterBackoff({ initialMs: 500, maxMs: 100 }), /backoffMaxMs/);
  });
});
