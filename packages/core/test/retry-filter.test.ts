import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, test } from 'node:test';
import { createContext, ErrorCode, isWeftError, runWithContext, WeftError } from '@weft/core';
import type { DestinationPolicy } from '@weft/core/config';
import { type FakeClientOptions, fakeClient } from '@weft/core/testing';

const E1 = '10.0.0.1:8080';
const connectFailed = () => new WeftError(ErrorCode.ConnectFailed, 'connection refused');
const requestFailed = () => new WeftError(ErrorCode.RequestFailed, 'socket hang up');

/** Round robin over 3 endpoints, breaker and outlier detection off, so only the retry filter decides. */
function full(policy: DestinationPolicy = {}): DestinationPolicy {
  return {
    balancer: { kind: 'round-robin' },
    circuitBreaker: { enabled: false },
    outlierDetection: { enabled: false },
    ...policy,
    retry: { backoffInitialMs: 10, backoffMaxMs: 20, ...policy.retry },
  };
}

function client(options: FakeClientOptions = {}, policy: DestinationPolicy = {}) {
  return fakeClient({ ...options, policy: full(policy) });
}

describe('retry filter', () => {
  test('retries a retryable response on an idempotent call, and discards the retried response', async () => {
    const c = client({ scripts: { [E1]: { status: 503 } } });
    const response = await c.run();
    assert.equal(response.status, 200);
    assert.equal(response.attempt, 2);
    assert.equal(c.server.attempts(), 2);
    const [first, second] = c.server.responses;
    assert.equal(first!.status, 503);
    assert.equal(first!.discarded, true, 'the 503 was released');
    assert.equal(second!.discarded, false);
    assert.equal(c.server.log[1]!.headers['weft-attempt'], '2');
    assert.equal(c.server.log[0]!.headers['weft-attempt'], undefined);
    c.close();
  });

  test('backoff: decorrelated jitter on the clock, within [initial, 3 × previous] and backoffMaxMs', async () => {
    const c = client(
      { fallback: { status: 503 } },
      { retry: { maxAttempts: 6, backoffInitialMs: 100, backoffMaxMs: 500, budget: { percent: 100 } } },
    );
    await c.run();
    const at = c.server.log.map((r) => r.at);
    assert.equal(at.length, 6);
    let previous = 100;
    for (let i = 1; i < at.length; i++) {
      const delay = at[i]! - at[i - 1]!;
      assert.ok(
        delay >= 100 - 1e-6 && delay <= Math.min(500, 3 * previous) + 1e-6,
        `delay ${delay} after ${previous}`,
      );
      previous = delay;
    }
    c.close();
  });

  test('backoff draws on the stack’s random(): the same seed gives the same timings', async () => {
    const timings = async (seed: number) => {
      const c = client(
        { fallback: { status: 503 }, seed },
        { retry: { backoffInitialMs: 100, backoffMaxMs: 1000 } },
      );
      await c.run();
      const at = c.server.log.map((r) => r.at);
      c.close();
      return at;
    };
    assert.deepEqual(await timings(5), await timings(5));
    assert.notDeepEqual(await timings(5), await timings(6));
  });

  test('non-idempotent calls: retried only when the request never reached the server', async () => {
    const c = client({ scripts: { [E1]: { status: 503 } } });
    assert.equal((await c.run({ method: 'POST' })).status, 503, 'a 503 on POST is final');
    assert.equal(c.server.attempts(), 1);
    c.close();
    for (const step of [{ error: connectFailed }, { status: 503, rejected: true }]) {
      const d = client({ scripts: { [E1]: step } });
      assert.equal((await d.run({ method: 'POST' })).status, 200);
      assert.equal(d.server.attempts(), 2);
      d.close();
    }
    const e = client({ scripts: { [E1]: { error: requestFailed } } });
    await assert.rejects(e.run({ method: 'POST' }), (err) => isWeftError(err, ErrorCode.RequestFailed));
    assert.equal(e.server.attempts(), 1, 'it may have been processed: not retried');
    e.close();
  });

  test('never retries a body that cannot be replayed', async () => {
    const c = client({ scripts: { [E1]: { error: connectFailed } } });
    const ctx = createContext();
    await assert.rejects(
      runWithContext(ctx, () => c.run({ replayable: false })),
      (e) => isWeftError(e, ErrorCode.ConnectFailed),
    );
    assert.equal(c.server.attempts(), 1);
    assert.equal(ctx.downstreamExhausted, true, 'it gave up on a retryable failure');
    c.close();
  });

  test('respects maxAttempts and returns the last response', async () => {
    const c = client({ fallback: { status: 503 } }, { retry: { maxAttempts: 4 } });
    const response = await c.run();
    assert.equal(response.status, 503);
    assert.equal(c.server.attempts(), 4);
    assert.deepEqual(
      c.server.responses.map((r) => r.discarded),
      [true, true, true, false],
    );
    c.close();
    const one = client({ fallback: { status: 503 } }, { retry: { maxAttempts: 1 } });
    await one.run();
    assert.equal(one.server.attempts(), 1);
    one.close();
  });

  test('gives up when the backoff would pass the deadline, and marks the parent context', async () => {
    const c = client(
      { fallback: { status: 503 } },
      { timeoutMs: 1, retry: { backoffInitialMs: 60_000, backoffMaxMs: 60_000 } },
    );
    const ctx = createContext();
    const response = await runWithContext(ctx, () => c.run());
    assert.equal(response.status, 503);
    assert.equal(c.server.attempts(), 1);
    assert.equal(c.clock.now(), 0, 'no time spent waiting for a retry that could not finish');
    assert.equal(ctx.downstreamExhausted, true);
    c.close();
  });

  test('a success leaves the parent context unmarked', async () => {
    const c = client({ scripts: { [E1]: { status: 503 } } });
    const ctx = createContext();
    await runWithContext(ctx, () => c.run());
    assert.equal(ctx.downstreamExhausted, false);
    c.close();
  });

  test('budget spent on an error: WEFT_BUDGET_EXHAUSTED with the error as cause', async () => {
    const c = client(
      { fallback: { error: connectFailed } },
      { retry: { budget: { percent: 0, minRetriesPerSecond: 0 } } },
    );
    const events: unknown[] = [];
    const listener = (m: unknown) => events.push(m);
    subscribe('weft:retry:budget-exhausted', listener);
    const ctx = createContext();
    try {
      await assert.rejects(
        runWithContext(ctx, () => c.run()),
        (e: unknown) => {
          assert.ok(isWeftError(e, ErrorCode.BudgetExhausted));
          assert.equal(e.message, 'retry budget for fake is spent');
          assert.ok(isWeftError(e.cause, ErrorCode.ConnectFailed));
          return true;
        },
      );
    } finally {
      unsubscribe('weft:retry:budget-exhausted', listener);
    }
    assert.equal(c.server.attempts(), 1);
    assert.equal(ctx.downstreamExhausted, true);
    assert.deepEqual(events, [{ destination: 'fake', attempt: 1 }]);
    c.close();
  });

  test('budget spent on a response: the response is returned, not discarded', async () => {
    const c = client(
      { fallback: { status: 503 } },
      { retry: { budget: { percent: 0, minRetriesPerSecond: 0 } } },
    );
    const response = await c.run();
    assert.equal(response.status, 503);
    assert.equal(response.discarded, false);
    c.close();
  });

  test('the budget is shared by every call to the destination and survives a rebuild', async () => {
    // 20% of requests, no reserve: 10 calls earn 2 retries.
    const policy = { retry: { budget: { percent: 20, minRetriesPerSecond: 0 } } };
    const c = client({}, policy);
    for (let i = 0; i < 9; i++) await c.run();
    c.rebuild(full({ ...policy, retry: { ...policy.retry, maxAttempts: 5 } }));
    c.server.setFallback({ status: 503 });
    c.server.reset();
    // The 10th call deposits too: 10 × 20% = 2 retries, so 3 attempts although 5 are allowed.
    await c.run();
    assert.equal(c.server.attempts(), 3);
    c.close();
  });

  test('does not waste budget on a retry it does not send', async () => {
    // A reserve of exactly one retry.
    const policy = {
      timeoutMs: 1,
      retry: {
        budget: { percent: 0, minRetriesPerSecond: 0.1 },
        backoffInitialMs: 60_000,
        backoffMaxMs: 60_000,
      },
    };
    const c = client({ scripts: { [E1]: { status: 503 } } }, policy);
    await c.run(); // gives up: the backoff would pass the deadline
    c.rebuild(
      full({ ...policy, timeoutMs: 0, retry: { ...policy.retry, backoffInitialMs: 1, backoffMaxMs: 1 } }),
    );
    c.server.reset();
    c.server.script(E1, { status: 200 });
    c.server.setFallback({ status: 503 });
    // Round robin is now on 10.0.0.2 (503): the retry goes to 10.0.0.3 if the reserve is still there.
    const response = await c.run();
    assert.equal(c.server.attempts(), 2, 'the unsent retry did not spend the only token');
    assert.equal(response.status, 503);
    c.close();
  });

  test('never retries the call’s own deadline, a cancellation, or a server that says it already retried', async () => {
    const deadline = client({ fallback: { hang: true } }, { timeoutMs: 50 });
    await assert.rejects(deadline.run(), (e) => isWeftError(e, ErrorCode.DeadlineExceeded));
    assert.equal(deadline.server.attempts(), 1);
    deadline.close();

    const upstream = client({ fallback: { error: new WeftError(ErrorCode.UpstreamExhausted, 'no') } });
    await assert.rejects(upstream.run(), (e) => isWeftError(e, ErrorCode.UpstreamExhausted));
    assert.equal(upstream.server.attempts(), 1);
    upstream.close();

    const cancelled = client({ fallback: { hang: true } });
    const ac = new AbortController();
    const call = cancelled.call({ signal: ac.signal });
    await cancelled.clock.advance(10);
    ac.abort(new Error('bye'));
    await assert.rejects(call, (e) => isWeftError(e, ErrorCode.Cancelled));
    assert.equal(cancelled.server.attempts(), 1);
    cancelled.close();
  });

  test('a cancellation during the backoff stops the retries', async () => {
    const c = client(
      { fallback: { status: 503 } },
      { retry: { backoffInitialMs: 1000, backoffMaxMs: 1000 } },
    );
    const ac = new AbortController();
    const call = c.call({ signal: ac.signal });
    await c.clock.advance(0);
    assert.equal(c.server.attempts(), 1);
    ac.abort(new Error('bye'));
    await assert.rejects(call, (e) => isWeftError(e, ErrorCode.Cancelled));
    await c.clock.advance(5000);
    assert.equal(c.server.attempts(), 1);
    assert.equal(c.clock.pending, 0, 'the backoff timer was cleared');
    c.close();
  });

  test('disabled: one attempt', async () => {
    const c = client({ fallback: { status: 503 } }, { retry: { enabled: false } });
    await c.run();
    assert.equal(c.server.attempts(), 1);
    c.close();
  });

  test('params are validated with the option named', () => {
    assert.throws(
      () => client({}, { retry: { maxAttempts: 11 } }),
      /retry\.maxAttempts: must be an integer within 1–10/,
    );
    assert.throws(
      () => client({}, { retry: { backoffInitialMs: 50, backoffMaxMs: 10 } }),
      /retry\.backoffMaxMs: must be ≥ retry\.backoffInitialMs/,
    );
  });
});
