import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type Balancer,
  balancerFor,
  EndpointState,
  NO_HISTORY_PENALTY,
  p2cEwma,
  p2cLeastLoaded,
  roundRobin,
  TIE_RELATIVE,
  weighted,
} from '@weft/core';
import { fakeClient, fakeEndpoints, seededRandom } from '@weft/core/testing';

const DECAY = 10_000;

function states(n: number, weights?: number[]): EndpointState[] {
  return fakeEndpoints(n).map((e, i) => new EndpointState(weights ? { ...e, weight: weights[i]! } : e, 0));
}

function tally(b: Balancer, eps: EndpointState[], picks: number, seed = 7): Map<string, number> {
  const random = seededRandom(seed);
  b.rebuild(eps);
  const counts = new Map<string, number>(eps.map((e) => [e.key, 0]));
  for (let i = 0; i < picks; i++) {
    const ep = b.pick(eps, 0, random)!;
    counts.set(ep.key, counts.get(ep.key)! + 1);
  }
  return counts;
}

describe('peak-EWMA endpoint state', () => {
  test('a sample above the estimate replaces it at once; below, it decays towards it', () => {
    const ep = states(1)[0]!;
    ep.observe(10, 0, DECAY);
    assert.equal(ep.latency(0, DECAY), 10);
    ep.observe(200, 1, DECAY);
    assert.equal(ep.latency(1, DECAY), 200, 'the peak is taken immediately');
    ep.observe(20, 1 + DECAY, DECAY);
    // One time constant later the estimate moved 1 - 1/e of the way to the sample.
    const expected = 200 * Math.exp(-1) + 20 * (1 - Math.exp(-1));
    assert.ok(Math.abs(ep.latency(1 + DECAY, DECAY) - expected) < 1e-9);
  });

  test('an idle slow endpoint decays exponentially and becomes attractive again', () => {
    const [fast, slow] = states(2) as [EndpointState, EndpointState];
    slow.observe(100, 0, DECAY);
    const b = p2cEwma({ decayMs: DECAY });
    const random = seededRandom(1);
    let t = 0;
    let slowPickedAt: number | undefined;
    // The fast endpoint keeps answering in 10 ms; the slow one gets no traffic while it loses.
    while (t < 60_000 && slowPickedAt === undefined) {
      const ep = b.pick([fast, slow], t, random)!;
      if (ep === slow) slowPickedAt = t;
      else fast.observe(10, t, DECAY);
      t += 10;
    }
    assert.ok(slowPickedAt !== undefined, 'the slow endpoint is tried again');
    // It comes back once 100·e^(−t/τ) is within the tie band of 10 ms (10% above it):
    // t ≈ τ·ln(100/11) ≈ 22 s.
    const expected = DECAY * Math.log(100 / (10 * (1 + TIE_RELATIVE)));
    assert.ok(
      Math.abs(slowPickedAt - expected) < 200,
      `came back at ${slowPickedAt} ms, expected ~${expected}`,
    );
    assert.ok(
      Math.abs(
        slow.latency(10_000 + slowPickedAt, DECAY) - 100 * Math.exp(-(10_000 + slowPickedAt) / DECAY),
      ) < 1e-6,
    );
  });

  test('no history and requests in flight: a large penalty, so a new endpoint gets one request at a time', () => {
    const [fresh, busy] = states(2) as [EndpointState, EndpointState];
    busy.observe(500, 0, DECAY);
    busy.outstanding = 10;
    assert.equal(fresh.ewmaLoad(0, DECAY), 0, 'idle and new: cheapest, so it gets tried');
    fresh.outstanding = 1;
    assert.equal(fresh.ewmaLoad(0, DECAY), NO_HISTORY_PENALTY + 1);
    assert.equal(busy.ewmaLoad(0, DECAY), 500 * 11);
    const b = p2cEwma();
    assert.equal(b.pick([fresh, busy], 0, seededRandom(3)), busy);
    assert.equal(b.pick([busy, fresh], 0, seededRandom(4)), busy);
  });

  test('load is latency × (outstanding + 1) divided by the weight', () => {
    const ep = new EndpointState({ address: '10.0.0.1', port: 1, weight: 4 }, 0);
    ep.observe(8, 0, DECAY);
    ep.outstanding = 3;
    assert.equal(ep.ewmaLoad(0, DECAY), (8 * 4) / 4);
  });
});

describe('p2cEwma through the stack on virtual time', () => {
  test('a slower endpoint gets less traffic', async () => {
    const client = fakeClient({
      endpoints: 3,
      scripts: { '10.0.0.1:8080': { latencyMs: 50 } },
      fallback: { latencyMs: 5 },
      seed: 11,
    });
    // Eight concurrent callers, each making calls back to back.
    const worker = async () => {
      for (let i = 0; i < 50; i++) await client.call();
    };
    await client.clock.run(Promise.all(Array.from({ length: 8 }, worker)));
    const counts = client.server.counts();
    const slow = counts.get('10.0.0.1:8080') ?? 0;
    assert.equal(client.server.attempts(), 400);
    assert.ok(slow < 400 * 0.1, `slow endpoint got ${slow} of 400`);
    assert.ok(counts.get('10.0.0.2:8080')! > 150 && counts.get('10.0.0.3:8080')! > 150, String([...counts]));
    client.close();
  });
});

describe('p2cLeastLoaded', () => {
  test('picks the endpoint with fewer outstanding requests per weight', () => {
    const [a, b] = states(2) as [EndpointState, EndpointState];
    a.outstanding = 5;
    b.outstanding = 1;
    const bal = p2cLeastLoaded();
    assert.equal(bal.pick([a, b], 0, seededRandom(1)), b);
    const heavy = new EndpointState({ address: '10.0.0.9', port: 1, weight: 10 }, 0);
    heavy.outstanding = 5;
    assert.equal(bal.pick([b, heavy], 0, seededRandom(1)), heavy, '5/10 < 1/1');
  });

  test('spreads evenly when loads are equal, and never compares an endpoint with itself', () => {
    const eps = states(4);
    const counts = tally(p2cLeastLoaded(), eps, 40_000);
    for (const c of counts.values()) assert.ok(Math.abs(c - 10_000) < 600, String([...counts]));
    assert.equal(p2cLeastLoaded().pick([], 0, seededRandom(1)), undefined);
    assert.equal(p2cLeastLoaded().pick([eps[0]!], 0, seededRandom(1)), eps[0]);
  });
});

describe('roundRobin', () => {
  test('each in turn, wrapping when the set shrinks', () => {
    const eps = states(3);
    const b = roundRobin();
    const order = Array.from({ length: 7 }, () => b.pick(eps, 0, Math.random)!.key.split('.')[3]);
    assert.deepEqual(order, ['1:8080', '2:8080', '3:8080', '1:8080', '2:8080', '3:8080', '1:8080']);
    b.pick(eps, 0, Math.random); // index 2 next
    const two = eps.slice(0, 2);
    assert.equal(b.pick(two, 0, Math.random), eps[0]);
    assert.equal(b.pick([], 0, Math.random), undefined);
  });
});

describe('weighted (alias method)', () => {
  test('pick frequencies match the weights within 1% over 200 000 seeded picks', () => {
    const weights = [1, 2, 3, 4, 0, 10];
    const eps = states(weights.length, weights);
    const n = 200_000;
    const counts = tally(weighted(), eps, n);
    const total = weights.reduce((a, b) => a + b, 0);
    eps.forEach((e, i) => {
      const share = counts.get(e.key)! / n;
      assert.ok(Math.abs(share - weights[i]! / total) < 0.01, `${e.key}: ${share} vs ${weights[i]! / total}`);
    });
    assert.equal(counts.get(eps[4]!.key), 0, 'weight 0 is never picked');
  });

  test('all weights zero: uniform; the table follows set changes', () => {
    const eps = states(3, [0, 0, 0]);
    const counts = tally(weighted(), eps, 30_000);
    for (const c of counts.values()) assert.ok(Math.abs(c - 10_000) < 500);
    const b = weighted();
    b.rebuild(eps);
    const one = states(1, [5]);
    assert.equal(
      b.pick(one, 0, seededRandom(1)),
      one[0],
      'a stale table is rebuilt for a set of another size',
    );
  });
});

describe('O(1) picks', () => {
  /** Counts element reads of the available list during one pick. */
  function readsPerPick(kind: string, n: number): { reads: number; randoms: number } {
    const eps = states(
      n,
      Array.from({ length: n }, (_, i) => 1 + (i % 5)),
    );
    for (const [i, e] of eps.entries()) e.observe(1 + (i % 7), 0, DECAY);
    const b = balancerFor(kind);
    b.rebuild(eps);
    let reads = 0;
    const watched = new Proxy(eps, {
      get(target, key, receiver) {
        if (typeof key === 'string' && /^\d+$/.test(key)) reads++;
        return Reflect.get(target, key, receiver);
      },
    });
    const inner = seededRandom(n);
    let randoms = 0;
    const random = () => {
      randoms++;
      return inner();
    };
    let maxReads = 0;
    let maxRandoms = 0;
    for (let i = 0; i < 100; i++) {
      reads = 0;
      randoms = 0;
      assert.ok(b.pick(watched, 1, random));
      maxReads = Math.max(maxReads, reads);
      maxRandoms = Math.max(maxRandoms, randoms);
    }
    return { reads: maxReads, randoms: maxRandoms };
  }

  for (const kind of ['p2c-ewma', 'p2c-least-loaded', 'round-robin', 'weighted']) {
    test(`${kind}: the work of a pick does not grow with the number of endpoints`, () => {
      const small = readsPerPick(kind, 10);
      const large = readsPerPick(kind, 10_000);
      assert.deepEqual(large, small);
      assert.ok(large.reads <= 2 && large.randoms <= 2, JSON.stringify(large));
    });
  }
});
