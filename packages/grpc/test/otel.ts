/**
 * The OpenTelemetry SDK for span and metric assertions (test-only devDependencies): spans into
 * memory, metrics collected on demand, the W3C propagator, registered through the API copy Weft's
 * core uses. Libraries use the API only.
 */
import { createRequire } from 'node:module';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

const api = createRequire(import.meta.resolve('@weft/core'))(
  '@opentelemetry/api',
) as typeof import('@opentelemetry/api');

export const spans = new InMemorySpanExporter();

class OnDemandReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

export const metricReader = new OnDemandReader();

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

/** Installs the SDK globally; call before any Weft client or server is made. Returns the uninstaller. */
export function installOtel(): () => Promise<void> {
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  const meterProvider = new MeterProvider({ readers: [metricReader] });
  api.trace.setGlobalTracerProvider(tracerProvider);
  api.metrics.setGlobalMeterProvider(meterProvider);
  api.propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  return async () => {
    await tracerProvider.shutdown();
    await meterProvider.shutdown();
    api.trace.disable();
    api.metrics.disable();
    api.propagation.disable();
  };
}
