import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, test } from 'node:test';
import { createContext, ErrorCode, isWeftError, runWithContext } from '@weft/core';
import type { DestinationPolicy } from '@weft/core/config';
import { type FakeClientOptions, fakeClient } from '@weft/core/testing';

function client(options: FakeClientOptions = {}, policy: DestinationPolicy = {}) {
  return fakeClient({ ...options, policy: { retry: { enabled: false }, ...policy } });
}

describe('deadline filter', () => {
  test('the effective deadline is min(own, inherited)', async () => {
    const c = client({}, { timeoutMs: 500 });
    await c.clock.advance(1000);
    const sent = () => c.server.log.at(-1)!.headers['weft-deadline-ms'];
    // Inherited is earlier.
    const call1 = c.makeCall();
    await runWithContext(createContext({ deadline: c.clock.now() + 200 }), () => c.run(call1));
    assert.equal(call1.deadline, 1200);
    assert.equal(sent(), '200');
    // Own is earlier.
    const call2 = c.makeCall();
    await runWithContext(createContext({ deadline: c.clock.now() + 900 }), () => c.run(call2));
    assert.equal(call2.deadline, 1500);
    assert.equal(sent(), '500');
    // The caller's own timeout replaces the configured one.
    const call3 = c.makeCall({ timeoutMs: 50 });
    await c.run(call3);
    assert.equal(sent(), '50');
    // Neither (timeoutMs 0 turns the default off): no deadline, no header, no timer.
    const d = client({}, { timeoutMs: 0 });
    const call4 = d.makeCall();
    await d.run(call4);
    assert.equal(call4.deadline, Number.POSITIVE_INFINITY);
    assert.equal(call4.signal, undefined, 'no deadline controller');
    assert.equal(d.clock.pending, 0);
    assert.equal(d.server.log[0]!.headers['weft-deadline-ms'], undefined);
    c.close();
    d.close();
  });

  test('with no timeout anywhere, the default of 15 s ends a call the endpoint never answers', async () => {
    const c = client({ fallback: { hang: true } });
    const call = c.makeCall();
    const started = c.clock.now();
    await assert.rejects(c.run(call), (e: unknown) => isWeftError(e, ErrorCode.DeadlineExceeded));
    assert.equal(c.clock.now() - started, 15_000);
    c.close();
  });

  test('a long-lived call (a stream) is not cut by the default total timeout', async () => {
    const c = client();
    const call = c.makeCall();
    call.longLived = true;
    await c.run(call);
    assert.equal(call.deadline, Number.POSITIVE_INFINITY);
    assert.equal(c.server.log.at(-1)!.headers['weft-deadline-ms'], undefined);
    c.close();
  });

  test('a deadline already passed rejects before anything is sent', async () => {
    const c = client();
    await c.clock.advance(100);
    for (const deadline of [100, 50]) {
      await assert.rejects(
        runWithContext(createContext({ deadline }), () => c.run()),
        (e: unknown) => {
          assert.ok(isWeftError(e, ErrorCode.DeadlineExceeded));
          assert.match(e.message, /deadline exceeded calling fake GET \//);
          return true;
        },
      );
    }
    assert.equal(c.server.attempts(), 0);
    assert.equal(c.clock.pending, 0);
    c.close();
  });

  test('when the deadline passes, the call below is aborted with WEFT_DEADLINE_EXCEEDED', async () => {
    const c = client({ fallback: { hang: true } }, { timeoutMs: 250 });
    await assert.rejects(c.run(), (e) => isWeftError(e, ErrorCode.DeadlineExceeded));
    assert.equal(c.clock.now(), 250, 'exactly at the deadline');
    assert.equal(c.server.attempts(), 1);
    assert.equal(c.server.inFlight, 0, 'the attempt below saw the abort');
    // The endpoint left the attempt unanswered: it is ejected, and only its readmission timer is left.
    assert.equal(c.endpoints.all.filter((e) => e.health === 'ejected').length, 1);
    assert.equal(c.clock.pending, 1);
    c.close();
    assert.equal(c.clock.pending, 0);
  });

  test('the deadline covers retries and their backoff', async () => {
    const c = fakeClient({
      fallback: { status: 503, latencyMs: 40 },
      policy: { timeoutMs: 100, retry: { maxAttempts: 10, backoffInitialMs: 1, backoffMaxMs: 1 } },
    });
    await assert.rejects(c.run(), (e) => isWeftError(e, ErrorCode.DeadlineExceeded));
    assert.equal(c.clock.now(), 100);
    // Attempts at 0, ~41 and ~82 ms (40 ms each, backoff ≤ 1 ms); the third is cut by the deadline.
    assert.equal(c.server.attempts(), 3);
    assert.equal(c.server.inFlight, 0);
    c.close();
  });

  test('caller cancellation → WEFT_CANCELLED with the reason as cause; an inbound cancellation too', async () => {
    const c = client({ fallback: { hang: true } });
    const ac = new AbortController();
    const call = c.call({ signal: ac.signal });
    await c.clock.advance(10);
    const reason = new Error('user navigated away');
    ac.abort(reason);
    await assert.rejects(call, (e: unknown) => {
      assert.ok(isWeftError(e, ErrorCode.Cancelled));
      assert.equal(e.cause, reason);
      return true;
    });
    assert.equal(c.server.inFlight, 0);
    assert.equal(getEventListeners(ac.signal, 'abort').length, 0, 'listener removed');

    const inbound = new AbortController();
    const call2 = runWithContext(createContext({ signal: inbound.signal }), () => c.call());
    await c.clock.advance(10);
    inbound.abort(new Error('client of the inbound request hung up'));
    await assert.rejects(call2, (e) => isWeftError(e, ErrorCode.Cancelled));
    // A signal aborted before the call starts.
    await assert.rejects(c.run({ signal: AbortSignal.abort(new Error('too late')) }), (e) =>
      isWeftError(e, ErrorCode.Cancelled),
    );
    assert.equal(c.server.attempts(), 2, 'the pre-aborted call was never sent');
    c.close();
  });

  test('the timer runs until the body is done, then is cleared (no leaked timers)', async () => {
    const c = client({ fallback: { latencyMs: 10, bodyMs: 50 } }, { timeoutMs: 1000 });
    const ac = new AbortController();
    const response = await c.run({ signal: ac.signal });
    assert.equal(response.bodyDone, false);
    assert.equal(c.clock.pending, 2, 'the deadline timer and the body');
    assert.equal(getEventListeners(ac.signal, 'abort').length, 1, 'still cancellable while the body streams');
    await c.clock.run(response.consume());
    assert.equal(c.clock.now(), 60);
    assert.equal(c.clock.pending, 0, 'deadline timer cleared once the body is done');
    assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
    c.close();
  });

  test('a body still streaming when the deadline passes is cut with WEFT_DEADLINE_EXCEEDED', async () => {
    const c = client({ fallback: { latencyMs: 10, bodyMs: 500 } }, { timeoutMs: 100 });
    const response = await c.run();
    await assert.rejects(c.clock.run(response.consume()), (e) => isWeftError(e, ErrorCode.DeadlineExceeded));
    assert.equal(c.clock.now(), 100);
    assert.equal(c.clock.pending, 0);
    c.close();
  });

  test('a failed call clears its timer at once', async () => {
    const c = client({ fallback: { latencyMs: 5, status: 500 } }, { timeoutMs: 1000 });
    c.server.setFallback({ latencyMs: 5, error: new Error('boom') });
    await assert.rejects(c.run(), /boom/);
    assert.equal(c.clock.pending, 0);
    c.close();
  });
});
