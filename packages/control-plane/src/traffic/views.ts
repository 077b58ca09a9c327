/**
 * The views of `GET /v1/traffic…` over the rolling window: golden metrics (requests, failures by
 * class, rps, success rate, p50/p95/p99) per edge, per service, per subset and per endpoint, and a
 * service's series by time bucket. Quantiles come from the merged histograms of the buckets read,
 * so they are exact to the histogram's bucket (±2.2%), whatever the number of processes merged.
 */
import { quantile, SUMMARY_BUCKETS } from '@weft/core';
import type { Edge, Metrics, ServiceTraffic, TrafficGraph } from './contract.ts';
import type { Series, TrafficWindow } from './window.ts';

export type { Edge, EndpointTraffic, Metrics, ServiceTraffic, TrafficGraph } from './contract.ts';

/** Counts being added up for one group. */
class Acc {
  requests = 0;
  failures: Record<string, number> = {};
  readonly hist = new Float64Array(SUMMARY_BUCKETS);

  reset(): void {
    this.requests = 0;
    this.failures = {};
    this.hist.fill(0);
  }

  /** Adds slot `slot` of `series`. */
  add(series: Series, slot: number): void {
    const h = series.hists[slot]!;
    this.requests += h[0]!;
    for (let k = 1; k < h.length; k += 2) this.hist[h[k]!]! += h[k + 1]!;
    const f = series.failures[slot];
    if (f !== undefined) for (const k in f) this.failures[k] = (this.failures[k] ?? 0) + f[k]!;
  }

  metrics(spanS: number): Metrics {
    let failures = 0;
    for (const k in this.failures) failures += this.failures[k]!;
    const total = this.requests;
    let counted = 0;
    for (let i = 0; i < this.hist.length; i++) counted += this.hist[i]!;
    return {
      requests: total,
      failures,
      failuresByClass: { ...this.failures },
      rps: Math.round((total / spanS) * 1000) / 1000,
      successRate: total > 0 ? Math.round(((total - failures) / total) * 1e6) / 1e6 : null,
      p50Ms: quantile(this.hist, counted, 0.5),
      p95Ms: quantile(this.hist, counted, 0.95),
      p99Ms: quantile(this.hist, counted, 0.99),
    };
  }
}

const EMPTY = new Acc();

function group<K>(map: Map<K, Acc>, key: K): Acc {
  let acc = map.get(key);
  if (acc === undefined) {
    acc = new Acc();
    map.set(key, acc);
  }
  return acc;
}

/** The window's span read, in seconds (never under 1 s: a young window is not divided by zero). */
function spanOf(window: TrafficWindow, first: number): number {
  const start = Math.max(first * window.bucketMs, window.startedAt);
  return Math.max(1, (window.now() - start) / 1000);
}

/**
 * The slots of `series` holding buckets `first`..`last` with requests (only those slots are read),
 * into `out`; returns how many there are (0: the series counted nothing in the span).
 */
function slotsIn(window: TrafficWindow, series: Series, first: number, last: number, out: number[]): number {
  let n = 0;
  const slots = window.slots;
  for (let b = first; b <= last; b++) {
    const slot = b % slots;
    if (series.buckets[slot] === b && series.hists[slot]![0]! > 0) out[n++] = slot;
  }
  return n;
}

const SEP = '\u0000';

export function trafficGraph(window: TrafficWindow, windowS: number): TrafficGraph {
  const now = window.now();
  const first = window.firstBucket(windowS * 1000);
  const span = spanOf(window, first);
  const edges: Edge[] = [];
  const inbound = new Map<string, Acc>();
  const outbound = new Map<string, Acc>();
  const last = Math.floor(now / window.bucketMs);
  const cells: number[] = [];
  // One rollup series per edge: its metrics are made at once, in one reused accumulator.
  const edge = new Acc();
  for (const series of window.edges.values()) {
    const n = slotsIn(window, series, first, last, cells);
    if (n === 0) continue;
    edge.reset();
    const out = group(outbound, series.from);
    const into = group(inbound, series.to);
    for (let k = 0; k < n; k++) {
      edge.add(series, cells[k]!);
      out.add(series, cells[k]!);
      into.add(series, cells[k]!);
    }
    edges.push({ from: series.from, to: series.to, ...edge.metrics(span) });
  }
  const services = [...new Set([...inbound.keys(), ...outbound.keys()])].sort();
  return {
    windowS,
    now: new Date(now).toISOString(),
    reporters: window.reportersSince(now - windowS * 1000),
    nodes: services.map((service) => ({
      service,
      inbound: (inbound.get(service) ?? EMPTY).metrics(span),
      outbound: (outbound.get(service) ?? EMPTY).metrics(span),
    })),
    edges: edges.sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to)),
  };
}

export function serviceTraffic(window: TrafficWindow, service: string, windowS: number): ServiceTraffic {
  const now = window.now();
  const first = window.firstBucket(windowS * 1000);
  const span = spanOf(window, first);
  const inbound = new Map<string, Acc>();
  const outbound = new Map<string, Acc>();
  const subsets = new Map<string, Acc>();
  const endpoints = new Map<string, { acc: Acc; series: Series }>();
  const byBucket = new Map<number, Acc>();
  const last = Math.floor(now / window.bucketMs);
  const cells: number[] = [];
  for (const series of window.series.values()) {
    if (series.to !== service && series.from !== service) continue;
    const n = slotsIn(window, series, first, last, cells);
    if (n === 0) continue;
    if (series.to === service) {
      const into = group(inbound, series.from);
      for (let k = 0; k < n; k++) {
        into.add(series, cells[k]!);
        group(byBucket, series.buckets[cells[k]!]!).add(series, cells[k]!);
      }
    }
    if (series.from === service) {
      const key = `${series.to}${SEP}${series.subset}${SEP}${series.endpoint}`;
      let e = endpoints.get(key);
      if (e === undefined) {
        e = { acc: new Acc(), series };
        endpoints.set(key, e);
      } else if (series.lastAt > e.series.lastAt) e.series = series;
      const out = group(outbound, series.to);
      const sub = group(subsets, `${series.to}${SEP}${series.subset}`);
      for (let k = 0; k < n; k++) {
        out.add(series, cells[k]!);
        sub.add(series, cells[k]!);
        e.acc.add(series, cells[k]!);
      }
    }
  }
  const byName = (a: { destination: string }, b: { destination: string }) =>
    a.destination.localeCompare(b.destination);
  const destinations = [...outbound].map(([destination, acc]) => ({ destination, ...acc.metrics(span) }));
  const totals = new Map(destinations.map((d) => [d.destination, d.requests]));
  const bucketS = window.bucketMs / 1000;
  const current = last;
  const points = [];
  for (let b = first; b <= current; b++) {
    const acc = byBucket.get(b) ?? EMPTY;
    const elapsed = b === current ? Math.max(1, (now - b * window.bucketMs) / 1000) : bucketS;
    const m = acc.metrics(elapsed);
    points.push({
      t: new Date(b * window.bucketMs).toISOString(),
      rps: m.rps,
      successRate: m.successRate,
      p99Ms: m.p99Ms,
    });
  }
  return {
    service,
    windowS,
    now: new Date(now).toISOString(),
    inbound: [...inbound]
      .map(([from, acc]) => ({ from, to: service, ...acc.metrics(span) }))
      .sort((a, b) => a.from.localeCompare(b.from)),
    outbound: [...outbound]
      .map(([to, acc]) => ({ from: service, to, ...acc.metrics(span) }))
      .sort((a, b) => a.to.localeCompare(b.to)),
    subsets: [...subsets]
      .map(([key, acc]) => {
        const [destination, subset] = key.split(SEP) as [string, string];
        return { destination, subset, ...acc.metrics(span) };
      })
      .sort((a, b) => byName(a, b) || a.subset.localeCompare(b.subset)),
    endpoints: [...endpoints.values()]
      .map(({ acc, series }) => {
        const m = acc.metrics(span);
        const total = totals.get(series.to) ?? 0;
        return {
          destination: series.to,
          subset: series.subset,
          endpoint: series.endpoint,
          ...m,
          share: total > 0 ? Math.round((m.requests / total) * 1e6) / 1e6 : 0,
          ...(series.state ? { state: { ...series.state } } : {}),
        };
      })
      .sort(
        (a, b) => byName(a, b) || a.subset.localeCompare(b.subset) || a.endpoint.localeCompare(b.endpoint),
      ),
    destinations: destinations.sort(byName),
    series: { stepS: bucketS, points },
  };
}
