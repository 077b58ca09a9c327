/**
 * The recipe of docs/operations.md, as written there: Prometheus metrics on the application's own
 * port with `@opentelemetry/exporter-prometheus`, the route mounted before Weft's middleware so a
 * scrape is never shed or refused while draining; Weft's client metrics appear per endpoint.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { metrics } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { createClient } from '@weft/http';
import { weft } from '@weft/http/express';
import express from 'express';
import { startServer, type TestServer } from './helpers.ts';

const closers: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of closers.reverse()) await c();
});

test('Prometheus on the app port: /metrics answers while draining and shows per-endpoint durations', async () => {
  // --- the recipe ---
  const prometheus = new PrometheusExporter({ preventServerStart: true });
  const provider = new MeterProvider({ readers: [prometheus] });
  metrics.setGlobalMeterProvider(provider);
  const mesh = weft({ drainSignals: false, drainDelayMs: 1000 });
  const app = express();
  app.get('/metrics', (req, res) => prometheus.getMetricsRequestHandler(req, res)); // before the mesh
  app.use(mesh);
  // --- end of the recipe ---
  const backend: TestServer = await startServer((_req, res) => res.end('ok'));
  const catalog = createClient({ service: 'catalog', endpoints: [backend.endpoint] });
  app.get('/', async (_req, res) => {
    res.send(await (await catalog.fetch('/')).text());
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  mesh.attach(server);
  closers.push(
    () => provider.shutdown(),
    () => backend.close(),
    () => catalog.close(),
  );
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  for (let i = 0; i < 3; i++) assert.equal(await (await fetch(`${base}/`)).text(), 'ok');

  const drained = mesh.drain();
  const scrape = await fetch(`${base}/metrics`);
  assert.equal(scrape.status, 200, 'a scrape is answered while draining');
  const text = await scrape.text();
  const line = text
    .split('\n')
    .find(
      (l) => l.startsWith('http_client_request_duration_count{') && l.includes('server_address="catalog"'),
    );
  assert.ok(line, `the client's attempt durations are exported:\n${text.slice(0, 2000)}`);
  assert.match(line, new RegExp(`network_peer_port="${backend.port}"`));
  assert.match(line, / 3$/);
  assert.match(text, /http_server_request_duration_count\{/);
  await drained;
});
