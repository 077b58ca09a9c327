// Runs in its own process (node:test isolates files), so registering a global tracer provider here
// does not leak into the other tests.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { createContext, formatTraceparent, runWithContext } from '@weft/core';
import { fakeClient } from '@weft/core/testing';
import { RecordingTracerProvider } from './support/recording-tracer.ts';

const provider = new RecordingTracerProvider();
assert.equal(trace.setGlobalTracerProvider(provider), true);
after(() => trace.disable());

describe('attempt spans with a tracer provider registered', () => {
  test('each attempt is a CLIENT span under the logical span, and its traceparent is injected', async () => {
    provider.spans.length = 0;
    const c = fakeClient({
      scripts: { '10.0.0.1:8080': { status: 503 } },
      policy: { balancer: { kind: 'round-robin' }, retry: { backoffInitialMs: 1, backoffMaxMs: 1 } },
    });
    const response = await c.run();
    assert.equal(response.status, 200);
    const logical = provider.spans.find((s) => s.kind === SpanKind.INTERNAL)!;
    const attempts = provider.spans.filter((s) => s.kind === SpanKind.CLIENT);
    assert.equal(logical.name, 'weft fake');
    assert.equal(logical.attributes['weft.attempts'], 2);
    assert.equal(attempts.length, 2);
    for (const [i, span] of attempts.entries()) {
      assert.equal(span.name, 'GET');
      assert.equal(span.parentSpanId, logical.context.spanId, 'child of the logical span');
      assert.equal(span.context.traceId, logical.context.traceId);
      assert.equal(
        c.server.log[i]!.headers.traceparent,
        formatTraceparent(span.context),
        `attempt ${i + 1}: its own span id`,
      );
      assert.equal(span.attributes['server.address'], 'fake');
      assert.equal(span.attributes['network.peer.address'], c.server.log[i]!.endpoint);
    }
    assert.equal(attempts[0]!.attributes['http.response.status_code'], 503);
    assert.equal(attempts[0]!.status.code, SpanStatusCode.ERROR);
    assert.equal(attempts[1]!.attributes['http.request.resend_count'], 1);
    assert.equal(attempts[0]!.attributes['http.request.resend_count'], undefined);
    assert.match(c.server.log[0]!.headers.traceparent!, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    c.close();
  });

  test('inside a handled request the spans join the inbound trace', async () => {
    provider.spans.length = 0;
    const inbound = provider.getTracer().startSpan('GET /orders', { kind: SpanKind.SERVER });
    const otel = trace.setSpan(ROOT_CONTEXT, inbound);
    const c = fakeClient();
    await runWithContext(createContext({ otel }), () => c.run());
    const logical = provider.spans.find((s) => s.kind === SpanKind.INTERNAL)!;
    const attempt = provider.spans.find((s) => s.kind === SpanKind.CLIENT)!;
    assert.equal(logical.parentSpanId, inbound.spanContext().spanId);
    assert.equal(attempt.context.traceId, inbound.spanContext().traceId);
    assert.equal(c.server.log[0]!.headers.traceparent, formatTraceparent(attempt.context));
    c.close();
  });

  test('a failed attempt records the exception and the error type', async () => {
    provider.spans.length = 0;
    const boom = new Error('socket closed');
    const c = fakeClient({ fallback: { error: boom }, policy: { retry: { enabled: false } } });
    await assert.rejects(c.run({ method: 'POST' }), /socket closed/);
    const attempt = provider.spans.find((s) => s.kind === SpanKind.CLIENT)!;
    assert.deepEqual(attempt.exceptions, [boom]);
    assert.equal(attempt.status.code, SpanStatusCode.ERROR);
    assert.equal(attempt.status.message, 'socket closed');
    c.close();
  });
});

test('the logical span reports the final outcome of the call', async () => {
  provider.spans.length = 0;
  const c = fakeClient({ fallback: { status: 500 }, policy: { retry: { enabled: false } } });
  assert.equal((await c.run()).status, 500);
  await assert.rejects(c.run({ signal: AbortSignal.abort(new Error('gone')) }), /cancelled/);
  const logical = provider.spans.filter((s) => s.kind === SpanKind.INTERNAL);
  assert.equal(logical.length, 2);
  assert.equal(logical[0]!.status.code, SpanStatusCode.ERROR, 'a failed response');
  assert.equal(logical[1]!.status.code, SpanStatusCode.ERROR, 'a thrown error');
  assert.match(String(logical[1]!.status.message), /call to fake was cancelled/);
  c.close();
});
