import assert from 'node:assert/strict';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ResolverState } from '@weft/core';
import { fileResolver } from '@weft/discovery';
import { keysOf, manyEndpoints, waitForState } from './helpers.ts';

let dir: string;
let n = 0;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'weft-file-resolver-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes a temporary file and renames it over `path`: readers see the old or the new file, never half. */
async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${n++}`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}

const doc = (...ports: number[]) =>
  JSON.stringify({ endpoints: ports.map((port) => ({ address: '127.0.0.1', port, labels: { zone: 'a' } })) });

const hasKeys =
  (...keys: string[]) =>
  (s: ResolverState) =>
    s.kind === 'bound' && keysOf(s).join() === keys.join();

describe('fileResolver', () => {
  test('binds a JSON file and follows atomic renames', async () => {
    const path = join(dir, 'rename.json');
    await writeAtomic(path, doc(8001, 8002));
    const r = fileResolver({ path, pollIntervalMs: 60_000 });
    try {
      const first = await waitForState(r, hasKeys('127.0.0.1:8001', '127.0.0.1:8002'));
      assert.equal(first.kind === 'bound' && first.endpoints[0]?.labels?.zone, 'a');
      await writeAtomic(path, doc(8002, 8003));
      await waitForState(r, hasKeys('127.0.0.1:8002', '127.0.0.1:8003'));
      // A second rename over the new inode is seen too (the directory is watched, not the inode).
      await writeAtomic(path, doc(8004));
      await waitForState(r, hasKeys('127.0.0.1:8004'));
    } finally {
      r.close();
    }
  });

  test('reads YAML, and a shared file by service name', async () => {
    const path = join(dir, 'shared.yaml');
    await writeAtomic(
      path,
      [
        'services:',
        '  users:',
        '    endpoints:',
        '      - { address: 10.0.0.1, port: 80, weight: 3, labels: { version: v2 } }',
        '  orders:',
        '    endpoints: []',
      ].join('\n'),
    );
    const users = fileResolver({ path, service: 'users' });
    const orders = fileResolver({ path, service: 'orders' });
    const missing = fileResolver({ path, service: 'billing' });
    try {
      const s = await waitForState(users, (x) => x.kind === 'bound');
      assert.deepEqual(s.kind === 'bound' && s.endpoints, [
        { address: '10.0.0.1', port: 80, weight: 3, labels: { version: 'v2' } },
      ]);
      await waitForState(orders, (x) => x.kind === 'negative');
      const m = await waitForState(missing, (x) => x.kind === 'failed');
      assert.match(m.kind === 'failed' ? m.reason.message : '', /shared\.yaml: services\.billing is missing/);
    } finally {
      users.close();
      orders.close();
      missing.close();
    }
  });

  test('a torn write keeps the last good set and says why; the completed write binds again', async () => {
    const path = join(dir, 'torn.json');
    await writeAtomic(path, doc(9001, 9002));
    const r = fileResolver({ path, pollIntervalMs: 60_000 });
    try {
      await waitForState(r, hasKeys('127.0.0.1:9001', '127.0.0.1:9002'));
      const full = doc(9003, 9004, 9005);
      // A writer that truncates then writes in place, caught half way.
      await writeFile(path, full.slice(0, Math.floor(full.length / 2)));
      const failed = await waitForState(r, (s) => s.kind === 'failed');
      assert.equal(failed.kind, 'failed');
      if (failed.kind !== 'failed') return;
      assert.match(failed.reason.message, /torn\.json: (invalid JSON|the file is empty)/);
      assert.equal((failed.reason as { code?: string }).code, 'WEFT_RESOLUTION_FAILED');
      assert.deepEqual(
        keysOf(failed),
        ['127.0.0.1:9001', '127.0.0.1:9002'],
        'still serving the last good set',
      );
      await writeFile(path, full);
      await waitForState(r, hasKeys('127.0.0.1:9003', '127.0.0.1:9004', '127.0.0.1:9005'));
    } finally {
      r.close();
    }
  });

  test('a bad field names the file and the field, and keeps the last good set', async () => {
    const path = join(dir, 'field.yaml');
    await writeAtomic(path, 'endpoints:\n  - { address: 10.0.0.1, port: 80 }\n');
    const r = fileResolver({ path, pollIntervalMs: 60_000 });
    try {
      await waitForState(r, hasKeys('10.0.0.1:80'));
      await writeAtomic(
        path,
        'endpoints:\n  - { address: 10.0.0.1, port: 80 }\n  - { address: 10.0.0.2, port: eighty }\n',
      );
      const s = await waitForState(r, (x) => x.kind === 'failed');
      assert.match(
        s.kind === 'failed' ? s.reason.message : '',
        /field\.yaml: endpoints\[1\]\.port must be an integer in 1\.\.65535 \(got "eighty"\)/,
      );
      assert.deepEqual(keysOf(s), ['10.0.0.1:80']);
    } finally {
      r.close();
    }
  });

  test('a missing file fails with the path, and binds once the file appears', async () => {
    const path = join(dir, 'later.json');
    const r = fileResolver({ path, pollIntervalMs: 60_000 });
    try {
      const s = await waitForState(r, (x) => x.kind === 'failed');
      assert.match(
        s.kind === 'failed' ? s.reason.message : '',
        /later\.json: cannot read the file \(ENOENT\)/,
      );
      await writeAtomic(path, doc(7001));
      await waitForState(r, hasKeys('127.0.0.1:7001'));
    } finally {
      r.close();
    }
  });

  test('without a watch, the poll picks up changes', async () => {
    const path = join(dir, 'poll.json');
    await writeAtomic(path, doc(6001));
    const r = fileResolver({ path, watch: false, pollIntervalMs: 30 });
    try {
      await waitForState(r, hasKeys('127.0.0.1:6001'));
      await writeAtomic(path, doc(6002));
      await waitForState(r, hasKeys('127.0.0.1:6002'));
    } finally {
      r.close();
    }
  });

  test('a file of 10,000 endpoints reloads quickly, and removal takes effect in one reload', async () => {
    const path = join(dir, 'big.json');
    const big = manyEndpoints(10_000);
    await writeAtomic(path, JSON.stringify({ endpoints: big }));
    const r = fileResolver({ path, pollIntervalMs: 60_000 });
    try {
      await waitForState(r, (s) => s.kind === 'bound' && s.endpoints.length === 10_000);
      let notifications = 0;
      const unsubscribe = r.subscribe(() => notifications++);
      const start = performance.now();
      await writeAtomic(path, JSON.stringify({ endpoints: big.slice(1) }));
      const s = await waitForState(r, (x) => x.kind === 'bound' && x.endpoints.length === 9_999);
      const elapsed = performance.now() - start;
      assert.ok(!keysOf(s).includes('10.0.0.0:8080'));
      assert.ok(elapsed < 2000, `reload of 10,000 endpoints took ${elapsed.toFixed(0)} ms`);
      assert.equal(notifications, 2, 'the initial call, then exactly one update');
      unsubscribe();
    } finally {
      r.close();
    }
  });

  test('checks its options', () => {
    assert.throws(() => fileResolver({ path: '' }), /invalid option path/);
    assert.throws(
      () => fileResolver({ path: 'x.json', pollIntervalMs: 1 }),
      /invalid option pollIntervalMs: must be a number ≥ 10/,
    );
  });
});
