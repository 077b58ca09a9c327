/**
 * Interleaved rounds: every variant runs once per round, and the order rotates each round, so drift
 * on a noisy machine (other processes, thermal state, GC history) hits every variant alike.
 */
import type { BenchContext } from './context.ts';

export interface Variant<T> {
  readonly name: string;
  run(round: number): Promise<T>;
}

export async function interleave<T>(
  ctx: BenchContext,
  label: string,
  variants: readonly Variant<T>[],
  rounds = ctx.rounds,
): Promise<Map<string, T[]>> {
  const out = new Map<string, T[]>(variants.map((v) => [v.name, []]));
  for (let r = 0; r < rounds; r++) {
    const order = variants.map((_, i) => variants[(i + r) % variants.length]!);
    for (const v of order) {
      ctx.log(`${label}: round ${r + 1}/${rounds}, ${v.name}`);
      gc();
      out.get(v.name)!.push(await v.run(r));
    }
  }
  return out;
}

/** A full collection between measurements when the bench runs with --expose-gc. */
export function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}
