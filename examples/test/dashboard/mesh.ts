/**
 * A small real mesh for the dashboard's browser tests and screenshots: a config-service process
 * (which serves the dashboard), `frontend` (Express + Weft) calling `catalog` (two Express + Weft
 * instances, labelled v1 and v2, registered in the registry) through a Weft client steered by the
 * config service, and a load loop (`loadgen`) driving `frontend` until closed. Every process sends
 * its traffic summaries to the config service, so the dashboard's graph shows the mesh live. Each backend records when it was
 * called, so a test can measure the split the clients actually apply.
 */
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ServiceProcess, startService } from '@weft/control-plane/testing';
import { type ConfigClient, createConfigClient } from '@weft/core/config';
import { createClient, type WeftClient } from '@weft/http';
import { weft } from '@weft/http/express';
import express from 'express';

export interface TestMesh {
  readonly cp: ServiceProcess;
  /** Calls each catalog version received: their times (ms since the epoch). */
  readonly hits: Record<'v1' | 'v2', number[]>;
  /** Outcomes of the load loop's calls: their times, by `ok` or the error code. */
  readonly outcomes: { t: number; outcome: string }[];
  /** The share of catalog calls that went to v2 since `sinceMs` (NaN when there were none). */
  v2Share(sinceMs: number): number;
  /** Calls to the API with the admin token. */
  api(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

/** The Route the mesh starts with: every catalog call to v1. */
export const START_ROUTE = {
  subsets: { v1: { version: 'v1' }, v2: { version: 'v2' } },
  rules: [
    {
      name: 'split',
      backends: [
        { subset: 'v1', weight: 100 },
        { subset: 'v2', weight: 0 },
      ],
    },
  ],
};

async function listen(
  app: express.Express,
  mesh: ReturnType<typeof weft>,
  servers: Server[],
): Promise<number> {
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  mesh.attach(server);
  servers.push(server);
  return (server.address() as AddressInfo).port;
}

/**
 * Starts the mesh: `rate` is the load loop's calls per second (until `close`; defaults to 40),
 * `reportIntervalMs` how often each process sends its traffic summary (defaults to 1000).
 */
export async function startMesh(
  options: { rate?: number; reportIntervalMs?: number } = {},
): Promise<TestMesh> {
  const rate = options.rate ?? 40;
  const cp = await startService();
  const configs: ConfigClient[] = [];
  // Each process reports its traffic every second (5 s by default), so the graph fills quickly.
  const config = async (service: string) => {
    const c = createConfigClient({
      urls: cp.url,
      token: cp.token,
      service,
      traffic: { reportIntervalMs: options.reportIntervalMs ?? 1000 },
    });
    await c.ready();
    configs.push(c);
    return c;
  };
  const api = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(`${cp.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${cp.token}`, 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const put = await api('PUT', '/v1/documents/Route/catalog', { spec: START_ROUTE });
  if (put.status !== 201) throw new Error(`Route not written: ${put.status} ${await put.text()}`);

  const servers: Server[] = [];
  const hits: TestMesh['hits'] = { v1: [], v2: [] };
  const endpoints: { address: string; port: number; labels: Record<string, string> }[] = [];
  for (const version of ['v1', 'v2'] as const) {
    const app = express();
    const mesh = weft({ config: await config('catalog'), service: 'catalog', drainSignals: false });
    app.use(mesh);
    app.get('/items', (_req, res) => {
      hits[version].push(Date.now());
      res.json({ version });
    });
    const port = await listen(app, mesh, servers);
    endpoints.push({ address: '127.0.0.1', port, labels: { version } });
    const reg = await api('POST', '/v1/services/catalog/instances', {
      address: '127.0.0.1',
      port,
      labels: { version },
      ttlMs: 600_000,
    });
    if (reg.status !== 201) throw new Error(`catalog not registered: ${reg.status}`);
  }

  const frontendConfig = await config('frontend');
  const toCatalog = createClient({ service: 'catalog', endpoints, config: frontendConfig });
  const app = express();
  const mesh = weft({ config: frontendConfig, service: 'frontend', drainSignals: false });
  app.use(mesh);
  app.get('/page', async (_req, res) => {
    try {
      const r = await toCatalog.fetch('/items');
      res.status(r.status).json(await r.json());
    } catch (e) {
      res.status(502).json({ error: (e as { code?: string }).code ?? 'error' });
    }
  });
  const frontendPort = await listen(app, mesh, servers);
  await api('POST', '/v1/services/frontend/instances', {
    address: '127.0.0.1',
    port: frontendPort,
    ttlMs: 600_000,
  });

  const driver: WeftClient = createClient({
    service: 'frontend',
    endpoints: [{ address: '127.0.0.1', port: frontendPort }],
    config: await config('loadgen'),
  });
  const outcomes: TestMesh['outcomes'] = [];
  let running = true;
  const loop = (async () => {
    const gap = 1000 / rate;
    while (running) {
      const started = Date.now();
      const one = driver.fetch('/page').then(
        async (r) => {
          await r.arrayBuffer();
          outcomes.push({ t: Date.now(), outcome: r.ok ? 'ok' : `http ${r.status}` });
        },
        (e: { code?: string }) => outcomes.push({ t: Date.now(), outcome: e.code ?? 'error' }),
      );
      void one;
      await new Promise((r) => setTimeout(r, Math.max(0, gap - (Date.now() - started))));
    }
  })();

  return {
    cp,
    hits,
    outcomes,
    v2Share(sinceMs) {
      const v1 = hits.v1.filter((t) => t >= sinceMs).length;
      const v2 = hits.v2.filter((t) => t >= sinceMs).length;
      return v2 / (v1 + v2);
    },
    api,
    async close() {
      running = false;
      await loop;
      await Promise.all([driver.close(), toCatalog.close()]);
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
            }),
        ),
      );
      await Promise.all(configs.map((c) => c.close()));
      await cp.stop();
    },
  };
}
