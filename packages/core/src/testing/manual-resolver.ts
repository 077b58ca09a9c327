/**
 * A resolver driven by hand, for tests of what clients do while discovery is pending, failing or
 * empty. It starts `pending` (unlike `StaticResolver`, which starts bound).
 */
import type { Endpoint, Resolver, ResolverListener, ResolverState } from '../endpoint/endpoint.ts';

/**
 * A {@link Resolver} whose state moves only when the test says so.
 *
 * @example
 * ```ts
 * const resolver = new ManualResolver();
 * const call = client.call();          // waits: the resolver is pending
 * resolver.bind([{ address: '10.0.0.1', port: 80 }]);
 * await call;
 * resolver.fail(new Error('registry down'));  // keeps serving 10.0.0.1
 * ```
 */
export class ManualResolver implements Resolver {
  #state: ResolverState = { kind: 'pending' };
  readonly #listeners = new Set<ResolverListener>();
  #closed = false;

  get state(): ResolverState {
    return this.#state;
  }

  /** Number of subscribed listeners (0 once every subscriber has unsubscribed). */
  get listeners(): number {
    return this.#listeners.size;
  }

  /** True once {@link ManualResolver.close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Moves to `bound` with `endpoints`. */
  bind(endpoints: readonly Endpoint[]): void {
    this.#set({ kind: 'bound', endpoints: [...endpoints] });
  }

  /** Moves to `failed`, keeping the last bound set as a real resolver does (static stability). */
  fail(reason: Error): void {
    const prev = this.#state;
    const endpoints = prev.kind === 'bound' || prev.kind === 'failed' ? prev.endpoints : [];
    this.#set({ kind: 'failed', reason, endpoints });
  }

  /** Moves to `negative`: the name authoritatively has no endpoints. */
  negative(): void {
    this.#set({ kind: 'negative' });
  }

  subscribe(listener: ResolverListener): () => void {
    this.#listeners.add(listener);
    listener(this.#state);
    return () => this.#listeners.delete(listener);
  }

  close(): void {
    this.#closed = true;
    this.#listeners.clear();
  }

  #set(state: ResolverState): void {
    this.#state = state;
    for (const l of [...this.#listeners]) l(state);
  }
}
