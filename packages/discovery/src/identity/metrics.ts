/**
 * Identity metrics through `@opentelemetry/api` only (no-op without an SDK): requests (the first, renewals) by outcome,
 * and the seconds left until the current certificate expires, an observable gauge read at export.
 */
import type { Attributes, Counter, MeterProvider } from '@opentelemetry/api';
import { metrics } from '@opentelemetry/api';

/** What an identity exposes to the gauge. */
export interface ObservedIdentity {
  readonly attributes: Attributes;
  /** Seconds until the current certificate expires (negative once expired), or undefined before one. */
  secondsToExpiry(): number | undefined;
}

interface Instruments {
  readonly provider: MeterProvider;
  readonly requests: Counter;
}

const live = new Set<ObservedIdentity>();
let instruments: Instruments | undefined;

function current(): Instruments {
  const provider = metrics.getMeterProvider();
  if (instruments?.provider === provider) return instruments;
  const meter = provider.getMeter('@weft/discovery');
  const expiry = meter.createObservableGauge('weft.identity.certificate.time_to_expiry', {
    description: "Seconds until the process's current certificate expires (negative once it has).",
    unit: 's',
  });
  meter.addBatchObservableCallback(
    (result) => {
      for (const identity of live) {
        const seconds = identity.secondsToExpiry();
        if (seconds !== undefined) result.observe(expiry, seconds, identity.attributes);
      }
    },
    [expiry],
  );
  instruments = {
    provider,
    requests: meter.createCounter('weft.identity.certificate.requests', {
      description: 'Certificate requests, by kind (first, renewal) and outcome (success, failure).',
      unit: '{request}',
    }),
  };
  return instruments;
}

/** Starts reporting an identity's gauge; returns the function that stops it. */
export function observeIdentity(identity: ObservedIdentity): () => void {
  current();
  live.add(identity);
  return () => live.delete(identity);
}

/** Counts one certificate request. */
export function recordRequest(
  attributes: Attributes,
  kind: 'first' | 'renewal',
  outcome: 'success' | 'failure',
): void {
  current().requests.add(1, {
    ...attributes,
    'weft.identity.request': kind,
    'weft.identity.outcome': outcome,
  });
}
