import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, test } from 'node:test';
import {
  EndpointSet,
  type EndpointState,
  ErrorCode,
  isWeftError,
  type OutlierOptions,
  resolveOutlierOptions,
  roundRobin,
  StaticResolver,
  WeftError,
} from '@weft/core';
import { fakeClient, fakeEndpoints, seededRandom, VirtualClock } from '@weft/core/testing';

const SEED = 9;

function makeSet(n: number, outlier: OutlierOptions) {
  const clock = new VirtualClock();
  const resolver = new StaticResolver(fakeEndpoints(n));
  const set = new EndpointSet<unknown>({
    destination: 'svc',
    resolver,
    balancer: roundRobin(),
    clock,
    random: seededRandom(SEED),
    outlier,
    panicThresholdPercent: 0,
    connect: () => ({}),
    disconnect: () => {},
  });
  return { set, clock, resolver };
}

function fail(set: EndpointSet, ep: EndpointState, times: number): void {
  for (let i = 0; i < times; i++) set.record(ep, 1, false);
}

/** Picks until the balancer returns `ep` (round robin: within one turn). */
function pickUntil(set: EndpointSet, ep: EndpointState): EndpointState {
  for (let i = 0; i <= set.available.length; i++) if (set.pick() === ep) return ep;
  assert.fail(`${ep.key} was not picked`);
}

describe('outlier detection', () => {
  test('ejects after N consecutive failures; a success resets the count', () => {
    const { set } = makeSet(3, { consecutiveFailures: 3 });
    const ep = set.all[0]!;
    const events: unknown[] = [];
    const listener = (m: unknown) => events.push(m);
    subscribe('weft:endpoint:health', listener);
    try {
      fail(set, ep, 2);
      set.record(ep, 1, true);
      fail(set, ep, 2);
      assert.equal(ep.health, 'healthy');
      fail(set, ep, 1);
      assert.equal(ep.health, 'ejected');
      assert.deepEqual(events, [
        {
          destination: 'svc',
          endpoint: '10.0.0.1:8080',
          health: 'ejected',
          reason: '3 consecutive failures',
        },
      ]);
    } finally {
      unsubscribe('weft:endpoint:health', listener);
      set.close();
    }
  });

  test('ejection time grows with each ejection in a row, jittered ±15%, capped at maxEjectionMs', async () => {
    const { set, clock } = makeSet(2, { consecutiveFailures: 1, baseEjectionMs: 1000, maxEjectionMs: 2500 });
    const jitter = seededRandom(SEED); // the same sequence the detector draws from
    const ep = set.all[0]!;
    set.record(ep, 1, false);
    for (const base of [1000, 2000, 2500, 2500]) {
      assert.equal(ep.health, 'ejected');
      const expected = base * (0.85 + 0.3 * jitter());
      const due = clock.nextDue!;
      assert.ok(
        Math.abs(due - clock.now() - expected) < 1e-9,
        `ejected for ${due - clock.now()}, want ${expected}`,
      );
      assert.ok(expected >= base * 0.85 && expected < base * 1.15);
      await clock.advance(Math.ceil(expected) - 1);
      assert.equal(ep.health, 'ejected', 'still ejected just before its time is up');
      await clock.advance(1);
      assert.equal(ep.health, 'probing');
      pickUntil(set, ep);
      set.record(ep, 1, false); // the probe fails: ejected again, for longer
    }
    set.close();
    assert.equal(clock.pending, 0, 'close cancels the readmission timer');
  });

  test('a single probe: out of rotation while in flight, readmitted on success', async () => {
    const { set, clock } = makeSet(3, { consecutiveFailures: 2, baseEjectionMs: 1000 });
    const ep = set.all[1]!;
    fail(set, ep, 2);
    assert.equal(set.available.length, 2);
    await clock.advance(1150);
    assert.equal(ep.health, 'probing');
    assert.equal(set.available.length, 3, 'back in rotation for its probe');
    pickUntil(set, ep);
    assert.equal(ep.probing, true);
    assert.equal(set.available.length, 2, 'only one probe at a time');
    for (let i = 0; i < 10; i++) assert.notEqual(set.pick(), ep);
    set.record(ep, 1, true);
    assert.equal(ep.health, 'healthy');
    assert.equal(set.available.length, 3);
    // Readmitted with a clean slate: it takes the full count of failures to eject it again.
    fail(set, ep, 1);
    assert.equal(ep.health, 'healthy');
    set.close();
  });

  test('an endpoint that stayed healthy long enough starts over at the base ejection time', async () => {
    const { set, clock } = makeSet(2, { consecutiveFailures: 1, baseEjectionMs: 1000, maxEjectionMs: 4000 });
    const ep = set.all[0]!;
    fail(set, ep, 1);
    await clock.advance(1150);
    pickUntil(set, ep);
    fail(set, ep, 1); // second ejection in a row: ~2000 ms
    await clock.advance(2300);
    pickUntil(set, ep);
    set.record(ep, 1, true);
    assert.equal(ep.ejections, 2);
    await clock.advance(10_000);
    fail(set, ep, 1);
    assert.equal(ep.ejections, 1);
    assert.ok(clock.nextDue! - clock.now() < 1150);
    set.close();
  });

  test('never ejects more than maxEjectionPercent of the endpoints, but at least one', () => {
    const { set } = makeSet(4, { consecutiveFailures: 1, maxEjectionPercent: 25 });
    const [a, b] = set.all as [EndpointState, EndpointState];
    fail(set, a, 1);
    fail(set, b, 5);
    assert.equal(a.health, 'ejected');
    assert.equal(b.health, 'healthy', 'the cap holds');
    set.close();
    const small = makeSet(3, { consecutiveFailures: 1, maxEjectionPercent: 10 });
    fail(small.set, small.set.all[2]!, 1);
    assert.equal(small.set.all[2]!.health, 'ejected', '10% of 3 rounds down, yet one may be ejected');
    fail(small.set, small.set.all[0]!, 1);
    assert.equal(small.set.all[0]!.health, 'healthy');
    small.set.close();
  });

  test('success-rate ejection over windows of minRequests', () => {
    const { set } = makeSet(3, {
      consecutiveFailures: 100,
      minSuccessRatePercent: 80,
      minRequests: 10,
    });
    const [good, bad] = set.all as [EndpointState, EndpointState];
    // 2 failures in 10: exactly 80%, not under the threshold.
    for (let i = 0; i < 10; i++) set.record(good, 1, i % 5 !== 0);
    assert.equal(good.health, 'healthy');
    // 3 failures in 10: 70%.
    for (let i = 0; i < 9; i++) set.record(bad, 1, i % 3 !== 0);
    assert.equal(bad.health, 'healthy', 'not judged before the window is full');
    set.record(bad, 1, true);
    assert.equal(bad.health, 'ejected');
    set.close();
  });

  test('disabled: never ejects', () => {
    const { set } = makeSet(2, { enabled: false, consecutiveFailures: 1 });
    fail(set, set.all[0]!, 50);
    assert.equal(set.all[0]!.health, 'healthy');
    set.close();
  });

  test('options are validated with the option named', () => {
    assert.throws(
      () => resolveOutlierOptions({ consecutiveFailures: 0 }),
      /outlierDetection\.consecutiveFailures/,
    );
    assert.throws(
      () => resolveOutlierOptions({ baseEjectionMs: 10, maxEjectionMs: 5 }),
      /outlierDetection\.baseEjectionMs: must be > 0 and ≤ maxEjectionMs/,
    );
    assert.throws(() => resolveOutlierOptions({ maxEjectionPercent: 101 }), /maxEjectionPercent/);
    assert.deepEqual(resolveOutlierOptions({ consecutiveFailures: undefined }).consecutiveFailures, 5);
  });

  test('through the stack: a failing endpoint is ejected and traffic moves to the others', async () => {
    const connectFailed = () => new WeftError(ErrorCode.ConnectFailed, 'refused');
    const client = fakeClient({
      endpoints: 3,
      scripts: { '10.0.0.2:8080': { error: connectFailed } },
      policy: { balancer: { kind: 'round-robin' }, outlierDetection: { consecutiveFailures: 2 } },
    });
    for (let i = 0; i < 30; i++) assert.equal((await client.run()).status, 200);
    assert.equal(client.server.attempts('10.0.0.2:8080'), 2);
    assert.equal(client.endpoints.all[1]!.health, 'ejected');
    client.close();
  });

  test('a probe cancelled by its caller frees the probe slot (the endpoint is not lost)', async () => {
    const connectFailed = () => new WeftError(ErrorCode.ConnectFailed, 'refused');
    const client = fakeClient({
      endpoints: 2,
      scripts: { '10.0.0.1:8080': [{ error: connectFailed }, { hang: true }, { status: 200 }] },
      policy: {
        balancer: { kind: 'round-robin' },
        retry: { enabled: false },
        outlierDetection: { consecutiveFailures: 1, baseEjectionMs: 1000 },
      },
    });
    const ep = client.endpoints.all[0]!;
    await assert.rejects(client.run(), (e) => isWeftError(e, ErrorCode.ConnectFailed));
    assert.equal(ep.health, 'ejected');
    await client.clock.advance(1200);
    assert.equal(ep.health, 'probing');
    // Send calls until one is the probe (it hangs), then cancel it.
    for (let i = 0; i < 3 && client.server.attempts('10.0.0.1:8080') < 2; i++) {
      const ac = new AbortController();
      const call = client.call({ signal: ac.signal });
      await client.clock.advance(0);
      if (client.server.attempts('10.0.0.1:8080') === 2) {
        ac.abort(new Error('user went away'));
        await assert.rejects(call, (e) => isWeftError(e, ErrorCode.Cancelled));
      } else await call;
    }
    assert.equal(client.server.attempts('10.0.0.1:8080'), 2, 'the probe was sent');
    assert.equal(ep.probing, false, 'no probe in flight any more');
    assert.ok(client.endpoints.available.includes(ep), 'it can be probed again');
    // The next probe succeeds and readmits it.
    for (let i = 0; i < 2; i++) await client.run();
    assert.equal(ep.health, 'healthy');
    client.close();
  });
});
