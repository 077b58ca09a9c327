import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkKnownKeys, closestKey } from '@weft/core';
import { createConfigClient } from '@weft/core/config';

describe('unknown option keys', () => {
  test('closestKey finds prefixes and near misspellings, and nothing for unrelated words', () => {
    const known = ['timeoutMs', 'perTryTimeoutMs', 'concurrency', 'ttlMs', 'services', 'idempotentMethods'];
    assert.equal(closestKey('timeout', known), 'timeoutMs');
    assert.equal(closestKey('concurency', known), 'concurrency');
    assert.equal(closestKey('ttl', known), 'ttlMs');
    assert.equal(closestKey('service', known), 'services');
    assert.equal(closestKey('idempotent', known), 'idempotentMethods');
    assert.equal(closestKey('Timeoutms', known), 'timeoutMs');
    assert.equal(closestKey('banana', known), undefined);
  });

  test('checkKnownKeys names the key, where it was given and the closest valid one', () => {
    assert.throws(
      () => checkKnownKeys('thing()', { timeout: 1 } as object, { timeoutMs: true } as never),
      (e: { code?: string; message?: string }) =>
        e.code === 'WEFT_INVALID_OPTION' &&
        /invalid option timeout: thing\(\) has no option "timeout"; did you mean "timeoutMs"\?/.test(
          String(e.message),
        ),
    );
    assert.doesNotThrow(() => checkKnownKeys('thing()', { timeoutMs: 1 }, { timeoutMs: true }));
    assert.throws(() => checkKnownKeys('thing()', [] as never, {} as never), /options must be an object/);
  });

  test('createConfigClient refuses a misspelt option', () => {
    assert.throws(
      () => createConfigClient({ urls: 'http://127.0.0.1:1', startTimeout: 5 } as never),
      /has no option "startTimeout"; did you mean "startTimeoutMs"/,
    );
  });
});
