import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, test } from 'node:test';
import { trace } from '@opentelemetry/api';
import {
  createContext,
  defaultClientStack,
  ErrorCode,
  isWeftError,
  runWithContext,
  WeftError,
} from '@weft/core';
import type { DestinationPolicy } from '@weft/core/config';
import { type FakeClientOptions, fakeClient } from '@weft/core/testing';

const E1 = '10.0.0.1:8080';

function client(options: FakeClientOptions = {}, policy: DestinationPolicy = {}) {
  return fakeClient({
    ...options,
    policy: {
      balancer: { kind: 'round-robin' },
      outlierDetection: { enabled: false },
      ...policy,
      retry: { backoffInitialMs: 1, backoffMaxMs: 1, ...policy.retry },
    },
  });
}

describe('attempt filter', () => {
  test('per-try timeout → WEFT_ATTEMPT_TIMEOUT, retried on an idempotent call', async () => {
    const c = client(
      { scripts: { [E1]: { hang: true } }, fallback: { latencyMs: 20 } },
      { perTryTimeoutMs: 100 },
    );
    const response = await c.run();
    assert.equal(response.status, 200);
    assert.equal(response.attempt, 2);
    const second = c.server.log[1]!.at;
    assert.ok(
      second >= 100 && second <= 101,
      `the second attempt started when the first timed out: ${second}`,
    );
    assert.ok(c.clock.now() >= 120 && c.clock.now() <= 122);
    assert.equal(c.server.inFlight, 0, 'the timed-out attempt was aborted');
    assert.equal(c.clock.pending, 0);
    c.close();
  });

  test('per-try timeout on a non-idempotent call: the error, retryable flag set, not retried', async () => {
    const c = client({ fallback: { hang: true } }, { perTryTimeoutMs: 100 });
    await assert.rejects(c.run({ method: 'POST' }), (e: unknown) => {
      assert.ok(isWeftError(e, ErrorCode.AttemptTimeout));
      assert.equal(e.retryable, true);
      assert.match(e.message, /attempt 1 to fake timed out after 100 ms/);
      return true;
    });
    assert.equal(c.server.attempts(), 1);
    assert.equal(c.clock.now(), 100);
    c.close();
  });

  test('the per-try timeout bounds the head, not the body', async () => {
    const c = client({ fallback: { latencyMs: 50, bodyMs: 500 } }, { perTryTimeoutMs: 100 });
    const response = await c.run();
    await c.clock.run(response.consume());
    assert.equal(c.clock.now(), 550);
    assert.equal(c.server.attempts(), 1);
    c.close();
  });

  test('a per-try timeout longer than the deadline is not armed: the deadline wins', async () => {
    const c = client({ fallback: { hang: true } }, { perTryTimeoutMs: 500, timeoutMs: 200 });
    await assert.rejects(c.run(), (e) => isWeftError(e, ErrorCode.DeadlineExceeded));
    assert.equal(c.clock.now(), 200);
    c.close();
  });

  test('weft-deadline-ms carries the remaining budget on every attempt', async () => {
    const c = client(
      { scripts: { [E1]: { status: 503, latencyMs: 300 } }, fallback: { latencyMs: 10 } },
      { timeoutMs: 1000 },
    );
    await c.clock.advance(5000);
    await c.run();
    const [first, second] = c.server.log;
    assert.equal(first!.headers['weft-deadline-ms'], '1000');
    const remaining = 6000 - second!.at;
    assert.ok(remaining <= 700);
    assert.equal(second!.headers['weft-deadline-ms'], String(Math.floor(remaining)));
    c.close();
  });

  test('without an OpenTelemetry SDK the inbound traceparent, tracestate-free, and baggage pass through', async () => {
    assert.equal(trace.getTracerProvider().getTracer('x').startSpan('y').isRecording(), false, 'no SDK here');
    const c = client();
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const ctx = createContext({ traceparent, baggage: 'tenant=acme' });
    await runWithContext(ctx, () => c.run({ headers: { 'x-user': '1' } }));
    const headers = c.server.log[0]!.headers;
    assert.equal(headers.traceparent, traceparent);
    assert.equal(headers.baggage, 'tenant=acme');
    assert.equal(headers['x-user'], '1');
    // Outside any inbound request nothing is invented.
    await c.run();
    assert.equal(c.server.log[1]!.headers.traceparent, undefined);
    assert.equal(c.server.log[1]!.headers.baggage, undefined);
    c.close();
  });

  test('an error from below keeps its identity', async () => {
    const boom = new WeftError(ErrorCode.RequestFailed, 'reset after write');
    const c = client({ fallback: { error: boom } }, { retry: { enabled: false } });
    await assert.rejects(c.run(), (e) => e === boom);
    c.close();
  });

  test('perTryTimeoutMs is validated', () => {
    assert.throws(() => client({}, { perTryTimeoutMs: -5 }), /invalid option perTryTimeoutMs/);
  });
});

describe('attempt filter and long-lived signals', () => {
  test('a per-try timeout leaves no listener on the call signal once each body is done', async () => {
    // Without the deadline module the caller's own signal reaches the attempt filter unchanged.
    const c = client(
      { stack: defaultClientStack().remove('deadline') as never, fallback: { latencyMs: 5 } },
      {
        perTryTimeoutMs: 100,
      },
    );
    const ac = new AbortController();
    for (let i = 0; i < 5; i++) {
      const response = await c.run({ signal: ac.signal });
      await c.clock.run(response.consume());
    }
    assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
    c.close();
  });
});
