import type {
  Attributes,
  BatchObservableCallback,
  Meter,
  MeterProvider,
  Observable,
} from '@opentelemetry/api';
import { createNoopMeter } from '@opentelemetry/api';
import type { Endpoint, Resolver, ResolverState } from '@weft/core';
import { endpointKey, usableEndpoints } from '@weft/core';

/** Resolves with the first state (current or later) that satisfies `predicate`; rejects after `timeoutMs`. */
export function waitForState(
  resolver: Resolver,
  predicate: (state: ResolverState) => boolean,
  timeoutMs = 5000,
): Promise<ResolverState> {
  return new Promise((resolve, reject) => {
    let unsubscribe: (() => void) | undefined;
    let done = false;
    const timer = setTimeout(() => {
      done = true;
      unsubscribe?.();
      reject(new Error(`timed out after ${timeoutMs} ms; last state: ${describeState(resolver.state)}`));
    }, timeoutMs);
    unsubscribe = resolver.subscribe((state) => {
      if (done || !predicate(state)) return;
      done = true;
      clearTimeout(timer);
      queueMicrotask(() => unsubscribe?.());
      resolve(state);
    });
    if (done) unsubscribe();
  });
}

/** The usable endpoints of a state as sorted `address:port` keys. */
export function keysOf(state: ResolverState): string[] {
  return usableEndpoints(state).map(endpointKey).sort();
}

export function describeState(state: ResolverState): string {
  if (state.kind === 'failed') return `failed(${state.reason.message}; ${keysOf(state).join(',')})`;
  if (state.kind === 'bound') return `bound(${keysOf(state).join(',')})`;
  return state.kind;
}

/** `count` endpoints 10.x.y.z:port with a `zone` label. */
export function manyEndpoints(count: number, port = 8080, offset = 0): Endpoint[] {
  const out: Endpoint[] = [];
  for (let i = offset; i < offset + count; i++) {
    out.push({
      address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      port,
      labels: { zone: `z${i % 3}` },
    });
  }
  return out;
}

/** Waits (in real time) until `condition` holds: for network work started by a virtual timer. */
export async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A meter that records what it is given: the API's no-op meter with the instruments used here replaced. */
export function recordingProvider() {
  const added: { name: string; value: number; attributes: Attributes }[] = [];
  const callbacks: BatchObservableCallback[] = [];
  const meter = Object.create(createNoopMeter()) as Meter;
  Object.assign(meter, {
    createCounter: (name: string) => ({
      add: (value: number, attributes: Attributes = {}) => added.push({ name, value, attributes }),
    }),
    createObservableGauge: (name: string) => ({ name, addCallback() {}, removeCallback() {} }),
    addBatchObservableCallback: (cb: BatchObservableCallback) => callbacks.push(cb),
  });
  const provider: MeterProvider = { getMeter: () => meter };
  const collect = async () => {
    const observed: { name: string; value: number; attributes: Attributes }[] = [];
    for (const cb of callbacks) {
      await cb({
        observe: (o: Observable, value: number, attributes: Attributes = {}) =>
          observed.push({ name: (o as unknown as { name: string }).name, value, attributes }),
      });
    }
    return observed;
  };
  return { provider, added, collect };
}
