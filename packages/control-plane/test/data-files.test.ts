import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, test } from 'node:test';
import { scopeOf } from '../src/server/auth.ts';
import { sqliteStore } from '../src/store/sqlite.ts';
import { tempDir } from './service.ts';

const mode = (path: string) => statSync(path).mode & 0o777;
let umask: number;
before(() => {
  // The most permissive umask: the modes below must not depend on it.
  umask = process.umask(0o000);
});
after(() => {
  process.umask(umask);
});

test('the data directory is created 0700 and weft.db with its WAL 0600, whatever the umask', async () => {
  const root = tempDir();
  try {
    const dir = join(root.path, 'a', 'weft-data');
    const file = join(dir, 'weft.db');
    const store = sqliteStore({ file });
    await store.putToken({ id: '0123456789abcdef', name: 'x', role: 'admin', hash: '00', createdAt: 'now' });
    await store.commit([{ op: 'put', kind: 'DestinationPolicy', name: 'a', spec: {} }]);
    assert.equal(mode(dir).toString(8), '700');
    assert.equal(mode(join(root.path, 'a')).toString(8), '700', 'every directory it created');
    assert.equal(mode(file).toString(8), '600');
    assert.equal(mode(`${file}-wal`).toString(8), '600');
    await store.close();
  } finally {
    root.remove();
  }
});

test('a database file left world-readable by an older version is narrowed to 0600 on open', async () => {
  const root = tempDir();
  try {
    const file = join(root.path, 'weft.db');
    writeFileSync(file, '', { mode: 0o644 });
    writeFileSync(`${file}-wal`, '', { mode: 0o644 });
    const store = sqliteStore({ file });
    assert.equal(mode(file).toString(8), '600');
    await store.close();
    assert.equal(mode(root.path).toString(8), (0o700).toString(8), 'mkdtemp made it 0700; left as it was');
  } finally {
    root.remove();
  }
});

test('a database made before tokens had a service scope opens, and its service tokens act for their name', async () => {
  const root = tempDir();
  try {
    const file = join(root.path, 'weft.db');
    const old = new DatabaseSync(file);
    old.exec(
      'CREATE TABLE tokens (id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, hash TEXT NOT NULL, created_at TEXT NOT NULL)',
    );
    old.exec("INSERT INTO tokens VALUES ('0123456789abcdef', 'users', 'service', '00', 'then')");
    old.close();
    const store = sqliteStore({ file });
    const legacy = await store.getToken('0123456789abcdef');
    assert.deepEqual(legacy, {
      id: '0123456789abcdef',
      name: 'users',
      role: 'service',
      hash: '00',
      createdAt: 'then',
    });
    assert.equal(scopeOf(legacy!), 'users');
    await store.putToken({
      id: 'fedcba9876543210',
      name: 'ci',
      role: 'service',
      service: 'orders',
      hash: '11',
      createdAt: 'now',
    });
    assert.equal((await store.getToken('fedcba9876543210'))?.service, 'orders');
    await store.close();
  } finally {
    root.remove();
  }
});
