/**
 * Timing loops for operations far below a timer's resolution (a route match is a few hundred ns):
 * each case runs its operation many times between two `process.hrtime.bigint()` reads. A case is
 * first warmed up, which also sizes its loop to last about `roundMs`; then the cases run in rounds,
 * in a rotating order (drift on a shared machine hits all alike), each timed loop after an untimed
 * eighth of itself, and each case's figure is the median of its rounds in ns per operation.
 */
import { gc } from './rounds.ts';
import { median } from './stats.ts';

export interface MicroCase {
  readonly name: string;
  /**
   * Runs the operation `n` times and returns something derived from the results, so that the work
   * cannot be optimised away. May be async (the loop is then awaited as a whole).
   */
  run(n: number): number | Promise<number>;
}

export interface MicroOptions {
  /** Rounds per case. */
  rounds: number;
  /** Target length of one round, in ms. */
  roundMs: number;
  /** Warm-up per case, in ms (at least). */
  warmupMs: number;
}

export interface MicroResult {
  /** Median ns per operation across rounds. */
  readonly ns: number;
  /** ns per operation of each round, in round order. */
  readonly rounds: number[];
  /** Operations per round. */
  readonly iterations: number;
  /** The sum of what the case's loops returned (warm-up included). */
  readonly checksum: number;
}

/** What the loops returned, summed: kept (and reported) so that no loop is dead code. */
const checksums = new Map<string, number>();

async function timed(c: MicroCase, n: number): Promise<number> {
  const t0 = process.hrtime.bigint();
  const value = await c.run(n);
  const ns = Number(process.hrtime.bigint() - t0);
  checksums.set(c.name, (checksums.get(c.name) ?? 0) + value);
  return ns;
}

/** Warms every case up and sizes its loop, then runs the rounds. */
export async function measureMicro(
  cases: readonly MicroCase[],
  options: MicroOptions,
): Promise<Map<string, MicroResult>> {
  const sizes = new Map<string, number>();
  gc();
  for (const c of cases) {
    // Doubling until one loop lasts the warm-up: the JIT has settled, and the loop's cost is known.
    let n = 256;
    let ns = await timed(c, n);
    while (ns < options.warmupMs * 1e6 && n < 2 ** 30) {
      n *= 2;
      ns = await timed(c, n);
    }
    sizes.set(c.name, Math.max(256, Math.round((n * options.roundMs * 1e6) / ns)));
  }
  const perRound = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  for (let r = 0; r < options.rounds; r++) {
    for (let i = 0; i < cases.length; i++) {
      const c = cases[(i + r) % cases.length]!;
      const n = sizes.get(c.name)!;
      // An untimed eighth first: the case before it leaves caches and the young generation in its
      // own state (no full collection between cases either — V8 shrinks the young generation after
      // one, and whichever case came next would pay for the scavenges).
      await timed(c, Math.max(1, n >> 3));
      perRound.get(c.name)!.push((await timed(c, n)) / n);
    }
  }
  const out = new Map<string, MicroResult>();
  for (const c of cases) {
    const rounds = perRound.get(c.name)!;
    out.set(c.name, {
      ns: median(rounds),
      rounds,
      iterations: sizes.get(c.name)!,
      checksum: checksums.get(c.name) ?? 0,
    });
  }
  return out;
}
