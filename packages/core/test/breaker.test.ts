// The breaker filter end to end over the fake client, on virtual time: the reset timeout is the
// stack's clock too, so a test moves past it with `clock.advance`.
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, test } from 'node:test';
import { Call, Destination, defaultClientStack, ErrorCode, isWeftError, StaticResolver } from '@weft/core';
import type { DestinationPolicy } from '@weft/core/config';
import {
  type FakeClientOptions,
  type FakeConnection,
  type FakeResponse,
  fakeBinding,
  fakeClassifier,
  fakeClient,
  fakeEndpoints,
  scriptedService,
  seededRandom,
  VirtualClock,
} from '@weft/core/testing';
import { Policies } from './support/policies.ts';

const RESET_MS = 40;
const BREAKER = { volumeThreshold: 5, errorThresholdPercent: 50, resetTimeoutMs: RESET_MS };

function policy(circuitBreaker: DestinationPolicy['circuitBreaker'] = {}): DestinationPolicy {
  return {
    retry: { enabled: false },
    outlierDetection: { enabled: false },
    circuitBreaker: { ...BREAKER, ...circuitBreaker },
  };
}

function client(options: FakeClientOptions = {}, overrides: DestinationPolicy = {}) {
  return fakeClient({ ...options, policy: { ...policy(), ...overrides } });
}

function watchBreaker(): { states: string[]; stop: () => void } {
  const states: string[] = [];
  const listener = (m: unknown) => states.push((m as { state: string }).state);
  subscribe('weft:breaker:state', listener);
  return { states, stop: () => unsubscribe('weft:breaker:state', listener) };
}

const isOpen = (e: unknown) => isWeftError(e, ErrorCode.CircuitOpen);

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
        assert.equal(e.retryable, false);
        return true;
      });
      assert.equal(c.server.attempts(), before, 'failed fast: nothing sent');
    } finally {
      watch.stop();
      c.close();
    }
  });

  test('stays closed while failures are under the threshold, and opens when they reach it', async () => {
    const watch = watchBreaker();
    // One call in three fails: 33%, under 50%.
    let calls = 0;
    const c = client({ fallback: () => (calls++ % 3 === 2 ? { status: 500 } : { status: 200 }) });
    try {
      for (let i = 0; i < 30; i++) await c.run();
      assert.deepEqual(watch.states, []);
    } finally {
      watch.stop();
      c.close();
    }
    const watch2 = watchBreaker();
    // Every other call fails, starting with a success: 2 of 5, then 3 of 6 — 50%, the threshold.
    let n = 0;
    const d = client({ fallback: () => (n++ % 2 === 1 ? { status: 500 } : { status: 200 }) });
    try {
      for (let i = 0; i < 5; i++) await d.run();
      assert.deepEqual(watch2.states, [], '2 failures of 5 calls');
      await d.run();
      assert.deepEqual(watch2.states, ['open'], '3 failures of 6 calls');
    } finally {
      watch2.stop();
      d.close();
    }
  });

  test('half-open: a single probe; its success closes the breaker', async () => {
    const watch = watchBreaker();
    const c = client({ fallback: { status: 500 } });
    try {
      for (let i = 0; i < 5; i++) await c.run();
      assert.deepEqual(watch.states, ['open']);
      await c.clock.advance(RESET_MS - 1);
      await assert.rejects(c.run(), isOpen, 'still open just before the reset time');
      await c.clock.advance(1);
      c.server.setFallback({ status: 200, latencyMs: 10 });
      const probe = c.call();
      const second = c.call();
      await assert.rejects(c.clock.run(second), isOpen, 'one probe only');
      assert.equal((await c.clock.run(probe)).status, 200);
      assert.deepEqual(watch.states, ['open', 'half-open', 'closed']);
      assert.equal((await c.run()).status, 200);
    } finally {
      watch.stop();
      c.close();
    }
  });

  test('half-open: a failed probe opens it again, for another reset period', async () => {
    const watch = watchBreaker();
    const c = client({ fallback: { status: 500 } });
    try {
      for (let i = 0; i < 5; i++) await c.run();
      await c.clock.advance(RESET_MS);
      assert.equal((await c.run()).status, 500);
      assert.deepEqual(watch.states, ['open', 'half-open', 'open']);
      await assert.rejects(c.run(), isOpen);
      await c.clock.advance(RESET_MS);
      c.server.setFallback({ status: 200 });
      assert.equal((await c.run()).status, 200);
      assert.deepEqual(watch.states, ['open', 'half-open', 'open', 'half-open', 'closed']);
    } finally {
      watch.stop();
      c.close();
    }
  });

  test('a late answer to a call sent before the breaker opened is not taken for the probe', async () => {
    const watch = watchBreaker();
    let n = 0;
    // The first call is slow and succeeds; the next five fail at once and open the breaker.
    const c = client({ fallback: () => (n++ === 0 ? { status: 200, latencyMs: 1_000 } : { status: 500 }) });
    try {
      const slow = c.call();
      for (let i = 0; i < 5; i++) await c.run();
      assert.deepEqual(watch.states, ['open']);
      await c.clock.advance(RESET_MS);
      c.server.setFallback({ hang: true });
      const ac = new AbortController();
      const probe = c.call({ signal: ac.signal });
      assert.equal((await c.clock.run(slow)).status, 200, 'the slow call answers while the probe hangs');
      assert.deepEqual(watch.states, ['open', 'half-open'], 'the late success did not close the breaker');
      await assert.rejects(c.run(), isOpen, 'the probe is still the only call let through');
      ac.abort(new Error('done'));
      await assert.rejects(probe, (e) => isWeftError(e, ErrorCode.Cancelled));
    } finally {
      watch.stop();
      c.close();
    }
  });

  test('caller cancellations do not count as failures, nor as calls in the window', async () => {
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
      // Four failures after ten cancellations: still under the volume threshold of 5.
      c.server.setFallback({ status: 500 });
      for (let i = 0; i < 4; i++) await c.run();
      assert.deepEqual(watch.states, [], 'the cancellations were not counted as calls');
      await c.run();
      assert.deepEqual(watch.states, ['open']);
    } finally {
      watch.stop();
      c.close();
    }
  });

  test('the window slides: failures older than rollingWindowMs are forgotten', async () => {
    const watch = watchBreaker();
    const c = client(
      { fallback: { status: 500 } },
      { circuitBreaker: { ...BREAKER, rollingWindowMs: 1_000 } },
    );
    try {
      for (let i = 0; i < 4; i++) await c.run();
      await c.clock.advance(1_000);
      for (let i = 0; i < 4; i++) await c.run();
      assert.deepEqual(watch.states, [], 'the first four failures left the window');
      // Half a window later the last four are still in it: one more failure makes five.
      await c.clock.advance(500);
      await c.run();
      assert.deepEqual(watch.states, ['open']);
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
      c.rebuild({ ...policy(), retry: { enabled: false, maxAttempts: 2 } });
      await assert.rejects(c.run(), isOpen);
      const other = client({ fallback: { status: 200 } });
      assert.equal((await other.run()).status, 200, 'another destination is unaffected');
      other.close();
    } finally {
      watch.stop();
      c.close();
    }
  });

  test('an open breaker stays open when its errorThresholdPercent changes', async () => {
    const watch = watchBreaker();
    const c = client({ fallback: { status: 500 } });
    try {
      for (let i = 0; i < 5; i++) await c.run();
      c.rebuild(policy({ errorThresholdPercent: 90 }));
      await assert.rejects(c.run(), isOpen, 'still open under the new threshold');
      assert.equal(c.server.attempts(), 5);
      // The new resetTimeoutMs counts from when it opened.
      c.rebuild(policy({ errorThresholdPercent: 90, resetTimeoutMs: 2 * RESET_MS }));
      await c.clock.advance(RESET_MS);
      await assert.rejects(c.run(), isOpen, 'the longer reset time has not passed');
      await c.clock.advance(RESET_MS);
      c.server.setFallback({ status: 200 });
      assert.equal((await c.run()).status, 200);
      assert.deepEqual(watch.states, ['open', 'half-open', 'closed']);
    } finally {
      watch.stop();
      c.close();
    }
  });

  test("the window's counts survive a volumeThreshold change", async () => {
    const watch = watchBreaker();
    const c = client({ fallback: { status: 500 } }, policy({ volumeThreshold: 10 }));
    try {
      for (let i = 0; i < 4; i++) await c.run();
      c.rebuild(policy({ volumeThreshold: 5 }));
      assert.deepEqual(watch.states, []);
      await c.run();
      assert.deepEqual(watch.states, ['open'], 'five failures: four from before the change, one after');
    } finally {
      watch.stop();
      c.close();
    }
  });

  test('a stack whose build failed does not change the working breaker', async () => {
    const watch = watchBreaker();
    const c = client({ fallback: { status: 500 } });
    try {
      // A deadline over the limit fails the build above the breaker, after the breaker was made.
      await c.run();
      const bad = { ...policy({ volumeThreshold: 1 }), timeoutMs: -1 };
      assert.throws(() => c.rebuild(bad));
      for (let i = 0; i < 3; i++) await c.run();
      assert.deepEqual(watch.states, [], 'still the volume threshold of 5');
      await c.run();
      assert.deepEqual(watch.states, ['open']);
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
    await c.clock.advance(RESET_MS);
    c.server.setFallback({ hang: true });
    const ac = new AbortController();
    const probe = c.call({ signal: ac.signal });
    await c.clock.advance(1);
    ac.abort(new Error('user went away'));
    await assert.rejects(probe, (e) => isWeftError(e, ErrorCode.Cancelled));
    assert.deepEqual(watch.states, ['open', 'half-open', 'open'], 'no verdict: open again, probe later');
    await assert.rejects(c.run(), isOpen, 'open for another reset period');
    await c.clock.advance(RESET_MS);
    c.server.setFallback({ status: 200 });
    assert.equal((await c.run()).status, 200);
    assert.deepEqual(watch.states, ['open', 'half-open', 'open', 'half-open', 'closed']);
  } finally {
    watch.stop();
    c.close();
  }
});

test('circuit breaker: a config-service change of its params keeps an open breaker open', async () => {
  const watch = watchBreaker();
  const config = new Policies();
  const clock = new VirtualClock();
  const server = scriptedService({ clock, fallback: { status: 500 } });
  const dest = new Destination<Call, FakeResponse, FakeConnection>({
    name: 'users',
    resolver: new StaticResolver(fakeEndpoints(3)),
    policy: policy(),
    stack: defaultClientStack<Call, FakeResponse>(),
    binding: fakeBinding(server.service, { classify: fakeClassifier() }),
    config,
    clock,
    random: seededRandom(3),
  });
  const run = () => clock.run(dest.call(new Call('users', 'GET', '/', {})));
  try {
    for (let i = 0; i < 5; i++) await run();
    assert.deepEqual(watch.states, ['open']);
    config.set('users', { circuitBreaker: { errorThresholdPercent: 80, volumeThreshold: 50 } });
    assert.equal(dest.policy.circuitBreaker?.errorThresholdPercent, 80, 'the change was applied');
    await assert.rejects(run(), isOpen);
    assert.equal(server.attempts(), 5, 'nothing sent while open');
  } finally {
    watch.stop();
    dest.close();
  }
});
