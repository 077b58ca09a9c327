/**
 * Two config-service replicas on one real etcd: exactly one drives a Rollout (an etcd election);
 * when it is killed, the other takes over after the lease (2 s here) and resumes at the step the
 * store shows, so no step is written twice or skipped. The processes' traffic reports are posted
 * directly (the real-client path is tested in the http package).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bucketOf, HISTOGRAM_SCHEMA, type TrafficReport } from '@weft/core';
import type { LogEntry } from '@weft/core/config';
import { type EtcdProcess, startEtcd } from './etcd.ts';
import { call, type ServiceProcess, startService } from './service.ts';

/** Retries `check` until it stops throwing; rethrows its last error after `ms`. */
async function eventually(check: () => Promise<void>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > end) throw error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

type Status = { phase: string; step: number } | null;

const report = (id: string, requests: number): TrafficReport => ({
  reporter: { id, service: 'web' },
  histogram: HISTOGRAM_SCHEMA,
  intervalMs: 1000,
  dropped: { rows: 0, reports: 0 },
  rows: ['v1', 'v2'].map((subset, i) => ({
    destination: 'catalog',
    subset,
    endpoint: `10.0.0.${i + 1}:80`,
    requests,
    failures: {},
    latency: { i: [bucketOf(5)], c: [requests] },
    state: { healthy: true, ejected: false, latencyEstimateMs: 5 },
  })),
});

describe('a Rollout driven by one of two replicas on etcd', () => {
  let etcd: EtcdProcess;
  let a: ServiceProcess;
  let b: ServiceProcess;
  let reporting: NodeJS.Timeout | undefined;

  before(async () => {
    etcd = await startEtcd();
    const args = ['--traffic-bucket-ms', '1000', '--rollout-tick-ms', '200', '--rollout-lease-s', '2'];
    a = await startService({ etcd: etcd.url, args });
    b = await startService({ etcd: etcd.url, args, token: a.token });
  });
  after(async () => {
    clearInterval(reporting);
    await a?.kill();
    await b?.kill();
    await etcd?.stop();
  });

  const driving = async (s: ServiceProcess) =>
    (await call(s.url, 'GET', '/v1/rollouts', { token: a.token })).body.driving as boolean;
  const status = async (s: ServiceProcess) =>
    (await call(s.url, 'GET', '/v1/rollouts/catalog', { token: a.token })).body.status as Status;

  test('one replica drives; killed, the other resumes at the same step and promotes', async () => {
    const token = a.token;
    const route = {
      subsets: { v1: { version: 'v1' }, v2: { version: 'v2' } },
      rules: [{ backends: [{ subset: 'v1' }] }],
    };
    assert.equal(
      (await call(a.url, 'PUT', '/v1/documents/Route/catalog', { token, body: { spec: route } })).status,
      201,
    );
    // Steady healthy traffic, reported to both replicas.
    let n = 0;
    reporting = setInterval(() => {
      n++;
      for (const s of [a, b])
        if (s.child.exitCode === null && s.child.signalCode === null)
          call(s.url, 'POST', '/v1/traffic/reports', { token, body: report(`web-${n}`, 50) }).catch(() => {});
    }, 500);
    await eventually(
      async () => assert.deepEqual([await driving(a), await driving(b)].sort(), [false, true]),
      15_000,
    );
    const [leader, follower] = (await driving(a)) ? [a, b] : [b, a];
    const spec = {
      stable: 'v1',
      canary: 'v2',
      steps: [{ weight: 20, pauseS: 4 }, { weight: 50, pauseS: 4 }, { weight: 100 }],
      analysis: { intervalS: 1, minRequests: 10, failureLimit: 2 },
    };
    assert.equal(
      (await call(follower.url, 'PUT', '/v1/documents/Rollout/catalog', { token, body: { spec } })).status,
      201,
    );
    await eventually(async () => assert.equal((await status(follower))?.step, 1), 20_000);
    const before = (await status(follower))!;
    await leader.kill();
    await eventually(async () => assert.equal(await driving(follower), true), 15_000);
    const taken = (await status(follower))!;
    assert.ok(taken.step >= before.step, `step ${taken.step} after ${before.step}`);
    await eventually(async () => assert.equal((await status(follower))?.phase, 'promoted'), 30_000);
    const history = (await call(follower.url, 'GET', '/v1/history?kind=Route&name=catalog', { token })).body
      .entries as LogEntry[];
    const weights = history
      .filter((e) => e.author?.name === 'rollout')
      .reverse()
      .map((e) => {
        const c = e.changes[0];
        return c?.op === 'put'
          ? (
              c.document.spec as { rules: { backends: { subset: string; weight?: number }[] }[] }
            ).rules[0]!.backends.find((x) => x.subset === 'v2')?.weight
          : -1;
      });
    assert.deepEqual(weights, [20, 50, 100], 'each step written once, none skipped');
  });
});
