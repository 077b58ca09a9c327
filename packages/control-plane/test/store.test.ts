import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { reapExpired } from '../src/server/registry.ts';
import { etcdStore } from '../src/store/etcd.ts';
import { sqliteStore } from '../src/store/sqlite.ts';
import type { Store } from '../src/store/store.ts';
import { type EtcdProcess, startEtcd } from './etcd.ts';
import { tempDir } from './service.ts';

const instance = (port: number, ttlMs = 1000) => ({
  service: 'svc',
  id: `127.0.0.1:${port}`,
  address: '127.0.0.1',
  port,
  labels: {},
  ttlMs,
});

/** The same contract, run against each store. */
function contract(name: string, open: () => Promise<Store>, close: () => Promise<void>) {
  describe(`${name} store contract`, () => {
    let store: Store;
    before(async () => {
      store = await open();
    });
    after(async () => {
      await store.close();
      await close();
    });

    test('commits get dense revisions; expectations are checked atomically', async () => {
      const seen: number[] = [];
      const off = store.onCommit((e) => seen.push(e.revision));
      const r1 = await store.commit(
        [{ op: 'put', kind: 'DestinationPolicy', name: 'a', spec: { timeoutMs: 1 } }],
        [{ type: 'document', kind: 'DestinationPolicy', name: 'a', revision: 0 }],
      );
      assert.ok(r1.ok);
      const r2 = await store.commit(
        [{ op: 'put', kind: 'DestinationPolicy', name: 'a', spec: { timeoutMs: 2 } }],
        [{ type: 'document', kind: 'DestinationPolicy', name: 'a', revision: 0 }],
      );
      assert.equal(r2.ok, false, 'a stale expectation fails');
      const r3 = await store.commit(
        [
          { op: 'put', kind: 'DestinationPolicy', name: 'a', spec: { timeoutMs: 3 } },
          { op: 'put', kind: 'DestinationPolicy', name: 'b', spec: {} },
        ],
        [{ type: 'revision', revision: 1 }],
      );
      assert.ok(r3.ok);
      assert.equal(r3.entry.revision, 2);
      const stale = await store.commit(
        [{ op: 'delete', kind: 'DestinationPolicy', name: 'b' }],
        [{ type: 'revision', revision: 1 }],
      );
      assert.equal(stale.ok, false);
      const a = await store.getDocument('DestinationPolicy', 'a');
      assert.deepEqual([a?.spec, a?.revision, a?.createRevision], [{ timeoutMs: 3 }, 2, 1]);
      assert.equal(await store.revision(), 2);
      await new Promise((r) => setTimeout(r, 300)); // etcd delivers commits through its watch
      off();
      assert.deepEqual(seen, [1, 2]);
    });

    test('history, documents at a revision, and the log since a revision', async () => {
      await store.commit([{ op: 'delete', kind: 'DestinationPolicy', name: 'b' }]);
      assert.deepEqual(
        (await store.documentsAt(2)).map((d) => d.name),
        ['a', 'b'],
      );
      assert.deepEqual(
        (await store.documentsAt(3)).map((d) => d.name),
        ['a'],
      );
      assert.deepEqual(
        (await store.history({ name: 'b', limit: 10 })).map((e) => e.revision),
        [3, 2],
      );
      assert.deepEqual(
        (await store.logSince(1, 10))?.map((e) => e.revision),
        [2, 3],
      );
      assert.deepEqual(
        (await store.logSince(1, 1))?.map((e) => e.revision),
        [2],
      );
      const snap = await store.snapshot();
      assert.equal(snap.revision, 3);
      assert.equal(snap.storeId, store.id);
    });

    test('leases: heartbeats move the deadline without a revision; expiry loses to a heartbeat', async () => {
      const r = await store.commit([{ op: 'register', instance: instance(1), expiresAt: 1000 }]);
      assert.ok(r.ok);
      const rev = await store.revision();
      assert.equal(await store.heartbeat('svc', '127.0.0.1:1', 5000), true);
      assert.equal(await store.revision(), rev, 'heartbeats are not revisions');
      assert.equal(await store.heartbeat('svc', 'nope', 5000), false);
      // A reaper that read the old deadline must not remove the renewed instance.
      const lost = await store.commit(
        [{ op: 'deregister', service: 'svc', id: '127.0.0.1:1', reason: 'expired' }],
        [{ type: 'lease', service: 'svc', id: '127.0.0.1:1', expiresAt: 1000 }],
      );
      assert.equal(lost.ok, false);
      assert.equal((await store.listInstances('svc')).length, 1);
    });

    test('the reaper expires lapsed leases, but not within one lease length of start-up', async () => {
      await store.commit([{ op: 'register', instance: instance(2, 1000), expiresAt: 2000 }]);
      // Started at 10 000: lapsed leases get until 11 000.
      assert.equal(await reapExpired(store, 10_500, 10_000), 0);
      await store.heartbeat('svc', '127.0.0.1:1', 20_000);
      assert.equal(await reapExpired(store, 11_001, 10_000), 1, 'port 2 expires; port 1 was renewed');
      assert.deepEqual(
        (await store.listInstances('svc')).map((s) => s.instance.port),
        [1],
      );
    });

    test('each revision records the token that wrote it (id and name), kept in history and the log', async () => {
      const author = { tokenId: 'c'.repeat(16), name: 'deployer' };
      const r = await store.commit(
        [{ op: 'put', kind: 'DestinationPolicy', name: 'audited', spec: {} }],
        [],
        // Only the id and name are kept, whatever else the caller's object holds.
        { ...author, hash: 'ff' } as typeof author,
      );
      assert.ok(r.ok);
      assert.deepEqual(r.entry.author, author);
      const [latest] = await store.history({ kind: 'DestinationPolicy', name: 'audited', limit: 1 });
      assert.deepEqual([latest?.revision, latest?.author], [r.entry.revision, author]);
      const [logged] = (await store.logSince(r.entry.revision - 1, 1)) ?? [];
      assert.deepEqual(logged?.author, author);
      const own = await store.commit([{ op: 'delete', kind: 'DestinationPolicy', name: 'audited' }]);
      assert.ok(own.ok);
      const [deleted] = await store.history({ name: 'audited', limit: 1 });
      assert.equal(deleted?.revision, own.entry.revision);
      assert.equal('author' in deleted!, false, 'a write without a token has no author');
    });

    test('the first admin token is created once', async () => {
      const t = { id: 'a'.repeat(16), name: 'admin', role: 'admin' as const, hash: '00', createdAt: '' };
      assert.equal(await store.createFirstAdminToken(t), true);
      assert.equal(await store.createFirstAdminToken({ ...t, id: 'b'.repeat(16) }), false);
      assert.deepEqual(
        (await store.listTokens()).map((x) => x.id),
        ['a'.repeat(16)],
      );
    });
  });
}

const sqliteDir = tempDir();
contract(
  'SQLite',
  async () => sqliteStore({ file: join(sqliteDir.path, 'weft.db') }),
  async () => sqliteDir.remove(),
);

let etcd: EtcdProcess | undefined;
contract(
  'etcd',
  async () => {
    etcd = await startEtcd();
    return etcdStore({ endpoints: [etcd.url] });
  },
  async () => etcd?.stop(),
);
