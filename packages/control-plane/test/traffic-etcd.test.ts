/**
 * Two config-service replicas on one real etcd: processes report to either, and both answer
 * `GET /v1/traffic` for the whole mesh once the buckets are exchanged (1 s buckets here).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bucketOf, HISTOGRAM_SCHEMA, type TrafficReport } from '@weft/core';
import type { TrafficGraph } from '../src/traffic/views.ts';
import { type EtcdProcess, startEtcd } from './etcd.ts';
import { call, type ServiceProcess, startService } from './service.ts';

const report = (id: string, service: string, destination: string, requests: number): TrafficReport => ({
  reporter: { id, service },
  histogram: HISTOGRAM_SCHEMA,
  intervalMs: 1000,
  dropped: { rows: 0, reports: 0 },
  rows: [
    {
      destination,
      subset: '',
      endpoint: '10.0.0.1:80',
      requests,
      failures: {},
      latency: { i: [bucketOf(5)], c: [requests] },
      state: { healthy: true, ejected: false, latencyEstimateMs: 5 },
    },
  ],
});

describe('traffic across two replicas sharing etcd', () => {
  let etcd: EtcdProcess;
  let a: ServiceProcess;
  let b: ServiceProcess;

  before(async () => {
    etcd = await startEtcd();
    const args = ['--traffic-bucket-ms', '1000'];
    a = await startService({ etcd: etcd.url, args });
    b = await startService({ etcd: etcd.url, args });
  });
  after(async () => {
    await a?.kill();
    await b?.kill();
    await etcd?.stop();
  });

  test('each replica answers for the reports the other received', async () => {
    const token = a.token;
    const onA = await call(a.url, 'POST', '/v1/traffic/reports', {
      token,
      body: report('p1', 'web', 'users', 70),
    });
    const onB = await call(b.url, 'POST', '/v1/traffic/reports', {
      token,
      body: report('p2', 'web', 'billing', 30),
    });
    assert.equal(onA.status, 202);
    assert.equal(onB.status, 202);
    const edges = async (url: string) => {
      const g = (await call(url, 'GET', '/v1/traffic?windowS=60', { token })).body as TrafficGraph;
      return { edges: g.edges.map((e) => `${e.from}>${e.to}:${e.requests}`), reporters: g.reporters };
    };
    const deadline = Date.now() + 15_000;
    for (;;) {
      const [ga, gb] = [await edges(a.url), await edges(b.url)];
      const want = { edges: ['web>billing:30', 'web>users:70'], reporters: 2 };
      try {
        assert.deepEqual(ga, want, 'replica A');
        assert.deepEqual(gb, want, 'replica B');
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    // Exchanged once, counted once: later exchanges do not add the same buckets again.
    await new Promise((r) => setTimeout(r, 2500));
    assert.deepEqual((await edges(a.url)).edges, ['web>billing:30', 'web>users:70']);
    assert.deepEqual((await edges(b.url)).edges, ['web>billing:30', 'web>users:70']);
  });
});
