/**
 * Server-side telemetry instruments, made through `@opentelemetry/api` only (no-ops without an SDK).
 * The duration histogram's name is the binding's (`http.server.request.duration`,
 * `rpc.server.duration`: the semantic conventions); Weft's own admission metrics are under `weft.server.`.
 */
import {
  type Counter,
  type Histogram,
  metrics,
  type ObservableGauge,
  type Tracer,
  trace,
  type UpDownCounter,
} from '@opentelemetry/api';
import { DURATION_BUCKETS, INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION } from '../telemetry/instruments.ts';

export interface ServerInstruments {
  readonly tracer: Tracer;
  /** One record per request handled (admitted or not), in seconds. */
  readonly duration: Histogram;
  /** Requests refused before the handler ran, by `weft.reason` (concurrency, rate, draining, deadline). */
  readonly rejected: Counter;
  /** Inbound values ignored because malformed, by `header`. */
  readonly malformed: Counter;
  /** Requests denied by an `AuthorizationPolicy`, by `weft.authz.policy` and `weft.authz.reason`. */
  readonly authzDenied: Counter;
  /** Requests being handled now. */
  readonly inflight: UpDownCounter;
  /** The current concurrency limit (observed). */
  readonly limit: ObservableGauge;
}

/** The protocol's semantic-convention names, from its server binding. */
export interface ServerInstrumentNames {
  /** The duration histogram: `http.server.request.duration`, `rpc.server.duration`. */
  readonly durationMetric: string;
}

export function createServerInstruments(names: ServerInstrumentNames): ServerInstruments {
  const meter = metrics.getMeter(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION);
  return {
    tracer: trace.getTracer(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION),
    duration: meter.createHistogram(names.durationMetric, {
      unit: 's',
      description: 'Duration of inbound requests.',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    }),
    rejected: meter.createCounter('weft.server.rejected', {
      description: 'Requests refused before the handler ran, by reason.',
    }),
    malformed: meter.createCounter('weft.server.malformed_headers', {
      description: 'Inbound deadline/trace/baggage values ignored because malformed, by header.',
    }),
    authzDenied: meter.createCounter('weft.server.authz.denied', {
      description: 'Requests denied by an AuthorizationPolicy before the handler ran, by policy and reason.',
    }),
    inflight: meter.createUpDownCounter('weft.server.inflight', {
      description: 'Requests being handled.',
    }),
    limit: meter.createObservableGauge('weft.server.concurrency_limit', {
      description: 'The current concurrency limit of the server.',
    }),
  };
}
