/**
 * Concurrency limits: how many requests a server works on at once. A limit hands out permits;
 * a request that cannot get one is shed at once (fail fast beats queueing: a queued request only
 * adds latency to every request behind it, Little's law).
 *
 * - {@link fixedLimit}: a constant number of permits.
 * - {@link gradientLimit}: an adaptive limit after Netflix's concurrency-limits `Gradient2Limit`:
 *   it grows while the short-term latency stays near the long-term baseline and shrinks in
 *   proportion when latency rises (queueing), so it finds the server's real capacity.
 */
import { invalidOption } from '../errors/errors.ts';
import { definedOnly } from '../util/defined.ts';

/** What one finished request tells an adaptive limit. */
export type Sample =
  /** Completed normally: its latency is a valid sample. */
  | 'success'
  /** Failed because of load (timed out, overloaded): adaptive limits shrink. */
  | 'dropped'
  /** Says nothing about load (cancelled by the client, rejected by a later check): not counted. */
  | 'ignored';

export interface ConcurrencyLimit {
  /** `fixed` or `gradient`. */
  readonly kind: string;
  /** Permits available in total right now. */
  readonly limit: number;
  /** Permits taken and not yet returned. */
  readonly inflight: number;
  /** Takes a permit; false when none is left (the caller sheds the request). */
  tryAcquire(): boolean;
  /** Returns a permit taken by `tryAcquire`, with how long it was held and what happened. */
  release(rttMs: number, sample: Sample): void;
}

export interface FixedLimitOptions {
  /** Requests handled at once. Defaults to 1000. */
  limit?: number;
}

export const FIXED_LIMIT_DEFAULTS: Required<FixedLimitOptions> = { limit: 1000 };

export function fixedLimit(options: FixedLimitOptions = {}): ConcurrencyLimit {
  const limit = options.limit ?? FIXED_LIMIT_DEFAULTS.limit;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1_000_000)
    throw invalidOption('concurrency.limit', 'must be an integer within 1–1000000');
  let inflight = 0;
  return {
    kind: 'fixed',
    limit,
    get inflight() {
      return inflight;
    },
    tryAcquire() {
      if (inflight >= limit) return false;
      inflight++;
      return true;
    },
    release() {
      if (inflight > 0) inflight--;
    },
  };
}

export interface GradientLimitOptions {
  /** Limit at start. Defaults to 20. */
  initialLimit?: number;
  /** Lowest limit. Defaults to 4. */
  minLimit?: number;
  /** Highest limit. Defaults to 1000. */
  maxLimit?: number;
  /** Short-term latency may exceed the baseline by this factor before the limit shrinks. Defaults to 1.5. */
  tolerance?: number;
  /** Extra permits above the estimate, so the limit can probe upwards. Defaults to 4. */
  queueSize?: number;
  /** Weight of each new estimate (0–1]. Defaults to 0.2. */
  smoothing?: number;
  /** Samples over which the long-term (baseline) latency averages. Defaults to 600. */
  longWindow?: number;
  /** Samples over which the short-term latency averages. Defaults to 10. */
  shortWindow?: number;
}

export const GRADIENT_LIMIT_DEFAULTS: Required<GradientLimitOptions> = {
  initialLimit: 20,
  minLimit: 4,
  maxLimit: 1000,
  tolerance: 1.5,
  queueSize: 4,
  smoothing: 0.2,
  longWindow: 600,
  shortWindow: 10,
};

/**
 * Adaptive limit after Netflix concurrency-limits' Gradient2: with `long` the slow average latency
 * and `short` the recent one, `gradient = clamp(tolerance × long / short, 0.5, 1)` and the new limit
 * is `limit × gradient + queueSize`, smoothed. While latency holds, the limit grows by `queueSize`
 * per update; when requests queue (latency rises), it shrinks towards what the server completes. A
 * limit that is not being used (in flight under half of it) is left alone, so idle periods do not
 * inflate it.
 */
export function gradientLimit(options: GradientLimitOptions = {}): ConcurrencyLimit {
  const o = { ...GRADIENT_LIMIT_DEFAULTS, ...definedOnly(options) };
  const int = (name: string, v: number, lo: number, hi: number) => {
    if (!Number.isInteger(v) || v < lo || v > hi)
      throw invalidOption(`concurrency.${name}`, `must be an integer within ${lo}–${hi}`);
  };
  int('minLimit', o.minLimit, 1, 1_000_000);
  int('maxLimit', o.maxLimit, o.minLimit, 1_000_000);
  int('initialLimit', o.initialLimit, o.minLimit, o.maxLimit);
  int('queueSize', o.queueSize, 0, 10_000);
  int('longWindow', o.longWindow, 2, 1_000_000);
  int('shortWindow', o.shortWindow, 1, o.longWindow - 1);
  if (!(o.tolerance >= 1 && o.tolerance <= 10))
    throw invalidOption('concurrency.tolerance', 'must be within 1–10');
  if (!(o.smoothing > 0 && o.smoothing <= 1))
    throw invalidOption('concurrency.smoothing', 'must be within (0, 1]');

  const longFactor = 2 / (o.longWindow + 1);
  const shortFactor = 2 / (o.shortWindow + 1);
  let estimate = o.initialLimit;
  let limit = o.initialLimit;
  let inflight = 0;
  let longRtt = 0;
  let shortRtt = 0;

  return {
    kind: 'gradient',
    get limit() {
      return limit;
    },
    get inflight() {
      return inflight;
    },
    tryAcquire() {
      if (inflight >= limit) return false;
      inflight++;
      return true;
    },
    release(rttMs, sample) {
      const before = inflight;
      if (inflight > 0) inflight--;
      if (sample === 'ignored' || !(rttMs >= 0)) return;
      if (sample === 'dropped') {
        estimate = Math.max(o.minLimit, estimate * 0.9);
        limit = Math.floor(estimate);
        return;
      }
      const rtt = Math.max(rttMs, 0.001);
      if (longRtt === 0) {
        longRtt = rtt;
        shortRtt = rtt;
      } else {
        longRtt += (rtt - longRtt) * longFactor;
        shortRtt += (rtt - shortRtt) * shortFactor;
      }
      // After a long overload the baseline has crept up; let it drift back down quickly.
      if (longRtt / shortRtt > 2) longRtt *= 0.95;
      // Application-limited: the limit is not what holds requests back, so say nothing about it.
      if (before < estimate / 2) return;
      const gradient = Math.max(0.5, Math.min(1, (o.tolerance * longRtt) / shortRtt));
      const next = estimate * gradient + o.queueSize;
      estimate = Math.min(
        o.maxLimit,
        Math.max(o.minLimit, estimate * (1 - o.smoothing) + next * o.smoothing),
      );
      limit = Math.floor(estimate);
    },
  };
}
