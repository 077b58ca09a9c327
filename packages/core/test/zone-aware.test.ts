import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { balancerFor, type Endpoint, EndpointSet, StaticResolver } from '@weft/core';
import { seededRandom, VirtualClock } from '@weft/core/testing';

const endpoints: Endpoint[] = [
  { address: '10.0.0.1', port: 80, labels: { zone: 'a' } },
  { address: '10.0.0.2', port: 80, labels: { zone: 'a' } },
  { address: '10.0.1.1', port: 80, labels: { zone: 'b' } },
  { address: '10.0.1.2', port: 80, labels: { zone: 'b' } },
];

function makeSet(localZone: string | undefined, clock = new VirtualClock()) {
  const set = new EndpointSet<unknown>({
    destination: 'zoned',
    resolver: new StaticResolver(endpoints),
    balancer: balancerFor('p2c-ewma'),
    clock,
    random: seededRandom(7),
    localZone,
    connect: () => ({}),
    disconnect: () => {},
  });
  return { set, clock };
}

/** Makes `n` picks, each completing at once with the latency `latency(zone)` gives. */
function run(set: EndpointSet, n: number, latency: (zone: string) => number) {
  const counts: Record<string, number> = { a: 0, b: 0 };
  for (let i = 0; i < n; i++) {
    const ep = set.pick()!;
    const zone = ep.endpoint.labels!.zone!;
    counts[zone]!++;
    set.record(ep, latency(zone), true);
  }
  return counts;
}

describe('zone-aware balancing', () => {
  test('healthy, unloaded local endpoints take all the traffic', () => {
    const { set } = makeSet('a');
    run(set, 20, () => 5); // warm every endpoint's latency estimate
    const counts = run(set, 1000, (zone) => (zone === 'a' ? 5 : 6));
    assert.equal(counts.b, 0, `no cross-zone traffic: ${JSON.stringify(counts)}`);
  });

  test('without a local zone, traffic spreads over every zone', () => {
    const { set } = makeSet(undefined);
    const counts = run(set, 1000, () => 5);
    assert.ok(counts.a! > 300 && counts.b! > 300, JSON.stringify(counts));
  });

  test('an overloaded local zone spills over to the other zone', () => {
    const { set } = makeSet('a');
    run(set, 20, () => 5);
    // The local zone turns 10× slower: more than the spillover factor (2) above the remote zone.
    const counts = run(set, 1000, (zone) => (zone === 'a' ? 50 : 5));
    assert.ok(counts.b! > 900, `most traffic spills over: ${JSON.stringify(counts)}`);
  });

  test('a local zone with too few healthy endpoints is not preferred', () => {
    const { set } = makeSet('a');
    run(set, 20, () => 5);
    // Eject one of the two local endpoints: the zone is at 50% healthy, on the default threshold.
    const local = set.all.filter((e) => e.endpoint.labels?.zone === 'a');
    for (let i = 0; i < 5; i++) set.record(local[0]!, 5, false);
    assert.equal(local[0]!.health, 'ejected');
    const half = run(set, 200, () => 5);
    assert.equal(
      half.b,
      0,
      `one of two local endpoints healthy (50%) still keeps traffic local: ${JSON.stringify(half)}`,
    );
    set.configure({ balancer: set.balancer, decayMs: set.decayMs, panicThresholdPercent: 60 });
    const spread = run(set, 400, () => 5);
    assert.ok(spread.b! > 100, `under the zone's threshold traffic spreads: ${JSON.stringify(spread)}`);
  });
});
