/**
 * `frontend`: a Fastify 5 service behind Weft's plugin. Each `GET /product/:id` calls `catalog` over
 * HTTP and `inventory` over gRPC, both through Weft clients that find their endpoints in the config
 * service's registry and take their destination policies (timeouts, retries, budgets) from its
 * documents — one config-service client feeds both. The calls inherit the inbound deadline, trace
 * and `weft-route` override; the frontend itself passes on `x-canary`, the header catalog's Route
 * matches (an application header: Weft carries only its own downstream).
 */

import { fileURLToPath } from 'node:url';
import type { ServiceClientConstructor } from '@grpc/grpc-js';
import { credentials } from '@grpc/grpc-js';
import { isWeftError } from '@weft/core';
import { createConfigClient } from '@weft/core/config';
import { registerInstance, registryResolver } from '@weft/discovery';
import { weftClientOptions } from '@weft/grpc';
import { createClient } from '@weft/http';
import { weft } from '@weft/http/fastify';
import Fastify from 'fastify';
import { DestinationRecorder } from '../stats.ts';
import { startTelemetry } from '../telemetry.ts';
import { TRAFFIC_REPORT_INTERVAL_MS } from '../timing.ts';
import { childEnv, send, stopWith } from './child.ts';
import { loadInventory } from './inventory-proto.ts';

const env = childEnv();
const telemetry = await startTelemetry('frontend', env.instance);

// One config-service client: policies for both destinations, and the registry of both.
const config = createConfigClient({
  // The caller named in this process's traffic summaries (the control room's graph).
  service: 'frontend',
  services: ['catalog', 'inventory'],
  cacheFile: `${env.dataDir}/${env.instance}-config-cache.json`,
  // Reports every second (default 5 s), for the tour's short rollout intervals (rollout-tour.ts).
  traffic: { reportIntervalMs: TRAFFIC_REPORT_INTERVAL_MS },
});
await config.ready();

// Options in code are the fallback; the config service's DestinationPolicy documents win.
const catalog = createClient({
  service: 'catalog',
  resolver: registryResolver({ client: config, service: 'catalog' }),
  config,
  timeoutMs: 2000,
});

const { Inventory } = loadInventory(fileURLToPath(new URL('../proto/inventory.proto', import.meta.url)));
const inventorySetup = weftClientOptions(
  'inventory',
  {
    resolver: registryResolver({ client: config, service: 'inventory' }),
    config,
    timeoutMs: 2000,
    idempotentMethods: ['GetStock'],
  },
  Inventory.service,
);
const inventory = new (Inventory as ServiceClientConstructor)(
  inventorySetup.target,
  credentials.createInsecure(),
  inventorySetup.options,
) as unknown as {
  getStock(
    request: { sku: string },
    callback: (error: Error | null, reply: { count: number; servedBy: string }) => void,
  ): void;
  close(): void;
};

const recorders = [
  new DestinationRecorder('catalog', () => catalog.describe()),
  new DestinationRecorder('inventory', () => inventorySetup.describe()),
] as const;
const [catalogStats, inventoryStats] = recorders;

function errorCode(error: unknown): string {
  if (isWeftError(error)) return error.code;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'number' ? `grpc-${code}` : (error as Error).name;
}

async function getItem(id: number, canary: string | undefined): Promise<unknown> {
  const start = performance.now();
  try {
    const init = canary === undefined ? undefined : { headers: { 'x-canary': canary } };
    const res = await catalog.fetch(`/items/${id}`, init);
    if (!res.ok)
      throw Object.assign(new Error(`catalog answered ${res.status}`), { code: `http-${res.status}` });
    const item = (await res.json()) as { version?: string };
    catalogStats.record(performance.now() - start, undefined, item.version);
    return item;
  } catch (error) {
    catalogStats.record(performance.now() - start, errorCode(error));
    throw error;
  }
}

function getStock(sku: string): Promise<{ count: number; servedBy: string }> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    inventory.getStock({ sku }, (error, reply) => {
      inventoryStats.record(performance.now() - start, error ? errorCode(error) : undefined);
      if (error) reject(error);
      else resolve(reply);
    });
  });
}

const app = Fastify();
await app.register(weft, {
  concurrency: 500,
  drainSignals: false,
  drainTimeoutMs: 2000,
  adminPath: '/admin/weft',
});
app.get<{ Params: { id: string } }>('/product/:id', async (request, reply) => {
  const id = Number(request.params.id);
  if (!Number.isInteger(id) || id < 1)
    return reply.code(400).send({ error: 'id must be a positive integer' });
  const canary = request.headers['x-canary'];
  const [item, stock] = await Promise.all([
    getItem(id, typeof canary === 'string' ? canary : undefined),
    getStock(`sku-${id}`),
  ]);
  return { item, stock: stock.count, stockFrom: stock.servedBy };
});
app.get('/admin/config', async () => config.describe());

await app.listen({ port: 0, host: '127.0.0.1' });
const port = (app.server.address() as { port: number }).port;
const registration = registerInstance({ service: 'frontend', address: '127.0.0.1', port, ttlMs: env.ttlMs });

const ticker = setInterval(() => {
  send({
    type: 'stats',
    service: 'frontend',
    destinations: recorders.map((r) => r.window()),
    config: { state: config.status.state, revision: config.revision },
  });
}, 1000);

stopWith(async () => {
  clearInterval(ticker);
  send({
    type: 'totals',
    service: 'frontend',
    totals: recorders.map((r) => ({
      destination: r.destination,
      requests: r.totalRequests,
      failures: r.totalFailures,
    })),
  });
  await registration.close();
  await app.weft.drain();
  await catalog.close();
  inventory.close();
  inventorySetup.close();
  await config.close();
  await telemetry.shutdown();
});

send({
  type: 'ready',
  service: 'frontend',
  instance: env.instance,
  port,
  metricsPort: telemetry.metricsPort,
  pid: process.pid,
  notes: [`admin http://127.0.0.1:${port}/admin/weft`, `config http://127.0.0.1:${port}/admin/config`],
});
