/**
 * Measures the dashboard's first paint against a config service holding the load: 1,000
 * reporting processes × 20 edges (100 services × 10 replicas, each calling 20 others), reports sent
 * through the real HTTP route. Prints the first contentful paint of the graph page, and when the
 * graph with all its services and edges is drawn. Run by hand:
 *   node --conditions=weft-source --disable-warning=ExperimentalWarning examples/test/dashboard/first-paint-at-scale.ts
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlPlane } from '@weft/control-plane';
import { bucketOf, HISTOGRAM_SCHEMA } from '@weft/core';
import { buildUi } from '../../../packages/control-plane/ui/build.mjs';
import { launch, openPage } from './browser.ts';

const SERVICES = 100;
const REPLICAS = 10;
const EDGES = 20;

const report = (s: number, r: number) => ({
  reporter: { id: `proc-${s}-${r}`, service: `svc-${s}` },
  histogram: HISTOGRAM_SCHEMA,
  intervalMs: 5000,
  dropped: { rows: 0, reports: 0 },
  rows: Array.from({ length: EDGES }, (_, e) => {
    const d = (s + 1 + e) % SERVICES;
    const base = 1 + ((d * 3) % 40);
    return {
      destination: `svc-${d}`,
      subset: '',
      endpoint: `10.2.${d}.${r + 1}:8080`,
      requests: 250,
      failures: e % 10 === 0 ? { failure: 2 } : {},
      latency: { i: [bucketOf(base), bucketOf(base * 3)], c: [200, 50] },
      state: { healthy: true, ejected: false, latencyEstimateMs: base },
    };
  }),
});

await buildUi({ ifStale: true });
const dir = mkdtempSync(join(tmpdir(), 'weft-paint-'));
const token = `weft_${randomBytes(8).toString('hex')}_${randomBytes(32).toString('base64url')}`;
const service = await startControlPlane({ port: 0, data: dir, adminToken: token, print: () => {} });
const browser = await launch();
try {
  for (let s = 0; s < SERVICES; s++)
    await Promise.all(
      Array.from({ length: REPLICAS }, async (_, r) => {
        const res = await fetch(`${service.url}/v1/traffic/reports`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(report(s, r)),
        });
        if (!res.ok) throw new Error(`report refused: ${res.status} ${await res.text()}`);
      }),
    );
  const page = await openPage(browser);
  await page.goto(`${service.url}/ui/#token=${token}`);
  await page.waitForSelector('[data-test=edge]', { timeout: 30_000 });
  const runs: string[] = [];
  for (let i = 0; i < 5; i++) {
    await page.reload();
    await page.waitForFunction((n) => document.querySelectorAll('[data-test=node]').length >= n, SERVICES, {
      timeout: 30_000,
    });
    const t = await page.evaluate(() => ({
      fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? Number.NaN,
      drawn: performance.now(),
      edges: document.querySelectorAll('[data-test=edge]').length,
    }));
    runs.push(
      `first contentful paint ${t.fcp.toFixed(0)} ms, graph (${SERVICES} services, ${t.edges} edges) drawn by ${t.drawn.toFixed(0)} ms`,
    );
  }
  for (const r of runs) console.log(r);
} finally {
  await browser.close();
  await service.close();
  rmSync(dir, { recursive: true, force: true });
}
