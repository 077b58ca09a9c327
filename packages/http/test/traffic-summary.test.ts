/**
 * Golden metrics end to end: a real config-service process, real HTTP backends, and a Weft client
 * whose config client sends traffic summaries; the service's `GET /v1/traffic…` shows the edge, the
 * endpoints and their failures, and a config service that goes away makes the process drop its
 * reports (counted), never queue them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ServiceTraffic, TrafficGraph } from '@weft/control-plane';
import { type ServiceProcess, startService, tempDir } from '@weft/control-plane/testing';
import { createConfigClient } from '@weft/core/config';
import { createClient } from '@weft/http';
import { eventually, startServer, type TestServer } from './helpers.ts';

let cp: ServiceProcess;
const dir = tempDir();
const servers: TestServer[] = [];

before(async () => {
  cp = await startService({ data: dir.path });
});
after(async () => {
  await cp.stop();
  await Promise.all(servers.map((s) => s.close()));
  dir.remove();
});

async function get<T>(path: string): Promise<T> {
  const res = await fetch(`${cp.url}${path}`, { headers: { authorization: `Bearer ${cp.token}` } });
  assert.equal(res.status, 200, `${path}: ${res.status}`);
  return (await res.json()) as T;
}

describe('traffic summaries', () => {
  test('a client reports its calls per endpoint; GET /v1/traffic shows the edge, its failures and latency', async () => {
    const ok = await startServer((_req, res) => res.end('ok'));
    // Fails every POST with a 500 (not retried: not idempotent), answers GETs.
    const flaky = await startServer((req, res) => {
      res.statusCode = req.method === 'POST' ? 500 : 200;
      res.end('x');
    });
    servers.push(ok, flaky);
    const config = createConfigClient({
      urls: cp.url,
      token: cp.token,
      service: 'web',
      traffic: { reportIntervalMs: 1000 },
    });
    await config.ready();
    // Round robin, so that POSTs reach the failing endpoint however the two endpoints' latencies
    // compare on a busy machine (a latency-aware balancer may keep every call on the faster one).
    const users = createClient({
      service: 'users',
      endpoints: [ok.endpoint, flaky.endpoint],
      config,
      balancer: 'round-robin',
    });
    for (let i = 0; i < 40; i++) await (await users.fetch('/')).text();
    let failures = 0;
    for (let i = 0; i < 20; i++) {
      const res = await users.fetch('/', { method: 'POST', body: 'x' });
      await res.text();
      if (res.status === 500) failures++;
    }
    assert.ok(failures > 0, 'some POSTs reached the failing endpoint');

    await eventually(async () => {
      const graph = await get<TrafficGraph>('/v1/traffic?windowS=60');
      const edge = graph.edges.find((e) => e.from === 'web' && e.to === 'users');
      assert.ok(edge, JSON.stringify(graph));
      assert.equal(edge.requests, 60);
      assert.equal(edge.failures, failures);
      assert.equal(edge.failuresByClass.failure, failures);
      assert.ok(edge.p50Ms !== null && edge.p99Ms !== null && edge.p50Ms > 0 && edge.p50Ms <= edge.p99Ms);
      assert.ok(edge.rps > 0);
      assert.equal(edge.successRate, Math.round(((60 - failures) / 60) * 1e6) / 1e6);
      assert.ok(graph.reporters >= 1);
      assert.deepEqual(
        graph.nodes.map((n) => n.service),
        ['users', 'web'],
      );
    }, 10_000);

    const web = await get<ServiceTraffic>('/v1/traffic/services/web');
    assert.equal(web.outbound.length, 1);
    assert.deepEqual(web.endpoints.map((e) => e.endpoint).sort(), [ok.endpoint, flaky.endpoint].sort());
    const shares = web.endpoints.reduce((n, e) => n + e.share, 0);
    assert.ok(Math.abs(shares - 1) < 1e-3, `shares add up to 1: ${shares}`);
    const bad = web.endpoints.find((e) => e.endpoint === flaky.endpoint)!;
    assert.equal(bad.failures, failures);
    assert.equal(bad.subset, '');
    assert.equal(typeof bad.state?.healthy, 'boolean');
    assert.equal(web.destinations[0]?.destination, 'users');

    const usersView = await get<ServiceTraffic>('/v1/traffic/services/users?windowS=30');
    assert.equal(usersView.inbound[0]?.from, 'web');
    assert.equal(usersView.inbound[0]?.requests, 60);
    assert.ok(usersView.series.points.length >= 3);
    assert.ok(usersView.series.points.some((p) => p.rps > 0));

    assert.ok(config.traffic!.stats.reportsSent >= 1);
    await users.close();
    await config.close();
  });

  test('the query window is checked; a service token reports only as its own service', async () => {
    const res = await fetch(`${cp.url}/v1/traffic?windowS=5`, {
      headers: { authorization: `Bearer ${cp.token}` },
    });
    assert.equal(res.status, 400);
    assert.match(JSON.stringify(await res.json()), /windowS/);
    const created = await fetch(`${cp.url}/v1/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cp.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'orders', role: 'service' }),
    });
    const { token } = (await created.json()) as { token: string };
    const report = (service: string) =>
      fetch(`${cp.url}/v1/traffic/reports`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          reporter: { id: 'p1', service },
          histogram: 'log2-16@0.01ms',
          intervalMs: 5000,
          dropped: { rows: 0, reports: 0 },
          rows: [],
        }),
      });
    assert.equal((await report('orders')).status, 202);
    assert.equal((await report('billing')).status, 403);
    const noToken = await fetch(`${cp.url}/v1/traffic`);
    assert.equal(noToken.status, 401);
  });

  test('while the config service is away, reports are dropped and counted, not queued', async () => {
    const backend = await startServer((_req, res) => res.end('ok'));
    servers.push(backend);
    const other = await startService({});
    const config = createConfigClient({
      urls: other.url,
      token: other.token,
      service: 'web',
      traffic: { reportIntervalMs: 1000 },
      backoffMaxMs: 200,
    });
    await config.ready();
    const client = createClient({ service: 'users', endpoints: [backend.endpoint], config });
    await (await client.fetch('/')).text();
    await eventually(() => assert.ok(config.traffic!.stats.reportsSent >= 1), 10_000);
    await other.kill();
    for (let i = 0; i < 5; i++) await (await client.fetch('/')).text();
    await eventually(() => assert.ok(config.traffic!.stats.reportsDropped >= 2), 10_000);
    // Every interval's counts went with its dropped report: nothing waits to be sent.
    const pending = config.traffic!.collect();
    assert.equal(pending.rows.length, 0);
    assert.ok(pending.dropped.reports >= 2);
    await client.close();
    await config.close();
  });
});
