/**
 * Settings of the property tests: a bounded, seeded run by default (seconds, the same cases every
 * time), a long one with `WEFT_FUZZ_RUNS=<n>` (and `WEFT_FUZZ_SEED=<n>` to replay a failure).
 */
import type { Parameters } from 'fast-check';

const runs = Number(process.env.WEFT_FUZZ_RUNS ?? '');
const seed = Number(process.env.WEFT_FUZZ_SEED ?? '');

/** `fc.assert` parameters: `scale` multiplies the default run count for cheap properties. */
export function fuzz<T>(scale = 1): Parameters<T> {
  return {
    numRuns: Number.isInteger(runs) && runs > 0 ? runs : Math.round(200 * scale),
    seed: Number.isInteger(seed) ? seed : 17,
  };
}
