import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type ConfigClient, createConfigClient } from '@weft/core/config';
import { call, policy, type ServiceProcess, startService, tempDir } from './service.ts';

const WATCHERS = Number(process.env.WEFT_PROPAGATION_WATCHERS ?? 100);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

describe(`propagation of one write to ${WATCHERS} watching clients`, () => {
  const dir = tempDir();
  let svc: ServiceProcess;
  const clients: ConfigClient[] = [];

  before(async () => {
    svc = await startService({ data: dir.path });
    for (let i = 0; i < WATCHERS; i++) clients.push(createConfigClient({ urls: svc.url, token: svc.token }));
    await Promise.all(clients.map((c) => c.ready()));
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await svc.stop();
    dir.remove();
  });

  test('every watcher applies each write, in order, within moments', async () => {
    const rounds = 5;
    const samples: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      const applied: Promise<number>[] = clients.map(
        (c) =>
          new Promise((resolve) => {
            const off = c.subscribe(() => {
              if (c.policy('users')?.timeoutMs === round) {
                off();
                resolve(performance.now());
              }
            });
          }),
      );
      const start = performance.now();
      const r = await call(svc.url, 'PUT', '/v1/documents/DestinationPolicy/users', {
        token: svc.token,
        body: policy('users', { timeoutMs: round }),
      });
      assert.equal(r.status, round === 1 ? 201 : 200);
      const times = (await Promise.all(applied)).map((t) => t - start);
      samples.push(Math.max(...times));
      assert.ok(
        clients.every((c) => c.revision === r.body.revision),
        'all watchers are at the write revision',
      );
    }
    samples.sort((a, b) => a - b);
    const report = {
      watchers: WATCHERS,
      rounds,
      allAppliedMsMedian: Number(percentile(samples, 50).toFixed(1)),
      allAppliedMsMax: Number(samples.at(-1)!.toFixed(1)),
    };
    // Measured numbers, for docs/control-plane.md: time from sending the write to the last watcher applying it.
    console.log(`propagation ${JSON.stringify(report)}`);
    assert.ok(report.allAppliedMsMax < 5000, `propagation took ${report.allAppliedMsMax} ms`);
  });

  test('registry changes reach watchers too', async () => {
    const target = clients.slice(0, 10);
    const seen = Promise.all(
      target.map(
        (c) =>
          new Promise<void>((resolve) => {
            const off = c.subscribe(() => {
              if (c.endpoints('billing')?.length === 1) {
                off();
                resolve();
              }
            });
          }),
      ),
    );
    const r = await call(svc.url, 'POST', '/v1/services/billing/instances', {
      token: svc.token,
      body: { address: '127.0.0.1', port: 7001, ttlMs: 60_000 },
    });
    assert.equal(r.status, 201);
    await seen;
    assert.deepEqual(target[0]!.endpoints('billing'), [{ address: '127.0.0.1', port: 7001, labels: {} }]);
  });
});
