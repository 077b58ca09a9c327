/**
 * The server middleware's behaviour, run once per framework (server-express.test.ts,
 * server-fastify.test.ts): the same options must behave the same on Express 5 and Fastify 5.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { currentContext, Header } from '@weft/core';
import { createClient } from '@weft/http';
import { weft as weftExpress } from '@weft/http/express';
import { request } from 'undici';
import { type App, delay, type Kind, type Route, startApp } from './server-apps.ts';

const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

export function serverSuite(kind: Kind): void {
  const apps: App[] = [];
  after(async () => {
    await Promise.all(apps.map((a) => a.close()));
  });
  async function app(options: Parameters<typeof startApp>[1], routes: Route[]) {
    const a = await startApp(kind, options, routes);
    apps.push(a);
    return a;
  }
  async function get(a: App, path: string, headers: Record<string, string | string[]> = {}, method = 'GET') {
    const res = await request(`${a.url}${path}`, { method: method as 'GET', headers });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, text };
  }

  describe(`${kind}: context`, () => {
    test('the handler runs in the inbound context; its outbound Weft calls inherit deadline and trace', async () => {
      const echo = await app({}, [
        {
          method: 'GET',
          path: '/echo',
          handler: (req) => ({
            body: { deadline: req.headers[Header.deadline], traceparent: req.headers.traceparent },
          }),
        },
      ]);
      const client = createClient({ service: 'echo', endpoints: [echo.endpoint] });
      const front = await app({}, [
        {
          method: 'GET',
          path: '/front',
          handler: async () => {
            const ctx = currentContext();
            await delay(40);
            const res = await client.fetch('/echo');
            return {
              body: { seen: { deadline: ctx?.deadline, tp: ctx?.traceparent }, echo: await res.json() },
            };
          },
        },
      ]);
      const before = performance.now();
      const r = await get(front, '/front', { [Header.deadline]: '2000', traceparent: TRACEPARENT });
      assert.equal(r.status, 200, r.text);
      const body = JSON.parse(r.text);
      assert.equal(body.seen.tp, TRACEPARENT);
      assert.ok(body.seen.deadline > before && body.seen.deadline <= performance.now() + 2000);
      const downstream = Number(body.echo.deadline);
      assert.ok(downstream <= 2000 - 40 && downstream > 1000, `deadline forwarded as ${downstream} ms`);
      // No OpenTelemetry SDK here: the raw trace id is still forwarded.
      assert.match(body.echo.traceparent, /^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
      await client.close();
    });

    test('a handler behind a parsed request body still runs in the context', async () => {
      const a = await app({}, [
        {
          method: 'POST',
          path: '/body',
          handler: () => ({ body: { tp: currentContext()?.traceparent ?? null } }),
        },
      ]);
      const res = await request(`${a.url}/body`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', traceparent: TRACEPARENT },
        body: JSON.stringify({ big: 'x'.repeat(200_000) }),
      });
      assert.equal(res.statusCode, 200);
      assert.deepEqual(await res.body.json(), { tp: TRACEPARENT });
    });

    test('a request whose deadline has passed is refused before the handler runs', async () => {
      let ran = 0;
      const a = await app({}, [{ method: 'GET', path: '/x', handler: () => ({ body: ++ran }) }]);
      const r = await get(a, '/x', { [Header.deadline]: '0' });
      assert.equal(r.status, 504);
      assert.equal(r.headers[Header.noRetry], '1');
      assert.equal(ran, 0);
      assert.equal(a.runtime.shed.deadline, 1);
    });

    test('malformed deadline, trace and baggage headers are ignored and counted, never fatal', async () => {
      const a = await app({}, [
        {
          method: 'GET',
          path: '/x',
          handler: () => {
            const ctx = currentContext();
            return { body: { deadline: String(ctx?.deadline), tp: ctx?.traceparent ?? null } };
          },
        },
      ]);
      const r = await get(a, '/x', {
        [Header.deadline]: 'soon',
        traceparent: '00-zz-yy-01',
        baggage: `k=${'v'.repeat(9000)}`,
      });
      assert.equal(r.status, 200);
      assert.deepEqual(JSON.parse(r.text), { deadline: 'Infinity', tp: null });
      assert.equal(a.runtime.malformed, 3);
    });

    test('the context signal aborts when the client goes away', async () => {
      let aborted: Promise<unknown> | undefined;
      const a = await app({}, [
        {
          method: 'GET',
          path: '/slow',
          handler: async () => {
            const signal = currentContext()!.signal!;
            aborted = new Promise((resolve) =>
              signal.addEventListener('abort', () => resolve(signal.reason)),
            );
            await delay(300);
            return { body: 'late' };
          },
        },
      ]);
      const controller = new AbortController();
      const pending = request(`${a.url}/slow`, { signal: controller.signal }).catch((e) => e);
      while (!aborted) await delay(5);
      controller.abort();
      await pending;
      const reason = (await aborted) as { code?: string };
      assert.equal(reason.code, 'WEFT_CANCELLED');
      await delay(350);
      assert.equal(a.runtime.admission.snapshot().concurrency?.inflight, 0, 'the permit came back');
    });
  });

  describe(`${kind}: admission`, () => {
    test('over the concurrency limit, requests are shed at once with 503 and weft-rejected', async () => {
      let running = 0;
      let peak = 0;
      const a = await app({ concurrency: 2 }, [
        {
          method: 'GET',
          path: '/work',
          handler: async () => {
            peak = Math.max(peak, ++running);
            await delay(100);
            running--;
            return { body: 'done' };
          },
        },
      ]);
      const results = await Promise.all(Array.from({ length: 6 }, () => get(a, '/work')));
      const ok = results.filter((r) => r.status === 200).length;
      const shed = results.filter((r) => r.status === 503);
      assert.equal(ok, 2);
      assert.equal(shed.length, 4);
      for (const r of shed) {
        assert.equal(r.headers[Header.rejected], '1');
        assert.equal(JSON.parse(r.text).reason, 'concurrency');
        assert.equal(r.headers['retry-after'], undefined, 'a concurrency refusal is momentary');
      }
      assert.equal(peak, 2);
      assert.equal((await get(a, '/work')).status, 200, 'admitted again once permits returned');
    });

    test('the token bucket sheds above its rate; a route limit applies on top of the server one', async () => {
      const a = await app({ rate: { ratePerSecond: 1, burst: 3 } }, [
        { method: 'GET', path: '/x', handler: () => ({ body: 'x' }) },
      ]);
      const replies = [];
      for (let i = 0; i < 5; i++) replies.push(await get(a, '/x'));
      assert.deepEqual(
        replies.map((r) => r.status),
        [200, 200, 200, 503, 503],
      );
      assert.equal(replies[4]!.headers['retry-after'], '1', 'a rate refusal asks clients to hold off');
      assert.equal(a.runtime.shed.rate, 2);

      const b = await app({}, [
        {
          method: 'GET',
          path: '/narrow',
          limits: { concurrency: 1 },
          handler: async () => {
            await delay(80);
            return { body: 'n' };
          },
        },
        { method: 'GET', path: '/wide', handler: () => ({ body: 'w' }) },
      ]);
      const [n1, n2, w] = await Promise.all([get(b, '/narrow'), get(b, '/narrow'), get(b, '/wide')]);
      assert.deepEqual([n1.status, n2.status].sort(), [200, 503]);
      assert.equal(w.status, 200);
      assert.equal(b.runtime.admission.snapshot().concurrency?.inflight, 0);
    });
  });

  describe(`${kind}: cross-hop retries`, () => {
    test('a 5xx after the handler’s downstream calls gave up carries weft-no-retry; other 5xx do not', async () => {
      const down = await app({}, [
        { method: 'GET', path: '/c', handler: () => ({ status: 503, body: 'down' }) },
      ]);
      const client = createClient({
        service: 'down',
        endpoints: [down.endpoint],
        retry: { maxAttempts: 2, backoffInitialMs: 1, backoffMaxMs: 2 },
        circuitBreaker: false,
      });
      const b = await app({}, [
        {
          method: 'GET',
          path: '/relay',
          handler: async () => {
            const res = await client.fetch('/c');
            await res.arrayBuffer();
            return { status: 502, body: 'downstream failed' };
          },
        },
        {
          method: 'GET',
          path: '/throws',
          handler: async () => {
            const res = await client.fetch('/c');
            await res.arrayBuffer();
            throw new Error('boom');
          },
        },
        { method: 'GET', path: '/own', handler: () => ({ status: 500, body: 'own bug' }) },
      ]);
      const relay = await get(b, '/relay');
      assert.equal(relay.status, 502);
      assert.equal(relay.headers[Header.noRetry], '1');
      const thrown = await get(b, '/throws');
      assert.equal(thrown.status, 500);
      assert.equal(thrown.headers[Header.noRetry], '1', 'the framework’s own error response is marked too');
      const own = await get(b, '/own');
      assert.equal(own.status, 500);
      assert.equal(own.headers[Header.noRetry], undefined);
      await client.close();
    });
  });

  describe(`${kind}: health, admin and drain`, () => {
    test('liveness, readiness and the admin document (paths configurable, admin off by default)', async () => {
      const plain = await app({}, []);
      assert.equal((await get(plain, '/healthz')).status, 200);
      assert.equal((await get(plain, '/readyz')).status, 200);
      assert.equal((await get(plain, '/readyz', {}, 'HEAD')).status, 200);
      assert.equal((await get(plain, '/weft/admin')).status, 404);

      const client = createClient({ service: 'listed', endpoints: ['127.0.0.1:1'], timeoutMs: 750 });
      const a = await app(
        {
          livenessPath: '/live',
          readinessPath: '/ready',
          adminPath: '/weft/admin',
          concurrency: { kind: 'gradient', initialLimit: 7 },
        },
        [],
      );
      assert.equal((await get(a, '/live')).status, 200);
      assert.equal((await get(a, '/healthz')).status, 404);
      const admin = JSON.parse((await get(a, '/weft/admin?x=1')).text);
      assert.equal(admin.server.state, 'serving');
      assert.deepEqual(admin.server.admission.concurrency, { kind: 'gradient', limit: 7, inflight: 0 });
      const listed = admin.clients.find((c: { destination: string }) => c.destination === 'listed');
      assert.equal(listed.policy.timeoutMs, 750, 'the effective client policy is visible');
      await client.close();
    });

    test('drain: readiness false, new requests rejected retryably, in-flight ones finish, then the listener closes', async () => {
      let started!: () => void;
      const running = new Promise<void>((resolve) => {
        started = resolve;
      });
      const a = await app({}, [
        {
          method: 'GET',
          path: '/slow',
          handler: async () => {
            started();
            await delay(200);
            return { body: 'finished' };
          },
        },
      ]);
      const inflight = get(a, '/slow');
      await running; // in flight when the drain starts, however loaded the machine is
      const draining = a.drain();
      assert.equal(a.state, 'draining');
      const ready = await get(a, '/readyz');
      assert.equal(ready.status, 503);
      const live = await get(a, '/healthz');
      assert.equal(live.status, 200);
      const refused = await get(a, '/slow');
      assert.equal(refused.status, 503);
      assert.equal(refused.headers[Header.rejected], '1');
      assert.equal(refused.headers.connection, 'close');
      const done = await inflight;
      assert.equal(done.status, 200);
      assert.equal(done.text, 'finished');
      const result = await draining;
      assert.equal(result.inflightAtStart, 1);
      assert.equal(result.abandoned, 0);
      assert.equal(a.state, 'closed');
      assert.equal(a.server.listening, false);
      await assert.rejects(get(a, '/healthz'), /ECONNREFUSED/);
    });

    test('drain stops waiting after drainTimeoutMs and closes the stragglers', async () => {
      const a = await app({ drainTimeoutMs: 100 }, [
        {
          method: 'GET',
          path: '/stuck',
          handler: async () => {
            await delay(1500);
            return { body: 'too late' };
          },
        },
      ]);
      const stuck = get(a, '/stuck').catch((e: Error) => e);
      await delay(50);
      const start = performance.now();
      const result = await a.drain();
      assert.ok(performance.now() - start < 1000);
      assert.equal(result.abandoned, 1);
      assert.ok((await stuck) instanceof Error, 'the straggler’s connection was closed');
    });
  });

  describe(`${kind}: options`, () => {
    test('bad options are refused at construction, naming the option', () => {
      assert.throws(() => weftExpress({ concurrency: 0 }), /concurrency\.limit/);
      assert.throws(() => weftExpress({ rate: { ratePerSecond: -1 } }), /rate\.ratePerSecond/);
      assert.throws(() => weftExpress({ readinessPath: 'ready' }), /readinessPath/);
      assert.throws(() => weftExpress({ drainTimeoutMs: -5 }), /drainTimeoutMs/);
      assert.throws(() => weftExpress({ drainSignals: ['TERM' as never] }), /drainSignals/);
    });
  });
}
