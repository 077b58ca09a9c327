/**
 * The process side of traffic summaries: counters per (destination, subset, endpoint), recorded by
 * the `endpoint` module on every attempt with no allocation (one row per endpoint and subset, made
 * on its first attempt and reused; a fixed `Uint32Array` of latency buckets), and read and reset off
 * the request path when a report is made.
 */
import type { EndpointSet } from '../balancer/endpoint-set.ts';
import type { EndpointState } from '../balancer/endpoint-state.ts';
import type { Outcome } from '../stack/env.ts';
import { BUCKETS, bucketOf, toSparse } from './histogram.ts';
import type { TrafficReportRow } from './report.ts';

/** One endpoint and subset of one destination: the counts since the last report. */
export class SummaryRow {
  readonly subset: string;
  readonly endpoint: EndpointState;
  /** The next row of the same endpoint (another subset), or undefined. */
  next: SummaryRow | undefined;
  requests = 0;
  failure = 0;
  retryable = 0;
  /** Whether the row counted anything since its last report. */
  touched = false;
  readonly latency = new Uint32Array(BUCKETS);

  constructor(subset: string, endpoint: EndpointState) {
    this.subset = subset;
    this.endpoint = endpoint;
  }

  reset(): void {
    this.requests = this.failure = this.retryable = 0;
    this.latency.fill(0);
    this.touched = false;
  }
}

/** The rows of one destination of one client, filled by its `endpoint` module. */
export class DestinationSummary {
  readonly destination: string;
  readonly endpoints: EndpointSet;
  /** The first row of each endpoint (the others follow `next`). */
  readonly #rows = new Map<EndpointState, SummaryRow>();
  #closed = false;

  constructor(destination: string, endpoints: EndpointSet) {
    this.destination = destination;
    this.endpoints = endpoints;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Counts one attempt on `endpoint` for `subset` ("" without a Route). Cancelled ones are skipped. */
  record(endpoint: EndpointState, subset: string, latencyMs: number, outcome: Outcome): void {
    if (outcome === 'ignored') return;
    let row = this.#rows.get(endpoint);
    while (row !== undefined && row.subset !== subset) row = row.next;
    if (row === undefined) row = this.#add(endpoint, subset);
    row.requests++;
    row.touched = true;
    if (outcome === 'failure') row.failure++;
    else if (outcome === 'retryable') row.retryable++;
    row.latency[bucketOf(latencyMs)]!++;
  }

  #add(endpoint: EndpointState, subset: string): SummaryRow {
    const row = new SummaryRow(subset, endpoint);
    const first = this.#rows.get(endpoint);
    if (first === undefined) this.#rows.set(endpoint, row);
    else {
      row.next = first.next;
      first.next = row;
    }
    return row;
  }

  /**
   * Moves the rows that counted something into `out` (at most `room` of them; returns how many
   * were left out, whose counts are dropped) and resets them. Rows of endpoints the resolver
   * dropped are forgotten once they are idle.
   */
  drain(out: TrafficReportRow[], room: number, now: number): number {
    let left = 0;
    const decay = this.endpoints.decayMs;
    for (const [endpoint, first] of this.#rows) {
      for (let row: SummaryRow | undefined = first; row !== undefined; row = row.next) {
        if (!row.touched) continue;
        if (out.length < room) out.push(toWire(this.destination, row, now, decay));
        else left++;
        row.reset();
      }
      if (endpoint.removed && !anyTouched(first)) this.#rows.delete(endpoint);
    }
    return left;
  }

  /** How many rows the destination holds. */
  get size(): number {
    let n = 0;
    for (const first of this.#rows.values()) for (let r: SummaryRow | undefined = first; r; r = r.next) n++;
    return n;
  }

  close(): void {
    this.#closed = true;
  }
}

function anyTouched(first: SummaryRow): boolean {
  for (let r: SummaryRow | undefined = first; r !== undefined; r = r.next) if (r.touched) return true;
  return false;
}

function toWire(destination: string, row: SummaryRow, now: number, decay: number): TrafficReportRow {
  const failures: Record<string, number> = {};
  if (row.failure > 0) failures.failure = row.failure;
  if (row.retryable > 0) failures.retryable = row.retryable;
  const ep = row.endpoint;
  const estimate = ep.latency(now, decay);
  return {
    destination,
    subset: row.subset,
    endpoint: ep.key,
    requests: row.requests,
    failures,
    latency: toSparse(row.latency),
    state: {
      healthy: ep.health === 'healthy',
      ejected: ep.health !== 'healthy',
      latencyEstimateMs: estimate > 0 ? Math.round(estimate * 1000) / 1000 : null,
    },
  };
}
