import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type ConfigClient, createConfigClient } from '@weft/core/config';
import { type EtcdProcess, startEtcd } from './etcd.ts';
import { call, eventually, policy, type ServiceProcess, startService } from './service.ts';

describe('two config-service replicas sharing etcd', () => {
  let etcd: EtcdProcess;
  let a: ServiceProcess;
  let b: ServiceProcess;
  const clients: ConfigClient[] = [];

  before(async () => {
    etcd = await startEtcd();
    a = await startService({ etcd: etcd.url });
    b = await startService({ etcd: etcd.url });
  });
  after(async () => {
    for (const c of clients) await c.close();
    await a?.kill();
    await b?.kill();
    await etcd?.stop();
  });

  test('the admin token is made once and both replicas accept it', async () => {
    assert.match(a.token, /^weft_/);
    assert.equal(b.token, '', 'the second replica found an admin token already and printed none');
    assert.equal(a.storeId, b.storeId);
    for (const s of [a, b])
      assert.equal((await call(s.url, 'GET', '/v1/documents', { token: a.token })).status, 200);
  });

  test('a write on one replica is read, watched and compare-and-set on the other at the same revision', async () => {
    const token = a.token;
    const watchB = createConfigClient({ urls: b.url, token });
    clients.push(watchB);
    await watchB.ready();
    const put = await call(a.url, 'PUT', '/v1/documents/DestinationPolicy/users', {
      token,
      body: policy('users', { timeoutMs: 7 }),
    });
    assert.equal(put.status, 201);
    const rev = put.body.revision as number;
    const onB = await call(b.url, 'GET', '/v1/documents/DestinationPolicy/users', { token });
    assert.equal(onB.headers.get('etag'), `"${rev}"`);
    await eventually(() => watchB.policy('users')?.timeoutMs === 7, 5000, 'the watcher on B');
    assert.equal(watchB.revision, rev);
    const cas = await call(b.url, 'PUT', '/v1/documents/DestinationPolicy/users', {
      token,
      headers: { 'if-match': `"${rev}"` },
      body: policy('users', { timeoutMs: 8 }),
    });
    assert.equal(cas.status, 200);
    const stale = await call(a.url, 'PUT', '/v1/documents/DestinationPolicy/users', {
      token,
      headers: { 'if-match': `"${rev}"` },
      body: policy('users', { timeoutMs: 9 }),
    });
    assert.equal(stale.status, 412);
  });

  test('concurrent writes on both replicas get unique, dense revisions and the same history everywhere', async () => {
    const token = a.token;
    const start = (await call(a.url, 'GET', '/healthz')).body.revision as number;
    const writes = Array.from({ length: 30 }, (_, i) =>
      call(i % 2 ? a.url : b.url, 'PUT', `/v1/documents/DestinationPolicy/c${i}`, {
        token,
        body: policy(`c${i}`, { timeoutMs: i }),
      }),
    );
    const results = await Promise.all(writes);
    assert.ok(results.every((r) => r.status === 201));
    const revisions = results.map((r) => r.body.revision as number).sort((x, y) => x - y);
    assert.deepEqual(
      revisions,
      Array.from({ length: 30 }, (_, i) => start + i + 1),
    );
    const historyA = await call(a.url, 'GET', '/v1/history?limit=100', { token });
    const historyB = await call(b.url, 'GET', '/v1/history?limit=100', { token });
    assert.deepEqual(historyA.body, historyB.body);
    const before = (await call(a.url, 'GET', '/healthz')).body.revision;
    const tooMany = await call(a.url, 'POST', '/v1/apply', {
      token,
      body: { documents: Array.from({ length: 130 }, (_, i) => policy(`many${i}`, {})) },
    });
    assert.equal(tooMany.status, 400);
    assert.match(tooMany.body.error.message, /at most 125 changes in one revision/);
    assert.equal((await call(a.url, 'GET', '/healthz')).body.revision, before, 'nothing stored');
    const rollback = await call(b.url, 'POST', '/v1/rollback', { token, body: { revision: start } });
    assert.equal(rollback.status, 200);
    assert.equal((await call(a.url, 'GET', '/v1/documents', { token })).body.documents.length, 1);
  });

  test('a write on one replica reaches 50 watchers on the other within moments', async () => {
    const token = a.token;
    const watchers = Array.from({ length: 50 }, () => createConfigClient({ urls: b.url, token }));
    clients.push(...watchers);
    await Promise.all(watchers.map((c) => c.ready()));
    const samples: number[] = [];
    for (let round = 1; round <= 3; round++) {
      const applied = watchers.map(
        (c) =>
          new Promise<number>((resolve) => {
            const off = c.subscribe(() => {
              if (c.policy('spread')?.timeoutMs === round) {
                off();
                resolve(performance.now());
              }
            });
          }),
      );
      const start = performance.now();
      const r = await call(a.url, 'PUT', '/v1/documents/DestinationPolicy/spread', {
        token,
        body: policy('spread', { timeoutMs: round }),
      });
      assert.ok(r.status === 200 || r.status === 201);
      samples.push(Math.max(...(await Promise.all(applied))) - start);
    }
    const report = {
      watchers: watchers.length,
      rounds: 3,
      allAppliedMsMax: Number(Math.max(...samples).toFixed(1)),
    };
    console.log(`etcd-propagation ${JSON.stringify(report)}`);
    assert.ok(report.allAppliedMsMax < 5000);
    await Promise.all(watchers.map((c) => c.close()));
  });

  test('kill -9 of a replica during writes: every acknowledged write is on the other replica', async () => {
    const token = a.token;
    const c = await startService({ etcd: etcd.url });
    const acknowledged = new Map<string, number>();
    let stop = false;
    const writer = async (w: number) => {
      for (let value = 1; !stop; value++) {
        try {
          const r = await call(c.url, 'PUT', `/v1/documents/DestinationPolicy/k${w}`, {
            token,
            body: policy(`k${w}`, { timeoutMs: value }),
          });
          if (r.status === 200 || r.status === 201) acknowledged.set(`k${w}`, value);
        } catch {
          return;
        }
      }
    };
    const writers = Array.from({ length: 4 }, (_, w) => writer(w));
    // Writes for at least 500 ms, and until every writer has had one acknowledged (a fresh replica
    // on a loaded machine may take longer than that for its first), bounded at 10 s.
    const started = Date.now();
    while (Date.now() - started < 10_000 && (Date.now() - started < 500 || acknowledged.size < 4))
      await new Promise((r) => setTimeout(r, 50));
    await c.kill();
    stop = true;
    await Promise.all(writers);
    assert.equal(acknowledged.size, 4);
    for (const [name, value] of acknowledged) {
      const r = await call(b.url, 'GET', `/v1/documents/DestinationPolicy/${name}`, { token });
      assert.ok(r.body.spec.timeoutMs >= value, `${name}: ${r.body.spec.timeoutMs} ≥ acknowledged ${value}`);
    }
  });

  test('registry on etcd: leases expire, and a client fails over to the other replica', async () => {
    const token = a.token;
    const r = await call(a.url, 'POST', '/v1/services/pay/instances', {
      token,
      body: { address: '127.0.0.1', port: 9200, ttlMs: 400 },
    });
    assert.equal(r.status, 201);
    assert.equal(
      (await call(b.url, 'GET', '/v1/services/pay/endpoints', { token })).body.instances.length,
      1,
    );
    await eventually(
      async () =>
        (await call(b.url, 'GET', '/v1/services/pay/endpoints', { token })).body.instances.length === 0,
      5000,
      'lease expiry',
    );
    const client = createConfigClient({
      urls: [a.url, b.url],
      token,
      backoffInitialMs: 20,
      backoffMaxMs: 100,
    });
    clients.push(client);
    await client.ready();
    assert.equal(client.status.url, a.url);
    await a.kill();
    await call(b.url, 'PUT', '/v1/documents/DestinationPolicy/after', {
      token,
      body: policy('after', { timeoutMs: 1 }),
    });
    await eventually(() => client.policy('after')?.timeoutMs === 1, 5000, 'failover to B');
    assert.equal(client.status.url, b.url);
  });
});
