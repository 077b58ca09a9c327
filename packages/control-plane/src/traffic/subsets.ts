/**
 * The calls to one service per subset over a span of time, every caller merged: what a rollout's
 * analysis judges. Reads the rolling window's whole buckets that start in `[fromMs, toMs)`, so two
 * spans that meet never count a bucket twice or miss one (a bucket still filling is left to the
 * next span).
 */
import { quantile, SUMMARY_BUCKETS } from '@weft/core';
import type { TrafficWindow } from './window.ts';

/** One subset's counts over the span. */
export interface SubsetMetrics {
  requests: number;
  failures: number;
  /** 0–1; null without requests. */
  successRate: number | null;
  p99Ms: number | null;
}

/** The whole buckets of `window` a span covers: `[first, end)`. */
export function bucketSpan(
  window: TrafficWindow,
  fromMs: number,
  toMs: number,
): { first: number; end: number } {
  return { first: Math.floor(fromMs / window.bucketMs), end: Math.floor(toMs / window.bucketMs) };
}

/** The calls to `service` by subset (`""`: calls without a Route's subset) in `[fromMs, toMs)`. */
export function subsetTraffic(
  window: TrafficWindow,
  service: string,
  fromMs: number,
  toMs: number,
): Map<string, SubsetMetrics> {
  const { first, end } = bucketSpan(window, fromMs, toMs);
  const groups = new Map<string, { requests: number; failures: number; hist: Float64Array }>();
  const slots = window.slots;
  for (const series of window.series.values()) {
    if (series.to !== service) continue;
    for (let b = Math.max(first, end - slots); b < end; b++) {
      const slot = b % slots;
      if (series.buckets[slot] !== b) continue;
      const h = series.hists[slot];
      if (h === undefined || h[0] === 0) continue;
      let g = groups.get(series.subset);
      if (g === undefined) {
        g = { requests: 0, failures: 0, hist: new Float64Array(SUMMARY_BUCKETS) };
        groups.set(series.subset, g);
      }
      g.requests += h[0]!;
      for (let k = 1; k < h.length; k += 2) g.hist[h[k]!]! += h[k + 1]!;
      const f = series.failures[slot];
      if (f !== undefined) for (const c in f) g.failures += f[c]!;
    }
  }
  const out = new Map<string, SubsetMetrics>();
  for (const [subset, g] of groups) {
    let counted = 0;
    for (let i = 0; i < g.hist.length; i++) counted += g.hist[i]!;
    out.set(subset, {
      requests: g.requests,
      failures: g.failures,
      successRate: g.requests > 0 ? (g.requests - g.failures) / g.requests : null,
      p99Ms: quantile(g.hist, counted, 0.99),
    });
  }
  return out;
}
