/**
 * The config service reading its traffic views from a real Prometheus: a Weft client exports its
 * metrics with the OpenTelemetry Prometheus exporter, a Prometheus server (Debian's, installed by
 * the test setup) scrapes it every second as job `web`, and `GET /v1/traffic…` of a config service
 * started with `--traffic-source prometheus` shows the edge, its endpoints and failures.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { metrics } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import type { ServiceTraffic, TrafficGraph } from '@weft/control-plane';
import { type ServiceProcess, startService, tempDir } from '@weft/control-plane/testing';
import { createClient } from '@weft/http';
import { delay, eventually, startServer, type TestServer } from './helpers.ts';

const dir = tempDir('weft-prom-');
const closers: (() => Promise<unknown>)[] = [];
let promUrl: string;
let prometheus: ChildProcess;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

async function promQuery(q: string): Promise<{ value: [number, string] }[]> {
  const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`);
  return ((await res.json()) as { data: { result: { value: [number, string] }[] } }).data.result;
}

let exporterPort: number;
before(async () => {
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const provider = new MeterProvider({ readers: [exporter] });
  metrics.setGlobalMeterProvider(provider);
  const scrape: Server = createServer((req, res) => exporter.getMetricsRequestHandler(req, res));
  await new Promise<void>((r) => scrape.listen(0, '127.0.0.1', r));
  exporterPort = (scrape.address() as AddressInfo).port;
  closers.push(
    () => provider.shutdown(),
    () => new Promise((r) => scrape.close(r)),
  );

  const port = await freePort();
  promUrl = `http://127.0.0.1:${port}`;
  const config = join(dir.path, 'prometheus.yml');
  writeFileSync(
    config,
    [
      'global: { scrape_interval: 1s, evaluation_interval: 1s }',
      'scrape_configs:',
      '  - job_name: web',
      `    static_configs: [{ targets: ['127.0.0.1:${exporterPort}'] }]`,
      '',
    ].join('\n'),
  );
  prometheus = spawn(
    'prometheus',
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir.path, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  prometheus.stderr!.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise((r) => prometheus.once('exit', r));
  closers.push(async () => {
    prometheus.kill('SIGKILL');
    await exited;
  });
  await eventually(async () => {
    assert.equal(prometheus.exitCode, null, `prometheus exited: ${stderr}`);
    const ready = await fetch(`${promUrl}/-/ready`).catch(() => undefined);
    assert.equal(ready?.status, 200);
  }, 20_000);
});
after(async () => {
  for (const c of closers.reverse()) await c();
  dir.remove();
});

describe('traffic views from Prometheus', () => {
  test('GET /v1/traffic… from the client histograms Prometheus scraped', async () => {
    let okCalls = 0;
    let flakyCalls = 0;
    const ok: TestServer = await startServer((_req, res) => {
      okCalls++;
      res.end('ok');
    });
    // Fails every third request with a 500 (not retried), never five in a row (no ejection).
    const flaky: TestServer = await startServer((_req, res) => {
      res.statusCode = ++flakyCalls % 3 === 0 ? 500 : 200;
      res.end('x');
    });
    closers.push(
      () => ok.close(),
      () => flaky.close(),
    );
    const users = createClient({
      service: 'users',
      endpoints: [ok.endpoint, flaky.endpoint],
      balancer: 'round-robin',
    });
    closers.push(() => users.close());
    // First every series (each endpoint, success and failure) once, scraped: a series Prometheus
    // first sees already counted would hide its first calls from increase().
    while (okCalls < 1 || flakyCalls < 3) await (await users.fetch('/')).text();
    await eventually(
      async () => assert.ok((await promQuery('http_client_request_duration_count')).length >= 3),
      15_000,
    );
    await delay(1500);
    let failures = 0;
    for (let i = 0; i < 60; i++) {
      const res = await users.fetch('/');
      await res.text();
      if (res.status === 500) failures++;
    }
    assert.ok(failures > 0);
    // Two more scrapes see every call.
    await delay(2500);

    const cp: ServiceProcess = await startService({
      args: ['--traffic-source', 'prometheus', '--prometheus-url', promUrl],
    });
    closers.push(() => cp.stop());
    const get = async <T>(path: string) => {
      const res = await fetch(`${cp.url}${path}`, { headers: { authorization: `Bearer ${cp.token}` } });
      assert.equal(res.status, 200, await res.clone().text());
      return (await res.json()) as T;
    };
    const graph = await get<TrafficGraph>('/v1/traffic?windowS=60');
    const edge = graph.edges.find((e) => e.from === 'web' && e.to === 'users');
    assert.ok(edge, JSON.stringify(graph));
    // increase() extrapolates to the window's edges: about the 60 calls made after the first scrape
    // (it read 81 once on a loaded machine, so the upper bound leaves room for it).
    assert.ok(edge.requests >= 50 && edge.requests <= 100, `requests ${edge.requests}`);
    const failed = edge.failuresByClass['500'] ?? 0;
    assert.ok(failed >= failures * 0.7 && failed <= failures * 1.7, `failures ${failed} of ${failures}`);
    assert.ok(edge.successRate !== null && edge.successRate < 1);
    assert.ok(edge.p50Ms !== null && edge.p99Ms !== null && edge.p50Ms <= edge.p99Ms);
    assert.equal(graph.reporters, 1);

    const web = await get<ServiceTraffic>('/v1/traffic/services/web?windowS=60');
    assert.deepEqual(web.endpoints.map((e) => e.endpoint).sort(), [ok.endpoint, flaky.endpoint].sort());
    const bad = web.endpoints.find((e) => e.endpoint === flaky.endpoint)!;
    assert.ok(bad.failures > 0);
    assert.equal(web.outbound[0]?.to, 'users');
    const usersView = await get<ServiceTraffic>('/v1/traffic/services/users?windowS=60');
    assert.equal(usersView.inbound[0]?.from, 'web');
    assert.ok(
      usersView.series.points.some((p) => p.rps > 0),
      JSON.stringify(usersView.series),
    );
  });
});
