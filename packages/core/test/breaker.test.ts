// opossum keeps its own (real) timers for the reset timeout: these tests use a short resetTimeoutMs
// and wait on wall-clock time with a generous bound. Requests themselves run on the virtual clock.
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, test } from 'node:test';
import { ErrorCode, isWeftError } from '@weft/core';
import type { DestinationPolicy } from '@weft/core/config';
import { type FakeClientOptions, fakeClient } from '@weft/core/testing';

const RESET_MS = 40;

function client(options: FakeClientOptions = {}, policy: DestinationPolicy = {}) {
  return fakeClient({
    ...options,
    policy: {
      retry: { enabled: false },
      outlierDetection: { enabled: false },
      circuitBreaker: { volumeThreshold: 5, errorThresholdPercent: 50, resetTimeoutMs: RESET_MS },
      ...policy,
    },
  });
}

/** Waits (wall clock) until `predicate` holds, up to `limitMs`. */
async function until(predicate: () => boolean, limitMs = 5000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!predicate()) {
    if (Date.now() > end) assert.fail(`condition not met within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function watchBreaker(): { states: string[]; stop: () => void } {
  const states: string[] = [];
  const listener = (m: unknown) => states.push((m as { state: string }).state);
  subscribe('weft:breaker:state', listener);
  return { states, stop: () => unsubscribe('weft:breaker:state', listener) };
}

describe('circuit breaker', () => {
  test('opens once failures pass the threshold, but not before volumeThreshold calls', async () => {
    const watch = watchBreaker();
    const c = client({ fallback: { status: 500 } });
    try {
      for (let i = 0; i < 4; i++) {
        const r = await c.run();
        assert.equal(r.status, 500, 'failed responses still reach the caller');
      }
      assert.deepEqual(watch.states, [], '4 failures of 4 calls: under the volume threshold');
      await c.run();
      assert.deepEqual(watch.states, ['open']);
      const before = c.server.attempts();
      await assert.rejects(c.run(), (e: unknown) => {
        assert.ok(isWeftError(e, ErrorCode.CircuitOpen));
        assert.equal(e.message, 'circuit breaker for fake is open');
        assert.equal((e.cause as { code?: string }).code, 'EOPENBREAKER');
        return true;
      });
      assert.equal(c.server.attempts(), before, 'failed fast: nothing sent');
    } finally {
      watch.stop();
      c.close();
    }
  });

  test('stays closed while failures are at or under the threshold', async () => {
    const watch = watchBreaker();
    // Every other call fails, starting with a success: never above 50%, and opossum opens only above.
    let calls = 0;
    const c = client({ fallback: () => (calls++ % 2 === 1 ? { status: 500 } : { status: 200 }) });
    try {
      for (let i = 0; i < 20; i++) await c.run();
      assert.deepEqual(watch.states, []);
    } finally {
      watch.stop();
      c.close();
    }
  });

  test('half-open: a single probe; its success closes the breaker', async () => {
    const watch = watchBreaker();
    const c = client({ fallback: { status: 500 } });
    try {
      for (let i = 0; i < 5; i++) await c.run();
      assert.deepEqual(watch.states, ['open']);
      await until(() => watch.states.includes('half-open'));
      c.server.setFallback({ status: 200, latencyMs: 10 });
      const probe = c.call();
      const second = c.call();
      await assert.rejects(
        c.clock.run(second),
        (e) => isWeftError(e, ErrorCode.CircuitOpen),
        'one probe only',
      );
      assert.equal((await c.clock.run(probe)).status, 200);
      assert.deepEqual(watch.states, ['open', 'half-open', 'closed']);
      assert.equal((await c.run()).status, 200);
    } finally {
      watch.stop();
      c.close();
    }
  });

  test('half-open: a failed probe opens it again', async () => {
    const watch = watchBreaker();
    const c = client({ fallback: { status: 500 } });
    try {
      for (let i = 0; i < 5; i++) await c.run();
      await until(() => watch.states.includes('half-open'));
      assert.equal((await c.run()).status, 500);
      assert.deepEqual(watch.states, ['open', 'half-open', 'open']);
      await assert.rejects(c.run(), (e) => isWeftError(e, ErrorCode.CircuitOpen));
    } finally {
      watch.stop();
      c.close();
    }
  });

  test('caller cancellations do not count as failures', async () => {
    const watch = watchBreaker();
    const c = client({ fallback: { hang: true } });
    try {
      for (let i = 0; i < 10; i++) {
        const ac = new AbortController();
        const call = c.call({ signal: ac.signal });
        await c.clock.advance(1);
        ac.abort(new Error('bye'));
        await assert.rejects(call, (e) => isWeftError(e, ErrorCode.Cancelled));
      }
      assert.deepEqual(watch.states, []);
    } finally {
      watch.stop();
      c.close();
    }
  });

  test('the breaker is per destination and survives a rebuild with the same settings', async () => {
    const watch = watchBreaker();
    const c = client({ fallback: { status: 500 } });
    try {
      for (let i = 0; i < 5; i++) await c.run();
      c.rebuild({
        retry: { enabled: false, maxAttempts: 2 },
        outlierDetection: { enabled: false },
        circuitBreaker: { volumeThreshold: 5, errorThresholdPercent: 50, resetTimeoutMs: RESET_MS },
      });
      await assert.rejects(c.run(), (e) => isWeftError(e, ErrorCode.CircuitOpen));
      const other = client({ fallback: { status: 200 } });
      assert.equal((await other.run()).status, 200, 'another destination is unaffected');
      other.close();
    } finally {
      watch.stop();
      c.close();
    }
  });

  test('disabled: never opens; a bad threshold names the option', async () => {
    const c = client({ fallback: { status: 500 } }, { circuitBreaker: { enabled: false } });
    for (let i = 0; i < 30; i++) assert.equal((await c.run()).status, 500);
    c.close();
    assert.throws(
      () => client({}, { circuitBreaker: { errorThresholdPercent: 0 } }),
      /circuitBreaker\.errorThresholdPercent: must be a number > 0 and ≤ 100/,
    );
  });
});

test('circuit breaker: a half-open probe cancelled by its caller does not close the breaker', async () => {
  const watch = watchBreaker();
  const c = client({ fallback: { status: 500 } });
  try {
    for (let i = 0; i < 5; i++) await c.run();
    await until(() => watch.states.includes('half-open'));
    c.server.setFallback({ hang: true });
    const ac = new AbortController();
    const probe = c.call({ signal: ac.signal });
    await c.clock.advance(1);
    ac.abort(new Error('user went away'));
    await assert.rejects(probe, (e) => isWeftError(e, ErrorCode.Cancelled));
    assert.deepEqual(watch.states, ['open', 'half-open', 'open'], 'no verdict: open again, probe later');
    await until(() => watch.states.length === 4);
    c.server.setFallback({ status: 200 });
    assert.equal((await c.run()).status, 200);
    assert.deepEqual(watch.states, ['open', 'half-open', 'open', 'half-open', 'closed']);
  } finally {
    watch.stop();
    c.close();
  }
});
