import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  bucketOf,
  bucketValue,
  Call,
  Destination,
  defaultClientStack,
  HISTOGRAM_SCHEMA,
  quantile,
  StaticResolver,
  SUMMARY_BUCKETS,
  TrafficReport,
  TrafficSummary,
} from '@weft/core';
import { createConfigClient } from '@weft/core/config';
import {
  type FakeConnection,
  type FakeResponse,
  fakeBinding,
  fakeEndpoints,
  scriptedService,
  seededRandom,
  VirtualClock,
} from '@weft/core/testing';
import { Policies } from './support/policies.ts';

describe('summary histogram', () => {
  test('buckets are 16 per doubling: any latency reads back within 2.2%', () => {
    for (const ms of [0.02, 0.5, 1, 3.3, 17, 99.9, 250, 1234, 60_000, 600_000]) {
      const read = bucketValue(bucketOf(ms));
      assert.ok(Math.abs(read - ms) / ms <= 0.022, `${ms} ms reads ${read}`);
    }
    assert.equal(bucketOf(0), 0);
    assert.equal(bucketOf(-1), 0);
    assert.equal(bucketOf(Number.NaN), 0);
    assert.equal(bucketOf(1e12), SUMMARY_BUCKETS - 1);
  });

  test('quantiles of a merged histogram', () => {
    const counts = new Float64Array(SUMMARY_BUCKETS);
    for (let i = 1; i <= 100; i++) counts[bucketOf(i)]!++;
    const p50 = quantile(counts, 100, 0.5)!;
    const p99 = quantile(counts, 100, 0.99)!;
    assert.ok(Math.abs(p50 - 50) / 50 < 0.03, `p50 ${p50}`);
    assert.ok(Math.abs(p99 - 99) / 99 < 0.03, `p99 ${p99}`);
    assert.equal(quantile(counts, 0, 0.5), null);
  });
});

function setup(options: { maxRowsPerReport?: number } = {}) {
  const clock = new VirtualClock();
  const sent: TrafficReport[] = [];
  let reachable = true;
  let hold: Promise<void> | undefined;
  const summary = new TrafficSummary(
    {
      service: 'web',
      clock,
      canSend: () => reachable,
      send: async (r) => {
        sent.push(r);
        await hold;
      },
    },
    { reportIntervalMs: 5000, ...options },
  );
  const config = Object.assign(new Policies(), { traffic: summary });
  const server = scriptedService({
    clock,
    scripts: { '10.0.0.1:8080': { latencyMs: 10 }, '10.0.0.2:8080': { status: 503, latencyMs: 40 } },
  });
  const dest = new Destination<Call, FakeResponse, FakeConnection>({
    name: 'users',
    resolver: new StaticResolver(fakeEndpoints(2)),
    policy: { retry: { maxAttempts: 1 } },
    stack: defaultClientStack<Call, FakeResponse>(),
    binding: fakeBinding(server.service),
    config,
    clock,
    random: seededRandom(7),
  });
  const calls = async (n: number) => {
    for (let i = 0; i < n; i++) await clock.run(dest.call(new Call('users', 'GET', '/', {})));
  };
  return {
    clock,
    sent,
    summary,
    dest,
    calls,
    setReachable: (v: boolean) => {
      reachable = v;
    },
    setHold: (p: Promise<void> | undefined) => {
      hold = p;
    },
  };
}

describe('TrafficSummary', () => {
  test('each attempt is counted per endpoint with its class and latency, and the counts reset per report', async () => {
    const { clock, sent, summary, dest, calls } = setup();
    await calls(40);
    await clock.advance(5000);
    assert.equal(sent.length, 1);
    const report = TrafficReport.parse(sent[0]);
    assert.equal(report.reporter.service, 'web');
    assert.equal(report.histogram, HISTOGRAM_SCHEMA);
    const byEndpoint = new Map(report.rows.map((r) => [r.endpoint, r]));
    const ok = byEndpoint.get('10.0.0.1:8080')!;
    const bad = byEndpoint.get('10.0.0.2:8080')!;
    assert.equal(ok.requests + bad.requests, 40);
    assert.deepEqual(ok.failures, {});
    assert.equal(bad.failures.retryable, bad.requests, 'a 503 is the classifier’s retryable class');
    assert.equal(ok.destination, 'users');
    assert.equal(ok.subset, '');
    assert.deepEqual(ok.latency.i, [bucketOf(10)]);
    assert.deepEqual(ok.latency.c, [ok.requests]);
    assert.equal(ok.state?.healthy, true);
    assert.ok((ok.state?.latencyEstimateMs ?? 0) > 0);
    // Nothing happened since: the next report has no rows.
    await clock.advance(5000);
    assert.equal(sent.length, 2);
    assert.equal(sent[1]!.rows.length, 0);
    assert.equal(summary.stats.reportsSent, 2);
    dest.close();
    summary.close();
    assert.equal(clock.pending, 0, 'close leaves no timer');
  });

  test('the row cap leaves rows out and counts them', async () => {
    const { clock, sent, summary, dest, calls } = setup({ maxRowsPerReport: 1 });
    await calls(10);
    await clock.advance(5000);
    assert.equal(sent[0]!.rows.length, 1);
    assert.equal(sent[0]!.dropped.rows, 1);
    assert.equal(summary.stats.rowsDropped, 1);
    dest.close();
    summary.close();
  });

  test('unreachable or still sending: the report is dropped and counted, never queued', async () => {
    const { clock, sent, summary, dest, calls, setReachable, setHold } = setup();
    setReachable(false);
    await calls(5);
    await clock.advance(5000);
    assert.equal(sent.length, 0);
    assert.equal(summary.stats.reportsDropped, 1);
    setReachable(true);
    let release!: () => void;
    setHold(
      new Promise<void>((r) => {
        release = r;
      }),
    );
    await calls(5);
    await clock.advance(5000);
    assert.equal(sent.length, 1);
    assert.equal(sent[0]!.dropped.reports, 1, 'the next report says one was dropped');
    assert.equal(
      sent[0]!.rows.reduce((n, r) => n + r.requests, 0),
      5,
      'only its own interval: the dropped counts are gone',
    );
    await calls(3);
    await clock.advance(5000);
    assert.equal(sent.length, 1, 'the previous report is still in flight: this one is dropped');
    assert.equal(summary.stats.reportsDropped, 2);
    release();
    setHold(undefined);
    await clock.advance(5000);
    assert.equal(sent.length, 2);
    assert.equal(sent[1]!.dropped.reports, 1);
    dest.close();
    summary.close();
  });

  test('options are checked', () => {
    const host = { service: 'web', clock: new VirtualClock(), canSend: () => true, send: async () => {} };
    assert.throws(() => new TrafficSummary(host, { reportIntervalMs: 10 }), /traffic\.reportIntervalMs/);
    assert.throws(() => new TrafficSummary(host, { maxRowsPerReport: 0 }), /traffic\.maxRowsPerReport/);
  });
});

describe('the config client’s traffic summary', () => {
  test('names the caller from `service`, else WEFT_SERVICE, else unknown; `traffic: false` sends none', async () => {
    const saved = process.env.WEFT_SERVICE;
    delete process.env.WEFT_SERVICE;
    const urls = 'http://127.0.0.1:1';
    const clients = [
      createConfigClient({ urls, service: 'web' }),
      createConfigClient({ urls }),
      createConfigClient({ urls, traffic: false }),
    ];
    process.env.WEFT_SERVICE = 'billing';
    clients.push(createConfigClient({ urls, traffic: { reportIntervalMs: 1000 } }));
    try {
      assert.deepEqual(
        clients.map((c) => c.traffic?.service),
        ['web', 'unknown', undefined, 'billing'],
      );
      assert.equal(clients[3]!.traffic!.intervalMs, 1000);
      assert.throws(() => createConfigClient({ urls, service: 'Web!' }), /invalid option service/);
      assert.throws(() => createConfigClient({ urls, traffic: { reportIntervalMs: 5 } }), /reportIntervalMs/);
    } finally {
      if (saved === undefined) delete process.env.WEFT_SERVICE;
      else process.env.WEFT_SERVICE = saved;
      for (const c of clients) await c.close();
    }
  });
});
