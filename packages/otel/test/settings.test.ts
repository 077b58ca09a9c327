/**
 * The precedence of the settings, without an SDK: the service's document over the mesh's, over the
 * `OTEL_*` environment, over the defaults, field by field; secrets from the environment.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TELEMETRY_DEFAULTS, TelemetrySpec } from '@weft/core/config';
import { resolveTelemetry } from '@weft/otel';

const spec = (s: unknown) => TelemetrySpec.parse(s);

describe('resolveTelemetry', () => {
  test('nothing set: nothing exported, the documented defaults', () => {
    assert.deepEqual(resolveTelemetry('orders', undefined, undefined, {}), {
      traces: undefined,
      metrics: undefined,
      samplingRatio: TELEMETRY_DEFAULTS.samplingRatio,
      exportIntervalMs: TELEMETRY_DEFAULTS.exportIntervalMs,
      resourceAttributes: {},
      problems: [],
    });
    assert.deepEqual(TELEMETRY_DEFAULTS, {
      protocol: 'http/protobuf',
      exportIntervalMs: 60_000,
      samplingRatio: 1,
    });
  });

  test('with no document, the standard OTEL_* variables are followed', () => {
    const s = resolveTelemetry('orders', undefined, undefined, {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://metrics:4318/custom',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_METRIC_EXPORT_INTERVAL: '5000',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.1',
    });
    assert.deepEqual(s.traces, {
      endpoint: 'http://collector:4318/v1/traces',
      protocol: 'http/json',
      headers: {},
      source: 'environment',
    });
    assert.equal(s.metrics?.endpoint, 'http://metrics:4318/custom');
    assert.equal(s.exportIntervalMs, 5000);
    assert.equal(s.samplingRatio, 0.1);
    assert.equal(
      resolveTelemetry('orders', undefined, undefined, { OTEL_TRACES_SAMPLER: 'always_off' }).samplingRatio,
      0,
    );
  });

  test('bad OTEL_* values are reported and the default used', () => {
    const s = resolveTelemetry('orders', undefined, undefined, {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_METRIC_EXPORT_INTERVAL: 'soon',
      OTEL_TRACES_SAMPLER: 'jaeger_remote',
    });
    assert.equal(s.traces?.protocol, 'http/protobuf');
    assert.equal(s.exportIntervalMs, 60_000);
    assert.equal(s.samplingRatio, 1);
    assert.deepEqual(
      s.problems.map((p) => p.split(':')[0]),
      [
        'OTEL_EXPORTER_OTLP_PROTOCOL=grpc',
        'OTEL_TRACES_SAMPLER=jaeger_remote',
        'OTEL_METRIC_EXPORT_INTERVAL=soon',
      ],
      'each once, though the protocol concerns both signals',
    );
  });

  test('the service’s document overrides the mesh’s per field, and both override the environment', () => {
    const mesh = spec({
      traces: {
        endpoint: 'http://mesh/v1/traces',
        protocol: 'http/json',
        headers: { 'x-a': '1', 'x-b': '2' },
        samplingRatio: 0.2,
      },
      metrics: { endpoint: 'http://mesh/v1/metrics', exportIntervalMs: 10_000 },
      resourceAttributes: { env: 'prod', region: 'eu' },
    });
    const own = spec({
      traces: { headers: { 'x-c': '3' } },
      metrics: { exportIntervalMs: 2000 },
      resourceAttributes: { region: 'us', team: 'orders' },
    });
    const s = resolveTelemetry('orders', mesh, own, {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://env:4318',
      OTEL_TRACES_SAMPLER: 'always_off',
    });
    assert.deepEqual(s.traces, {
      endpoint: 'http://mesh/v1/traces',
      protocol: 'http/json',
      headers: { 'x-c': '3' }, // replaced whole: a set of credentials is not mixed
      source: 'Telemetry/mesh',
    });
    assert.equal(s.metrics?.protocol, 'http/protobuf');
    assert.equal(s.exportIntervalMs, 2000);
    assert.equal(s.samplingRatio, 0.2);
    assert.deepEqual(s.resourceAttributes, { env: 'prod', region: 'us', team: 'orders' });
    assert.equal(
      resolveTelemetry('orders', mesh, spec({ traces: { endpoint: 'http://own/t' } }), {}).traces?.source,
      'Telemetry/orders',
    );
  });

  test('enabled: false stops a signal even when the environment names an endpoint', () => {
    const own = spec({ metrics: { enabled: false } });
    const s = resolveTelemetry('orders', undefined, own, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://env:4318' });
    assert.equal(s.metrics, undefined);
    assert.equal(s.traces?.endpoint, 'http://env:4318/v1/traces');
    // The service may turn back on what the mesh turned off.
    const on = resolveTelemetry(
      'orders',
      spec({ traces: { enabled: false, endpoint: 'http://m/t' } }),
      spec({ traces: { enabled: true } }),
      {},
    );
    assert.equal(on.traces?.endpoint, 'http://m/t');
  });

  test('fromEnv headers are read from the process; a missing variable is reported and the header left out', () => {
    const mesh = spec({
      traces: {
        endpoint: 'http://c/v1/traces',
        headers: { authorization: { fromEnv: 'WEFT_OTLP_AUTH' }, 'x-key': { fromEnv: 'WEFT_OTLP_MISSING' } },
      },
    });
    const s = resolveTelemetry('orders', mesh, undefined, { WEFT_OTLP_AUTH: 'Bearer s3cret' });
    assert.deepEqual(s.traces?.headers, { authorization: 'Bearer s3cret' });
    assert.deepEqual(s.problems, [
      'Telemetry/mesh: spec.traces.headers.x-key: WEFT_OTLP_MISSING is not set in this process; header not sent',
    ]);
  });
});
