import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type Endpoint,
  EndpointSet,
  type EndpointSetOptions,
  ErrorCode,
  isWeftError,
  type OutlierOptions,
  type Resolver,
  roundRobin,
  StaticResolver,
} from '@weft/core';
import { fakeClient, fakeEndpoints, ManualResolver, seededRandom, VirtualClock } from '@weft/core/testing';

interface Conn {
  key: string;
  closed: boolean;
}

function makeSet(
  resolver: Resolver,
  extra: Partial<EndpointSetOptions<Conn>> & { outlier?: OutlierOptions } = {},
): { set: EndpointSet<Conn>; clock: VirtualClock; closed: string[] } {
  const clock = new VirtualClock();
  const closed: string[] = [];
  const set = new EndpointSet<Conn>({
    destination: 'svc',
    resolver,
    balancer: roundRobin(),
    clock,
    random: seededRandom(5),
    connect: (e) => ({ key: `${e.address}:${e.port}`, closed: false }),
    disconnect: (c) => {
      c.closed = true;
      closed.push(c.key);
    },
    ...extra,
  });
  return { set, clock, closed };
}

const keys = (eps: readonly { key: string }[]) => eps.map((e) => e.key).join(' ');

describe('EndpointSet membership', () => {
  test('an update keeps the state of unchanged endpoints and disconnects removed ones', () => {
    const [a, b, c, d] = fakeEndpoints(4) as [Endpoint, Endpoint, Endpoint, Endpoint];
    const resolver = new StaticResolver([a, b, c]);
    const { set, closed } = makeSet(resolver);
    assert.equal(keys(set.all), '10.0.0.1:8080 10.0.0.2:8080 10.0.0.3:8080');
    // Give every endpoint history and a connection.
    for (let i = 0; i < 3; i++) set.record(set.pick()!, 10, true);
    const before = new Map(set.all.map((e) => [e.key, e]));
    const connB = before.get('10.0.0.2:8080')!.transport;

    resolver.set([{ ...b, labels: { zone: 'z1' } }, a, d, a]);
    assert.equal(keys(set.all), '10.0.0.2:8080 10.0.0.1:8080 10.0.0.4:8080', 'new order, duplicates dropped');
    const stateB = set.all[0]!;
    assert.equal(stateB, before.get('10.0.0.2:8080'), 'same state object');
    assert.equal(stateB.completed, 1, 'history kept');
    assert.equal(stateB.transport, connB, 'connection kept');
    assert.deepEqual(stateB.endpoint.labels, { zone: 'z1' }, 'the endpoint value is refreshed');
    assert.equal(set.all[2]!.completed, 0, 'a new endpoint starts fresh');
    assert.equal(set.all[2]!.transport, undefined, 'connected lazily, on first pick');
    assert.deepEqual(closed, ['10.0.0.3:8080']);
    assert.equal(before.get('10.0.0.3:8080')!.removed, true);
    set.close();
    assert.deepEqual(closed.sort(), ['10.0.0.1:8080', '10.0.0.2:8080', '10.0.0.3:8080']);
  });

  test('an endpoint removed while a request is in flight still records its completion harmlessly', () => {
    const resolver = new StaticResolver(fakeEndpoints(2));
    const { set } = makeSet(resolver, { outlier: { consecutiveFailures: 1 } });
    const ep = set.pick()!;
    resolver.set(fakeEndpoints(2).slice(1));
    set.record(ep, 5, false);
    assert.equal(ep.health, 'healthy', 'removed endpoints are not ejected');
    assert.equal(set.all.length, 1);
    set.close();
  });
});

describe('EndpointSet health', () => {
  test('picks skip ejected endpoints', () => {
    const { set } = makeSet(new StaticResolver(fakeEndpoints(4)), { outlier: { consecutiveFailures: 1 } });
    const bad = set.all[1]!;
    set.record(bad, 1, false);
    assert.equal(bad.health, 'ejected');
    assert.equal(set.available.length, 3);
    for (let i = 0; i < 30; i++) assert.notEqual(set.pick(), bad);
    set.close();
  });

  test('panic mode: under the threshold of healthy endpoints, all endpoints are used', () => {
    const { set } = makeSet(new StaticResolver(fakeEndpoints(4)), {
      outlier: { consecutiveFailures: 1, maxEjectionPercent: 100 },
      panicThresholdPercent: 50,
    });
    set.record(set.all[0]!, 1, false);
    set.record(set.all[1]!, 1, false);
    assert.equal(set.panic, false, 'two of four healthy is 50%: not under the threshold');
    assert.equal(set.available.length, 2);
    set.record(set.all[2]!, 1, false);
    assert.equal(set.panic, true, 'one of four healthy is under 50%');
    assert.equal(set.available.length, 4);
    const picked = new Set(Array.from({ length: 8 }, () => set.pick()!.key));
    assert.equal(picked.size, 4, 'ejected endpoints get traffic again');
    set.configure({ balancer: set.balancer, decayMs: 10_000, panicThresholdPercent: 20 });
    assert.equal(set.panic, false, 'the threshold is live');
    assert.equal(set.available.length, 1);
    set.close();
  });
});

describe('EndpointSet resolution', () => {
  test('whenResolved waits for a pending resolver, and honours its signal', async () => {
    const resolver = new ManualResolver();
    const { set, clock } = makeSet(resolver);
    assert.equal(set.pick(), undefined);
    let resolved = false;
    const waiting = set.whenResolved().then(() => {
      resolved = true;
    });
    const ac = new AbortController();
    const aborted = set.whenResolved(ac.signal);
    ac.abort(new Error('gave up'));
    await assert.rejects(
      aborted,
      (e) => isWeftError(e, ErrorCode.Cancelled) && (e.cause as Error).message === 'gave up',
    );
    await clock.advance(1);
    assert.equal(resolved, false);
    resolver.bind(fakeEndpoints(1));
    await waiting;
    assert.equal(set.pick()?.key, '10.0.0.1:8080');
    await set.whenResolved(); // at once now
    set.close();
    assert.equal(resolver.listeners, 0, 'close unsubscribes');
  });

  test('whenResolved with an already-aborted signal rejects at once', async () => {
    const { set, clock } = makeSet(new ManualResolver());
    const reason = new Error('already gone');
    await assert.rejects(
      clock.run(set.whenResolved(AbortSignal.abort(reason))),
      (e) => isWeftError(e, ErrorCode.Cancelled) && e.cause === reason,
    );
    set.close();
  });

  test('a failed resolver keeps serving its last endpoints (static stability)', async () => {
    const resolver = new ManualResolver();
    const client = fakeClient({ resolver });
    const pending = client.run();
    resolver.bind(fakeEndpoints(2));
    assert.equal((await pending).status, 200, 'a call made while pending waits for the first answer');
    resolver.fail(new Error('registry unreachable'));
    assert.equal(client.endpoints.resolverState.kind, 'failed');
    assert.equal(client.endpoints.all.length, 2);
    assert.equal((await client.run()).status, 200);
    assert.deepEqual(client.disconnected, []);
    client.close();
  });

  test('no endpoints: WEFT_NO_ENDPOINTS says why (negative answer, failed first resolution)', async () => {
    const negative = new ManualResolver();
    const c1 = fakeClient({ resolver: negative });
    negative.negative();
    await assert.rejects(c1.run(), (e: unknown) => {
      assert.ok(isWeftError(e, ErrorCode.NoEndpoints));
      assert.match(e.message, /no endpoints for fake: the name has no endpoints/);
      return true;
    });
    c1.close();
    const failing = new ManualResolver();
    const c2 = fakeClient({ resolver: failing });
    const call = c2.run();
    failing.fail(new Error('dns timeout'));
    await assert.rejects(call, /resolver failed \(dns timeout\)/);
    c2.close();
  });

  test('a call waiting on a pending resolver is released by its deadline', async () => {
    const client = fakeClient({ resolver: new ManualResolver(), policy: { timeoutMs: 100 } });
    await assert.rejects(client.run(), (e) => isWeftError(e, ErrorCode.DeadlineExceeded));
    assert.equal(client.clock.now(), 100);
    client.close();
  });
});
