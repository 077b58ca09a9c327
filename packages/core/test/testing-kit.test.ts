import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Call, EndpointState, ErrorCode, isWeftError, type ResolverState, StaticResolver } from '@weft/core';
import {
  fakeClient,
  fakeEndpoints,
  ManualResolver,
  scriptedService,
  seededRandom,
  VirtualClock,
} from '@weft/core/testing';

describe('seededRandom', () => {
  test('is deterministic per seed, uniform on [0, 1)', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const xs = Array.from({ length: 1000 }, () => a());
    assert.deepEqual(
      xs,
      Array.from({ length: 1000 }, () => b()),
    );
    assert.notDeepEqual(xs.slice(0, 10), Array.from({ length: 10 }, seededRandom(43)));
    assert.deepEqual(
      Array.from({ length: 5 }, seededRandom(2 ** 32 + 5)),
      Array.from({ length: 5 }, seededRandom(5)),
      'the seed is taken modulo 2^32',
    );
    const r = seededRandom(1);
    const buckets = new Array(10).fill(0);
    let min = 1;
    let max = 0;
    for (let i = 0; i < 100_000; i++) {
      const x = r();
      min = Math.min(min, x);
      max = Math.max(max, x);
      buckets[Math.floor(x * 10)]++;
    }
    assert.ok(min >= 0 && max < 1);
    for (const n of buckets) assert.ok(Math.abs(n - 10_000) < 400, String(buckets));
  });
});

describe('VirtualClock.run', () => {
  test('advances timer by timer until the promise settles', async () => {
    const clock = new VirtualClock(10);
    const value = clock.run(
      new Promise<string>((resolve) =>
        clock.setTimeout(() => clock.setTimeout(() => resolve('done'), 5), 20),
      ),
    );
    assert.equal(await value, 'done');
    assert.equal(clock.now(), 35);
    await assert.rejects(
      clock.run(new Promise((_, reject) => clock.setTimeout(() => reject(new Error('late')), 1))),
      /late/,
    );
  });

  test('refuses to wait forever', async () => {
    const clock = new VirtualClock();
    await assert.rejects(clock.run(new Promise(() => {})), /no timer is left to fire/);
    const tick = () => clock.setTimeout(tick, 1000);
    tick();
    await assert.rejects(clock.run(new Promise(() => {}), 10_000), /still pending after 10000 ms/);
    assert.equal(clock.nextDue, 11_000);
  });
});

describe('ManualResolver', () => {
  test('moves from pending through bound, failed (keeping endpoints) and negative', () => {
    const r = new ManualResolver();
    const seen: ResolverState[] = [];
    const off = r.subscribe((s) => seen.push(s));
    r.bind(fakeEndpoints(2));
    r.fail(new Error('down'));
    r.negative();
    r.fail(new Error('still down'));
    assert.deepEqual(
      seen.map((s) => [s.kind, 'endpoints' in s ? s.endpoints.length : '-']),
      [
        ['pending', '-'],
        ['bound', 2],
        ['failed', 2],
        ['negative', '-'],
        ['failed', 0],
      ],
    );
    off();
    assert.equal(r.listeners, 0);
    r.close();
    assert.equal(r.closed, true);
  });
});

describe('scriptedService', () => {
  const at = (key: string) => {
    const [address, port] = key.split(':') as [string, string];
    return new EndpointState({ address, port: Number(port) }, 0);
  };
  const callTo = (key: string, attempt = 1) => {
    const call = new Call('svc', 'GET', '/x', { a: '1' });
    call.endpoint = at(key);
    call.attempt = attempt;
    return call;
  };

  test('a sequence per endpoint (the last step repeats), a fallback, counts and a log', async () => {
    const clock = new VirtualClock();
    const fake = scriptedService({
      clock,
      scripts: { 'a:1': [{ status: 503 }, { status: 200, latencyMs: 30 }] },
      fallback: (_call, n) => ({ status: 201 + n }),
    });
    const statuses: number[] = [];
    for (const key of ['a:1', 'a:1', 'a:1', 'b:2', 'b:2'])
      statuses.push((await clock.run(fake.service(callTo(key)))).status);
    assert.deepEqual(statuses, [503, 200, 200, 201, 202]);
    assert.equal(clock.now(), 60);
    assert.equal(fake.attempts(), 5);
    assert.equal(fake.attempts('a:1'), 3);
    assert.deepEqual(
      [...fake.counts()],
      [
        ['a:1', 3],
        ['b:2', 2],
      ],
    );
    assert.deepEqual(fake.log[1], {
      endpoint: 'a:1',
      attempt: 1,
      method: 'GET',
      path: '/x',
      headers: { a: '1' },
      at: 0,
    });
    fake.script('a:1', { status: 418 });
    assert.equal((await clock.run(fake.service(callTo('a:1')))).status, 418);
    fake.reset();
    assert.equal(fake.attempts(), 0);
    assert.equal(fake.log.length, 0);
  });

  test('errors (fresh per attempt), hangs that end on abort, bodies that stream on the clock', async () => {
    const clock = new VirtualClock();
    let made = 0;
    const fake = scriptedService({
      clock,
      scripts: {
        'e:1': { error: () => new Error(`boom ${++made}`), latencyMs: 5 },
        'h:1': { hang: true },
        'b:1': { bodyMs: 100 },
      },
    });
    await assert.rejects(clock.run(fake.service(callTo('e:1'))), /boom 1/);
    await assert.rejects(clock.run(fake.service(callTo('e:1'))), /boom 2/);
    const hanging = callTo('h:1');
    const ac = new AbortController();
    hanging.attemptSignal = ac.signal;
    const p = fake.service(hanging);
    await clock.advance(1000);
    assert.equal(fake.inFlight, 1);
    // An abort reason that is not Weft's own reaches the caller as WEFT_CANCELLED, the reason its cause.
    ac.abort(new Error('gave up'));
    await assert.rejects(
      p,
      (e) => isWeftError(e, ErrorCode.Cancelled) && (e.cause as Error).message === 'gave up',
    );
    assert.equal(fake.inFlight, 0);
    const response = await clock.run(fake.service(callTo('b:1')));
    assert.equal(response.bodyDone, false);
    let done = false;
    response.onBodyDone(() => {
      done = true;
    });
    await clock.advance(99);
    assert.equal(done, false);
    await clock.advance(1);
    assert.equal(done, true);
    await response.consume();
    const discarded = await clock.run(fake.service(callTo('b:1')));
    discarded.discard();
    assert.equal(discarded.bodyDone, true);
    assert.equal(discarded.discarded, true);
    assert.equal(clock.pending, 0);
  });
});

describe('fakeClient', () => {
  test('a whole stack over the fake: lazy connections, disconnects on removal, seeded picks', async () => {
    const resolver = new StaticResolver(fakeEndpoints(3));
    const run = async (seed: number) => {
      const c = fakeClient({ resolver, seed });
      for (let i = 0; i < 20; i++) await c.run();
      const order = c.server.log.map((r) => r.endpoint);
      c.close();
      return order;
    };
    assert.deepEqual(await run(3), await run(3), 'the same seed gives the same picks');
    const c = fakeClient({ endpoints: 2 });
    assert.deepEqual(c.connected, []);
    await c.run();
    assert.equal(c.connected.length, 1);
    (c.resolver as StaticResolver).set([]);
    assert.deepEqual(c.disconnected, c.connected);
    c.close();
    assert.deepEqual(fakeEndpoints(257).at(-1), { address: '10.0.1.1', port: 8080 });
  });
});
