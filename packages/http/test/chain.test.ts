/**
 * A three-service chain A → B → C on real servers (A and C on Express 5, B on Fastify 5), called by
 * real Weft clients: the deadline shrinks hop by hop, one trace spans the three services, and C's
 * total outage costs at most 1.5 attempts at C per request A receives.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Header, type Module } from '@weft/core';
import { createClient, type HttpCall, type HttpExchange, type WeftClient } from '@weft/http';
import { installOtel, points, spans } from './chain-otel.ts';
import { closedPort } from './helpers.ts';
import { type App, delay, type Kind, type Route, startApp } from './server-apps.ts';

let uninstall: () => Promise<void>;
before(() => {
  uninstall = installOtel();
});
const apps: App[] = [];
const clients: WeftClient[] = [];
after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(apps.map((a) => a.close()));
  await uninstall();
});
async function app(kind: Kind, routes: Route[]) {
  const a = await startApp(kind, {}, routes);
  apps.push(a);
  return a;
}
function client(options: Parameters<typeof createClient>[0]) {
  const c = createClient(options);
  clients.push(c);
  return c;
}
/** A stack module right above the transport: counts physical attempts. */
function attemptCounter(counter: { attempts: number }): Module<object, HttpCall, HttpExchange> {
  return {
    role: 'count',
    description: 'count attempts (test)',
    params: {},
    make: (_params, next) => (call) => {
      counter.attempts++;
      return next(call);
    },
  };
}
/** A handler that calls the next hop and answers 502 when it failed. */
function relay(next: () => WeftClient, path: string, pauseMs = 0): Route['handler'] {
  return async (req) => {
    if (pauseMs) await delay(pauseMs);
    const res = await next().fetch(path);
    const body = await res.text();
    if (!res.ok) return { status: 502, body: `downstream ${res.status}` };
    return { body: { deadline: Number(req.headers[Header.deadline]), next: JSON.parse(body) } };
  };
}

describe('A → B → C', () => {
  test('the deadline shrinks at each hop and one trace spans the three services', async () => {
    const c = await app('express', [
      {
        method: 'GET',
        path: '/c',
        handler: (req) => ({ body: { deadline: Number(req.headers[Header.deadline]) } }),
      },
    ]);
    const toC = client({ service: 'svc-c', endpoints: [c.endpoint] });
    const b = await app('fastify', [{ method: 'GET', path: '/b', handler: relay(() => toC, '/c', 40) }]);
    const toB = client({ service: 'svc-b', endpoints: [b.endpoint] });
    const a = await app('express', [{ method: 'GET', path: '/a', handler: relay(() => toB, '/b', 40) }]);
    const toA = client({ service: 'svc-a', endpoints: [a.endpoint], timeoutMs: 1500 });
    spans.reset();

    const res = await toA.fetch('/a');
    assert.equal(res.status, 200);
    const chain = await res.json();
    const [dA, dB, dC] = [chain.deadline, chain.next.deadline, chain.next.next.deadline];
    assert.ok(dA <= 1500 && dA > 1300, `A got ${dA} ms`);
    assert.ok(dB <= dA - 40 && dB > dA - 300, `B got ${dB} ms after A's ${dA}`);
    assert.ok(dC <= dB - 40 && dC > dB - 300, `C got ${dC} ms after B's ${dB}`);

    const finished = spans.getFinishedSpans();
    const servers = finished.filter((s) => s.kind === 1 /* SERVER */);
    assert.deepEqual(servers.map((s) => s.name).sort(), ['GET /a', 'GET /b', 'GET /c']);
    const traceIds = new Set(finished.map((s) => s.spanContext().traceId));
    assert.equal(traceIds.size, 1, 'one trace: the caller, A, B and C');
    // Each server span's parent is the client attempt span of the hop before it.
    const byId = new Map(finished.map((s) => [s.spanContext().spanId, s]));
    for (const s of servers) {
      const parent = byId.get(s.parentSpanContext?.spanId ?? '');
      assert.equal(parent?.kind, 2 /* CLIENT */, `${s.name} has a client parent`);
    }
    const durations = await points('http.server.request.duration');
    const routes = durations.map((p) => p.attributes['http.route']).filter(Boolean);
    for (const r of ['/a', '/b', '/c']) assert.ok(routes.includes(r), `duration recorded for ${r}`);
  });

  for (const failure of ['connection refused', '503 on an idempotent GET'] as const) {
    test(`C's total outage (${failure}) costs ≤ 1.5 attempts at C per request to A`, async () => {
      const atC = { attempts: 0 };
      let endpoints: string[];
      if (failure === 'connection refused') {
        endpoints = [`127.0.0.1:${await closedPort()}`, `127.0.0.1:${await closedPort()}`];
      } else {
        const down = [
          await app('express', [
            { method: 'GET', path: '/c', handler: () => ({ status: 503, body: 'down' }) },
          ]),
          await app('fastify', [
            { method: 'GET', path: '/c', handler: () => ({ status: 503, body: 'down' }) },
          ]),
        ];
        endpoints = down.map((d) => d.endpoint);
      }
      // Breakers are off on every hop: this measures the retry budgets and the no-retry marker
      // alone (an open breaker would cut attempts at C much further).
      const toC = client({
        service: 'out-c',
        endpoints,
        circuitBreaker: false,
        stack: (s) => s.insertAfter('balance', attemptCounter(atC)),
      });
      const b = await app('fastify', [{ method: 'GET', path: '/b', handler: relay(() => toC, '/c') }]);
      const atB = { attempts: 0 };
      const toB = client({
        service: 'out-b',
        endpoints: [b.endpoint],
        circuitBreaker: false,
        stack: (s) => s.insertAfter('balance', attemptCounter(atB)),
      });
      const a = await app('express', [{ method: 'GET', path: '/a', handler: relay(() => toB, '/b') }]);
      const toA = client({ service: 'out-a', endpoints: [a.endpoint], circuitBreaker: false });

      const requests = 500;
      let next = 0;
      let failed = 0;
      const worker = async () => {
        while (next < requests) {
          next++;
          try {
            const res = await toA.fetch('/a');
            await res.arrayBuffer();
            if (res.status >= 500) failed++;
          } catch {
            failed++;
          }
        }
      };
      await Promise.all(Array.from({ length: 16 }, worker));
      const toAReceived = a.runtime.admission.snapshot().admitted;
      const ratio = atC.attempts / toAReceived;
      console.log(
        `[chain ${failure}] requests by the caller ${requests}, received by A ${toAReceived}, attempts at B ${atB.attempts}, ` +
          `attempts at C ${atC.attempts}: ${ratio.toFixed(3)} per request to A, ` +
          `${(atC.attempts / requests).toFixed(3)} per caller request`,
      );
      assert.equal(failed, requests, 'every request fails: C is down');
      assert.equal(atB.attempts, toAReceived, 'A never retries B: B’s failure carries weft-no-retry');
      assert.ok(ratio <= 1.5, `attempts at C per request to A: ${ratio}`);
    });
  }
});
