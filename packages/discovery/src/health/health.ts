/**
 * Active health checks over any resolver: each endpoint of the inner resolver's set is checked every
 * `intervalMs`; `unhealthyThreshold` failures in a row take it out of the set, `healthyThreshold`
 * successes in a row put it back (the hysteresis of Envoy's and HAProxy's checks, so one lost probe
 * does not flap an endpoint).
 *
 * Panic mode: when every endpoint is unhealthy, all of them stay in the set. An empty set fails
 * every request for sure; the full set lets the ones that still work serve, and the core's passive
 * ejection (outlier detection on real traffic) still steers around the ones that fail. Envoy does
 * the same below its panic threshold.
 *
 * New endpoints start healthy (`initiallyHealthy`), so a resolver update never empties the set
 * while the first probes run; their first check runs within `jitter × intervalMs`.
 */
import type {
  Clock,
  Endpoint,
  Random,
  Resolver,
  ResolverListener,
  ResolverState,
  TimerHandle,
} from '@weft/core';
import {
  checkKnownKeys,
  endpointKey,
  invalidOption,
  type KeySet,
  systemClock,
  usableEndpoints,
} from '@weft/core';
import { recordHealthResult } from '../metrics/metrics.ts';
import { EndpointSource } from '../source/endpoint-source.ts';
import type { HealthChecker } from './checker.ts';

export interface HealthCheckOptions {
  /** The check to run, e.g. `httpHealthCheck({ path: '/healthz' })`. Required. */
  readonly checker: HealthChecker;
  /** Time between checks of one endpoint, in ms (> 0). Defaults to 5000. */
  readonly intervalMs?: number;
  /** A check that takes longer fails, in ms (> 0, ≤ intervalMs). Defaults to 1000. */
  readonly timeoutMs?: number;
  /** Successes in a row that make an unhealthy endpoint healthy (integer ≥ 1). Defaults to 2. */
  readonly healthyThreshold?: number;
  /** Failures in a row that make a healthy endpoint unhealthy (integer ≥ 1). Defaults to 3. */
  readonly unhealthyThreshold?: number;
  /** Whether an endpoint counts as healthy before its first check. Defaults to true. */
  readonly initiallyHealthy?: boolean;
  /** Each delay is spread by up to this fraction of `intervalMs` (0–1), so checks do not march in step. Defaults to 0.1. */
  readonly jitter?: number;
  /** Service name in metrics. Defaults to `unknown`. */
  readonly service?: string;
  /** Time source. Defaults to the system clock. */
  readonly clock?: Clock;
  /** Randomness for the jitter. Defaults to `Math.random`. */
  readonly random?: Random;
}

export const HEALTH_DEFAULTS = {
  intervalMs: 5000,
  timeoutMs: 1000,
  healthyThreshold: 2,
  unhealthyThreshold: 3,
  initiallyHealthy: true,
  jitter: 0.1,
} as const;

/** What the checks know about one endpoint. */
export interface EndpointHealth {
  readonly healthy: boolean;
  /** The reason of the last failed check, if the last check failed. */
  readonly lastError: string | undefined;
}

interface Tracker {
  endpoint: Endpoint;
  healthy: boolean;
  successes: number;
  failures: number;
  lastError: string | undefined;
  timer: TimerHandle | undefined;
  abort: AbortController | undefined;
}

function check(o: HealthCheckOptions): Required<Omit<HealthCheckOptions, 'service' | 'clock' | 'random'>> {
  if (typeof o?.checker?.check !== 'function') throw invalidOption('checker', 'must be a HealthChecker');
  const given = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  const s = { ...HEALTH_DEFAULTS, ...given } as Required<HealthCheckOptions>;
  if (!(s.intervalMs > 0) || !Number.isFinite(s.intervalMs)) {
    throw invalidOption('intervalMs', `must be a number > 0 (got ${s.intervalMs})`);
  }
  if (!(s.timeoutMs > 0) || s.timeoutMs > s.intervalMs) {
    throw invalidOption(
      'timeoutMs',
      `must be a number in (0, intervalMs=${s.intervalMs}] (got ${s.timeoutMs})`,
    );
  }
  for (const name of ['healthyThreshold', 'unhealthyThreshold'] as const) {
    if (!Number.isInteger(s[name]) || s[name] < 1)
      throw invalidOption(name, `must be an integer ≥ 1 (got ${s[name]})`);
  }
  if (!(s.jitter >= 0 && s.jitter <= 1))
    throw invalidOption('jitter', `must be a number in 0..1 (got ${s.jitter})`);
  return s;
}

/** A resolver whose set leaves out endpoints that fail active health checks. */
export class HealthCheckedResolver implements Resolver {
  readonly #inner: Resolver;
  readonly #source: EndpointSource;
  readonly #s: ReturnType<typeof check>;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #attributes: { 'weft.service': string; 'weft.health_check': string };
  readonly #trackers = new Map<string, Tracker>();
  readonly #unsubscribe: () => void;
  #inState: ResolverState = { kind: 'pending' };
  #checks = 0;
  #panicking = false;

  constructor(inner: Resolver, options: HealthCheckOptions) {
    this.#s = check(options);
    this.#inner = inner;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    const service = options.service ?? 'unknown';
    this.#attributes = { 'weft.service': service, 'weft.health_check': this.#s.checker.name };
    this.#source = new EndpointSource('health-checked', service);
    this.#unsubscribe = inner.subscribe((state) => this.#onInner(state));
  }

  get state(): ResolverState {
    return this.#source.state;
  }

  /** True while every endpoint is unhealthy and all are offered anyway. */
  get panicking(): boolean {
    return this.#panicking;
  }

  /** Checks completed so far. */
  get checks(): number {
    return this.#checks;
  }

  /** What the checks know, by `endpointKey`. */
  health(): Map<string, EndpointHealth> {
    const out = new Map<string, EndpointHealth>();
    for (const [key, t] of this.#trackers) out.set(key, { healthy: t.healthy, lastError: t.lastError });
    return out;
  }

  subscribe(listener: ResolverListener): () => void {
    return this.#source.subscribe(listener);
  }

  /** Stops the checks and closes the inner resolver too. */
  async close(): Promise<void> {
    this.#unsubscribe();
    for (const t of this.#trackers.values()) this.#stop(t);
    this.#trackers.clear();
    this.#source.close();
    await this.#inner.close();
  }

  #onInner(state: ResolverState): void {
    if (this.#source.closed) return;
    this.#inState = state;
    const endpoints = usableEndpoints(state);
    const seen = new Set<string>();
    for (const endpoint of endpoints) {
      const key = endpointKey(endpoint);
      seen.add(key);
      const existing = this.#trackers.get(key);
      if (existing !== undefined) {
        // Same address and port (perhaps new labels): the health history carries over.
        existing.endpoint = endpoint;
        continue;
      }
      const t: Tracker = {
        endpoint,
        healthy: this.#s.initiallyHealthy,
        successes: 0,
        failures: 0,
        lastError: undefined,
        timer: undefined,
        abort: undefined,
      };
      this.#trackers.set(key, t);
      this.#schedule(t, 0);
    }
    if (seen.size !== this.#trackers.size) {
      for (const [key, t] of this.#trackers) {
        if (seen.has(key)) continue;
        this.#stop(t);
        this.#trackers.delete(key);
      }
    }
    this.#publish();
  }

  #schedule(t: Tracker, base: number): void {
    const delay = base + this.#random() * this.#s.jitter * this.#s.intervalMs;
    t.timer = this.#clock.setTimeout(() => void this.#run(t), delay, true);
  }

  #stop(t: Tracker): void {
    if (t.timer !== undefined) this.#clock.clearTimeout(t.timer);
    t.timer = undefined;
    t.abort?.abort();
    t.abort = undefined;
  }

  async #run(t: Tracker): Promise<void> {
    t.timer = undefined;
    const abort = new AbortController();
    t.abort = abort;
    const timeout = this.#clock.setTimeout(
      () => abort.abort(new Error(`timed out after ${this.#s.timeoutMs} ms`)),
      this.#s.timeoutMs,
      true,
    );
    let error: unknown;
    try {
      // A checker that ignores the signal must not hang the loop: the abort settles the race.
      await Promise.race([
        this.#s.checker.check(t.endpoint, abort.signal),
        new Promise<never>((_, reject) => {
          abort.signal.addEventListener('abort', () => reject(abort.signal.reason), { once: true });
        }),
      ]);
    } catch (err) {
      error = abort.signal.aborted ? abort.signal.reason : err;
    } finally {
      this.#clock.clearTimeout(timeout);
    }
    // Stopped meanwhile (endpoint removed, resolver closed): the result is moot.
    if (t.abort !== abort || this.#trackers.get(endpointKey(t.endpoint)) !== t) return;
    t.abort = undefined;
    this.#checks++;
    this.#record(t, error);
    this.#schedule(t, this.#s.intervalMs * (1 - this.#s.jitter / 2));
  }

  #record(t: Tracker, error: unknown): void {
    let changed = false;
    if (error === undefined) {
      recordHealthResult(this.#attributes, 'healthy');
      t.successes++;
      t.failures = 0;
      t.lastError = undefined;
      if (!t.healthy && t.successes >= this.#s.healthyThreshold) changed = t.healthy = true;
    } else {
      recordHealthResult(this.#attributes, 'unhealthy');
      t.failures++;
      t.successes = 0;
      t.lastError = error instanceof Error ? error.message : String(error);
      if (t.healthy && t.failures >= this.#s.unhealthyThreshold) {
        t.healthy = false;
        changed = true;
      }
    }
    if (changed) this.#publish();
  }

  #publish(): void {
    const s = this.#inState;
    if (s.kind === 'pending') return;
    if (s.kind === 'negative') {
      this.#panicking = false;
      this.#source.negative();
      return;
    }
    const all = s.endpoints;
    const healthy: Endpoint[] = [];
    for (const e of all) if (this.#trackers.get(endpointKey(e))?.healthy !== false) healthy.push(e);
    this.#panicking = healthy.length === 0 && all.length > 0;
    const offered = this.#panicking ? all : healthy;
    if (s.kind === 'bound') this.#source.bind(offered);
    else this.#source.fail(s.reason, offered);
  }
}

/**
 * Wraps `resolver` with active health checks; the result offers only endpoints that pass (or all of
 * them in panic mode). See {@link HealthCheckOptions}.
 */
const HEALTH_KEYS = {
  checker: true,
  intervalMs: true,
  timeoutMs: true,
  healthyThreshold: true,
  unhealthyThreshold: true,
  initiallyHealthy: true,
  jitter: true,
  service: true,
  clock: true,
  random: true,
} as const satisfies KeySet<HealthCheckOptions>;

export function withHealthChecks(resolver: Resolver, options: HealthCheckOptions): HealthCheckedResolver {
  checkKnownKeys('withHealthChecks', options, HEALTH_KEYS);
  return new HealthCheckedResolver(resolver, options);
}
