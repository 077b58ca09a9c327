import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { type ConfigClient, createConfigClient } from '@weft/core/config';
import { call, eventually, policy, type ServiceProcess, startService, tempDir } from './service.ts';

describe('the data plane outlives the config service', () => {
  const dir = tempDir();
  const procs: ServiceProcess[] = [];
  const clients: ConfigClient[] = [];
  after(async () => {
    for (const c of clients) await c.close();
    for (const p of procs) await p.kill();
    dir.remove();
  });

  test('down for a while and back: clients keep their config, restarted clients start from cache, all catch up', async () => {
    const data = join(dir.path, 'data');
    const svc = await startService({ data });
    procs.push(svc);
    const { token, url, port } = svc;
    await call(url, 'PUT', '/v1/documents/DestinationPolicy/users', {
      token,
      body: policy('users', { timeoutMs: 100 }),
    });
    const cacheFile = join(dir.path, 'client', 'cache.json');
    const fast = { backoffInitialMs: 20, backoffMaxMs: 200 };
    const live = createConfigClient({ urls: url, token, cacheFile, ...fast });
    clients.push(live);
    await live.ready();
    await eventually(() => live.policy('users')?.timeoutMs === 100);
    await eventually(() => live.describe().cachedRevision === live.revision, 10_000, 'the cache write');

    await svc.kill();
    await eventually(() => live.status.state === 'disconnected', 5000, 'disconnection');
    assert.deepEqual(live.policy('users'), { timeoutMs: 100 }, 'the last good policy is still served');

    // A client restarted while the service is down starts from the on-disk cache.
    const restarted = createConfigClient({ urls: url, token, cacheFile, ...fast, startTimeoutMs: 2000 });
    clients.push(restarted);
    await restarted.ready();
    assert.equal(restarted.status.state, 'from-cache');
    assert.deepEqual(restarted.policy('users'), { timeoutMs: 100 });
    // Without a cache, the same start fails clearly after its start timeout.
    const cold = createConfigClient({ urls: url, token, ...fast, startTimeoutMs: 300 });
    clients.push(cold);
    await assert.rejects(cold.ready(), /no config within 300 ms/);

    await new Promise((r) => setTimeout(r, 500)); // the service stays down a while
    const back = await startService({ data, port, token });
    procs.push(back);
    await call(url, 'PUT', '/v1/documents/DestinationPolicy/users', {
      token,
      body: policy('users', { timeoutMs: 200 }),
    });
    for (const c of [live, restarted, cold]) {
      await eventually(() => c.policy('users')?.timeoutMs === 200, 10_000, 'catching up after the restart');
      assert.equal(c.status.state, 'connected');
    }
  });
});
