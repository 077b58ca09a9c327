/**
 * The load generator: an open-loop source of `GET /product/:id` requests to `frontend` at a fixed
 * rate (`SHOP_RATE` per second), through a Weft client that finds the frontend in the registry.
 * Open loop (requests start on schedule, not when the previous one ends), so a slow service shows
 * as latency and queueing instead of quietly lowering the load.
 */
import { isWeftError } from '@weft/core';
import { createConfigClient } from '@weft/core/config';
import { registryResolver } from '@weft/discovery';
import { createClient } from '@weft/http';
import { DestinationRecorder } from '../stats.ts';
import { startTelemetry } from '../telemetry.ts';
import { TRAFFIC_REPORT_INTERVAL_MS } from '../timing.ts';
import { childEnv, onParentMessage, send, stopWith } from './child.ts';

const env = childEnv();
const rate = Number(process.env.SHOP_RATE ?? 100);
if (!Number.isFinite(rate) || rate <= 0 || rate > 5000)
  throw new Error(`SHOP_RATE must be in (0, 5000], got ${rate}`);
const telemetry = await startTelemetry('loadgen', env.instance);

const config = createConfigClient({
  // The caller named in this process's traffic summaries (the control room's graph).
  service: 'loadgen',
  services: ['frontend'],
  cacheFile: `${env.dataDir}/${env.instance}-config-cache.json`,
  // Reports every second (default 5 s), for the tour's short rollout intervals (rollout-tour.ts).
  traffic: { reportIntervalMs: TRAFFIC_REPORT_INTERVAL_MS },
});
await config.ready();
const frontend = createClient({
  service: 'frontend',
  resolver: registryResolver({ client: config, service: 'frontend' }),
  config,
  timeoutMs: 3000,
  // An open-loop generator must not be the bottleneck: one HTTP/1.1 connection carries one request
  // at a time, so this many keep up with requests of up to 100 ms at the rate asked for.
  connections: Math.max(16, Math.ceil(rate / 10)),
});
const stats = new DestinationRecorder('frontend', () => frontend.describe());

let inFlight = 0;
const idle: (() => void)[] = [];
async function one(): Promise<void> {
  inFlight++;
  const start = performance.now();
  const id = 1 + Math.floor(Math.random() * 100);
  try {
    const res = await frontend.fetch(`/product/${id}`);
    await res.arrayBuffer();
    stats.record(performance.now() - start, res.ok ? undefined : `http-${res.status}`);
  } catch (error) {
    stats.record(performance.now() - start, isWeftError(error) ? error.code : (error as Error).name);
  } finally {
    inFlight--;
    if (inFlight === 0) for (const done of idle.splice(0)) done();
  }
}

// Start `rate` requests a second, spread over 10 ms ticks; carry fractions over.
const tickMs = 10;
let due = 0;
let sending = true;
const ticker = setInterval(() => {
  if (!sending) return;
  due += (rate * tickMs) / 1000;
  for (; due >= 1; due--) void one();
}, tickMs);

const reporter = setInterval(() => {
  send({
    type: 'stats',
    service: 'loadgen',
    destinations: [stats.window()],
    config: { state: config.status.state, revision: config.revision },
  });
}, 1000);

function quiesce(): Promise<void> {
  sending = false;
  clearInterval(ticker);
  return inFlight === 0 ? Promise.resolve() : new Promise((resolve) => idle.push(resolve));
}
onParentMessage((m) => {
  if (m.type === 'quiesce') void quiesce();
});

stopWith(async () => {
  await quiesce();
  clearInterval(reporter);
  send({
    type: 'totals',
    service: 'loadgen',
    totals: [{ destination: 'frontend', requests: stats.totalRequests, failures: stats.totalFailures }],
  });
  await frontend.close();
  await config.close();
  await telemetry.shutdown();
});

send({
  type: 'ready',
  service: 'loadgen',
  instance: env.instance,
  port: 0,
  metricsPort: telemetry.metricsPort,
  pid: process.pid,
  notes: [`${rate} requests/s to frontend`],
});
