import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createConfigClient, removeStaleCacheTemps, writeSnapshotCache } from '../src/config/index.ts';

/** The pid of a process that has exited (so no live process has it, barring immediate reuse). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  return Number(r.stdout);
}

const snap = { storeId: 's', revision: 3, documents: [], instances: [] };

test('temp files of a writer killed mid-write are removed; live, recent and foreign files are kept', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-cache-'));
  try {
    const file = join(dir, 'config.json');
    await writeSnapshotCache(file, snap);
    const dead = `config.json.${deadPid()}.0badc0de.tmp`;
    const ownRecent = `config.json.${process.pid}.12345678.tmp`;
    const ownOld = `config.json.${process.pid}.87654321.tmp`;
    const other = 'other.json.1.abcdef01.tmp';
    const unrelated = 'config.json.bak';
    for (const name of [dead, ownRecent, ownOld, other, unrelated]) writeFileSync(join(dir, name), '{');
    const old = (Date.now() - 120_000) / 1000;
    utimesSync(join(dir, ownOld), old, old);
    const removed = await removeStaleCacheTemps(file);
    assert.deepEqual(removed.sort(), [dead, ownOld].sort());
    assert.deepEqual(readdirSync(dir).sort(), ['config.json', ownRecent, other, unrelated].sort());
    assert.deepEqual(
      await removeStaleCacheTemps(join(dir, 'missing', 'config.json')),
      [],
      'no directory: nothing',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a client started with a cache file removes the stale temp files beside it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-cache-'));
  try {
    const file = join(dir, 'config.json');
    await writeSnapshotCache(file, snap);
    const stale = `config.json.${deadPid()}.deadbeef.tmp`;
    writeFileSync(join(dir, stale), '{"partial":');
    const client = createConfigClient({ urls: 'http://127.0.0.1:9', cacheFile: file, backoffInitialMs: 10 });
    try {
      await client.ready();
      assert.equal(client.status.state, 'from-cache');
      assert.deepEqual(readdirSync(dir), ['config.json']);
    } finally {
      await client.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
