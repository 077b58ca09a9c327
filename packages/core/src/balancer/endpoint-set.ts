/**
 * The live endpoint set of one destination: it follows a resolver, keeps one EndpointState per
 * endpoint across updates (diffed by key, O(n) per update), tracks health through the outlier
 * detector, and picks with the configured strategy among the available endpoints.
 *
 * The available list is rebuilt only when membership or health changes, never per pick. When fewer
 * than `panicThresholdPercent` of the endpoints are healthy the set enters panic mode and balances
 * over all of them (Envoy's panic threshold): a partial outage should not focus all traffic on the
 * few survivors, and the health signal itself may be what is wrong.
 *
 * Zone awareness: given the caller's `localZone`, picks prefer endpoints whose `zone` label matches,
 * while the zone has enough healthy endpoints (the same panic threshold, applied within the zone) and
 * is not overloaded: each pick compares the local choice with a choice among the other zones, and
 * spills over when the local one's peak-EWMA load is more than `zoneSpilloverFactor` times the
 * remote one's. Cross-zone traffic costs money and latency; an overloaded zone costs more.
 */

import type { Endpoint, Resolver, ResolverState } from '../endpoint/endpoint.ts';
import { endpointKey, usableEndpoints } from '../endpoint/endpoint.ts';
import { abortError, ErrorCode, WeftError } from '../errors/errors.ts';
import {
  type FailureKind,
  OutlierDetector,
  type OutlierHost,
  type OutlierOptions,
  resolveOutlierOptions,
} from '../health/outlier.ts';
import { diagnostics } from '../telemetry/diagnostics.ts';
import type { Clock, Random } from '../time/clock.ts';
import { EndpointPool, type Selector, selectorKey } from './endpoint-pool.ts';
import { EndpointState } from './endpoint-state.ts';
import { type Balancer, pickAvoiding } from './strategies.ts';

export interface EndpointSetOptions<T> {
  destination: string;
  resolver: Resolver;
  balancer: Balancer;
  clock: Clock;
  random: Random;
  outlier?: OutlierOptions;
  /** Share of healthy endpoints (0–100) under which health is ignored. Defaults to 50. */
  panicThresholdPercent?: number;
  /** Peak-EWMA decay time constant in ms. Defaults to 10000. */
  decayMs?: number;
  /** The caller's zone; endpoints labelled with the same `zone` are preferred. Defaults to none. */
  localZone?: string;
  /** How much costlier the local choice may be before a pick spills to another zone. Defaults to 2. */
  zoneSpilloverFactor?: number;
  /** Creates the protocol's connection handle for a new endpoint. */
  connect(endpoint: Endpoint): T;
  /** Releases a handle once its endpoint is gone; in-flight requests must be allowed to finish. */
  disconnect(transport: T): void;
  /** Told of every health transition (ejected, probing, healthy), e.g. to count ejections. */
  onHealthChanged?(endpoint: EndpointState<T>, reason: string): void;
}

/** Most distinct subsets (label selectors) one destination keeps pools for. */
export const MAX_SUBSETS = 256;

/** How long a readmission probe waits for an attempt that could be retried, in ms. */
export const PROBE_PREFERENCE_MS = 1_000;

export class EndpointSet<T = unknown> {
  readonly destination: string;
  readonly #byKey = new Map<string, EndpointState<T>>();
  #all: EndpointState<T>[] = [];
  /** The whole destination. */
  readonly #main: EndpointPool<T>;
  /** Subsets by selector key (route backends), made on first use. */
  readonly #subsets = new Map<string, EndpointPool<T>>();
  #panicThreshold: number;
  #decayMs: number;
  readonly #localZone: string | undefined;
  #spillover: number;
  readonly #outlier: OutlierDetector;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #connect: (e: Endpoint) => T;
  readonly #disconnect: (t: T) => void;
  readonly #onHealthChanged: ((ep: EndpointState<T>, reason: string) => void) | undefined;
  readonly #unsubscribe: () => void;
  #resolverState: ResolverState = { kind: 'pending' };
  readonly #waiters = new Set<() => void>();

  constructor(options: EndpointSetOptions<T>) {
    this.destination = options.destination;
    this.#panicThreshold = options.panicThresholdPercent ?? 50;
    this.#decayMs = options.decayMs ?? 10_000;
    this.#localZone = options.localZone;
    this.#spillover = options.zoneSpilloverFactor ?? 2;
    this.#main = new EndpointPool<T>(undefined, options.balancer, this.#localZone, this.#spillover);
    this.#clock = options.clock;
    this.#random = options.random;
    this.#connect = options.connect;
    this.#disconnect = options.disconnect;
    this.#onHealthChanged = options.onHealthChanged;
    const self = this;
    const host: OutlierHost = {
      get all() {
        return self.#all;
      },
      ejectedCount: () => self.#all.reduce((n, e) => n + (e.health === 'healthy' ? 0 : 1), 0),
      healthChanged: (ep, reason) => self.#healthChanged(ep, reason),
    };
    this.#outlier = new OutlierDetector(
      host,
      resolveOutlierOptions(options.outlier),
      this.#clock,
      this.#random,
    );
    this.#unsubscribe = options.resolver.subscribe((state) => this.#onResolver(state));
  }

  /** Every known endpoint. */
  get all(): readonly EndpointState<T>[] {
    return this.#all;
  }

  /** The endpoints picks are made from now (all of them in panic mode). */
  get available(): readonly EndpointState<T>[] {
    return this.#main.available;
  }

  get panic(): boolean {
    return this.#main.panic;
  }

  /** The whole destination's pool: what a call without a route backend picks from. */
  get pool(): EndpointPool<T> {
    return this.#main;
  }

  /**
   * The pool of the endpoints whose labels match `selector` (a route's subset), made on first use
   * and kept in step with membership and health from then on. At most {@link MAX_SUBSETS} distinct
   * selectors per destination.
   */
  subset(selector: Selector): EndpointPool<T> {
    const key = selectorKey(selector);
    let pool = this.#subsets.get(key);
    if (pool) return pool;
    if (this.#subsets.size >= MAX_SUBSETS)
      throw new WeftError(
        ErrorCode.InvalidOption,
        `${this.destination}: more than ${MAX_SUBSETS} distinct subsets were asked for`,
      );
    pool = new EndpointPool<T>(
      { ...selector },
      EndpointPool.strategy(this.#main.balancer.kind, this.#decayMs),
      this.#localZone,
      this.#spillover,
    );
    pool.members(this.#all);
    pool.rebuild(this.#panicThreshold, this.#decayMs);
    this.#subsets.set(key, pool);
    return pool;
  }

  get resolverState(): ResolverState {
    return this.#resolverState;
  }

  get balancer(): Balancer {
    return this.#main.balancer;
  }

  /** Peak-EWMA decay time constant in ms. */
  get decayMs(): number {
    return this.#decayMs;
  }

  /** The caller's zone, when zone-aware. */
  /** Share of healthy endpoints (0–100) under which health is ignored. */
  get panicThresholdPercent(): number {
    return this.#panicThreshold;
  }

  /** The outlier-detection settings in force. */
  get outlierOptions(): Readonly<Required<OutlierOptions>> {
    return this.#outlier.options;
  }

  get localZone(): string | undefined {
    return this.#localZone;
  }

  /** Applies new balancing settings; endpoint history and health are kept. */
  configure(settings: {
    balancer: Balancer;
    decayMs: number;
    panicThresholdPercent: number;
    zoneSpilloverFactor?: number;
  }): void {
    const main = this.#main;
    const changed = settings.balancer !== main.balancer;
    if (changed) main.zones?.reset();
    main.balancer = settings.balancer;
    this.#decayMs = settings.decayMs;
    this.#panicThreshold = settings.panicThresholdPercent;
    if (settings.zoneSpilloverFactor !== undefined) this.#spillover = settings.zoneSpilloverFactor;
    for (const pool of [main, ...this.#subsets.values()]) {
      if (pool !== main && (changed || pool.balancer.kind !== main.balancer.kind)) {
        pool.balancer = EndpointPool.strategy(main.balancer.kind, this.#decayMs);
        pool.zones?.reset();
      }
      if (pool.zones) pool.zones.spillover = this.#spillover;
    }
    this.#rebuild();
  }

  /** Applies new outlier-detection settings; current ejections run their course. */
  configureOutlier(options: Required<OutlierOptions>): void {
    this.#outlier.options = options;
  }

  /**
   * Picks an endpoint for one attempt, or undefined when none is known. `retryable` says whether the
   * attempt could be retried if it failed: for the first {@link PROBE_PREFERENCE_MS} of a
   * readmission, the probe is left to such an attempt, so that a probe of an endpoint still broken
   * costs a retry rather than a failed call.
   */
  pick(retryable = true, pool: EndpointPool<T> = this.#main, hash?: number): EndpointState<T> | undefined {
    const now = this.#clock.now();
    let ep = (
      pool.zones?.active && hash === undefined
        ? pool.zones.pick(now, this.#random, this.#decayMs)
        : pool.balancer.pick(pool.available, now, this.#random, hash)
    ) as EndpointState<T> | undefined;
    if (
      ep?.health === 'probing' &&
      !retryable &&
      !pool.panic &&
      now - ep.probingSince < PROBE_PREFERENCE_MS
    ) {
      const other = pickAvoiding(pool.available, ep, now, this.#decayMs, this.#random);
      if (other !== undefined && other.health === 'healthy') ep = other as EndpointState<T>;
    }
    if (ep?.health === 'probing' && !pool.panic) {
      // The single readmission probe: take it out of rotation until its result is in.
      ep.probing = true;
      this.#rebuild();
    }
    if (ep && ep.transport === undefined) this.#connectTo(ep);
    return ep;
  }

  /**
   * Picks for a retry, avoiding `failed` (the endpoint of the attempt that failed): two random
   * others, the one with the lower peak-EWMA load. Undefined when there is no other.
   */
  pickOther(failed: EndpointState<T>, pool: EndpointPool<T> = this.#main): EndpointState<T> | undefined {
    const ep = pickAvoiding(pool.available, failed, this.#clock.now(), this.#decayMs, this.#random) as
      | EndpointState<T>
      | undefined;
    if (ep === undefined) return undefined;
    if (ep.health === 'probing' && !pool.panic) {
      ep.probing = true;
      this.#rebuild();
    }
    if (ep.transport === undefined) this.#connectTo(ep);
    return ep;
  }

  /**
   * Makes the endpoint's connection handle. A handle that cannot be made (a malformed address the
   * protocol refuses) is an endpoint failure like a refused connection: its attempts fail with a
   * typed error, and outlier detection ejects it.
   */
  #connectTo(ep: EndpointState<T>): void {
    try {
      ep.transport = this.#connect(ep.endpoint);
      ep.connectError = undefined;
    } catch (error) {
      ep.connectError = new WeftError(
        ErrorCode.ConnectFailed,
        `cannot connect to ${this.destination} (${ep.key}): ${(error as Error)?.message ?? String(error)}`,
        { retryable: true, cause: error },
      );
    }
  }

  /**
   * Records one completed request: latency feeds the balancer, the outcome feeds outlier detection.
   * `kind` says how a failure failed: `refused` when the request never reached the endpoint (it
   * refused the connection, or could not be connected to at all), `unanswered` when it timed out
   * while the endpoint answered no request sent after it.
   */
  record(ep: EndpointState<T>, latencyMs: number, ok: boolean, kind: FailureKind = 'failure'): void {
    ep.completed++;
    const now = this.#clock.now();
    if (ok) ep.observeSuccess(latencyMs, now, this.#decayMs);
    else {
      // A failure counts as at least twice the current estimate: an endpoint that fails fast
      // (refusing, shedding) must look worse, not better, than one that answers; one that refused
      // costs more than any endpoint that answers, with or without history.
      ep.failures++;
      ep.observe(Math.max(latencyMs, 2 * ep.latency(now, this.#decayMs)), now, this.#decayMs);
      if (kind === 'refused' || kind === 'unusable') ep.refused(now);
    }
    // The latest-sent request that got an answer: a request sent after it that times out was left
    // unanswered while nothing sent since was answered either.
    if (kind !== 'unanswered' && now - latencyMs > ep.lastAnsweredSentAt)
      ep.lastAnsweredSentAt = now - latencyMs;
    if (!ep.removed) this.#outlier.record(ep, ok, kind);
  }

  /** A response's body broke off after its head: a failure of the endpoint, counted late. */
  readonly #bodyFailure = (ep: EndpointState): void => {
    ep.failures++;
    const now = this.#clock.now();
    ep.observe(2 * ep.latency(now, this.#decayMs), now, this.#decayMs);
    if (!ep.removed) this.#outlier.recordBodyFailure(ep);
  };

  /**
   * An attempt ended with no outcome worth counting (its caller cancelled, or its deadline passed):
   * if it was the readmission probe, the probe slot opens again so the endpoint is not lost.
   */
  release(ep: EndpointState<T>): void {
    if (!ep.probing) return;
    ep.probing = false;
    this.#rebuild();
  }

  /** Resolves when the resolver has produced its first answer (bound, failed, negative), or `signal` aborts. */
  whenResolved(signal?: AbortSignal): Promise<void> {
    if (this.#resolverState.kind !== 'pending') return Promise.resolve();
    if (signal?.aborted) return Promise.reject(abortError(signal.reason));
    return new Promise((resolve, reject) => {
      const done = () => {
        signal?.removeEventListener('abort', onAbort);
        this.#waiters.delete(done);
        resolve();
      };
      const onAbort = () => {
        this.#waiters.delete(done);
        reject(abortError(signal?.reason));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.add(done);
    });
  }

  close(): void {
    this.#unsubscribe();
    this.#outlier.close();
    for (const ep of this.#all) this.#drop(ep);
    this.#all = [];
    for (const pool of [this.#main, ...this.#subsets.values()]) {
      pool.all = [];
      pool.available = [];
    }
    this.#byKey.clear();
  }

  #onResolver(state: ResolverState): void {
    this.#resolverState = state;
    if (state.kind !== 'pending') for (const w of [...this.#waiters]) w();
    if (state.kind === 'pending') return;
    // Static stability: a failed resolver keeps serving its last good set.
    this.update(usableEndpoints(state));
  }

  /** Replaces the membership; unchanged endpoints keep their state, removed ones drain. */
  update(endpoints: readonly Endpoint[]): void {
    const now = this.#clock.now();
    const next: EndpointState<T>[] = [];
    const seen = new Set<string>();
    for (const e of endpoints) {
      const key = endpointKey(e);
      if (seen.has(key)) continue;
      seen.add(key);
      let ep = this.#byKey.get(key);
      if (ep) ep.endpoint = e;
      else {
        ep = new EndpointState<T>(e, now);
        ep.onBodyFailure = this.#bodyFailure;
        this.#byKey.set(key, ep);
      }
      next.push(ep);
    }
    for (const ep of this.#all) {
      if (!seen.has(ep.key)) {
        this.#byKey.delete(ep.key);
        this.#drop(ep);
      }
    }
    this.#all = next;
    this.#main.members(next);
    for (const pool of this.#subsets.values()) pool.members(next);
    this.#rebuild();
  }

  #drop(ep: EndpointState<T>): void {
    ep.removed = true;
    this.#clock.clearTimeout(ep.ejectionTimer);
    if (ep.transport !== undefined) this.#disconnect(ep.transport);
  }

  #healthChanged(ep: EndpointState, reason: string): void {
    // A readmission probe starts from a clean estimate, so the balancer does send it.
    if (ep.health === 'probing') {
      ep.resetForProbe();
      ep.probingSince = this.#clock.now();
    }
    this.#onHealthChanged?.(ep as EndpointState<T>, reason);
    if (diagnostics.health.hasSubscribers)
      diagnostics.health.publish({
        destination: this.destination,
        endpoint: ep.key,
        health: ep.health,
        reason,
      });
    this.#rebuild();
  }

  #rebuild(): void {
    this.#main.rebuild(this.#panicThreshold, this.#decayMs);
    for (const pool of this.#subsets.values()) pool.rebuild(this.#panicThreshold, this.#decayMs);
  }
}
