/**
 * The state machine every discovery resolver is built on: pending → bound(endpoints) |
 * failed(reason, last good set) | negative, with change detection by {@link endpointKey}.
 *
 * An update is diffed against the current set in one pass over a `Map` keyed by `address:port`
 * (linear in the set size, never pairwise), endpoints that did not change keep their object
 * identity (so a balancer's per-endpoint state keyed by object or key survives), and an update that
 * changes nothing notifies nobody.
 */
import type { Attributes } from '@opentelemetry/api';
import type { Endpoint, Resolver, ResolverListener, ResolverState } from '@weft/core';
import { endpointKey, usableEndpoints } from '@weft/core';
import { observeResolver, recordUpdate } from '../metrics/metrics.ts';
import { sameEndpoint } from './same.ts';

const PENDING: ResolverState = Object.freeze({ kind: 'pending' });
const NEGATIVE: ResolverState = Object.freeze({ kind: 'negative' });

/** Counters a test or an admin page can read. */
export interface SourceStats {
  /** State changes delivered to subscribers. */
  readonly notifications: number;
  /** Updates offered (bind/fail/negative calls), including the ones that changed nothing. */
  readonly updates: number;
}

export class EndpointSource implements Resolver {
  #state: ResolverState = PENDING;
  #index = new Map<string, Endpoint>();
  readonly #listeners = new Set<ResolverListener>();
  readonly #attributes: Attributes;
  readonly #unobserve: () => void;
  #closed = false;
  #notifications = 0;
  #updates = 0;

  /** `kind` names the resolver type and `service` the destination, for metrics. */
  constructor(kind: string, service: string) {
    this.#attributes = { 'weft.resolver': kind, 'weft.service': service };
    this.#unobserve = observeResolver({
      attributes: this.#attributes,
      usableCount: () => usableEndpoints(this.#state).length,
      stale: () => this.#state.kind === 'failed' && this.#state.endpoints.length > 0,
    });
  }

  get state(): ResolverState {
    return this.#state;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get stats(): SourceStats {
    return { notifications: this.#notifications, updates: this.#updates };
  }

  subscribe(listener: ResolverListener): () => void {
    if (!this.#closed) this.#listeners.add(listener);
    listener(this.#state);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /**
   * Offers a new set. Duplicate keys keep the first entry. Returns true when subscribers were
   * notified (the set or the state kind changed).
   */
  bind(endpoints: readonly Endpoint[]): boolean {
    if (this.#closed) return false;
    this.#updates++;
    const list = this.#diff(endpoints);
    if (list === undefined && this.#state.kind === 'bound') return false;
    this.#emit({ kind: 'bound', endpoints: list ?? usableEndpoints(this.#state) });
    return true;
  }

  /**
   * Records a failure. The last good set is kept and still offered (static stability), unless
   * `endpoints` gives the set to offer instead (a wrapper filtering a failed inner resolver). A
   * repeated failure with the same message and set does not notify again.
   */
  fail(reason: Error, endpoints?: readonly Endpoint[]): boolean {
    if (this.#closed) return false;
    this.#updates++;
    const s = this.#state;
    const list = endpoints === undefined ? undefined : this.#diff(endpoints);
    if (s.kind === 'failed' && s.reason.message === reason.message && list === undefined) return false;
    this.#emit({ kind: 'failed', reason, endpoints: list ?? usableEndpoints(s) });
    return true;
  }

  /**
   * Diffs `endpoints` against the current set in one pass. Returns the new frozen list (unchanged
   * endpoints keep their objects) and makes it current, or undefined when nothing changed.
   */
  #diff(endpoints: readonly Endpoint[]): readonly Endpoint[] | undefined {
    const previous = this.#index;
    const next = new Map<string, Endpoint>();
    const list: Endpoint[] = [];
    let changed = false;
    for (const e of endpoints) {
      const key = endpointKey(e);
      if (next.has(key)) continue;
      const old = previous.get(key);
      let kept = e;
      if (old !== undefined && sameEndpoint(old, e)) kept = old;
      else changed = true;
      next.set(key, kept);
      list.push(kept);
    }
    if (next.size !== previous.size) changed = true;
    if (!changed) return undefined;
    this.#index = next;
    return Object.freeze(list);
  }

  /** Records an authoritative "no endpoints": the set is dropped. */
  negative(): boolean {
    if (this.#closed) return false;
    this.#updates++;
    if (this.#state.kind === 'negative') return false;
    this.#index = new Map();
    this.#emit(NEGATIVE);
    return true;
  }

  /** Drops all subscribers and stops metrics. Later updates are ignored. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#listeners.clear();
    this.#unobserve();
  }

  #emit(state: ResolverState): void {
    this.#state = state;
    this.#notifications++;
    recordUpdate(this.#attributes, state.kind);
    for (const listener of [...this.#listeners]) {
      try {
        listener(state);
      } catch (err) {
        // A throwing subscriber is a bug to surface, but it must not keep the others from hearing
        // about the change, leave this source half updated, or take the process down: warn.
        process.emitWarning(err instanceof Error ? err : new Error(String(err)));
      }
    }
  }
}
