/**
 * Run settings for property tests (fast-check's `numRuns` and `seed`): a bounded, seeded run by
 * default (seconds, the same cases every time), a long one with `WEFT_FUZZ_RUNS=<n>`, and
 * `WEFT_FUZZ_SEED=<n>` to replay a failure. Weft's own property suites use it; so can yours.
 */

/** The parameters to hand to `fc.assert`. */
export interface PropertyRuns {
  numRuns: number;
  seed: number;
}

/**
 * Settings for one property. `scale` multiplies the default run count of 200 (cheap properties run
 * more); a `costly` property (a request or a file per case) runs a twentieth of a long run's count.
 */
export function propertyRuns(scale = 1, costly = false): PropertyRuns {
  const runs = Number(process.env.WEFT_FUZZ_RUNS ?? '');
  const seed = process.env.WEFT_FUZZ_SEED ? Number(process.env.WEFT_FUZZ_SEED) : Number.NaN;
  const long = Number.isInteger(runs) && runs > 0;
  return {
    numRuns: long ? (costly ? Math.ceil(runs / 20) : runs) : Math.round(200 * scale),
    seed: Number.isInteger(seed) ? seed : 17,
  };
}
