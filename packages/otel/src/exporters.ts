/**
 * The OTLP/HTTP exporters of one signal's settings: protobuf (the OTLP default) or JSON. When the
 * endpoint came from the environment the exporter also reads the standard `OTEL_EXPORTER_OTLP_*`
 * headers, timeout and TLS variables itself, as it would without Weft.
 */
import { OTLPMetricExporter as JsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { PushMetricExporter } from '@opentelemetry/sdk-metrics';
import type { SpanExporter } from '@opentelemetry/sdk-trace';
import type { SignalExport } from './settings.ts';

const config = (s: SignalExport, timeoutMs: number) => ({
  url: s.endpoint,
  headers: { ...s.headers },
  timeoutMillis: timeoutMs,
});

export function spanExporter(s: SignalExport, timeoutMs: number): SpanExporter {
  return s.protocol === 'http/json'
    ? new JsonTraceExporter(config(s, timeoutMs))
    : new ProtoTraceExporter(config(s, timeoutMs));
}

export function metricExporter(s: SignalExport, timeoutMs: number): PushMetricExporter {
  return s.protocol === 'http/json'
    ? new JsonMetricExporter(config(s, timeoutMs))
    : new ProtoMetricExporter(config(s, timeoutMs));
}

/** The part of a signal's settings that needs a new exporter when it changes. */
export const exporterKey = (s: SignalExport | undefined): string =>
  s === undefined ? '' : JSON.stringify([s.endpoint, s.protocol, s.headers]);
