/**
 * OpenTelemetry SDK for the chain tests (test-only devDependencies): spans into memory, the W3C
 * propagator, and a metric reader collected on demand. Libraries use `@opentelemetry/api` only.
 */
import { createRequire } from 'node:module';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

// The SDK's peer range stops below @opentelemetry/api 1.10, so npm gives this package its own older
// copy of the API. The API only accepts a global registered by a copy at least as new as itself, so
// register through the copy Weft's core uses (a provider registered by the older copy would be
// ignored by core as incompatible).
const api = createRequire(import.meta.resolve('@weft/core'))(
  '@opentelemetry/api',
) as typeof import('@opentelemetry/api');
const { metrics, propagation, trace } = api;

class OnDemandReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

export const spans = new InMemorySpanExporter();
export const metricReader = new OnDemandReader();

/** Installs the SDK globally; call before any Weft client or server is made. */
export function installOtel(): () => Promise<void> {
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  const meterProvider = new MeterProvider({ readers: [metricReader] });
  trace.setGlobalTracerProvider(tracerProvider);
  metrics.setGlobalMeterProvider(meterProvider);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  return async () => {
    await tracerProvider.shutdown();
    await meterProvider.shutdown();
  };
}

/** Data points of one metric, by name, after a collection. */
export async function points(
  name: string,
): Promise<{ attributes: Record<string, unknown>; value: unknown }[]> {
  const { resourceMetrics } = await metricReader.collect();
  const out: { attributes: Record<string, unknown>; value: unknown }[] = [];
  for (const scope of resourceMetrics.scopeMetrics)
    for (const m of scope.metrics)
      if (m.descriptor.name === name)
        for (const p of m.dataPoints) out.push({ attributes: p.attributes, value: p.value });
  return out;
}
