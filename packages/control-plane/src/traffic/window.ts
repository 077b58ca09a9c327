/**
 * The config service's rolling window of traffic: the reports of every process, added up per
 * (caller, destination, subset, endpoint) — a series — into fixed time buckets (10 s by default)
 * covering the last 15 minutes. A series keeps one cell per bucket with counts and a sparse latency
 * histogram in the shared bucket layout, so any span of buckets merges into exact-bucket quantiles.
 *
 * Memory is bounded: at most `maxSeries` series (new ones beyond are refused and counted) and at
 * most `maxReporters` reporters, each cell the size of its non-empty latency buckets; a series with
 * nothing left in the window is forgotten. Time is the service's own clock when a report arrives,
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
}

export const TRAFFIC_WINDOW_DEFAULTS = { bucketMs: 10_000, maxSeries: 50_000, maxReporters: 20_000 } as const;

/** One bucket of one series. */
export interface Cell {
  /** The bucket's number: its start is `bucket × bucketMs`. */
  bucket: number;
  requests: number;
  failures: Record<string, number>;
  /** Latency buckets with counts, ascending, as parallel arrays. */
  idx: Uint16Array;
  cnt: Uint32Array;
}

export interface Series {
  readonly from: string;
  readonly to: string;
  readonly subset: string;
  readonly endpoint: string;
  /** Cells by slot (bucket modulo the slot count). */
  readonly cells: (Cell | undefined)[];
  /** The client's view of the endpoint in the last report that carried it. */
  state: TrafficReportRow['state'];
  /** When the series last received counts (ms). */
  lastAt: number;
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
  readonly #reporters = new Map<string, { service: string; lastAt: number }>();
  #accepted = 0;
  #refused = 0;
  #droppedRows = 0;
  #droppedReports = 0;

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
      const key = `${service}\u0000${row.destination}\u0000${row.subset}\u0000${row.endpoint}`;
      let series = this.#series.get(key);
      if (series === undefined) {
        if (this.#series.size >= this.maxSeries && !this.#evictSeries(now)) {
          refused++;
          continue;
        }
        series = {
          from: service,
          to: row.destination,
          subset: row.subset,
          endpoint: row.endpoint,
          cells: new Array(this.slots),
          state: undefined,
          lastAt: now,
        };
        this.#series.set(key, series);
      }
      if (row.state) series.state = row.state;
      series.lastAt = now;
      this.addCell(series, bucket, row.requests, row.failures, row.latency.i, row.latency.c);
    }
    this.#refused += refused;
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
    let cell = series.cells[slot];
    if (cell === undefined || cell.bucket !== bucket) {
      cell = { bucket, requests: 0, failures: {}, idx: new Uint16Array(0), cnt: new Uint32Array(0) };
      series.cells[slot] = cell;
    }
    cell.requests += requests;
    for (const k in failures) cell.failures[k] = (cell.failures[k] ?? 0) + failures[k]!;
    mergeSparse(cell, idx, cnt);
  }

  /** The first bucket inside a window of `windowMs` ending now. */
  firstBucket(windowMs: number): number {
    return Math.floor((this.now() - windowMs) / this.bucketMs) + 1;
  }

  /** Forgets series with nothing left in the window. Returns true when one went. */
  #evictSeries(now: number): boolean {
    const before = this.#series.size;
    for (const [key, s] of this.#series) if (now - s.lastAt > WINDOW_MS) this.#series.delete(key);
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

/** Adds the sparse histogram (idx, cnt) into `cell`'s, keeping it sorted. */
function mergeSparse(cell: Cell, idx: ArrayLike<number>, cnt: ArrayLike<number>): void {
  if (idx.length === 0) return;
  const a = cell.idx;
  const ac = cell.cnt;
  const oi = new Uint16Array(a.length + idx.length);
  const oc = new Uint32Array(a.length + idx.length);
  let p = 0;
  let q = 0;
  let n = 0;
  while (p < a.length || q < idx.length) {
    if (q >= idx.length || (p < a.length && a[p]! < idx[q]!)) {
      oi[n] = a[p]!;
      oc[n++] = ac[p++]!;
    } else if (p >= a.length || idx[q]! < a[p]!) {
      oi[n] = idx[q]!;
      oc[n++] = cnt[q++]!;
    } else {
      oi[n] = a[p]!;
      oc[n++] = ac[p++]! + cnt[q++]!;
    }
  }
  cell.idx = oi.slice(0, n);
  cell.cnt = oc.slice(0, n);
}
