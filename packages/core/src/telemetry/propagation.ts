/** W3C Trace Context helpers for when no OpenTelemetry propagator is registered. */
import type { SpanContext, TextMapSetter } from '@opentelemetry/api';

/** `traceparent` for a span context (W3C Trace Context, version 00). */
export function formatTraceparent(sc: SpanContext): string {
  return `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/** Sets propagation fields on a plain header object. */
export const headerSetter: TextMapSetter<Record<string, string>> = {
  set(carrier, key, value) {
    carrier[key] = value;
  },
};
