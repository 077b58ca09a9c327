/**
 * The SDK steered by the config service, end to end: a real config-service process, the core config
 * client, two real OTLP/HTTP receivers and real Weft HTTP calls. Writing `Telemetry` documents moves
 * traces and metrics between the receivers, changes the export interval, the headers, the resource
 * attributes and the sampling ratio within seconds, measured at the receivers; nothing handed to the
 * SDK before a change is lost.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { trace } from '@opentelemetry/api';
import { type ServiceProcess, startService } from '@weft/control-plane/testing';
import { type ConfigClient, createConfigClient } from '@weft/core/config';
import { createClient, type WeftClient } from '@weft/http';
import { startTelemetry, type Telemetry } from '@weft/otel';
import { delay, eventually, metricNames, metricResource, type Receiver, startReceiver } from './receiver.ts';

let cp: ServiceProcess;
let a: Receiver;
let b: Receiver;
let config: ConfigClient;
let telemetry: Telemetry;
let client: WeftClient;
const backend = createServer((_req, res) => res.end('ok'));

async function put(name: string, spec: unknown): Promise<void> {
  const res = await fetch(`${cp.url}/v1/documents/Telemetry/${name}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${cp.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ spec }),
  });
  assert.ok(res.ok, `PUT Telemetry/${name}: ${res.status} ${await res.text()}`);
}

/** `n` calls, each under a root span of its own; returns the roots' trace ids. */
async function calls(n: number): Promise<string[]> {
  const tracer = trace.getTracer('live-config.test');
  const ids: string[] = [];
  for (let i = 0; i < n; i++)
    await tracer.startActiveSpan(`call ${i}`, async (root) => {
      ids.push(root.spanContext().traceId);
      await (await client.fetch('/')).text();
      root.end();
    });
  return ids;
}

before(async () => {
  [cp, a, b] = await Promise.all([startService(), startReceiver(), startReceiver()]);
  backend.listen(0, '127.0.0.1');
  await once(backend, 'listening');
  await put('mesh', {
    traces: { endpoint: `${a.url}/v1/traces`, protocol: 'http/json' },
    metrics: { endpoint: `${a.url}/v1/metrics`, protocol: 'http/json', exportIntervalMs: 1000 },
    resourceAttributes: { 'deployment.environment.name': 'test' },
  });
  config = createConfigClient({ urls: cp.url, token: cp.token });
  await config.ready();
  telemetry = startTelemetry({
    service: 'shop',
    config,
    instanceId: 'shop-1',
    spanExportDelayMs: 50,
    env: { WEFT_OTLP_KEY: 'secret-from-env' },
  });
  // Made after the SDK started: Weft's instruments bind to the meter provider registered then.
  client = createClient({
    service: 'catalog',
    endpoints: [{ address: '127.0.0.1', port: (backend.address() as AddressInfo).port }],
  });
});

after(async () => {
  await client?.close();
  await telemetry?.shutdown();
  await config?.close();
  backend.close();
  await Promise.all([cp?.stop(), a?.close(), b?.close()]);
});

test('the mesh document sends Weft’s spans and metrics to its endpoints, with its resource attributes', async () => {
  const roots = await calls(5);
  await eventually(() => {
    const got = a.spans().filter((s) => roots.includes(s.traceId));
    assert.ok(
      got.some((s) => s.name.startsWith('call ')),
      'the roots arrive',
    );
    assert.ok(got.length > roots.length, 'and the client spans Weft made under them');
    for (const s of got) {
      assert.equal(s.resource['service.name'], 'shop');
      assert.equal(s.resource['service.instance.id'], 'shop-1');
      assert.equal(s.resource['deployment.environment.name'], 'test');
    }
  });
  await eventually(() => {
    const exported = a.at('/v1/metrics');
    assert.ok(
      exported.some((e) => metricNames(e).some((n) => n.startsWith('http.client'))),
      'Weft’s HTTP metrics',
    );
    assert.equal(metricResource(exported.at(-1)!)['deployment.environment.name'], 'test');
  }, 4_000);
  assert.deepEqual(b.exports, []);
});

test('a service’s document moves traces and metrics to other endpoints live, losing no span', async () => {
  const before = await calls(20); // still in the batch or in flight when the document changes
  const written = Date.now();
  await put('shop', {
    traces: {
      endpoint: `${b.url}/v1/traces`,
      protocol: 'http/json',
      headers: { 'x-api-key': { fromEnv: 'WEFT_OTLP_KEY' }, 'x-team': 'checkout' },
    },
    metrics: { endpoint: `${b.url}/v1/metrics`, protocol: 'http/protobuf', exportIntervalMs: 2500 },
    resourceAttributes: { team: 'checkout' },
  });
  await eventually(() => assert.equal(telemetry.settings.traces?.endpoint, `${b.url}/v1/traces`));
  const applied = Date.now() - written;
  const afterIds = await calls(10);
  await telemetry.forceFlush();

  await eventually(() => {
    const atB = b.spans().filter((s) => afterIds.includes(s.traceId));
    assert.equal(
      new Set(atB.map((s) => s.traceId)).size,
      afterIds.length,
      'every trace after the change at B',
    );
    assert.ok(
      atB.every(
        (s) => s.resource.team === 'checkout' && s.resource['deployment.environment.name'] === 'test',
      ),
    );
  });
  const seen = new Set([...a.spans(), ...b.spans()].map((s) => s.traceId));
  assert.deepEqual(
    before.filter((id) => !seen.has(id)),
    [],
    'every trace made before the change arrived at A or B',
  );
  assert.ok(!a.spans().some((s) => afterIds.includes(s.traceId)), 'none after the change at A');
  const traceExport = b.at('/v1/traces')[0]!;
  assert.equal(traceExport.headers['x-api-key'], 'secret-from-env', 'the secret comes from the process env');
  assert.equal(traceExport.headers['x-team'], 'checkout');

  // Metrics: protobuf to B every 2.5 s (the first export was the flush above); A gets none now.
  await eventually(() => assert.ok(b.at('/v1/metrics').length >= 4), 12_000);
  const atB = b.at('/v1/metrics');
  assert.equal(atB[0]!.headers['content-type'], 'application/x-protobuf');
  assert.ok(
    atB[0]!.body.includes('checkout') && atB[0]!.body.includes('http.client'),
    'resource and metrics in it',
  );
  // Two intervals: 5 s (the previous interval would give 2 s), with room for a stalled event loop.
  const gap = atB[3]!.at - atB[1]!.at;
  assert.ok(gap >= 4_000 && gap <= 6_500, `two exports 2.5 s apart, got ${gap} ms`);
  // An export already in flight to A when the document changed may land late, but none after that.
  const lastAtA = a.at('/v1/metrics').at(-1)!.at;
  assert.ok(lastAtA < atB[1]!.at, 'metrics stopped going to A');
  assert.ok(applied < 3_000, `applied within seconds (${applied} ms)`);
  assert.deepEqual(
    (telemetry.describe().traces as { headers: string[] }).headers,
    ['x-api-key', 'x-team'],
    'describe() names the headers, never their values',
  );
  assert.ok(!JSON.stringify(telemetry.describe()).includes('secret-from-env'));
});

test('a new sampling ratio applies to new root traces within seconds, measured at the receiver', async () => {
  await put('mesh', {
    traces: { endpoint: `${a.url}/v1/traces`, protocol: 'http/json', samplingRatio: 0.5 },
    metrics: { endpoint: `${a.url}/v1/metrics`, protocol: 'http/json', exportIntervalMs: 1000 },
  });
  await eventually(() => assert.equal(telemetry.settings.samplingRatio, 0.5));
  const roots = await calls(400);
  await telemetry.forceFlush();
  await delay(100);
  const sampled = new Set(
    b
      .spans()
      .map((s) => s.traceId)
      .filter((id) => roots.includes(id)),
  );
  // Binomial(400, 0.5): 200 ± 10; the bounds are six standard deviations away.
  assert.ok(
    sampled.size >= 140 && sampled.size <= 260,
    `about half of 400 traces sampled, got ${sampled.size}`,
  );
  // The service's document still wins for where traces go; the mesh's resource attributes are gone.
  assert.equal(telemetry.settings.traces?.endpoint, `${b.url}/v1/traces`);
  assert.deepEqual(telemetry.settings.resourceAttributes, { team: 'checkout' });
});

test('deleting the service’s document falls back to the mesh’s', async () => {
  const res = await fetch(`${cp.url}/v1/documents/Telemetry/shop`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${cp.token}` },
  });
  assert.ok(res.ok);
  await eventually(() => assert.equal(telemetry.settings.traces?.endpoint, `${a.url}/v1/traces`));
  await put('mesh', { traces: { endpoint: `${a.url}/v1/traces`, protocol: 'http/json', samplingRatio: 1 } });
  await eventually(() => assert.equal(telemetry.settings.samplingRatio, 1));
  const roots = await calls(3);
  await telemetry.forceFlush();
  await eventually(() =>
    assert.equal(
      new Set(
        a
          .spans()
          .map((s) => s.traceId)
          .filter((id) => roots.includes(id)),
      ).size,
      3,
    ),
  );
  assert.equal(telemetry.settings.metrics, undefined, 'the mesh no longer names a metrics endpoint');
});
