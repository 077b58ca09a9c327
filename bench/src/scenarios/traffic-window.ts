/**
 * 14. The config service holding 1,000 reporting processes × 20 edges: 100 services × 10 replicas,
 * each process reporting every 5 s on 20 destinations (one endpoint of 10 each), so the window
 * holds 20,000 series. The service runs in this process on an injected clock that moves 5 s per
 * round of reports, so the 15-min window fills in seconds instead of minutes; reports go through
 * its HTTP routes (`inject`, validation included), the views are read over real HTTP on loopback.
 * Measured: the heap the filled window holds (after a GC) and `GET /v1/traffic` latency.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlPlane } from '@weft/control-plane';
import { bucketOf, HISTOGRAM_SCHEMA, type TrafficReport } from '@weft/core';
import {
  type BenchContext,
  fixed,
  int,
  ms,
  type Scenario,
  type ScenarioResult,
  table,
} from '../lib/context.ts';
import { percentile } from '../lib/stats.ts';

const SERVICES = 100;
const REPLICAS = 10;
const EDGES = 20;
const INTERVAL_MS = 5_000;

function report(s: number, r: number, round: number): TrafficReport {
  const rows = [];
  for (let e = 0; e < EDGES; e++) {
    const d = (s + 1 + e) % SERVICES;
    const requests = 200 + ((s * 7 + e * 13 + round) % 100);
    // A few latency buckets per row, as real traffic has.
    const base = 1 + ((d * 3) % 40);
    const i = [bucketOf(base), bucketOf(base * 1.5), bucketOf(base * 3), bucketOf(base * 10)];
    const c = [Math.floor(requests * 0.6), Math.floor(requests * 0.3), Math.floor(requests * 0.09)];
    c.push(requests - c[0]! - c[1]! - c[2]!);
    rows.push({
      destination: `svc-${d}`,
      subset: '',
      endpoint: `10.2.${d}.${r + 1}:8080`,
      requests,
      failures: (s + e + round) % 10 === 0 ? { failure: 2 } : {},
      latency: { i, c },
      state: { healthy: true, ejected: false, latencyEstimateMs: base },
    });
  }
  return {
    reporter: { id: `proc-${s}-${r}`, service: `svc-${s}` },
    histogram: HISTOGRAM_SCHEMA,
    intervalMs: INTERVAL_MS,
    dropped: { rows: 0, reports: 0 },
    rows,
  };
}

export const trafficWindow: Scenario = {
  id: 'traffic-window',
  title: '14. Config service: 1,000 reporting processes × 20 edges',
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const dir = mkdtempSync(join(tmpdir(), 'weft-bench-window-'));
    let now = Date.now();
    const token = `weft_${randomBytes(8).toString('hex')}_${randomBytes(32).toString('base64url')}`;
    const service = await startControlPlane({
      port: 0,
      data: dir,
      adminToken: token,
      now: () => now,
      print: () => {},
    });
    const { app, url } = service;
    // The 15 minutes of the window, or one minute of it in the quick run.
    const rounds = ctx.quick ? 12 : 180;
    const gc = (globalThis as { gc?: () => void }).gc;
    try {
      gc?.();
      const heapBefore = process.memoryUsage().heapUsed;
      const ingest = performance.now();
      for (let round = 0; round < rounds; round++) {
        for (let s = 0; s < SERVICES; s++)
          for (let r = 0; r < REPLICAS; r++) {
            const res = await app.inject({
              method: 'POST',
              url: '/v1/traffic/reports',
              headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
              payload: JSON.stringify(report(s, r, round)),
            });
            if (res.statusCode !== 202) throw new Error(`report refused: ${res.statusCode} ${res.body}`);
          }
        now += INTERVAL_MS;
      }
      const ingestMs = performance.now() - ingest;
      gc?.();
      const heapMiB = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
      const reports = rounds * SERVICES * REPLICAS;
      ctx.log(
        `traffic window: ${int(reports)} reports in ${fixed(ingestMs / 1000, 1)} s, ${fixed(heapMiB, 0)} MiB`,
      );

      const time = async (path: string, n: number) => {
        const samples: number[] = [];
        for (let k = 0; k < n; k++) {
          const t0 = performance.now();
          const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } });
          const body = (await res.json()) as { edges?: unknown[] };
          if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
          samples.push(performance.now() - t0);
          if (k === 0 && path.startsWith('/v1/traffic?') && (body.edges?.length ?? 0) !== SERVICES * EDGES)
            throw new Error(`${path}: ${body.edges?.length} edges, expected ${SERVICES * EDGES}`);
        }
        return samples.sort((a, b) => a - b);
      };
      const n = ctx.quick ? 10 : 50;
      // Steady state: the ingest's garbage collected, one read made before the ones timed.
      gc?.();
      await time('/v1/traffic?windowS=60', 1);
      const views = [
        ['GET /v1/traffic?windowS=60', await time('/v1/traffic?windowS=60', n)],
        ['GET /v1/traffic?windowS=900', await time('/v1/traffic?windowS=900', n)],
        ['GET /v1/traffic/services/svc-7?windowS=60', await time('/v1/traffic/services/svc-7?windowS=60', n)],
      ] as const;
      const p99 = percentile(views[0][1], 99);
      return {
        id: 'traffic-window',
        title: this.title,
        setup: `${SERVICES} services × ${REPLICAS} processes, each reporting ${EDGES} rows every 5 s (${int(SERVICES * EDGES * REPLICAS)} series); ${rounds} rounds (${fixed((rounds * INTERVAL_MS) / 60_000, 0)} min of window) through the HTTP routes; ${n} reads of each view over loopback.`,
        tables: [
          table(
            ['what', 'figure'],
            [
              [
                'reports ingested',
                `${int(reports)} in ${fixed(ingestMs / 1000, 1)} s (${fixed((ingestMs * 1000) / reports, 0)} µs each)`,
              ],
              ['heap held by the window', `${fixed(heapMiB, 0)} MiB`],
            ],
          ),
          table(
            ['view', 'p50 ms', 'p99 ms'],
            views.map(([name, s]) => [name, ms(percentile(s, 50)), ms(percentile(s, 99))]),
          ),
        ],
        goals: [
          {
            text: '`GET /v1/traffic` p99 ≤ 100 ms with 1,000 processes × 20 edges',
            measured: `${ms(p99)} ms`,
            met: p99 <= 100,
          },
        ],
        notes: [
          'Memory is bounded by the series cap (50,000 by default) and the window (90 buckets of 10 s): about 2.5 KiB per series plus about 120 bytes per series and bucket with traffic (its non-empty latency buckets), so some 300 MiB for these 20,000 series over the whole window and at most about 750 MiB at the cap.',
          ...(ctx.quick
            ? ['Quick run: one minute of window, so the heap figure is a fraction of the full one.']
            : []),
        ],
        figures: {
          reports,
          ingestMs,
          heapMiB,
          p99Ms: p99,
          views: Object.fromEntries(
            views.map(([k, s]) => [k, { p50: percentile(s, 50), p99: percentile(s, 99) }]),
          ),
        },
      };
    } finally {
      await service.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
