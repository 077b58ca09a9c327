/**
 * Settings of the property tests: a bounded, seeded run by default (seconds, the same cases every
 * time), a long one with `WEFT_FUZZ_RUNS=<n>` (and `WEFT_FUZZ_SEED=<n>` to replay a failure).
 */
import type { Parameters } from 'fast-check';

const runs = Number(process.env.WEFT_FUZZ_RUNS ?? '');
const seed = process.env.WEFT_FUZZ_SEED ? Number(process.env.WEFT_FUZZ_SEED) : Number.NaN;

/**
 * `fc.assert` parameters. `scale` multiplies the default run count (cheap properties run more);
 * a `costly` property (a request or a file per case) runs a twentieth of a long run's count.
 */
export function fuzz<T>(scale = 1, costly = false): Parameters<T> {
  const long = Number.isInteger(runs) && runs > 0;
  return {
    numRuns: long ? (costly ? Math.ceil(runs / 20) : runs) : Math.round(200 * scale),
    seed: Number.isInteger(seed) ? seed : 17,
  };
}
