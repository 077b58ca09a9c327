/**
 * The config service's rolling window of traffic: the reports of every process, added up per
 * (caller, destination, subset, endpoint) — a series — into fixed time buckets (10 s by default)
 * covering the last 15 minutes. A series keeps, per slot of the ring of buckets, the bucket's
 * number, its failures by class and one small array `[requests, bucket, count, bucket, count, …]`
 * of its non-empty latency buckets in the shared layout, so any span of buckets merges into
 * exact-bucket quantiles. (Columns per series rather than an object per cell: the window holds
 * about 1.8 million cells at 20,000 series, and the per-object overhead was most of its memory.)
 *
 * Memory is bounded: at most `maxSeries` series (new ones beyond are refused and counted) and at
 * most `maxReporters` reporters; a series with nothing left in the window is forgotten. Time is the service's own clock when a report arrives,
 * so the reporters' clocks do not matter.
 */
import { invalidOption, type TrafficReport, type TrafficReportRow } from '@weft/core';

/** How long the window is, in ms: 15 minutes. */
export const WINDOW_MS = 15 * 60_000;

export interface TrafficWindowOptions {
  /** Width of one time bucket in ms (1000–60000, dividing 15 min). Defaults to 10000. */
  bucketMs?: number;
  /** Most series held (caller × destination × subset × endpoint). Defaults to 50000. */
  maxSeries?: number;
  /** Most reporting processes remembered. Defaults to 20000. */
  maxReporters?: number;
  /** Wall clock in ms. Defaults to `Date.now`. */
  now?: () => number;
  /**
   * Keep what this replica received apart as well, for {@link TrafficWindow.takeOwn}: the replicas
   * of a shared store exchange it (replicas.ts). Defaults to false.
   */
  share?: boolean;
}

export const TRAFFIC_WINDOW_DEFAULTS = { bucketMs: 10_000, maxSeries: 50_000, maxReporters: 20_000 } as const;

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

export interface Series {
  readonly from: string;
  readonly to: string;
  readonly subset: string;
  readonly endpoint: string;
  /** By slot (bucket modulo the slot count): the bucket the slot holds, NaN when none. */
  readonly buckets: Float64Array;
  /** By slot: `[requests, bucket, count, bucket, count, …]`, ascending; undefined when empty. */
  readonly hists: (number[] | undefined)[];
  /** By slot: failures by class; undefined while there are none (most slots). */
  readonly failures: (Record<string, number> | undefined)[];
  /** The client's view of the endpoint in the last report that carried it. */
  state: TrafficReportRow['state'];
  /** When the series last received counts (ms). */
  lastAt: number;
  /**
   * The rollup of every series of the same caller and destination, kept as counts arrive so the
   * mesh graph reads one series per edge; undefined for a rollup itself.
   */
  readonly edge: Series | undefined;
}

export interface WindowStats {
  readonly series: number;
  readonly reporters: number;
  readonly reportsAccepted: number;
  /** Rows refused because the window held `maxSeries` series. */
  readonly rowsRefused: number;
  /** Rows the processes said they dropped themselves (their row cap, or reports they could not send). */
  readonly rowsDroppedByReporters: number;
  readonly reportsDroppedByReporters: number;
}

export class TrafficWindow {
  readonly bucketMs: number;
  readonly slots: number;
  readonly maxSeries: number;
  readonly maxReporters: number;
  readonly now: () => number;
  readonly startedAt: number;
  readonly #series = new Map<string, Series>();
  readonly #edges = new Map<string, Series>();
  readonly #reporters = new Map<string, { service: string; lastAt: number }>();
  #accepted = 0;
  #refused = 0;
  #droppedRows = 0;
  #droppedReports = 0;
  /** What this replica received itself, by bucket and series, until it is shared. */
  readonly #own: Map<number, Map<Series, Cell>> | undefined;

  constructor(options: TrafficWindowOptions = {}) {
    const d = TRAFFIC_WINDOW_DEFAULTS;
    this.bucketMs = options.bucketMs ?? d.bucketMs;
    if (
      !Number.isInteger(this.bucketMs) ||
      this.bucketMs < 1000 ||
      this.bucketMs > 60_000 ||
      WINDOW_MS % this.bucketMs
    )
      throw invalidOption('trafficBucketMs', 'must be an integer from 1000 to 60000 that divides 900000');
    this.maxSeries = options.maxSeries ?? d.maxSeries;
    this.maxReporters = options.maxReporters ?? d.maxReporters;
    for (const [name, v] of [
      ['maxSeries', this.maxSeries],
      ['maxReporters', this.maxReporters],
    ] as const)
      if (!Number.isInteger(v) || v < 1) throw invalidOption(`traffic.${name}`, 'must be an integer ≥ 1');
    this.slots = WINDOW_MS / this.bucketMs;
    this.now = options.now ?? Date.now;
    this.startedAt = this.now();
    this.#own = options.share ? new Map() : undefined;
  }

  get stats(): WindowStats {
    return {
      series: this.#series.size,
      reporters: this.#reporters.size,
      reportsAccepted: this.#accepted,
      rowsRefused: this.#refused,
      rowsDroppedByReporters: this.#droppedRows,
      reportsDroppedByReporters: this.#droppedReports,
    };
  }

  /** The series, for the views (read only). */
  get series(): ReadonlyMap<string, Series> {
    return this.#series;
  }

  /** One rollup series per caller and destination (read only). */
  get edges(): ReadonlyMap<string, Series> {
    return this.#edges;
  }

  /** Reporters heard from since `since` (ms). */
  reportersSince(since: number): number {
    let n = 0;
    for (const r of this.#reporters.values()) if (r.lastAt >= since) n++;
    return n;
  }

  /** Adds one validated report at the current time. Returns how many rows were refused. */
  add(report: TrafficReport): number {
    const now = this.now();
    const bucket = Math.floor(now / this.bucketMs);
    const { id, service } = report.reporter;
    if (this.#reporters.has(id) || this.#reporters.size < this.maxReporters || this.#evictReporters(now))
      this.#reporters.set(id, { service, lastAt: now });
    this.#accepted++;
    this.#droppedRows += report.dropped.rows;
    this.#droppedReports += report.dropped.reports;
    let refused = 0;
    for (const row of report.rows) {
      const series = this.seriesFor(service, row.destination, row.subset, row.endpoint, now);
      if (series === undefined) {
        refused++;
        continue;
      }
      if (row.state) series.state = row.state;
      series.lastAt = now;
      this.addCell(series, bucket, row.requests, row.failures, row.latency.i, row.latency.c);
      if (this.#own !== undefined) {
        let cells = this.#own.get(bucket);
        if (cells === undefined) {
          cells = new Map();
          this.#own.set(bucket, cells);
        }
        let cell = cells.get(series);
        if (cell === undefined) {
          cell = emptyCell(bucket);
          cells.set(series, cell);
        }
        addTo(cell, row.requests, row.failures, row.latency.i, row.latency.c);
      }
    }
    return refused;
  }

  /** Adds counts to `series` in `bucket` (also used to merge other replicas' buckets). */
  addCell(
    series: Series,
    bucket: number,
    requests: number,
    failures: Record<string, number>,
    idx: ArrayLike<number>,
    cnt: ArrayLike<number>,
  ): void {
    const slot = bucket % this.slots;
    if (series.buckets[slot] !== bucket) {
      series.buckets[slot] = bucket;
      series.hists[slot] = undefined;
      series.failures[slot] = undefined;
    }
    series.hists[slot] = merged(series.hists[slot], 1, requests, idx, cnt);
    for (const k in failures) {
      let f = series.failures[slot];
      if (f === undefined) {
        f = {};
        series.failures[slot] = f;
      }
      f[k] = (f[k] ?? 0) + failures[k]!;
    }
    if (series.edge !== undefined) this.addCell(series.edge, bucket, requests, failures, idx, cnt);
  }

  /**
   * This replica's own cells of the buckets before `bucket` (complete ones), taken out of the
   * pending set, with the reporters it heard from; empty without `share`.
   */
  takeOwn(before: number): { bucket: number; cells: Map<Series, Cell> }[] {
    const out: { bucket: number; cells: Map<Series, Cell> }[] = [];
    if (this.#own === undefined) return out;
    for (const [bucket, cells] of this.#own) {
      if (bucket >= before) continue;
      this.#own.delete(bucket);
      out.push({ bucket, cells });
    }
    return out.sort((a, b) => a.bucket - b.bucket);
  }

  /** The reporters heard from since `since`, as `[id, service, lastAt]`. */
  reporterList(since: number): [string, string, number][] {
    const out: [string, string, number][] = [];
    for (const [id, r] of this.#reporters) if (r.lastAt >= since) out.push([id, r.service, r.lastAt]);
    return out;
  }

  /** Notes a reporter another replica heard from. */
  noteReporter(id: string, service: string, lastAt: number): void {
    const known = this.#reporters.get(id);
    if (known !== undefined && known.lastAt >= lastAt) return;
    if (known === undefined && this.#reporters.size >= this.maxReporters && !this.#evictReporters(this.now()))
      return;
    this.#reporters.set(id, { service, lastAt });
  }

  /** The series of a key, made if the cap allows (for another replica's cells); undefined when full. */
  seriesFor(from: string, to: string, subset: string, endpoint: string, at: number): Series | undefined {
    const key = `${from}\u0000${to}\u0000${subset}\u0000${endpoint}`;
    let series = this.#series.get(key);
    if (series === undefined) {
      if (this.#series.size >= this.maxSeries && !this.#evictSeries(this.now())) {
        this.#refused++;
        return undefined;
      }
      const edgeKey = `${from}\u0000${to}`;
      let edge = this.#edges.get(edgeKey);
      if (edge === undefined) {
        edge = this.#newSeries(from, to, '', '', at, undefined);
        this.#edges.set(edgeKey, edge);
      }
      series = this.#newSeries(from, to, subset, endpoint, at, edge);
      this.#series.set(key, series);
    }
    if (at > series.lastAt) series.lastAt = at;
    if (at > series.edge!.lastAt) series.edge!.lastAt = at;
    return series;
  }

  #newSeries(
    from: string,
    to: string,
    subset: string,
    endpoint: string,
    at: number,
    edge: Series | undefined,
  ): Series {
    return {
      from,
      to,
      subset,
      endpoint,
      buckets: new Float64Array(this.slots).fill(Number.NaN),
      hists: new Array(this.slots),
      failures: new Array(this.slots),
      state: undefined,
      lastAt: at,
      edge,
    };
  }

  /** The first bucket inside a window of `windowMs` ending now. */
  firstBucket(windowMs: number): number {
    return Math.floor((this.now() - windowMs) / this.bucketMs) + 1;
  }

  /** Forgets series with nothing left in the window. Returns true when one went. */
  #evictSeries(now: number): boolean {
    const before = this.#series.size;
    for (const [key, s] of this.#series) if (now - s.lastAt > WINDOW_MS) this.#series.delete(key);
    for (const [key, s] of this.#edges) if (now - s.lastAt > WINDOW_MS) this.#edges.delete(key);
    return this.#series.size < before;
  }

  #evictReporters(now: number): boolean {
    const before = this.#reporters.size;
    for (const [id, r] of this.#reporters) if (now - r.lastAt > WINDOW_MS) this.#reporters.delete(id);
    return this.#reporters.size < before;
  }

  /** Drops what has aged out of the window (called periodically). */
  sweep(): void {
    const now = this.now();
    this.#evictSeries(now);
    this.#evictReporters(now);
  }
}

function emptyCell(bucket: number): Cell {
  return { bucket, requests: 0, failures: undefined, hist: [] };
}

function addTo(
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
function merged(
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
