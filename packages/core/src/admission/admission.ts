/**
 * Admission control for one server (or one route): a concurrency limit and an optional token-bucket
 * rate limit. Protocol-free: the HTTP middleware and the gRPC interceptor both ask `tryAdmit()`
 * before running a handler and `release()` when it is done; a refused request is answered at once
 * with a retryable rejection (`weft-rejected` over HTTP, `UNAVAILABLE` over gRPC).
 */
import { invalidOption } from '../errors/errors.ts';
import { type Clock, systemClock } from '../time/clock.ts';
import { checkKnownKeys, type KeySet } from '../util/known-keys.ts';
import {
  type ConcurrencyLimit,
  FIXED_LIMIT_DEFAULTS,
  type FixedLimitOptions,
  fixedLimit,
  GRADIENT_LIMIT_DEFAULTS,
  type GradientLimitOptions,
  gradientLimit,
  type Sample,
} from './limit.ts';
import { type TokenBucket, type TokenBucketOptions, tokenBucket } from './token-bucket.ts';

const GRADIENT_KEYS = Object.fromEntries(
  Object.keys(GRADIENT_LIMIT_DEFAULTS).map((k) => [k, true]),
) as KeySet<GradientLimitOptions>;

/** A concurrency limit: a fixed number, or settings for a fixed or adaptive (gradient) limit. */
export type ConcurrencyOptions =
  | number
  | ({ kind: 'fixed' } & FixedLimitOptions)
  | ({ kind: 'gradient' } & GradientLimitOptions);

export interface AdmissionOptions {
  /** The concurrency limit, or `false` for none. Defaults to a fixed limit of 1000. */
  concurrency?: ConcurrencyOptions | false;
  /** A token-bucket rate limit, or `false` for none. Defaults to none. */
  rate?: TokenBucketOptions | false;
  /** Injected time (tests). Defaults to the process clock. */
  clock?: Clock;
}

export const ADMISSION_DEFAULTS = {
  concurrency: { kind: 'fixed', limit: FIXED_LIMIT_DEFAULTS.limit },
  rate: false,
} as const;

/** Why a request was refused. */
export type RejectReason = 'concurrency' | 'rate';

export interface AdmissionSnapshot {
  readonly concurrency: { kind: string; limit: number; inflight: number } | undefined;
  readonly rate: { ratePerSecond: number; burst: number; tokens: number } | undefined;
  readonly admitted: number;
  readonly rejected: { concurrency: number; rate: number };
  /** Admitted requests released, by what they told the limit (see {@link Sample}). */
  readonly released: Readonly<Record<Sample, number>>;
}

export interface Admission {
  /**
   * Admits a request (returns `undefined`; the caller must `release()` it exactly once) or refuses
   * it (returns the reason; nothing to release).
   */
  tryAdmit(): RejectReason | undefined;
  /** Ends an admitted request: `rttMs` it took, and what it says about load (see {@link Sample}). */
  release(rttMs: number, sample: Sample): void;
  /** Current limits and counters, for admin endpoints and metrics. */
  snapshot(): AdmissionSnapshot;
}

export function admission(options: AdmissionOptions = {}): Admission {
  const clock = options.clock ?? systemClock;
  const limit = concurrencyLimit(options.concurrency ?? ADMISSION_DEFAULTS.concurrency);
  const bucket: TokenBucket | undefined = options.rate ? tokenBucket(options.rate, clock) : undefined;
  let admitted = 0;
  let byConcurrency = 0;
  let byRate = 0;
  const released: Record<Sample, number> = { success: 0, dropped: 0, ignored: 0 };
  return {
    tryAdmit() {
      if (limit && !limit.tryAcquire()) {
        byConcurrency++;
        return 'concurrency';
      }
      if (bucket && !bucket.tryTake()) {
        limit?.release(0, 'ignored');
        byRate++;
        return 'rate';
      }
      admitted++;
      return undefined;
    },
    release(rttMs, sample) {
      released[sample]++;
      limit?.release(rttMs, sample);
    },
    snapshot() {
      return {
        concurrency: limit && { kind: limit.kind, limit: limit.limit, inflight: limit.inflight },
        rate: bucket && { ratePerSecond: bucket.ratePerSecond, burst: bucket.burst, tokens: bucket.tokens() },
        admitted,
        rejected: { concurrency: byConcurrency, rate: byRate },
        released: { ...released },
      };
    },
  };
}

/** Builds the concurrency limit the options describe (`undefined` for `false`). */
export function concurrencyLimit(options: ConcurrencyOptions | false): ConcurrencyLimit | undefined {
  if (options === false) return undefined;
  if (typeof options === 'number') return fixedLimit({ limit: options });
  if (options?.kind === 'fixed') {
    checkKnownKeys('concurrency', options, { kind: true, limit: true });
    return fixedLimit(options);
  }
  if (options?.kind === 'gradient') {
    checkKnownKeys('concurrency', options, { kind: true, ...GRADIENT_KEYS });
    return gradientLimit(options);
  }
  throw invalidOption('concurrency', 'must be a number, false, or { kind: "fixed" | "gradient", … }');
}
