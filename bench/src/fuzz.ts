/**
 * The long run of the property tests: every `fuzz*.test.ts` of the workspace with many more cases
 * than `npm test` runs (200 per property there, with a fixed seed).
 *
 *   node bench/src/fuzz.ts [--runs=20000] [--seed=<n>] [--only=<substring>]
 *
 * Without `--seed` a new seed is drawn and printed, so that each long run explores new cases and a
 * failure can be replayed with the same `--seed` (fast-check also prints the failing case itself).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const value = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const runs = Number(value('runs') ?? 20_000);
const seed = Number(value('seed') ?? Math.floor(Math.random() * 2 ** 31));
if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(seed)) {
  console.error(
    'usage: node bench/src/fuzz.ts [--runs=<integer ≥ 1>] [--seed=<integer>] [--only=<substring>]',
  );
  process.exit(2);
}
const root = fileURLToPath(new URL('../../', import.meta.url));
console.log(`property tests: ${runs} runs per property, seed ${seed}`);
const started = Date.now();
const result = spawnSync(process.execPath, ['scripts/test.mjs', value('only') ?? 'fuzz'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, WEFT_FUZZ_RUNS: String(runs), WEFT_FUZZ_SEED: String(seed) },
});
console.log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s (seed ${seed})`);
process.exit(result.status ?? 1);
