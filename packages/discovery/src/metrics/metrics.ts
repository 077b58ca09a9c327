/**
 * Resolver and health-check metrics through `@opentelemetry/api` only. Without an SDK the API hands
 * out no-op instruments, so none of this costs anything. Instruments are created once per global
 * meter provider (an SDK registered later gets its own set on the next resolver built).
 */
import type { Attributes, Counter, MeterProvider } from '@opentelemetry/api';
import { metrics } from '@opentelemetry/api';

/** What a resolver exposes to the observable gauges. */
export interface ObservedResolver {
  readonly attributes: Attributes;
  /** Endpoints offered for traffic now (the bound set, or the last good set while failed). */
  usableCount(): number;
  /** True while the resolver has failed and serves its last good set. */
  stale(): boolean;
}

interface Instruments {
  readonly provider: MeterProvider;
  readonly updates: Counter;
  readonly healthResults: Counter;
}

const live = new Set<ObservedResolver>();
let instruments: Instruments | undefined;

function current(): Instruments {
  const provider = metrics.getMeterProvider();
  if (instruments?.provider === provider) return instruments;
  const meter = provider.getMeter('@weft/discovery');
  const endpoints = meter.createObservableGauge('weft.discovery.resolver.endpoints', {
    description: 'Endpoints a resolver offers for traffic (the last good set while failed).',
    unit: '{endpoint}',
  });
  const stale = meter.createObservableGauge('weft.discovery.resolver.stale', {
    description: '1 while a resolver has failed and keeps serving its last good set, else 0.',
  });
  meter.addBatchObservableCallback(
    (result) => {
      for (const r of live) {
        result.observe(endpoints, r.usableCount(), r.attributes);
        result.observe(stale, r.stale() ? 1 : 0, r.attributes);
      }
    },
    [endpoints, stale],
  );
  instruments = {
    provider,
    updates: meter.createCounter('weft.discovery.resolver.updates', {
      description: 'Resolver state changes delivered to subscribers, by the new state.',
      unit: '{update}',
    }),
    healthResults: meter.createCounter('weft.discovery.health_check.results', {
      description: 'Active health check results, by outcome.',
      unit: '{check}',
    }),
  };
  return instruments;
}

/** Starts reporting a resolver's gauges; returns the function that stops it. */
export function observeResolver(resolver: ObservedResolver): () => void {
  current();
  live.add(resolver);
  return () => live.delete(resolver);
}

/** Counts one delivered state change. */
export function recordUpdate(attributes: Attributes, state: string): void {
  current().updates.add(1, { ...attributes, 'weft.resolver.state': state });
}

/** Counts one active health check result. */
export function recordHealthResult(attributes: Attributes, outcome: 'healthy' | 'unhealthy'): void {
  current().healthResults.add(1, { ...attributes, 'weft.health_check.outcome': outcome });
}
