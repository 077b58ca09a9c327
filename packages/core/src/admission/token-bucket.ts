/**
 * A token bucket (the classic traffic-shaping algorithm, e.g. RFC 2697's committed burst): tokens
 * refill at `ratePerSecond` up to `burst`; each request takes one or is shed. Refilled lazily from
 * the clock on each take, so it costs no timer.
 */
import { invalidOption } from '../errors/errors.ts';
import type { Clock } from '../time/clock.ts';
import { checkKnownKeys } from '../util/known-keys.ts';

export interface TokenBucketOptions {
  /** Sustained requests per second. Required. */
  ratePerSecond: number;
  /** Requests allowed in one burst (the bucket's size). Defaults to `ratePerSecond` (one second's worth), at least 1. */
  burst?: number;
}

export interface TokenBucket {
  readonly ratePerSecond: number;
  readonly burst: number;
  /** Takes one token; false when the bucket is empty. */
  tryTake(): boolean;
  /** Gives back a token taken by `tryTake` (the request was shed by a later check). */
  refund(): void;
  /** Tokens available now (fractional). */
  tokens(): number;
}

export function tokenBucket(options: TokenBucketOptions, clock: Clock): TokenBucket {
  checkKnownKeys('rate', options, { ratePerSecond: true, burst: true });
  const rate = options?.ratePerSecond;
  if (typeof rate !== 'number' || !(rate > 0 && rate <= 1e9))
    throw invalidOption('rate.ratePerSecond', 'must be a number within (0, 1e9]');
  const burst = options.burst ?? Math.max(1, rate);
  if (!(burst >= 1 && burst <= 1e9)) throw invalidOption('rate.burst', 'must be within 1–1e9');
  const perMs = rate / 1000;
  let tokens = burst;
  let last = clock.now();
  const refill = () => {
    const now = clock.now();
    if (now > last) {
      tokens = Math.min(burst, tokens + (now - last) * perMs);
      last = now;
    }
  };
  return {
    ratePerSecond: rate,
    burst,
    tryTake() {
      refill();
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    },
    refund() {
      tokens = Math.min(burst, tokens + 1);
    },
    tokens() {
      refill();
      return tokens;
    },
  };
}
