/**
 * The client's metrics through a real OpenTelemetry metrics SDK: the semantic-convention duration
 * per attempt, and Weft's own counters (calls, retries, ejections, breaker transitions).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createClient } from '@weft/http';
import { installOtel, points } from './chain-otel.ts';
import { startServer, type TestServer } from './helpers.ts';

let uninstall: () => Promise<void>;
const servers: TestServer[] = [];
before(() => {
  uninstall = installOtel();
});
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await uninstall();
});

const total = async (name: string, where: Record<string, unknown> = {}) =>
  (await points(name))
    .filter((p) => Object.entries(where).every(([k, v]) => p.attributes[k] === v))
    .reduce(
      (sum, p) => sum + (typeof p.value === 'number' ? p.value : ((p.value as { count: number }).count ?? 0)),
      0,
    );

test('attempts, calls, retries, ejections and breaker transitions are counted', async () => {
  const failing = await startServer((_req, res) => {
    res.statusCode = 503;
    res.end();
  });
  const good = await startServer((_req, res) => res.end('ok'));
  servers.push(failing, good);
  const client = createClient({
    service: 'metered',
    endpoints: [failing.endpoint, good.endpoint],
    balancer: 'round-robin',
    outlierDetection: { consecutiveFailures: 3, baseEjectionMs: 60_000 },
    circuitBreaker: { volumeThreshold: 1_000 },
    // Attempts are counted exactly: on a loaded machine a stall past the adaptive per-try timeout
    // (100 ms at least) would retry a healthy attempt and add one.
    adaptivePerTry: false,
  });
  for (let i = 0; i < 10; i++) assert.equal((await client.fetch('/')).status, 200);
  await client.close();

  const attempts = await total('http.client.request.duration', { 'server.address': 'metered' });
  const failedAttempts = await total('http.client.request.duration', { 'http.response.status_code': 503 });
  assert.equal(attempts, 10 + failing.requests.length, 'one duration per attempt');
  assert.equal(failedAttempts, failing.requests.length);
  assert.equal(await total('weft.client.calls', { 'server.address': 'metered', outcome: 'success' }), 10);
  assert.equal(await total('weft.client.retries', { 'server.address': 'metered' }), failing.requests.length);
  assert.equal(failing.requests.length, 3, 'ejected after three consecutive failures');
  assert.equal(await total('weft.endpoint.ejections', { 'server.address': 'metered' }), 1);
});

test('attempt durations name the endpoint and its version, so a slow replica is visible', async () => {
  const v1 = await startServer((_req, res) => res.end('v1'));
  const v2 = await startServer((_req, res) => res.end('v2'));
  servers.push(v1, v2);
  const client = createClient({
    service: 'per-endpoint',
    endpoints: [
      { address: '127.0.0.1', port: v1.port, labels: { version: 'v1' } },
      { address: '127.0.0.1', port: v2.port, labels: { version: 'v2' } },
    ],
    balancer: 'round-robin',
    adaptivePerTry: false, // as above: three attempts per endpoint, whatever the machine's load
  });
  for (let i = 0; i < 6; i++) await (await client.fetch('/')).text();
  await client.close();
  const where = (port: number, version: string) => ({
    'server.address': 'per-endpoint',
    'weft.destination': 'per-endpoint',
    'network.peer.address': '127.0.0.1',
    'network.peer.port': port,
    'weft.version': version,
  });
  assert.equal(await total('http.client.request.duration', where(v1.port, 'v1')), 3);
  assert.equal(await total('http.client.request.duration', where(v2.port, 'v2')), 3);
});

test('breaker transitions are counted by state', async () => {
  const down = await startServer((_req, res) => {
    res.statusCode = 500;
    res.end();
  });
  servers.push(down);
  const client = createClient({
    service: 'tripped',
    endpoints: [down.endpoint],
    retry: false,
    outlierDetection: false,
    circuitBreaker: { volumeThreshold: 3, resetTimeoutMs: 60_000 },
  });
  for (let i = 0; i < 3; i++) assert.equal((await client.fetch('/')).status, 500);
  await assert.rejects(client.fetch('/'));
  await client.close();
  assert.equal(
    await total('weft.circuit_breaker.transitions', { 'server.address': 'tripped', state: 'open' }),
    1,
  );
});
