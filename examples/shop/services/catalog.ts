/**
 * `catalog`: an Express 5 service behind Weft's server middleware (inbound deadline, trace and
 * admission), registered in the config service with its `version` label, which the catalog Route's
 * subsets select on. The demo runs three, two v1 and one v2 (whose items carry a rating); each
 * answer names its version and instance. The launcher can make one slow (`{ type: 'slow', ms }`)
 * to show the balancer moving traffic away. `SHOP_FAIL_PERCENT` (default 0) makes it answer that
 * share of requests with a 500: the tour's broken v3, which its Rollout rolls back.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { registerInstance } from '@weft/discovery';
import { weft } from '@weft/http/express';
import express from 'express';
import { startTelemetry } from '../telemetry.ts';
import { childEnv, delay, onParentMessage, send, stopWith } from './child.ts';

const env = childEnv();
const version = process.env.SHOP_VERSION ?? 'v1';
const failPercent = Number(process.env.SHOP_FAIL_PERCENT ?? 0);
const telemetry = await startTelemetry('catalog', env.instance);

let extraMs = 0;
onParentMessage((m) => {
  if (m.type === 'slow') extraMs = m.ms;
});

const mesh = weft({ concurrency: 200, drainSignals: false, drainTimeoutMs: 2000 });
const app = express();
app.use(mesh);
app.get('/items/:id', async (req, res) => {
  const id = Number(req.params.id);
  if (!Number.isInteger(id) || id < 1) {
    res.status(400).json({ error: 'id must be a positive integer' });
    return;
  }
  // A little work: 1–3 ms, plus whatever the launcher asked for.
  await delay(1 + Math.random() * 2 + extraMs);
  if (Math.random() * 100 < failPercent) {
    res.status(500).json({ error: `${version} is broken (fails ${failPercent}% of requests)` });
    return;
  }
  const item: Record<string, unknown> = {
    id,
    name: `item ${id}`,
    priceCents: 100 + ((id * 37) % 900),
    version,
    servedBy: env.instance,
  };
  if (version === 'v2') item.rating = ((id * 7) % 50) / 10; // v2 adds a field
  res.json(item);
});

const server = app.listen(0, '127.0.0.1');
await once(server, 'listening');
mesh.attach(server);
const port = (server.address() as AddressInfo).port;

const registration = registerInstance({
  service: 'catalog',
  address: '127.0.0.1',
  port,
  labels: { version },
  ttlMs: env.ttlMs,
});

stopWith(async () => {
  await registration.close(); // deregister first, so callers stop picking this instance
  await mesh.drain();
  await telemetry.shutdown();
});

send({
  type: 'ready',
  service: 'catalog',
  instance: env.instance,
  port,
  metricsPort: telemetry.metricsPort,
  pid: process.pid,
  notes: [`version ${version}`],
});
