/**
 * The latency histogram of traffic summaries: fixed, exponential buckets that every process and
 * every config-service replica share, so histograms merge by adding counts bucket by bucket (the
 * idea of HdrHistogram's and OpenTelemetry's exponential histograms, with one fixed scale instead
 * of a negotiated one).
 *
 * Bucket `i` (1 ≤ i < {@link BUCKETS} − 1) holds latencies in (MIN·2^((i−1)/16), MIN·2^(i/16)] ms:
 * 16 buckets per doubling, so a bucket is 4.4% wide and a quantile read at a bucket's geometric
 * middle is within 2.2% of the true value. Bucket 0 holds everything up to {@link MIN_MS}; the last
 * bucket everything above {@link MAX_MS}.
 */

/** Buckets per doubling of latency. */
export const PER_DOUBLING = 16;
/** Upper bound of bucket 0, in ms (10 µs). */
export const MIN_MS = 0.01;
/** Number of buckets: 0 (≤ 10 µs) up to just over 15 min, then one open-ended bucket. */
export const BUCKETS = 426;
/** The upper bound of the last bounded bucket, in ms (about 15.8 min). */
export const MAX_MS = MIN_MS * 2 ** ((BUCKETS - 2) / PER_DOUBLING);
/** The name of this bucket layout in reports: a report with another is refused. */
export const HISTOGRAM_SCHEMA = 'log2-16@0.01ms';

const LOG_SCALE = PER_DOUBLING / Math.LN2;

/** The bucket of a latency in ms. No allocation; NaN and negatives land in bucket 0. */
export function bucketOf(ms: number): number {
  if (!(ms > MIN_MS)) return 0;
  const i = Math.ceil(Math.log(ms / MIN_MS) * LOG_SCALE);
  return Math.min(i, BUCKETS - 1);
}

/** The latency a quantile read in bucket `i` stands for: the bucket's geometric middle, in ms. */
export function bucketValue(i: number): number {
  if (i <= 0) return MIN_MS;
  if (i >= BUCKETS - 1) return MAX_MS;
  return MIN_MS * 2 ** ((i - 0.5) / PER_DOUBLING);
}

/**
 * The `q` quantile (0–1) of a dense histogram whose counts sum to `total`, in ms rounded to 3
 * decimals; null when it is empty.
 */
export function quantile(counts: ArrayLike<number>, total: number, q: number): number | null {
  if (total <= 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i]!;
    if (seen >= rank) return Math.round(bucketValue(i) * 1000) / 1000;
  }
  return Math.round(bucketValue(counts.length - 1) * 1000) / 1000;
}

/** A histogram sent over the wire: the indices of its non-empty buckets, ascending, and their counts. */
export interface SparseHistogram {
  i: number[];
  c: number[];
}

/** The non-empty buckets of `counts`, in ascending order. */
export function toSparse(counts: ArrayLike<number>): SparseHistogram {
  const i: number[] = [];
  const c: number[] = [];
  for (let k = 0; k < counts.length; k++) {
    const n = counts[k]!;
    if (n > 0) {
      i.push(k);
      c.push(n);
    }
  }
  return { i, c };
}
