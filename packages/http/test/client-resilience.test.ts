import assert from 'node:assert/strict';
import { channel } from 'node:diagnostics_channel';
import { after, describe, test } from 'node:test';
import { createContext, ErrorCode, isWeftError, runWithContext } from '@weft/core';
import { createClient, DEFAULT_BODY_REPLAY_LIMIT_BYTES } from '@weft/http';
import { closedPort, delay, eventually, serversClosedAfter } from './helpers.ts';

const server = serversClosedAfter(after);

describe('retries', () => {
  test('a refused connection is retried on another endpoint, even for POST', async () => {
    const good = await server((_req, res) => res.end('ok'));
    const dead = `127.0.0.1:${await closedPort()}`;
    const client = createClient({
      service: 'refused',
      endpoints: [dead, good.endpoint],
      balancer: 'round-robin',
    });
    for (let i = 0; i < 20; i++) {
      const res = await client.fetch('/', { method: 'POST', body: 'x' });
      assert.equal(await res.text(), 'ok');
    }
    await client.close();
  });

  test('retries stay under the budget while an endpoint fails every request', async () => {
    const failing = await server((_req, res) => {
      res.statusCode = 503;
      res.end('down');
    });
    const client = createClient({
      service: 'budget',
      endpoints: [failing.endpoint],
      retry: { maxAttempts: 3, budget: { percent: 20, minRetriesPerSecond: 0 }, backoffInitialMs: 0 },
      circuitBreaker: false,
      outlierDetection: false,
    });
    const requests = 200;
    for (let i = 0; i < requests; i++) {
      const res = await client.fetch('/');
      assert.equal(res.status, 503, 'the caller sees the final 503');
      await res.arrayBuffer();
    }
    await client.close();
    const attempts = failing.requests.length;
    assert.ok(attempts <= requests * 1.2 + 1, `attempts ${attempts} ≤ requests + 20%`);
    assert.ok(attempts >= requests * 1.15, `the budget is used: ${attempts}`);
  });

  test('a non-idempotent request that reached the server is not retried', async () => {
    const failing = await server((_req, res) => {
      res.statusCode = 503;
      res.end();
    });
    const client = createClient({
      service: 'post-503',
      endpoints: [failing.endpoint],
      circuitBreaker: false,
    });
    const res = await client.fetch('/', { method: 'POST', body: 'x' });
    assert.equal(res.status, 503);
    assert.equal(failing.requests.length, 1);
    const again = await client.fetch('/', { method: 'POST', body: 'x', idempotent: true });
    assert.equal(again.status, 503);
    assert.equal(failing.requests.length, 4, 'declared idempotent: retried up to maxAttempts');
    await client.close();
  });

  test('a streamed body past the replay limit is not retried once read; a small one is replayed whole', async () => {
    const bodies: number[] = [];
    const failing = await server(async (req, res) => {
      let n = 0;
      for await (const c of req) n += (c as Buffer).length;
      bodies.push(n);
      res.statusCode = 503;
      res.end();
    });
    const client = createClient({
      service: 'stream-body',
      endpoints: [failing.endpoint],
      circuitBreaker: false,
    });
    const stream = (bytes: number) =>
      new ReadableStream({
        start(c) {
          c.enqueue(new Uint8Array(bytes).fill(1));
          c.close();
        },
      });
    const big = DEFAULT_BODY_REPLAY_LIMIT_BYTES + 1;
    const res = await client.fetch('/', { method: 'PUT', body: stream(big), duplex: 'half' } as RequestInit);
    assert.equal(res.status, 503);
    assert.deepEqual(bodies, [big], 'read past the limit: not sent again');
    bodies.length = 0;
    const small = await client.fetch('/', { method: 'PUT', body: stream(8), duplex: 'half' } as RequestInit);
    assert.equal(small.status, 503);
    assert.deepEqual(bodies, [8, 8, 8], 'kept whole: replayed on every attempt');
    await client.close();
  });

  test('a response marked weft-no-retry is final', async () => {
    const s = await server((_req, res) => {
      res.statusCode = 503;
      res.setHeader('weft-no-retry', '1');
      res.end();
    });
    const client = createClient({ service: 'no-retry', endpoints: [s.endpoint], circuitBreaker: false });
    assert.equal((await client.fetch('/')).status, 503);
    assert.equal(s.requests.length, 1);
    await client.close();
  });
});

describe('deadlines', () => {
  test('a deadline inherited from the request being handled cancels the child call', async () => {
    const slow = await server(async (_req, res) => {
      await delay(2_000);
      res.end('late');
    });
    const client = createClient({ service: 'inherit', endpoints: [slow.endpoint] });
    const started = performance.now();
    const ctx = createContext({ deadline: performance.now() + 150 });
    await assert.rejects(
      runWithContext(ctx, () => client.fetch('/')),
      (err) => isWeftError(err, ErrorCode.DeadlineExceeded),
    );
    const took = performance.now() - started;
    assert.ok(took < 1_000, `cancelled at the deadline, not after the server answered (${took} ms)`);
    await eventually(() => assert.equal(slow.requests.length, 1));
    const sent = Number(slow.requests[0]!.headers['weft-deadline-ms']);
    assert.ok(sent > 0 && sent <= 150, `the remaining budget travels downstream: ${sent}`);
    await client.close();
  });

  test('the own timeout and the per-call override both bound the call', async () => {
    const slow = await server(async (_req, res) => {
      await delay(1_000);
      res.end();
    });
    const client = createClient({
      service: 'timeout',
      endpoints: [slow.endpoint],
      timeoutMs: 100,
      retry: false,
    });
    await assert.rejects(client.fetch('/'), (err) => isWeftError(err, ErrorCode.DeadlineExceeded));
    await assert.rejects(client.fetch('/', { timeoutMs: 50 }), (err) =>
      isWeftError(err, ErrorCode.DeadlineExceeded),
    );
    // The aborted requests may still be on their way to the server when the client gives up.
    await eventually(() => assert.equal(slow.requests.length, 2));
    const sent = slow.requests.map((r) => Number(r.headers['weft-deadline-ms']));
    assert.ok(sent[0]! <= 100 && sent[1]! <= 50, `budgets sent: ${sent}`);
    await client.close();
  });

  test('an already-passed inherited deadline is never sent', async () => {
    const s = await server((_req, res) => res.end());
    const client = createClient({ service: 'passed', endpoints: [s.endpoint] });
    const ctx = createContext({ deadline: performance.now() - 1 });
    await assert.rejects(
      runWithContext(ctx, () => client.fetch('/')),
      (err) => isWeftError(err, ErrorCode.DeadlineExceeded),
    );
    assert.equal(s.requests.length, 0);
    await client.close();
  });

  test('a per-try timeout moves a slow attempt to another endpoint', async () => {
    const slow = await server(async (_req, res) => {
      await delay(3_000);
      res.end('slow');
    });
    const fast = await server((_req, res) => res.end('fast'));
    const client = createClient({
      service: 'per-try',
      endpoints: [slow.endpoint, fast.endpoint],
      balancer: 'round-robin',
      perTryTimeoutMs: 300,
    });
    const bodies = [];
    for (let i = 0; i < 4; i++) bodies.push(await (await client.fetch('/')).text());
    assert.deepEqual(bodies, ['fast', 'fast', 'fast', 'fast']);
    await client.close();
  });

  test('the caller can cancel with an AbortSignal', async () => {
    const slow = await server(async (_req, res) => {
      await delay(1_000);
      res.end();
    });
    const client = createClient({ service: 'abort', endpoints: [slow.endpoint] });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    await assert.rejects(client.fetch('/', { signal: ac.signal }), (err) =>
      isWeftError(err, ErrorCode.Cancelled),
    );
    await client.close();
  });
});

describe('endpoint health and the breaker', () => {
  test('a failing endpoint is ejected, then readmitted by a single probe once it recovers', async () => {
    let broken = true;
    const flaky = await server((_req, res) => {
      res.setHeader('x-server', 'flaky');
      res.statusCode = broken ? 500 : 200;
      res.end();
    });
    const good = await server((_req, res) => {
      res.setHeader('x-server', 'good');
      res.end();
    });
    const events: { health: string; reason: string }[] = [];
    const onHealth = (m: unknown) => events.push(m as { health: string; reason: string });
    channel('weft:endpoint:health').subscribe(onHealth);
    const client = createClient({
      service: 'eject',
      endpoints: [flaky.endpoint, good.endpoint],
      balancer: 'round-robin',
      outlierDetection: { consecutiveFailures: 3, baseEjectionMs: 300 },
      circuitBreaker: false,
      retry: false,
    });
    for (let i = 0; i < 10; i++) await (await client.fetch('/')).arrayBuffer();
    assert.equal(events[0]?.health, 'ejected');
    const flakyBefore = flaky.requests.length;
    for (let i = 0; i < 20; i++) await (await client.fetch('/')).arrayBuffer();
    assert.equal(flaky.requests.length, flakyBefore, 'no traffic while ejected');
    broken = false;
    await delay(450); // ejection time 300 ms ± 15%
    for (let i = 0; i < 20; i++) await (await client.fetch('/')).arrayBuffer();
    assert.deepEqual(
      events.map((e) => e.health),
      ['ejected', 'probing', 'healthy'],
    );
    assert.ok(flaky.requests.length > flakyBefore + 5, 'readmitted endpoint takes traffic again');
    channel('weft:endpoint:health').unsubscribe(onHealth);
    await client.close();
  });

  test('the breaker opens on failures, fails fast, and closes after a half-open probe', async () => {
    let broken = true;
    const s = await server((_req, res) => {
      res.statusCode = broken ? 500 : 200;
      res.end();
    });
    const client = createClient({
      service: 'breaker',
      endpoints: [s.endpoint],
      circuitBreaker: { volumeThreshold: 5, errorThresholdPercent: 50, resetTimeoutMs: 300 },
      outlierDetection: false,
      retry: false,
    });
    for (let i = 0; i < 5; i++) assert.equal((await client.fetch('/')).status, 500);
    const seen = s.requests.length;
    await assert.rejects(client.fetch('/'), (err) => isWeftError(err, ErrorCode.CircuitOpen));
    assert.equal(s.requests.length, seen, 'open breaker sends nothing');
    broken = false;
    await delay(400);
    assert.equal((await client.fetch('/')).status, 200, 'half-open probe passes');
    assert.equal((await client.fetch('/')).status, 200, 'closed again');
    await client.close();
  });

  test('no endpoints gives a typed error naming the destination', async () => {
    const client = createClient({ service: 'empty', endpoints: [] });
    await assert.rejects(
      client.fetch('/'),
      (err) => isWeftError(err, ErrorCode.NoEndpoints) && /empty/.test(err.message),
    );
    await client.close();
  });
});
