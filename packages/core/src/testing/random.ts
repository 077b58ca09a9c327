/**
 * Deterministic randomness for tests and simulations. Every Weft component takes a `random()`
 * function; give it one of these and a run is repeatable from its seed.
 */
import type { Random } from '../time/clock.ts';

/**
 * A seeded uniform generator in [0, 1): Mulberry32, a 32-bit state generator by Tommy Ettinger
 * (public domain). Small, fast and good enough for balancer picks and jitter; not cryptographic.
 *
 * @param seed - Any number; it is reduced to 32 bits. The same seed gives the same sequence.
 * @example
 * ```ts
 * const random = seededRandom(42);
 * const balancer = p2cEwma();
 * balancer.pick(endpoints, clock.now(), random);
 * ```
 */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
