import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Endpoint, ResolverState } from '@weft/core';
import { StaticResolver } from '@weft/core';
import { VirtualClock } from '@weft/core/testing';
import { type HealthChecker, httpHealthCheck, withHealthChecks } from '@weft/discovery';
import { keysOf, until } from './helpers.ts';

/** A real HTTP server whose health answer the test sets. */
class Backend {
  status = 200;
  hang = false;
  hits = 0;
  lastPath = '';
  lastHost = '';
  readonly #server: Server;
  readonly #held: ServerResponse[] = [];
  endpoint: Endpoint = { address: '127.0.0.1', port: 0 };

  constructor() {
    this.#server = createServer((req: IncomingMessage, res: ServerResponse) => {
      this.hits++;
      this.lastPath = req.url ?? '';
      this.lastHost = req.headers.host ?? '';
      if (this.hang) {
        this.#held.push(res);
        return;
      }
      res.writeHead(this.status).end('ok');
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.endpoint = { address: '127.0.0.1', port: (this.#server.address() as AddressInfo).port };
  }

  get key(): string {
    return `127.0.0.1:${this.endpoint.port}`;
  }

  async close(): Promise<void> {
    for (const res of this.#held) res.destroy();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

const backends: Backend[] = [];
before(async () => {
  for (let i = 0; i < 3; i++) {
    const b = new Backend();
    await b.start();
    backends.push(b);
  }
});
after(async () => {
  for (const b of backends) await b.close();
});

function setup(
  options: { unhealthyThreshold?: number; healthyThreshold?: number; path?: string; host?: string } = {},
) {
  for (const b of backends) {
    b.status = 200;
    b.hang = false;
    b.hits = 0;
  }
  const clock = new VirtualClock();
  const inner = new StaticResolver(backends.map((b) => b.endpoint));
  const hc = withHealthChecks(inner, {
    checker: httpHealthCheck({
      path: options.path ?? '/healthz',
      ...(options.host ? { host: options.host } : {}),
    }),
    intervalMs: 1000,
    timeoutMs: 500,
    healthyThreshold: options.healthyThreshold ?? 2,
    unhealthyThreshold: options.unhealthyThreshold ?? 2,
    jitter: 0,
    clock,
    service: 'test',
  });
  const states: ResolverState[] = [];
  hc.subscribe((s) => states.push(s));
  /** Fires the checks due in the next `ms` and waits (real time) for `count` more results. */
  const step = async (ms: number, count = backends.length) => {
    const target = hc.checks + count;
    await clock.advance(ms);
    await until(() => hc.checks >= target, `${count} check results`);
  };
  return { clock, inner, hc, states, step };
}

const a = () => backends[0]!;
const b = () => backends[1]!;
const c = () => backends[2]!;

describe('withHealthChecks + httpHealthCheck', () => {
  test('thresholds: out after N failures in a row, back after M successes in a row', async () => {
    const { hc, states, step } = setup({ path: '/ready', host: 'users.internal' });
    try {
      assert.deepEqual(keysOf(hc.state), [a().key, b().key, c().key].sort(), 'new endpoints start healthy');
      b().status = 503;
      await step(0);
      assert.equal(b().lastPath, '/ready');
      assert.equal(b().lastHost, 'users.internal');
      assert.equal(hc.state.kind === 'bound' && hc.state.endpoints.length, 3, 'one failure is not enough');
      await step(1000);
      assert.deepEqual(keysOf(hc.state), [a().key, c().key].sort());
      assert.match(hc.health().get(b().key)?.lastError ?? '', /HTTP 503 from \/ready/);
      b().status = 200;
      await step(1000);
      assert.equal(keysOf(hc.state).length, 2, 'one success is not enough');
      await step(1000);
      assert.equal(keysOf(hc.state).length, 3);
      assert.equal(states.length, 3, 'initial, removal, return: no update for checks that change nothing');
    } finally {
      await hc.close();
    }
  });

  test('a check that does not answer in timeoutMs fails', async () => {
    const { hc, clock } = setup({ unhealthyThreshold: 1 });
    try {
      c().hang = true;
      await clock.advance(0);
      await until(() => c().hits === 1 && hc.checks === 2, 'the checks to start');
      await clock.advance(500);
      await until(() => hc.checks === 3, 'the timeout');
      assert.deepEqual(keysOf(hc.state), [a().key, b().key].sort());
      assert.match(hc.health().get(c().key)?.lastError ?? '', /timed out after 500 ms/);
    } finally {
      await hc.close();
    }
  });

  test('panic mode: when every endpoint is unhealthy, all are offered', async () => {
    const { hc, step } = setup({ unhealthyThreshold: 1 });
    try {
      for (const x of backends) x.status = 500;
      await step(0);
      assert.equal(hc.panicking, true);
      assert.equal(keysOf(hc.state).length, 3);
      a().status = 200;
      await step(1000);
      assert.equal(hc.panicking, true, 'a needs two successes; until then all stay in panic');
      assert.equal(keysOf(hc.state).length, 3);
      await step(1000);
      assert.equal(hc.panicking, false);
      assert.deepEqual(keysOf(hc.state), [a().key]);
    } finally {
      await hc.close();
    }
  });

  test('follows the inner resolver: removed endpoints stop being checked, added ones start', async () => {
    const { hc, inner, step, clock } = setup();
    try {
      await step(0);
      inner.set([a().endpoint, b().endpoint]);
      assert.deepEqual(keysOf(hc.state), [a().key, b().key].sort(), 'removal passes through at once');
      const cHits = c().hits;
      await step(1000, 2);
      assert.equal(c().hits, cHits, 'no more checks of the removed endpoint');
      inner.set([a().endpoint, b().endpoint, c().endpoint]);
      await clock.advance(0);
      await until(() => c().hits === cHits + 1, 'the new endpoint to be checked');
    } finally {
      await hc.close();
    }
  });

  test('a failed inner resolver passes through, with its last set filtered', async () => {
    const checker: HealthChecker = {
      name: 'fake-for-failure',
      check: async (e) => {
        if (e.port === b().endpoint.port) throw new Error('down');
      },
    };
    const clock = new VirtualClock();
    const { EndpointSource } = await import('@weft/discovery');
    const inner = new EndpointSource('test', 'svc');
    inner.bind(backends.map((x) => x.endpoint));
    const hc = withHealthChecks(inner, { checker, unhealthyThreshold: 1, jitter: 0, clock });
    try {
      await clock.advance(0);
      assert.equal(keysOf(hc.state).length, 2);
      inner.fail(new Error('registry down'));
      assert.equal(hc.state.kind, 'failed');
      assert.equal(hc.state.kind === 'failed' && hc.state.reason.message, 'registry down');
      assert.deepEqual(keysOf(hc.state), [a().key, c().key].sort());
    } finally {
      await hc.close();
    }
  });

  test('checks its options', () => {
    const inner = new StaticResolver([]);
    const checker = httpHealthCheck();
    assert.throws(
      () => withHealthChecks(inner, { checker, intervalMs: 100, timeoutMs: 200 }),
      /invalid option timeoutMs/,
    );
    assert.throws(
      () => withHealthChecks(inner, { checker, healthyThreshold: 0 }),
      /invalid option healthyThreshold/,
    );
    assert.throws(() => httpHealthCheck({ path: 'healthz' }), /invalid option path: must start with "\/"/);
    assert.throws(() => withHealthChecks(inner, {} as never), /invalid option checker/);
  });
});
