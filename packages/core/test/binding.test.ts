// Runs in its own process (node:test isolates files), so registering a global tracer and meter
// provider here does not leak into the other tests. They must be registered before any client is
// made: the metrics API has no late binding.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { metrics, SpanKind, trace } from '@opentelemetry/api';
import { Call, createDestination, nativeDeadline, type ProtocolSemconv } from '@weft/core';
import { fakeBinding, fakeClient, scriptedService, seededRandom, VirtualClock } from '@weft/core/testing';
import { RecordingMeterProvider } from './support/recording-meter.ts';
import { RecordingTracerProvider } from './support/recording-tracer.ts';

const tracer = new RecordingTracerProvider();
const meter = new RecordingMeterProvider();
assert.equal(trace.setGlobalTracerProvider(tracer), true);
assert.equal(metrics.setGlobalMeterProvider(meter), true);
after(() => {
  trace.disable();
  metrics.disable();
});

const E1 = '10.0.0.1:8080';
const roundRobin = {
  balancer: { kind: 'round-robin' as const },
  retry: { backoffInitialMs: 1, backoffMaxMs: 1 },
};

describe('a protocol binding', () => {
  test('its semantic-convention names are those of the attempt spans and metrics', async () => {
    tracer.spans.length = 0;
    const semconv: ProtocolSemconv = {
      spanName: (call) => `fake ${call.path}`,
      methodKey: 'fake.method',
      statusKey: 'fake.status',
      resendCountKey: 'fake.resends',
      attemptDuration: { name: 'fake.client.attempt.duration', unit: 'ms' },
    };
    const c = fakeClient({
      semconv,
      scripts: { [E1]: { status: 503, latencyMs: 7 } },
      fallback: { latencyMs: 3 },
      policy: roundRobin,
    });
    assert.equal((await c.run({ path: '/orders' })).status, 200);
    const attempts = tracer.spans.filter((s) => s.kind === SpanKind.CLIENT);
    assert.deepEqual(
      attempts.map((s) => s.name),
      ['fake /orders', 'fake /orders'],
    );
    assert.deepEqual(
      attempts.map((s) => [
        s.attributes['fake.method'],
        s.attributes['fake.status'],
        s.attributes['fake.resends'],
      ]),
      [
        ['GET', 503, undefined],
        ['GET', 200, 1],
      ],
    );
    for (const span of attempts)
      assert.deepEqual(
        Object.keys(span.attributes).filter((k) => k.startsWith('http.')),
        [],
        'no HTTP names on a binding that has its own',
      );

    const options = meter.instruments.get('fake.client.attempt.duration');
    assert.equal(options?.unit, 'ms');
    assert.equal(options?.advice?.explicitBucketBoundaries?.[0], 5, 'buckets in ms');
    const points = meter.of('fake.client.attempt.duration');
    assert.deepEqual(
      points.map((p) => [p.value, p.attributes['fake.status'], p.attributes['fake.method']]),
      [
        [7, 503, 'GET'],
        [3, 200, 'GET'],
      ],
      'durations in the binding’s unit, on the virtual clock',
    );
    c.close();
  });

  test('the default fake binding has HTTP’s names, in seconds', async () => {
    tracer.spans.length = 0;
    const c = fakeClient({ fallback: { latencyMs: 7 } });
    await c.run();
    assert.equal(meter.instruments.get('http.client.request.duration')?.unit, 's');
    assert.deepEqual(
      meter
        .of('http.client.request.duration')
        .map((p) => [p.value, p.attributes['http.response.status_code']]),
      [[0.007, 200]],
    );
    const attempt = tracer.spans.find((s) => s.kind === SpanKind.CLIENT)!;
    assert.equal(attempt.name, 'GET');
    assert.equal(attempt.attributes['http.request.method'], 'GET');
    assert.equal(c.describe().client.kind, 'fakeClient');
    assert.equal(c.describe().client.protocol, 'fake');
    c.close();
  });

  test('writes the deadline its own way; trace context and Weft’s markers go in call.headers', async () => {
    const clock = new VirtualClock();
    const server = scriptedService({ clock, scripts: { [E1]: [{ status: 503 }, { status: 200 }] } });
    const base = fakeBinding(server.service);
    const common = { timeoutMs: 500, clock, random: seededRandom(1), retry: roundRobin.retry };
    const native = createDestination(
      { ...base, writeDeadline: nativeDeadline },
      'native',
      { ...common, endpoints: ['10.0.0.2:8080'] },
      { kind: 'test' },
    );
    const own = createDestination(
      {
        ...base,
        writeDeadline: (call, ms) => {
          call.headers['x-budget'] = `${ms}ms`;
        },
      },
      'own',
      { ...common, endpoints: [E1] },
      { kind: 'test' },
    );
    await clock.run(native.call(new Call('native', 'GET', '/', {})));
    await clock.run(own.call(new Call('own', 'GET', '/', {})));
    const [sentNative, first, retry] = server.log;
    assert.equal(sentNative!.headers['weft-deadline-ms'], undefined, 'a native deadline: no header');
    assert.match(sentNative!.headers.traceparent ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    assert.equal(first!.headers['x-budget'], '500ms');
    assert.equal(first!.headers['weft-deadline-ms'], undefined);
    assert.equal(retry!.headers['weft-attempt'], '2');
    assert.match(retry!.headers['x-budget'] ?? '', /^\d+ms$/);
    native.close();
    own.close();
  });
});
