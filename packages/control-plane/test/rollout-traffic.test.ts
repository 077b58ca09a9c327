/**
 * What a rollout's analysis reads from the traffic window: the calls to one service per subset,
 * every caller merged, over whole buckets, so two intervals that meet neither share a bucket nor
 * miss one.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bucketOf, HISTOGRAM_SCHEMA, type TrafficReport } from '@weft/core';
import { VirtualClock } from '@weft/core/testing';
import { subsetTraffic } from '../src/traffic/subsets.ts';
import { TrafficWindow } from '../src/traffic/window.ts';

const report = (
  caller: string,
  to: string,
  subset: string,
  requests: number,
  failures: number,
  ms: number,
): TrafficReport => ({
  reporter: { id: `${caller}-1`, service: caller },
  histogram: HISTOGRAM_SCHEMA,
  intervalMs: 1000,
  dropped: { rows: 0, reports: 0 },
  rows: [
    {
      destination: to,
      subset,
      endpoint: `10.0.0.1:80`,
      requests,
      failures: failures ? { failure: failures } : {},
      latency: { i: [bucketOf(ms)], c: [requests] },
    },
  ],
});

describe('subsetTraffic', () => {
  test('merges the callers per subset of one service, over the whole buckets of a span', async () => {
    const clock = new VirtualClock(1_000_000);
    const window = new TrafficWindow({ bucketMs: 1000, now: () => clock.now() });
    window.add(report('web', 'catalog', 'v1', 90, 0, 5));
    window.add(report('api', 'catalog', 'v1', 10, 1, 5));
    window.add(report('web', 'catalog', 'v2', 20, 4, 300));
    window.add(report('web', 'orders', 'v2', 50, 50, 5));
    await clock.advance(1000);
    window.add(report('web', 'catalog', 'v2', 20, 0, 5));
    await clock.advance(1000);
    window.add(report('web', 'catalog', 'v2', 1000, 0, 5)); // the bucket still filling
    const first = subsetTraffic(window, 'catalog', 1_000_000, 1_001_000);
    assert.deepEqual([...first.keys()].sort(), ['v1', 'v2']);
    assert.deepEqual(
      { ...first.get('v1'), p99Ms: undefined },
      { requests: 100, failures: 1, successRate: 0.99, p99Ms: undefined },
    );
    assert.equal(first.get('v2')?.requests, 20);
    assert.ok(first.get('v2')!.p99Ms! > 250, 'p99 from the merged histogram');
    const second = subsetTraffic(window, 'catalog', 1_001_000, clock.now());
    assert.deepEqual(second.get('v2'), {
      requests: 20,
      failures: 0,
      successRate: 1,
      p99Ms: second.get('v2')!.p99Ms,
    });
    assert.equal(second.get('v1'), undefined);
    const both = subsetTraffic(window, 'catalog', 1_000_000, clock.now());
    assert.equal(both.get('v2')?.requests, 40, 'the bucket still filling is left to the next span');
  });
});
