/**
 * The OpenTelemetry SDK for span assertions (test-only devDependencies): spans into memory and the
 * W3C propagator, registered through the API copy Weft's core uses. Libraries use the API only.
 */
import { createRequire } from 'node:module';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

const api = createRequire(import.meta.resolve('@weft/core'))(
  '@opentelemetry/api',
) as typeof import('@opentelemetry/api');

export const spans = new InMemorySpanExporter();

/** Installs the SDK globally; call before any Weft client or server is made. Returns the uninstaller. */
export function installOtel(): () => Promise<void> {
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  api.trace.setGlobalTracerProvider(tracerProvider);
  api.propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  return async () => {
    await tracerProvider.shutdown();
    api.trace.disable();
    api.propagation.disable();
  };
}
