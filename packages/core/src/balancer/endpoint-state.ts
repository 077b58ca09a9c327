/**
 * The balancer's live view of one endpoint: load (outstanding requests), a peak-EWMA latency
 * estimate, health, and the protocol's connection handle. One object per endpoint, kept across
 * resolver updates and config changes so history is never lost.
 */
import { type Endpoint, endpointKey } from '../endpoint/endpoint.ts';

export type Health = 'healthy' | 'ejected' | 'probing';

/**
 * Cost given to an endpoint that has requests in flight but no latency history yet, so that new
 * endpoints get one request at a time until they have shown their latency (after Finagle's
 * `PeakEwma` penalty).
 */
export const NO_HISTORY_PENALTY = 1e9;

export class EndpointState<T = unknown> {
  readonly key: string;
  endpoint: Endpoint;
  /** Requests sent and not yet completed. */
  outstanding = 0;
  /** Requests completed, successes and failures. */
  completed = 0;
  failures = 0;
  health: Health = 'healthy';
  /** True while the single readmission probe is in flight. */
  probing = false;
  /** Set once the resolver dropped it; the handle closes after in-flight requests finish. */
  removed = false;
  /** The protocol's connection handle (an undici Pool, a gRPC channel), created lazily. */
  transport: T | undefined;

  // Outlier-detection bookkeeping, owned by OutlierDetector.
  consecutiveFailures = 0;
  windowRequests = 0;
  windowFailures = 0;
  ejections = 0;
  lastEjectedAt = Number.NEGATIVE_INFINITY;
  ejectionTimer: unknown;

  // Peak-EWMA state.
  #cost = 0;
  #stamp: number;

  constructor(endpoint: Endpoint, now: number) {
    this.key = endpointKey(endpoint);
    this.endpoint = endpoint;
    this.#stamp = now;
  }

  get weight(): number {
    return this.endpoint.weight ?? 1;
  }

  /**
   * Records an observed latency (ms). Peak EWMA: a sample above the estimate replaces it at once
   * (react fast to slowness); below it, the estimate decays towards the sample with time constant
   * `decayMs` (Finagle `PeakEwma`, also Linkerd 2's balancer).
   */
  observe(latencyMs: number, now: number, decayMs: number): void {
    const elapsed = now > this.#stamp ? now - this.#stamp : 0;
    this.#stamp = now;
    if (latencyMs > this.#cost) {
      this.#cost = latencyMs;
    } else {
      const w = Math.exp(-elapsed / decayMs);
      this.#cost = this.#cost * w + latencyMs * (1 - w);
    }
  }

  /** The current latency estimate in ms, decayed to `now` (an idle slow endpoint grows attractive again). */
  latency(now: number, decayMs: number): number {
    this.observe(0, now, decayMs);
    return this.#cost;
  }

  /** Peak-EWMA load: latency × (outstanding + 1), divided by the weight; a penalty when there is no history. */
  ewmaLoad(now: number, decayMs: number): number {
    const cost = this.latency(now, decayMs);
    if (cost === 0 && this.outstanding > 0) return NO_HISTORY_PENALTY + this.outstanding;
    return (cost * (this.outstanding + 1)) / this.weight;
  }
}
