/**
 * Passive health: outlier detection (failure accrual). An endpoint that fails `consecutiveFailures`
 * times in a row, or whose success rate over `minRequests` requests falls under
 * `minSuccessRatePercent`, is ejected for `baseEjectionMs × (ejections in a row)`, jittered and
 * capped at `maxEjectionMs` (Envoy's outlier detection; Finagle's failure accrual). When the time is
 * up a single probe request is let through: success readmits it, failure ejects it again for longer.
 * Never more than `maxEjectionPercent` of the endpoints are ejected at once (at least one may be).
 * An endpoint that leaves an attempt unanswered (it hangs) is ejected at once (`ejectUnanswered`).
 */

import { OUTLIER_DEFAULTS, type OutlierParams } from '../balancer/balance-params.ts';
import type { EndpointState } from '../balancer/endpoint-state.ts';
import { invalidOption } from '../errors/errors.ts';
import type { Clock, Random } from '../time/clock.ts';
import { definedOnly } from '../util/defined.ts';

/**
 * Outlier-detection settings, each optional: the endpoint module's declared params
 * (balancer/balance-params.ts), which give their meaning and defaults.
 */
export type OutlierOptions = Partial<OutlierParams>;

/**
 * How a failed request failed, for outlier detection and the latency estimate: `refused` (the
 * connection was refused), `unanswered` (timed out while the endpoint answered no request sent after it),
 * `unusable` (no connection can be made to its address at all: ejected at once).
 */
export type FailureKind = 'failure' | 'refused' | 'unanswered' | 'unusable';

export { OUTLIER_DEFAULTS } from '../balancer/balance-params.ts';

export function resolveOutlierOptions(options: OutlierOptions = {}): Required<OutlierOptions> {
  const o = { ...OUTLIER_DEFAULTS, ...definedOnly(options) };
  if (!Number.isInteger(o.consecutiveFailures) || o.consecutiveFailures < 1)
    throw invalidOption('outlierDetection.consecutiveFailures', 'must be an integer ≥ 1');
  if (o.baseEjectionMs <= 0 || o.maxEjectionMs < o.baseEjectionMs)
    throw invalidOption('outlierDetection.baseEjectionMs', 'must be > 0 and ≤ maxEjectionMs');
  if (o.maxEjectionPercent < 0 || o.maxEjectionPercent > 100)
    throw invalidOption('outlierDetection.maxEjectionPercent', 'must be within 0–100');
  if (o.minSuccessRatePercent < 0 || o.minSuccessRatePercent > 100)
    throw invalidOption('outlierDetection.minSuccessRatePercent', 'must be within 0–100');
  return o;
}

/** Receives health transitions, so the endpoint set can rebuild its available list. */
export interface OutlierHost {
  readonly all: readonly EndpointState[];
  ejectedCount(): number;
  healthChanged(endpoint: EndpointState, reason: string): void;
}

export class OutlierDetector {
  options: Required<OutlierOptions>;
  readonly #host: OutlierHost;
  readonly #clock: Clock;
  readonly #random: Random;

  constructor(host: OutlierHost, options: Required<OutlierOptions>, clock: Clock, random: Random) {
    this.#host = host;
    this.options = options;
    this.#clock = clock;
    this.#random = random;
  }

  /** Records the outcome of one request to `ep`; `kind` says how a failure failed. */
  record(ep: EndpointState, ok: boolean, kind: FailureKind = 'failure'): void {
    const o = this.options;
    if (ep.health === 'probing') {
      ep.probing = false;
      if (ok) this.#readmit(ep);
      else this.#eject(ep, 'probe failed', true);
      return;
    }
    if (ep.health !== 'healthy' || !o.enabled) return;
    ep.windowRequests++;
    if (ok) {
      ep.consecutiveFailures = 0;
    } else {
      ep.consecutiveFailures++;
      ep.windowFailures++;
      if ((kind === 'unanswered' && o.ejectUnanswered) || kind === 'unusable') {
        this.#eject(
          ep,
          kind === 'unusable' ? 'no connection can be made to it' : 'an attempt left unanswered',
          false,
        );
        return;
      }
      if (ep.consecutiveFailures >= o.consecutiveFailures) {
        this.#eject(ep, `${ep.consecutiveFailures} consecutive failures`, false);
        return;
      }
    }
    if (ep.windowRequests >= o.minRequests) {
      const rate = (100 * (ep.windowRequests - ep.windowFailures)) / ep.windowRequests;
      ep.windowRequests = 0;
      ep.windowFailures = 0;
      if (rate < o.minSuccessRatePercent) this.#eject(ep, `success rate ${rate.toFixed(1)}%`, false);
    }
  }

  /**
   * A response of `ep` broke off after its head. Its attempt already counted as a success, so these
   * are counted on their own: `consecutiveFailures` of them in a row eject the endpoint.
   */
  recordBodyFailure(ep: EndpointState): void {
    const o = this.options;
    if (ep.health !== 'healthy' || !o.enabled) return;
    ep.windowFailures++;
    if (ep.bodyFailuresInARow >= o.consecutiveFailures) {
      ep.bodyFailuresInARow = 0;
      this.#eject(ep, `${o.consecutiveFailures} responses cut off in a row`, false);
    }
  }

  /** Cancels pending readmission timers. */
  close(): void {
    for (const ep of this.#host.all) this.#clock.clearTimeout(ep.ejectionTimer);
  }

  #eject(ep: EndpointState, reason: string, force: boolean): void {
    const o = this.options;
    const total = this.#host.all.length;
    const cap = Math.max(1, Math.floor((total * o.maxEjectionPercent) / 100));
    if (!force && this.#host.ejectedCount() >= cap) {
      ep.consecutiveFailures = 0;
      return;
    }
    const now = this.#clock.now();
    // An endpoint that stayed healthy for a full max ejection time starts over at the base time.
    if (now - ep.lastEjectedAt > o.maxEjectionMs + ep.ejections * o.baseEjectionMs) ep.ejections = 0;
    ep.ejections++;
    ep.lastEjectedAt = now;
    const base = Math.min(o.baseEjectionMs * ep.ejections, o.maxEjectionMs);
    const ms = base * (0.85 + 0.3 * this.#random());
    ep.health = 'ejected';
    ep.consecutiveFailures = 0;
    ep.windowRequests = 0;
    ep.windowFailures = 0;
    this.#clock.clearTimeout(ep.ejectionTimer);
    ep.ejectionTimer = this.#clock.setTimeout(() => this.#probe(ep), ms, true);
    this.#host.healthChanged(ep, reason);
  }

  #probe(ep: EndpointState): void {
    ep.ejectionTimer = undefined;
    if (ep.removed || ep.health !== 'ejected') return;
    ep.health = 'probing';
    ep.probing = false;
    this.#host.healthChanged(ep, 'ejection time over: probing');
  }

  #readmit(ep: EndpointState): void {
    ep.health = 'healthy';
    ep.consecutiveFailures = 0;
    this.#host.healthChanged(ep, 'probe succeeded');
  }
}
