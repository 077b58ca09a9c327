/**
 * `startTelemetry`'s options (refused when unknown or out of range, naming the option), one SDK per
 * process, and a start with no config service at all: the `OTEL_*` environment steers it, measured
 * at a real OTLP receiver.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { trace } from '@opentelemetry/api';
import { ErrorCode, isWeftError } from '@weft/core';
import { type StartTelemetryOptions, startTelemetry } from '@weft/otel';
import { eventually, startReceiver } from './receiver.ts';

const invalid = (pattern: RegExp) => (error: unknown) =>
  isWeftError(error, ErrorCode.InvalidOption) && pattern.test((error as Error).message);

test('unknown and out-of-range options are refused before anything starts, naming the option', () => {
  assert.throws(
    () => startTelemetry({ service: 'orders', sampler: 0.5 } as unknown as StartTelemetryOptions),
    invalid(/sampler/),
  );
  assert.throws(() => startTelemetry({ service: 'Not A Name' }), invalid(/service/));
  assert.throws(
    () => startTelemetry({ service: 'orders', exportTimeoutMs: 5 }),
    invalid(/exportTimeoutMs: must be an integer from 100 to 60000/),
  );
  assert.throws(
    () => startTelemetry({ service: 'orders', spanExportDelayMs: 1.5 }),
    invalid(/spanExportDelayMs/),
  );
  assert.throws(
    () => startTelemetry({ service: 'orders', config: {} as StartTelemetryOptions['config'] }),
    invalid(/config: must be a ConfigClient/),
  );
});

test('with no config service the OTEL_* environment steers it; one SDK per process; shutdown unregisters it', async () => {
  const receiver = await startReceiver();
  const env = {
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_METRIC_EXPORT_INTERVAL: '1000',
  };
  const changes: unknown[] = [];
  const telemetry = startTelemetry({
    service: 'orders',
    env,
    spanExportDelayMs: 20,
    onChange: (settings) => changes.push(settings.traces?.endpoint),
  });
  try {
    assert.throws(() => startTelemetry({ service: 'orders' }), invalid(/already started/));
    assert.equal(telemetry.describe().samplingRatio, 1);
    assert.deepEqual(changes, [`${receiver.url}/v1/traces`], 'onChange hears the settings once at start');
    trace.getTracer('options.test').startSpan('alone').end();
    await eventually(() =>
      assert.deepEqual(
        receiver.spans().map((s) => [s.name, s.resource['service.name']]),
        [['alone', 'orders']],
      ),
    );
  } finally {
    await telemetry.shutdown();
    await receiver.close();
  }
  assert.equal(
    trace.getTracer('after').startSpan('no-op').isRecording(),
    false,
    'the API is back to its no-op',
  );
  // And a new one can start after the first has shut down.
  const again = startTelemetry({ service: 'orders', env: {} });
  assert.deepEqual(again.describe().traces, 'not exported');
  await again.shutdown();
});
