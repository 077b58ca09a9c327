/**
 * Metric instruments, created once per client through `@opentelemetry/api` (no SDK in libraries:
 * with none installed every instrument is the API's no-op). The per-attempt duration is named by the
 * protocol binding after its semantic conventions (`http.client.request.duration`,
 * `rpc.client.duration`); Weft's own instruments are under `weft.`.
 */
import {
  type Counter,
  createNoopMeter,
  type Histogram,
  metrics,
  ProxyTracerProvider,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { DurationInstrument } from '../protocol/binding.ts';

export const INSTRUMENTATION_NAME = '@weft/core';
export const INSTRUMENTATION_VERSION = '0.1.0';

export interface Instruments {
  readonly tracer: Tracer;
  /**
   * False while no tracer provider is registered: spans would all be no-ops, so the filters skip
   * them (and the context copies they need) and only pass an inbound `traceparent` through.
   * Checked per call, because an application may register its SDK after creating clients.
   */
  tracingEnabled(): boolean;
  /**
   * False when the meter is the API's no-op (no meter provider was registered before these
   * instruments were made; the metrics API has no late binding): recording is skipped, attribute
   * objects are never built.
   */
  readonly metricsEnabled: boolean;
  /** One record per attempt (a physical request), in the unit the binding named. */
  readonly attemptDuration: Histogram;
  /** Milliseconds per unit of {@link Instruments.attemptDuration} (1000 for `s`, 1 for `ms`). */
  readonly attemptDurationUnitMs: number;
  /** One per logical call, with its outcome. */
  readonly calls: Counter;
  readonly retries: Counter;
  readonly budgetExhausted: Counter;
  readonly ejections: Counter;
  readonly breakerTransitions: Counter;
  /** Mirrored copies by outcome (`sent`, `dropped-limit`, `dropped-body`, `failed`). */
  readonly mirrors: Counter;
  /** Injected faults by kind (`delay`, `abort`). */
  readonly faults: Counter;
  /** Calls the client failed before sending, by `weft.reason` (`stopped`: the kill switch). */
  readonly refused: Counter;
}

/** Histogram buckets in seconds recommended by the semantic conventions for request durations. */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/** The API's no-op tracer provider: what an unconfigured proxy provider delegates to. */
const NOOP_TRACER_PROVIDER = new ProxyTracerProvider().getDelegate();
const NOOP_METER_CLASS = createNoopMeter().constructor;

/** True when an application registered a tracer provider with the OpenTelemetry API. */
export function tracingEnabled(): boolean {
  const provider = trace.getTracerProvider();
  return !(provider instanceof ProxyTracerProvider) || provider.getDelegate() !== NOOP_TRACER_PROVIDER;
}

/** {@link DURATION_BUCKETS} in ms, for instruments whose conventions count ms. */
const DURATION_BUCKETS_MS = DURATION_BUCKETS.map((s) => Math.round(s * 1000));

/** The instruments of one client destination; `attemptDuration` is the binding's histogram. */
export function createInstruments(attemptDuration: DurationInstrument): Instruments {
  const meter = metrics.getMeter(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION);
  const tracer = trace.getTracer(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION);
  const seconds = attemptDuration.unit === 's';
  return {
    tracer,
    tracingEnabled,
    metricsEnabled: meter.constructor !== NOOP_METER_CLASS,
    attemptDuration: meter.createHistogram(attemptDuration.name, {
      unit: attemptDuration.unit,
      description: attemptDuration.description ?? 'Duration of client requests (one per attempt).',
      advice: { explicitBucketBoundaries: seconds ? DURATION_BUCKETS : DURATION_BUCKETS_MS },
    }),
    attemptDurationUnitMs: seconds ? 1000 : 1,
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
    mirrors: meter.createCounter('weft.client.mirrors', {
      description:
        'Mirrored copies of calls (shadow traffic), by outcome: sent, dropped-limit, dropped-body, failed.',
    }),
    faults: meter.createCounter('weft.client.faults', {
      description: 'Faults injected by route rules, by kind: delay, abort.',
    }),
    refused: meter.createCounter('weft.client.refused', {
      description: 'Calls failed before sending, by reason (stopped: the kill switch is on).',
    }),
  };
}
