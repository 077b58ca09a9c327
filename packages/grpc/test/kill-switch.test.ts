/**
 * The kill switch across real processes: a real config service, and three services steered by it —
 * `frontend` (Express) calls `catalog` (Express) over HTTP, whose handler calls `inventory` (a
 * Weft gRPC server) — each with its own config client, under steady traffic from a fourth client.
 * `weft traffic stop` (the CLI's own code, in process) must make every client fail fast with
 * `WEFT_TRAFFIC_STOPPED` and every server refuse direct calls within 1 s of the write, while health
 * checks answer; `weft traffic resume` lifts it; a per-service stop touches only that service; a
 * switch the schema refuses changes nothing.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { credentials, Metadata, type ServiceError, status as Status } from '@grpc/grpc-js';
import { main } from '@weft/cli';
import { type ServiceProcess, startService, tempDir } from '@weft/control-plane/testing';
import { ErrorCode, Header, isWeftError } from '@weft/core';
import { type ConfigClient, createConfigClient } from '@weft/core/config';
import { createClient, type WeftClient } from '@weft/http';
import { weft } from '@weft/http/express';
import express from 'express';
import {
  createGrpcClient,
  createGrpcServer,
  healthClientConstructor,
  WEFT_ERROR_KEY,
  type WeftGrpcServer,
} from '../src/index.ts';
import { delay, type TestClient, TestServiceClient, testServiceDefinition, unary } from './helpers.ts';

/** How long after the write every process must refuse (the bound). */
const BOUND_MS = 1000;

const dir = tempDir();
let cp: ServiceProcess;
const configs: ConfigClient[] = [];
const httpServers: Server[] = [];
let inventory: WeftGrpcServer;
let inventoryAt: string;
let catalogAt: string;
let frontendAt: string;
/** The clients inside the services, and the one driving traffic into `frontend`. */
let catalogToInventory: TestClient;
let frontendToCatalog: WeftClient;
let driver: WeftClient;
/** Direct callers that follow no switch: what a client outside the mesh sees. */
let directInventory: TestClient;
let inventoryHandled = 0;

async function config(): Promise<ConfigClient> {
  const c = createConfigClient({ urls: cp.url, token: cp.token });
  await c.ready();
  configs.push(c);
  return c;
}

async function listen(app: express.Express, mesh: ReturnType<typeof weft>): Promise<string> {
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  mesh.attach(server);
  httpServers.push(server);
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

before(async () => {
  cp = await startService({ data: dir.path });
  inventory = createGrpcServer({ config: await config(), service: 'inventory', drainSignals: false });
  inventory.addService(testServiceDefinition, {
    unaryCall: (_call: unknown, cb: (e: null, r: object) => void) => {
      inventoryHandled++;
      cb(null, { username: 'in stock' });
    },
  } as never);
  inventoryAt = `127.0.0.1:${await inventory.listen('127.0.0.1:0')}`;

  const catalogConfig = await config();
  catalogToInventory = createGrpcClient(TestServiceClient, 'inventory', {
    endpoints: [inventoryAt],
    config: catalogConfig,
  });
  const catalogApp = express();
  const catalogMesh = weft({ config: catalogConfig, service: 'catalog', drainSignals: false });
  catalogApp.use(catalogMesh);
  catalogApp.get('/ping', (_req, res) => void res.send('pong'));
  catalogApp.get('/items', (_req, res) => {
    unary<{ username: string }>(catalogToInventory, 'unaryCall', {}).then(
      (r) => res.json({ stock: r.username }),
      (e: ServiceError) => res.status(502).json({ error: e.metadata?.get(WEFT_ERROR_KEY)[0] ?? e.code }),
    );
  });
  catalogAt = await listen(catalogApp, catalogMesh);

  const frontendConfig = await config();
  frontendToCatalog = createClient({ service: 'catalog', endpoints: [catalogAt], config: frontendConfig });
  const frontendApp = express();
  const frontendMesh = weft({ config: frontendConfig, service: 'frontend', drainSignals: false });
  frontendApp.use(frontendMesh);
  frontendApp.get('/page', async (_req, res) => {
    try {
      const r = await frontendToCatalog.fetch('/items');
      res.status(r.status).json(await r.json());
    } catch (e) {
      res.status(502).json({ error: (e as { code?: string }).code });
    }
  });
  frontendAt = await listen(frontendApp, frontendMesh);

  driver = createClient({ service: 'frontend', endpoints: [frontendAt], config: await config() });
  directInventory = new TestServiceClient(inventoryAt, credentials.createInsecure());
});

after(async () => {
  directInventory.close();
  catalogToInventory.close();
  await Promise.all([driver.close(), frontendToCatalog.close()]);
  await inventory.drain();
  await Promise.all(
    httpServers.map(
      (s) =>
        new Promise<void>((resolve) => {
          s.close(() => resolve());
          s.closeAllConnections();
        }),
    ),
  );
  await Promise.all(configs.map((c) => c.close()));
  await cp.stop();
  dir.remove();
});

async function weftCli(...args: string[]): Promise<string> {
  let out = '';
  let err = '';
  const code = await main(['--server', cp.url, '--token', cp.token, ...args], {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
  });
  assert.equal(code, 0, err);
  return out;
}

const stopped = (e: unknown) => isWeftError(e, ErrorCode.TrafficStopped) && !e.retryable;

/** True when the call fails at the client with the typed error (and fast: nothing was sent). */
async function clientRefuses(call: () => Promise<unknown>): Promise<boolean> {
  try {
    await call();
    return false;
  } catch (e) {
    return stopped(e);
  }
}

async function grpcOutcome(client: TestClient): Promise<{ code: Status; weft?: string; noRetry: boolean }> {
  try {
    await unary(client, 'unaryCall', {});
    return { code: Status.OK, noRetry: false };
  } catch (e) {
    const err = e as ServiceError;
    const md = err.metadata ?? new Metadata();
    return {
      code: err.code,
      weft: md.get(WEFT_ERROR_KEY)[0] as string | undefined,
      noRetry: md.get(Header.noRetry).length > 0,
    };
  }
}

/** A direct HTTP call (no Weft client): the server's own answer. */
async function direct(at: string, path: string): Promise<{ status: number; noRetry: boolean; body: string }> {
  const res = await fetch(`http://${at}${path}`);
  return { status: res.status, noRetry: res.headers.has(Header.noRetry), body: await res.text() };
}

const serverRefusesHttp = async (at: string, path: string) => {
  const r = await direct(at, path);
  return r.status === 503 && r.noRetry && r.body.includes(ErrorCode.TrafficStopped);
};
const serverRefusesGrpc = async () => {
  const r = await grpcOutcome(directInventory);
  return r.code === Status.UNAVAILABLE && r.noRetry;
};

/** Each process's probe: true once it refuses. */
const PROBES: Record<string, () => Promise<boolean>> = {
  'driver client': () => clientRefuses(() => driver.fetch('/page')),
  'frontend client': () => clientRefuses(() => frontendToCatalog.fetch('/ping')),
  'catalog client': async () => (await grpcOutcome(catalogToInventory)).weft === ErrorCode.TrafficStopped,
  'frontend server': () => serverRefusesHttp(frontendAt, '/page'),
  'catalog server': () => serverRefusesHttp(catalogAt, '/ping'),
  'inventory server': serverRefusesGrpc,
};

/** Polls every probe until each holds (a probe that throws does not), for up to 3 × `BOUND_MS`; the ms each took after `t0`. */
async function timesToRefuse(t0: number, probes: Record<string, () => Promise<boolean>>) {
  const times: Record<string, number> = {};
  const names = Object.keys(probes);
  while (Object.keys(times).length < names.length && performance.now() - t0 < BOUND_MS * 3) {
    for (const name of names)
      if (times[name] === undefined && (await probes[name]!().catch(() => false)))
        times[name] = Math.round(performance.now() - t0);
    await delay(5);
  }
  return times;
}

async function flows(): Promise<void> {
  const res = await driver.fetch('/page');
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { stock: 'in stock' });
}

/** Steady traffic into `frontend` until stopped: every outcome, in order. */
function steadyTraffic() {
  const outcomes: string[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      try {
        const res = await driver.fetch('/page');
        await res.arrayBuffer();
        outcomes.push(String(res.status));
      } catch (e) {
        outcomes.push((e as { code?: string }).code ?? 'error');
      }
      await delay(2);
    }
  })();
  return {
    outcomes,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

describe('kill switch across three services', () => {
  test('mesh-wide stop: every process refuses within 1 s of the write, health answers, resume restores', async (t) => {
    await flows();
    const traffic = steadyTraffic();
    await delay(100);
    const t0 = performance.now();
    const printed = await weftCli('traffic', 'stop', '--reason', 'drill');
    assert.match(printed, /^TrafficSwitch\/mesh: traffic stopped for the whole mesh \(drill\)\nrevision \d+/);
    const times = await timesToRefuse(t0, PROBES);
    assert.deepEqual(
      Object.keys(times).sort(),
      Object.keys(PROBES).sort(),
      `refused: ${JSON.stringify(times)}`,
    );
    const slowest = Math.max(...Object.values(times));
    t.diagnostic(`ms from the write to each process refusing: ${JSON.stringify(times)}`);
    assert.ok(
      slowest <= BOUND_MS,
      `the last process refused ${slowest} ms after the write: ${JSON.stringify(times)}`,
    );

    // Stopped: the driver's calls fail at once, before sending; the handlers run no more.
    const handled = inventoryHandled;
    const started = performance.now();
    await assert.rejects(driver.fetch('/page'), (e: unknown) => {
      assert.ok(stopped(e));
      assert.match((e as Error).message, /traffic is stopped mesh-wide \(drill\)/);
      return true;
    });
    assert.ok(performance.now() - started < 50, 'a stopped call fails fast');
    await delay(50);
    await traffic.stop();
    assert.equal(inventoryHandled, handled, 'no call reached the inventory handler while stopped');
    assert.ok(traffic.outcomes.includes('200'), 'traffic flowed before the stop');
    assert.equal(traffic.outcomes.at(-1), ErrorCode.TrafficStopped);
    assert.equal(driver.describe().traffic?.stopped, true);

    // Health, readiness and gRPC health still answer.
    assert.equal((await direct(frontendAt, '/healthz')).status, 200);
    assert.equal((await direct(catalogAt, '/readyz')).status, 200);
    const Health = healthClientConstructor();
    const health = new Health(inventoryAt, credentials.createInsecure()) as unknown as {
      check(req: object, cb: (e: ServiceError | null, r: { status: string }) => void): void;
      close(): void;
    };
    const status = await new Promise<string>((resolve, reject) =>
      health.check({ service: '' }, (e, r) => (e ? reject(e) : resolve(r.status))),
    );
    health.close();
    assert.equal(status, 'SERVING');
    assert.match(
      await weftCli('traffic', 'status'),
      /^stopped: the whole mesh since revision \d+ \(drill\)$/m,
    );

    // A switch the schema refuses is refused at the write and changes nothing.
    const bad = await fetch(`${cp.url}/v1/documents/TrafficSwitch/mesh`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${cp.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ spec: { stopped: 'no' } }),
    });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /spec\.stopped/);
    assert.ok(await PROBES['driver client']!());

    const t1 = performance.now();
    assert.match(await weftCli('traffic', 'resume'), /traffic resumed for the whole mesh/);
    const back = await timesToRefuse(t1, {
      'driver client': async () => (await driver.fetch('/page')).status === 200,
      'inventory server': async () => (await grpcOutcome(directInventory)).code === Status.OK,
      'catalog server': async () => (await direct(catalogAt, '/ping')).status === 200,
    });
    assert.equal(Object.keys(back).length, 3, `flowing again: ${JSON.stringify(back)}`);
    assert.ok(Math.max(...Object.values(back)) <= BOUND_MS, JSON.stringify(back));
    await flows();
    assert.match(await weftCli('traffic', 'status'), /^traffic flows: no switch is on/);
  });

  test('a per-service stop stops only the calls to that service', async () => {
    await flows();
    const t0 = performance.now();
    await weftCli('traffic', 'stop', '--service', 'inventory');
    const times = await timesToRefuse(t0, {
      'catalog client': PROBES['catalog client']!,
      'inventory server': PROBES['inventory server']!,
    });
    assert.equal(Object.keys(times).length, 2, JSON.stringify(times));
    assert.ok(Math.max(...Object.values(times)) <= BOUND_MS, JSON.stringify(times));
    // The other services still serve and call each other: only the hop to inventory fails, fast.
    assert.equal((await direct(catalogAt, '/ping')).status, 200);
    assert.equal((await frontendToCatalog.fetch('/ping')).status, 200);
    const page = await driver.fetch('/page');
    assert.equal(page.status, 502);
    assert.deepEqual(await page.json(), { error: ErrorCode.TrafficStopped });
    assert.equal(driver.describe().traffic?.stopped, false);
    assert.match(await weftCli('traffic', 'status'), /^stopped: service inventory since revision \d+$/m);

    await weftCli('traffic', 'resume', '--service', 'inventory');
    const back = await timesToRefuse(performance.now(), {
      'inventory server': async () => (await grpcOutcome(directInventory)).code === Status.OK,
      'catalog client': async () => (await grpcOutcome(catalogToInventory)).code === Status.OK,
    });
    assert.equal(Object.keys(back).length, 2, JSON.stringify(back));
    await flows();
  });
});
