/** One rule for service and document names: dot-separated DNS labels. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkServiceName, ErrorCode, isWeftError } from '@weft/core';
import { checkName, validateDocument } from '@weft/core/config';

const GOOD = ['orders', 'a', 'a.b', 'users-v2', 'svc.ns.svc.cluster.local', `${'x'.repeat(63)}.y`];
const BAD = [
  'a..b',
  '.a',
  'a.',
  '-a',
  'a-',
  'a.-b',
  'a_b',
  'a b',
  '',
  `${'x'.repeat(64)}.y`,
  'a'.repeat(254),
];

test('service names and document names follow the same rule; a..b is refused', () => {
  for (const name of GOOD) {
    assert.equal(checkName(name), undefined, name);
    assert.equal(checkServiceName(name), name);
  }
  for (const name of BAD) {
    assert.notEqual(checkName(name), undefined, name);
    assert.throws(
      () => checkServiceName(name),
      (e) => isWeftError(e, ErrorCode.InvalidOption),
      name,
    );
    const r = validateDocument({ kind: 'DestinationPolicy', name, spec: {} });
    assert.equal(r.ok, false, name);
  }
  // One rule everywhere: the registry refuses `Orders`, so a client does too, rather than calling a
  // service nothing can register under that name.
  assert.throws(() => checkServiceName('Orders'), /must be lowercase/);
});
