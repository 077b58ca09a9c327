/**
 * The config service's traffic window on the service's own clock: reports land in 10 s buckets,
 * `windowS` selects how many are read, old ones age out after 15 min, the series cap refuses new
 * rows (counted), and `/metrics` shows the service's own numbers in the Prometheus text format.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bucketOf, type TrafficReport } from '@weft/core';
import type { ServiceTraffic, TrafficGraph } from '../src/traffic/views.ts';
import { type InProcessService, startInProcess } from './inproc.ts';
import { call } from './service.ts';

let now = 1_000_000_000_000;
let svc: InProcessService;

before(async () => {
  svc = await startInProcess({ now: () => now, trafficWindow: { maxSeries: 4 } });
});
after(() => svc.close());

function report(
  id: string,
  service: string,
  rows: {
    destination: string;
    endpoint: string;
    requests: number;
    failures?: number;
    ms: number;
    subset?: string;
  }[],
): TrafficReport {
  return {
    reporter: { id, service },
    histogram: 'log2-16@0.01ms',
    intervalMs: 5000,
    dropped: { rows: 0, reports: 0 },
    rows: rows.map((r) => ({
      destination: r.destination,
      subset: r.subset ?? '',
      endpoint: r.endpoint,
      requests: r.requests,
      failures: (r.failures ? { failure: r.failures } : {}) as Record<string, number>,
      latency: { i: [bucketOf(r.ms)], c: [r.requests] },
      state: { healthy: true, ejected: false, latencyEstimateMs: r.ms },
    })),
  };
}

const post = async (body: unknown) =>
  call(svc.url, 'POST', '/v1/traffic/reports', { token: svc.token, body });
const graph = async (windowS: number) =>
  (await call(svc.url, 'GET', `/v1/traffic?windowS=${windowS}`, { token: svc.token }))
    .body as unknown as TrafficGraph;

describe('traffic window', () => {
  test('reports from several processes merge per edge; windowS chooses the buckets read', async () => {
    assert.equal(
      (
        await post(
          report('a', 'web', [{ destination: 'users', endpoint: '10.0.0.1:80', requests: 100, ms: 10 }]),
        )
      ).status,
      202,
    );
    now += 120_000; // two minutes later
    await post(
      report('b', 'web', [
        { destination: 'users', endpoint: '10.0.0.2:80', requests: 50, failures: 5, ms: 100 },
      ]),
    );
    await post(
      report('c', 'users', [
        { destination: 'db', endpoint: '10.0.1.1:5432', requests: 30, ms: 2, subset: 'primary' },
      ]),
    );

    const last = await graph(60);
    const edge = last.edges.find((e) => e.from === 'web' && e.to === 'users')!;
    assert.equal(edge.requests, 50, 'only the last minute');
    assert.equal(edge.failuresByClass.failure, 5);
    assert.equal(edge.successRate, 0.9);
    assert.equal(last.reporters, 2);
    const all = await graph(900);
    const whole = all.edges.find((e) => e.from === 'web' && e.to === 'users')!;
    assert.equal(whole.requests, 150);
    assert.ok(whole.p50Ms! < 11 && whole.p99Ms! > 95, `${whole.p50Ms} ${whole.p99Ms}`);
    assert.deepEqual(
      all.nodes.map((n) => [n.service, n.inbound.requests, n.outbound.requests]),
      [
        ['db', 30, 0],
        ['users', 150, 30],
        ['web', 0, 150],
      ],
    );
    const users = (await call(svc.url, 'GET', '/v1/traffic/services/users?windowS=900', { token: svc.token }))
      .body as unknown as ServiceTraffic;
    assert.deepEqual(
      users.subsets.map((s) => [s.destination, s.subset, s.requests]),
      [['db', 'primary', 30]],
    );
    assert.equal(users.endpoints[0]?.share, 1);
    assert.equal(users.endpoints[0]?.state?.latencyEstimateMs, 2);
    assert.equal(users.series.stepS, 10);
    assert.equal(users.series.points.length, 90);
    assert.equal(
      users.series.points.reduce((n, p) => n + (p.rps > 0 ? 1 : 0), 0),
      2,
    );
  });

  test('the series cap refuses new rows and counts them; old buckets age out', async () => {
    const r = await post(
      report('d', 'billing', [
        { destination: 'users', endpoint: '10.0.0.9:80', requests: 1, ms: 1 },
        { destination: 'users', endpoint: '10.0.0.8:80', requests: 1, ms: 1 },
      ]),
    );
    assert.deepEqual(r.body, { accepted: 1, refused: 1 }, 'the window holds 4 series at most');
    const metrics = await fetch(`${svc.url}/metrics`, { headers: { authorization: `Bearer ${svc.token}` } });
    assert.equal(metrics.status, 200);
    const text = await metrics.text();
    assert.match(text, /^weft_config_traffic_series(\{[^}]*\})? 4$/m);
    assert.match(text, /^weft_config_traffic_rows_refused(_total)?(\{[^}]*\})? 1$/m);
    assert.match(text, /^weft_config_store_revision(\{[^}]*\})? \d+$/m);
    assert.match(text, /^weft_config_watch_streams(\{[^}]*\})? 0$/m);
    assert.match(text, /http_server_request_duration_count\{[^}]*http_route="\/v1\/traffic"/);
    assert.equal((await fetch(`${svc.url}/metrics`)).status, 401);

    now += 16 * 60_000;
    const later = await graph(900);
    assert.deepEqual(later.edges, [], 'nothing is left after 15 minutes');
    // The aged-out series make room again.
    const again = await post(
      report('e', 'billing', [{ destination: 'users', endpoint: '10.0.0.8:80', requests: 1, ms: 1 }]),
    );
    assert.deepEqual(again.body, { accepted: 1, refused: 0 });
  });

  test('a malformed report is refused with the field named', async () => {
    const bad = report('f', 'web', [{ destination: 'users', endpoint: '10.0.0.1:80', requests: 1, ms: 1 }]);
    const r = await post({ ...bad, histogram: 'linear' });
    assert.equal(r.status, 400);
    assert.match(JSON.stringify(r.body), /histogram/);
    const r2 = await post({ ...bad, rows: [{ ...bad.rows[0], latency: { i: [3, 2], c: [1, 1] } }] });
    assert.equal(r2.status, 400);
    assert.match(JSON.stringify(r2.body), /ascending/);
  });
});

describe('Prometheus traffic source', () => {
  test('quantiles interpolate within cumulative buckets as histogram_quantile does', async () => {
    const { histogramQuantile } = await import('../src/traffic/prometheus.ts');
    const buckets: [number, number][] = [
      [0.01, 50],
      [0.1, 90],
      [1, 100],
      [Number.POSITIVE_INFINITY, 100],
    ];
    assert.equal(histogramQuantile(buckets, 0.5), 10);
    assert.equal(histogramQuantile(buckets, 0.7), 55);
    assert.equal(histogramQuantile(buckets, 0.95), 550);
    assert.equal(histogramQuantile([], 0.5), null);
    assert.equal(histogramQuantile([[Number.POSITIVE_INFINITY, 0]], 0.5), null);
  });

  test('an unreachable Prometheus makes the views answer 502, naming the source', async () => {
    const { prometheusSource } = await import('../src/traffic/prometheus.ts');
    const other = await startInProcess({
      trafficSource: () => prometheusSource({ url: 'http://127.0.0.1:1', timeoutMs: 2000 }),
    });
    try {
      const r = await call(other.url, 'GET', '/v1/traffic', { token: other.token });
      assert.equal(r.status, 502);
      assert.equal(r.body.error.code, 'source_unavailable');
      assert.match(r.body.error.message, /prometheus/);
    } finally {
      await other.close();
    }
  });
});
