/**
 * The window's small pieces of counting: a cell (one bucket of one series, as this replica keeps
 * what it received for the others) and the merge of a sparse latency histogram into a sorted
 * `[bucket, count, …]` array of exactly its size.
 */

/** One bucket of one series, as replicas exchange it. */
export interface Cell {
  /** The bucket's number: its start is `bucket × bucketMs`. */
  bucket: number;
  requests: number;
  /** Failures by class; undefined while there are none (most cells). */
  failures: Record<string, number> | undefined;
  /**
   * Latency buckets with counts, ascending: `[bucket, count, bucket, count, …]`. A plain array of
   * small integers costs far less than typed arrays for the few buckets a cell has.
   */
  hist: number[];
}

export function emptyCell(bucket: number): Cell {
  return { bucket, requests: 0, failures: undefined, hist: [] };
}

export function addTo(
  cell: Cell,
  requests: number,
  failures: Record<string, number>,
  idx: ArrayLike<number>,
  cnt: ArrayLike<number>,
): void {
  cell.requests += requests;
  for (const k in failures) {
    cell.failures ??= {};
    cell.failures[k] = (cell.failures[k] ?? 0) + failures[k]!;
  }
  cell.hist = merged(cell.hist, 0, 0, idx, cnt)!;
}

/**
 * `a` (pairs from index `from`; its first element the requests when `from` is 1) with the sparse
 * histogram (idx, cnt) added, as a new array of exactly its size, sorted; `requests` are added to
 * the first element when `from` is 1.
 */
export function merged(
  a: number[] | undefined,
  from: 0 | 1,
  requests: number,
  idx: ArrayLike<number>,
  cnt: ArrayLike<number>,
): number[] {
  const out: number[] = from === 1 ? [(a?.[0] ?? 0) + requests] : [];
  const old = a ?? [];
  let p = a === undefined ? 0 : from;
  let q = 0;
  while (p < old.length || q < idx.length) {
    if (q >= idx.length || (p < old.length && old[p]! < idx[q]!)) {
      out.push(old[p]!, old[p + 1]!);
      p += 2;
    } else if (p >= old.length || idx[q]! < old[p]!) {
      out.push(idx[q]!, cnt[q]!);
      q++;
    } else {
      out.push(old[p]!, old[p + 1]! + cnt[q]!);
      p += 2;
      q++;
    }
  }
  return out.slice(); // exact size: the push-grown array keeps spare room
}
