/**
 * Metric instruments, created once per client through `@opentelemetry/api` (no SDK in libraries:
 * with none installed every instrument is the API's no-op). Names follow the OpenTelemetry semantic
 * conventions where one exists (`http.client.request.duration`, `rpc.client.duration`); Weft's own
 * are under `weft.`.
 */
import { type Counter, type Histogram, metrics, type Tracer, trace } from '@opentelemetry/api';

export const INSTRUMENTATION_NAME = '@weft/core';
export const INSTRUMENTATION_VERSION = '0.1.0';

export interface Instruments {
  readonly tracer: Tracer;
  /** One record per attempt (a physical request), in seconds. */
  readonly attemptDuration: Histogram;
  /** One per logical call, with its outcome. */
  readonly calls: Counter;
  readonly retries: Counter;
  readonly budgetExhausted: Counter;
  readonly ejections: Counter;
  readonly breakerTransitions: Counter;
}

/** Histogram buckets in seconds recommended by the semantic conventions for request durations. */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

export function createInstruments(protocol: 'http' | 'rpc'): Instruments {
  const meter = metrics.getMeter(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION);
  const tracer = trace.getTracer(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION);
  return {
    tracer,
    attemptDuration: meter.createHistogram(
      protocol === 'http' ? 'http.client.request.duration' : 'rpc.client.duration',
      {
        unit: 's',
        description: 'Duration of client requests (one per attempt).',
        advice: { explicitBucketBoundaries: DURATION_BUCKETS },
      },
    ),
    calls: meter.createCounter('weft.client.calls', {
      description: 'Logical client calls by destination and outcome.',
    }),
    retries: meter.createCounter('weft.client.retries', { description: 'Retries sent.' }),
    budgetExhausted: meter.createCounter('weft.client.retry_budget.exhausted', {
      description: 'Retries not sent because the retry budget was spent.',
    }),
    ejections: meter.createCounter('weft.endpoint.ejections', {
      description: 'Endpoints ejected by outlier detection.',
    }),
    breakerTransitions: meter.createCounter('weft.circuit_breaker.transitions', {
      description: 'Circuit breaker state changes, by new state.',
    }),
  };
}
