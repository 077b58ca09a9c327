import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { etcdStore } from '../src/store/etcd.ts';
import type { Store } from '../src/store/store.ts';
import { type EtcdProcess, startEtcd } from './etcd.ts';
import { type InProcessService, startInProcess } from './inproc.ts';
import { call, policy } from './service.ts';

interface OpenWatch {
  /** Resolves when the server ends the stream, with the events' text seen so far. */
  readonly ended: Promise<string>;
  text(): string;
  close(): void;
}

async function openWatch(url: string, token: string): Promise<OpenWatch> {
  const controller = new AbortController();
  const res = await fetch(`${url}/v1/watch`, {
    headers: { authorization: `Bearer ${token}` },
    signal: controller.signal,
  });
  assert.equal(res.status, 200);
  let text = '';
  const decoder = new TextDecoder();
  const ended = (async () => {
    try {
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) text += decoder.decode(chunk);
    } catch {}
    return text;
  })();
  return { ended, text: () => text, close: () => controller.abort() };
}

const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([
    p,
    new Promise<T>((_, reject) => {
      setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms).unref();
    }),
  ]);

async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('revoking a token ends its open watch streams', () => {
  test('on the replica that revoked it: at once, and only the revoked token', async () => {
    const svc = await startInProcess();
    try {
      const revoked = await svc.newToken({ name: 'users', role: 'service' });
      const kept = await svc.newToken({ name: 'orders', role: 'service' });
      const a = await openWatch(svc.url, revoked.token);
      const b = await openWatch(svc.url, kept.token);
      await until(
        () => a.text().includes('event: snapshot') && b.text().includes('event: snapshot'),
        5000,
        'snapshots',
      );
      assert.equal(
        (await call(svc.url, 'DELETE', `/v1/tokens/${revoked.id}`, { token: svc.token })).status,
        200,
      );
      await within(a.ended, 2000, "the revoked token's stream ending");
      await call(svc.url, 'PUT', '/v1/documents/DestinationPolicy/after', {
        token: svc.token,
        body: policy('after', {}),
      });
      await until(() => b.text().includes('"after"'), 5000, 'the other stream receiving the change');
      assert.ok(!a.text().includes('"after"'), 'the revoked stream received nothing after revocation');
      assert.equal((await call(svc.url, 'GET', '/v1/watch', { token: revoked.token })).status, 401);
      b.close();
    } finally {
      await svc.close();
    }
  });

  describe('on another replica sharing etcd: within the token cache window', () => {
    let etcd: EtcdProcess;
    const stores: Store[] = [];
    let a: InProcessService;
    let b: InProcessService;
    before(async () => {
      etcd = await startEtcd();
      for (let i = 0; i < 2; i++)
        stores.push(await etcdStore({ endpoints: [etcd.url], prefix: '/revocation/' }));
      a = await startInProcess({ store: stores[0]!, tokenCacheMs: 500 });
      b = await startInProcess({ store: stores[1]!, tokenCacheMs: 500, adminToken: a.token });
    });
    after(async () => {
      await a?.close();
      await b?.close();
      for (const s of stores) await s.close();
      await etcd?.stop();
    });

    test('a token revoked on A ends its stream on B and cannot reconnect there', async () => {
      const revoked = await a.newToken({ name: 'users', role: 'service' });
      const watch = await openWatch(b.url, revoked.token);
      await until(() => watch.text().includes('event: snapshot'), 5000, 'the snapshot on B');
      const started = Date.now();
      assert.equal((await call(a.url, 'DELETE', `/v1/tokens/${revoked.id}`, { token: a.token })).status, 200);
      await within(watch.ended, 3000, 'the stream on B ending');
      const took = Date.now() - started;
      assert.equal((await call(b.url, 'GET', '/v1/watch', { token: revoked.token })).status, 401);
      console.log(`watch-revocation ${JSON.stringify({ otherReplicaMs: took, tokenCacheMs: 500 })}`);
    });
  });
});
