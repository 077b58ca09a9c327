/**
 * Reconnection backoff: exponential with "full jitter" — a uniform delay in [0, min(max, base·2^n)]
 * (M. Brooker, "Exponential Backoff And Jitter", AWS Architecture Blog, 2015). Full jitter spreads
 * a fleet's reconnections after a config-service restart instead of having them arrive in waves.
 * Written here (rather than cockatiel's generator) so that randomness is injectable.
 */
import { invalidOption } from '../errors/errors.ts';
import type { Random } from '../time/clock.ts';

export interface BackoffOptions {
  /** Cap of the first delay in ms. Defaults to 200. */
  initialMs?: number;
  /** Largest delay in ms. Defaults to 10000. */
  maxMs?: number;
  /** Uniform random source in [0, 1). Defaults to `Math.random`. */
  random?: Random;
}

export const BACKOFF_DEFAULTS = { initialMs: 200, maxMs: 10_000 } as const;

/** Returns `delay(attempt)` for attempts 0, 1, 2, … */
export function fullJitterBackoff(options: BackoffOptions = {}): (attempt: number) => number {
  const initialMs = options.initialMs ?? BACKOFF_DEFAULTS.initialMs;
  const maxMs = options.maxMs ?? BACKOFF_DEFAULTS.maxMs;
  const random = options.random ?? Math.random;
  if (!(initialMs >= 1 && initialMs <= 600_000))
    throw invalidOption('backoffInitialMs', 'must be from 1 to 600000 ms');
  if (!(maxMs >= initialMs && maxMs <= 3_600_000))
    throw invalidOption('backoffMaxMs', 'must be at least backoffInitialMs and at most 3600000 ms');
  return (attempt) => {
    const cap = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
    return Math.floor(random() * cap);
  };
}
