import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  admission,
  drainState,
  fixedLimit,
  gradientLimit,
  isWeftError,
  readInbound,
  ServerContext,
  tokenBucket,
} from '@weft/core';
import { VirtualClock } from '@weft/core/testing';

describe('fixed concurrency limit', () => {
  test('hands out exactly `limit` permits and takes them back', () => {
    const l = fixedLimit({ limit: 2 });
    assert.equal(l.tryAcquire(), true);
    assert.equal(l.tryAcquire(), true);
    assert.equal(l.tryAcquire(), false);
    assert.equal(l.inflight, 2);
    l.release(5, 'success');
    assert.equal(l.tryAcquire(), true);
  });
  test('rejects a bad limit with the option name', () => {
    assert.throws(() => fixedLimit({ limit: 0 }), /concurrency\.limit.*1–1000000/);
    assert.throws(() => fixedLimit({ limit: 1.5 }), /concurrency\.limit/);
  });
});

describe('token bucket', () => {
  test('allows a burst, then the sustained rate', async () => {
    const clock = new VirtualClock();
    const b = tokenBucket({ ratePerSecond: 10, burst: 3 }, clock);
    assert.deepEqual([b.tryTake(), b.tryTake(), b.tryTake(), b.tryTake()], [true, true, true, false]);
    await clock.advance(100); // one token at 10/s
    assert.equal(b.tryTake(), true);
    assert.equal(b.tryTake(), false);
    await clock.advance(10_000); // refills to the burst, no more
    let n = 0;
    while (b.tryTake()) n++;
    assert.equal(n, 3);
  });
  test('burst defaults to one second of rate; bad rate names the option', () => {
    const b = tokenBucket({ ratePerSecond: 50 }, new VirtualClock());
    assert.equal(b.burst, 50);
    assert.throws(() => tokenBucket({ ratePerSecond: 0 }, new VirtualClock()), /rate\.ratePerSecond/);
  });
});

describe('admission', () => {
  test('sheds by concurrency first, then by rate, and a rate refusal returns the concurrency permit', () => {
    const clock = new VirtualClock();
    const a = admission({ concurrency: 2, rate: { ratePerSecond: 1, burst: 1 }, clock });
    assert.equal(a.tryAdmit(), undefined);
    assert.equal(a.tryAdmit(), 'rate');
    assert.equal(a.snapshot().concurrency?.inflight, 1, 'the rate refusal gave its permit back');
    a.release(1, 'success');
    const s = a.snapshot();
    assert.equal(s.concurrency?.inflight, 0);
    assert.deepEqual(s.rejected, { concurrency: 0, rate: 1 });
    const b = admission({ concurrency: 1, rate: false, clock });
    assert.equal(b.tryAdmit(), undefined);
    assert.equal(b.tryAdmit(), 'concurrency');
  });
  test('defaults to a fixed limit of 1000 and no rate limit; false turns the limit off', () => {
    const s = admission().snapshot();
    assert.deepEqual(s.concurrency, { kind: 'fixed', limit: 1000, inflight: 0 });
    assert.equal(s.rate, undefined);
    const off = admission({ concurrency: false });
    for (let i = 0; i < 5000; i++) assert.equal(off.tryAdmit(), undefined);
  });
  test('bad concurrency option names the option', () => {
    assert.throws(() => admission({ concurrency: { kind: 'nope' } as never }), /invalid option concurrency/);
  });
});

describe('gradient limit', () => {
  /** Runs `rounds` of a server that completes `capacity` requests at once with base latency `baseMs`;
   * requests beyond capacity queue, so their latency grows with the queue. Returns the final limit. */
  function simulate(
    limit: ReturnType<typeof gradientLimit>,
    capacity: number,
    baseMs: number,
    rounds: number,
  ) {
    for (let r = 0; r < rounds; r++) {
      let taken = 0;
      while (limit.tryAcquire()) taken++;
      for (let i = 0; i < taken; i++) {
        const queued = Math.floor(i / capacity);
        limit.release(baseMs * (1 + queued), 'success');
      }
    }
    return limit.limit;
  }
  test('grows while latency holds and settles near capacity when requests start to queue', () => {
    const l = gradientLimit({ initialLimit: 10, maxLimit: 500 });
    const settled = simulate(l, 50, 10, 400);
    // Gradient2 tolerates latency up to 1.5× its (average) baseline: it settles within a few
    // capacities' worth of queueing instead of growing to maxLimit.
    assert.ok(settled >= 40 && settled <= 150, `settled at ${settled} for a capacity of 50`);
    const unconstrained = gradientLimit({ initialLimit: 10, maxLimit: 500 });
    assert.equal(simulate(unconstrained, 10_000, 10, 400), 500, 'without queueing it grows to maxLimit');
  });
  test('shrinks on drops, never under minLimit', () => {
    const l = gradientLimit({ initialLimit: 100, minLimit: 5 });
    for (let i = 0; i < 100; i++) {
      if (l.tryAcquire()) l.release(10, 'dropped');
    }
    assert.equal(l.limit, 5);
  });
  test('an idle server does not inflate the limit', () => {
    const l = gradientLimit({ initialLimit: 20 });
    for (let i = 0; i < 1000; i++) {
      l.tryAcquire();
      l.release(1, 'success');
    }
    assert.equal(l.limit, 20);
  });
  test('rejects bad options by name', () => {
    assert.throws(() => gradientLimit({ minLimit: 10, initialLimit: 5 }), /concurrency\.initialLimit/);
    assert.throws(() => gradientLimit({ tolerance: 0.5 }), /concurrency\.tolerance/);
  });
});

describe('inbound values', () => {
  test('reads good values and drops malformed ones with a report', () => {
    const bad: string[] = [];
    const ok = readInbound(
      {
        deadline: '250',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        tracestate: 'a=b',
        baggage: 'user=1',
      },
      (f) => bad.push(f),
    );
    assert.equal(bad.length, 0);
    assert.equal(ok.remainingMs, 250);
    assert.equal(ok.tracestate, 'a=b');
    const r = readInbound(
      { deadline: '-1', traceparent: 'garbage', tracestate: 'a=b', baggage: ['x=1', 'y=2'] },
      (f) => bad.push(f),
    );
    assert.deepEqual(bad, ['deadline', 'traceparent', 'baggage']);
    assert.deepEqual(r, {
      remainingMs: undefined,
      traceparent: undefined,
      tracestate: undefined,
      baggage: undefined,
      route: undefined,
    });
    readInbound({ deadline: '99999999999', baggage: 'a=\u0001' }, (f) => bad.push(f));
    assert.deepEqual(bad.slice(3), ['deadline', 'baggage']);
    // The travelling subset override: kept when well formed, dropped (and reported) when not.
    assert.equal(
      readInbound({ route: 'catalog=v2, users=v3' }, (f) => bad.push(f)).route,
      'catalog=v2, users=v3',
    );
    assert.equal(readInbound({ route: 'catalog=v2\r\nx: y' }, (f) => bad.push(f)).route, undefined);
    assert.equal(readInbound({ route: ['catalog=v2', 'catalog=v1'] }, (f) => bad.push(f)).route, undefined);
    assert.deepEqual(bad.slice(5), ['route', 'route']);
  });
});

describe('server context', () => {
  test('the signal aborts when the deadline passes, and costs no timer until it is read', async () => {
    const clock = new VirtualClock();
    const ctx = new ServerContext({ deadline: 100 }, clock);
    assert.equal(clock.pending, 0);
    const signal = ctx.signal;
    assert.equal(clock.pending, 1);
    await clock.advance(99);
    assert.equal(signal.aborted, false);
    await clock.advance(1);
    assert.equal(signal.aborted, true);
    assert.ok(isWeftError(signal.reason, 'WEFT_DEADLINE_EXCEEDED'));
  });
  test('cancel aborts a signal made before or after it; end stops the timer', async () => {
    const clock = new VirtualClock();
    const a = new ServerContext({ deadline: 100 }, clock);
    const s = a.signal;
    a.cancel();
    assert.ok(isWeftError(s.reason, 'WEFT_CANCELLED'));
    assert.equal(clock.pending, 0);
    const b = new ServerContext({ deadline: Number.POSITIVE_INFINITY }, clock);
    b.cancel('gone');
    assert.equal(b.signal.aborted, true);
    const c = new ServerContext({ deadline: 100 }, clock);
    void c.signal;
    c.end();
    assert.equal(clock.pending, 0);
    assert.equal(c.downstreamExhausted, false);
  });
});

describe('drain state', () => {
  test('serving → draining → closed once in-flight requests leave', async () => {
    const clock = new VirtualClock();
    const d = drainState({ clock, timeoutMs: 1000 });
    const states: string[] = [];
    d.onChange((s) => states.push(s));
    assert.equal(d.enter(), true);
    assert.equal(d.enter(), true);
    const done = d.drain();
    assert.equal(d.ready, false);
    assert.equal(d.enter(), false, 'no new requests while draining');
    d.leave();
    await clock.advance(10);
    d.leave();
    const r = await done;
    assert.deepEqual(r, { inflightAtStart: 2, abandoned: 0, durationMs: 10 });
    assert.deepEqual(states, ['draining', 'closed']);
    assert.equal(d.drain(), done, 'drain is idempotent');
  });
  test('delayMs keeps the instance draining (refusing, not ready) for a least time', async () => {
    const clock = new VirtualClock();
    const d = drainState({ clock, timeoutMs: 1000, delayMs: 200 });
    const done = d.drain();
    await clock.advance(199);
    assert.equal(d.state, 'draining');
    assert.equal(d.enter(), false);
    await clock.advance(1);
    assert.deepEqual(await done, { inflightAtStart: 0, abandoned: 0, durationMs: 200 });
    assert.equal(clock.pending, 0, 'no timer left behind');
    assert.throws(() => drainState({ timeoutMs: 100, delayMs: 200 }), /drain\.delayMs/);
  });
  test('the timeout cuts the wait short and reports what was abandoned', async () => {
    const clock = new VirtualClock();
    const d = drainState({ clock, timeoutMs: 500 });
    d.enter();
    const done = d.drain();
    await clock.advance(500);
    assert.deepEqual(await done, { inflightAtStart: 1, abandoned: 1, durationMs: 500 });
    assert.equal(d.state, 'closed');
    assert.throws(() => drainState({ timeoutMs: -1 }), /drain\.timeoutMs/);
  });
});
