/**
 * Latency recording and summary statistics. Latencies go into a preallocated Float64Array (no
 * allocation per request, no dependency) and are sorted once at the end; percentiles use the
 * nearest-rank method. Across rounds the bench reports medians, which shrug off one noisy round.
 */

export class Recorder {
  readonly #values: Float64Array;
  #count = 0;
  /** Requests that could not be recorded because the buffer was full. */
  overflow = 0;

  constructor(capacity: number) {
    this.#values = new Float64Array(capacity);
  }

  get count(): number {
    return this.#count;
  }

  record(value: number): void {
    if (this.#count < this.#values.length) this.#values[this.#count++] = value;
    else this.overflow++;
  }

  /** The recorded values, sorted ascending (a copy). */
  sorted(): Float64Array {
    return this.#values.slice(0, this.#count).sort();
  }
}

/** Nearest-rank percentile (p in 0–100) of an ascending array; NaN when empty. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const rank = Math.min(n, Math.max(1, Math.ceil((p / 100) * n)));
  return sorted[rank - 1]!;
}

export interface Percentiles {
  p50: number;
  p99: number;
  p999: number;
  max: number;
  count: number;
}

export function percentiles(sorted: ArrayLike<number>): Percentiles {
  return {
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    p999: percentile(sorted, 99.9),
    max: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
    count: sorted.length,
  };
}

export function median(values: readonly number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

/** Median of each numeric field across rounds. */
export function medianOf<T extends Record<string, number>>(rounds: readonly T[]): T {
  const out: Record<string, number> = {};
  const keys = rounds.length ? Object.keys(rounds[0]!) : [];
  for (const k of keys) out[k] = median(rounds.map((r) => r[k]!));
  return out as T;
}

/** Rounds to a few significant digits for reports. */
export function round(value: number, digits = 3): number {
  if (!Number.isFinite(value) || value === 0) return value;
  const scale = 10 ** Math.max(0, digits - Math.ceil(Math.log10(Math.abs(value))));
  return Math.round(value * scale) / scale;
}
