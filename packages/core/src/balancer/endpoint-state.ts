/**
 * The balancer's live view of one endpoint: load (outstanding requests and their age), a peak-EWMA
 * latency estimate, health, and the protocol's connection handle. One object per endpoint, kept
 * across resolver updates and config changes so history is never lost.
 */
import { type Endpoint, endpointKey } from '../endpoint/endpoint.ts';
import type { WeftError } from '../errors/errors.ts';

export type Health = 'healthy' | 'ejected' | 'probing';

/**
 * Cost given to an endpoint that has requests in flight but no latency history yet, so that new
 * endpoints get one request at a time until they have shown their latency (after Finagle's
 * `PeakEwma` penalty).
 */
export const NO_HISTORY_PENALTY = 1e9;

/**
 * Cost added to an endpoint whose last attempt could not connect (refused, unreachable, a bad
 * address) and that has not answered since: above {@link NO_HISTORY_PENALTY}, so it costs more than
 * any endpoint that answers, with or without history. It lasts one decay time constant, or until
 * the endpoint answers, or until a readmission probe. An endpoint that pushed back (`Retry-After`)
 * bears it until its pushback is over.
 */
export const REFUSED_PENALTY = 1e12;

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
  /** When the endpoint became `probing`, on the clock. */
  probingSince = Number.NEGATIVE_INFINITY;
  /** Set once the resolver dropped it; the handle closes after in-flight requests finish. */
  removed = false;
  /** The protocol's connection handle (an undici Pool, a gRPC channel), created lazily. */
  transport: T | undefined;
  /** Why the handle could not be made (a malformed address): each attempt fails with it. */
  connectError: WeftError | undefined;
  /**
   * When the latest-sent request that the endpoint answered (a response or a transport error) was
   * sent, on the clock.
   */
  lastAnsweredSentAt = Number.NEGATIVE_INFINITY;
  /** Responses whose body broke off after the head, in a row (a body that ends resets it). */
  bodyFailuresInARow = 0;
  /** Set by the endpoint set: told when a response's body broke off after its head. */
  onBodyFailure: ((ep: EndpointState) => void) | undefined;

  // Outlier-detection bookkeeping, owned by OutlierDetector.
  consecutiveFailures = 0;
  windowRequests = 0;
  windowFailures = 0;
  ejections = 0;
  lastEjectedAt = Number.NEGATIVE_INFINITY;
  ejectionTimer: unknown;

  // Peak-EWMA state: every outcome (failures with a penalty), and successes alone.
  #cost = 0;
  #stamp: number;
  #okCost = 0;
  #okStamp: number;
  /** Sum of the start times of the outstanding requests, for their mean age. */
  #startSum = 0;
  #refusedAt = Number.NEGATIVE_INFINITY;
  #heldUntil = Number.NEGATIVE_INFINITY;
  /** Successes seen, counted up to 2: the first one is only a placeholder (see `observeSuccess`). */
  #answered = 0;

  constructor(endpoint: Endpoint, now: number) {
    this.key = endpointKey(endpoint);
    this.endpoint = endpoint;
    this.#stamp = now;
    this.#okStamp = now;
  }

  get weight(): number {
    return this.endpoint.weight ?? 1;
  }

  /**
   * A response of this endpoint broke off after its head (its connection was reset mid-body): the
   * attempt counted as a success at the head, so the transport reports the failure here. A caller
   * that cancels the body is not a failure of the endpoint and is not reported.
   */
  bodyFailed(): void {
    this.bodyFailuresInARow++;
    this.onBodyFailure?.(this as EndpointState);
  }

  /** A response's body ended whole. */
  bodyEnded(): void {
    this.bodyFailuresInARow = 0;
  }

  /** A request to this endpoint starts at `now`. */
  begin(now: number): void {
    this.outstanding++;
    this.#startSum += now;
  }

  /** The request begun at `start` is over (whatever its outcome). */
  end(start: number): void {
    this.outstanding--;
    this.#startSum = this.outstanding > 0 ? this.#startSum - start : 0;
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

  /**
   * Records a successful request's latency: into the estimate, and into the success-only estimate.
   * An endpoint's first answer also paid for its connection (TCP, TLS, HTTP/2 settings; the
   * process's own warm-up when it is the first call at all): it is a placeholder, which the second
   * answer replaces instead of meeting the peak rule. Otherwise one slow first answer would keep an
   * endpoint out of sequential traffic until time decays it.
   */
  observeSuccess(latencyMs: number, now: number, decayMs: number): void {
    this.#refusedAt = Number.NEGATIVE_INFINITY;
    if (this.#answered === 1) {
      this.#answered = 2;
      this.#cost = this.#okCost = latencyMs;
      this.#stamp = this.#okStamp = now;
      return;
    }
    if (this.#answered === 0) this.#answered = 1;
    this.observe(latencyMs, now, decayMs);
    const elapsed = now > this.#okStamp ? now - this.#okStamp : 0;
    this.#okStamp = now;
    if (latencyMs > this.#okCost) this.#okCost = latencyMs;
    else {
      const w = Math.exp(-elapsed / decayMs);
      this.#okCost = this.#okCost * w + latencyMs * (1 - w);
    }
  }

  /** The attempt could not connect: the endpoint costs more than any answering one for a while. */
  refused(now: number): void {
    this.#refusedAt = now;
  }

  /** The endpoint pushed back (Retry-After): it costs more than any other until `until`. */
  hold(until: number): void {
    if (until > this.#heldUntil) this.#heldUntil = until;
  }

  /** True while a pushback holds the endpoint. */
  held(now: number): boolean {
    return now < this.#heldUntil;
  }

  /** Forgets the failure history (not the success-only estimate): a readmission probe starts clean. */
  resetForProbe(): void {
    this.#cost = 0;
    this.#refusedAt = Number.NEGATIVE_INFINITY;
  }

  /** The current latency estimate in ms, decayed to `now` (an idle slow endpoint grows attractive again). */
  latency(now: number, decayMs: number): number {
    this.observe(0, now, decayMs);
    return this.#cost;
  }

  /**
   * The peak-EWMA estimate of successful requests alone, as of the last success (a hang or a run of
   * failures does not move it); 0 when the endpoint has never answered.
   */
  get successLatency(): number {
    return this.#okCost;
  }

  /** The mean age of the outstanding requests in ms (0 when none): a lower bound on the oldest one's. */
  outstandingAge(now: number): number {
    const n = this.outstanding;
    return n > 0 ? now - this.#startSum / n : 0;
  }

  /**
   * Peak-EWMA load: latency × (outstanding + 1), divided by the weight, where latency is the larger
   * of the estimate and the outstanding requests' mean age — a hung endpoint's cost grows while it
   * hangs, before any of its requests completes (Finagle's and Linkerd's peak EWMA count pending
   * requests the same way). A penalty when there is no history; a larger one after a refusal. An
   * idle endpoint with only its first answer (a placeholder) costs nothing, so it gets the next call.
   */
  ewmaLoad(now: number, decayMs: number): number {
    let cost = this.latency(now, decayMs);
    const n = this.outstanding;
    let load: number;
    if (n > 0) {
      if (cost === 0) load = NO_HISTORY_PENALTY + n;
      else {
        const age = now - this.#startSum / n;
        if (age > cost) cost = age;
        load = (cost * (n + 1)) / this.weight;
      }
    } else load = this.#answered === 1 ? 0 : cost / this.weight;
    return now - this.#refusedAt < decayMs || now < this.#heldUntil ? REFUSED_PENALTY + load : load;
  }
}
