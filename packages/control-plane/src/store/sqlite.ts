/**
 * The embedded store: one SQLite file through Node's built-in `node:sqlite`. The database runs in
 * WAL mode with `synchronous=FULL`, so a commit is on disk (the WAL is fsynced) before the HTTP
 * response acknowledges it: a kill -9 or a power cut loses no acknowledged write (SQLite
 * documentation, "Write-Ahead Logging" and "PRAGMA synchronous"). Every commit is one
 * `BEGIN IMMEDIATE` transaction, so a write interrupted half-way leaves nothing behind. The file is
 * held in exclusive locking mode: one config service process per file.
 */
import { randomUUID } from 'node:crypto';
import { invalidOption } from '@weft/core';
import type { DocumentKind, Instance, LogEntry, Snapshot, StoredDocument } from '@weft/core/config';
import { preparePrivateFile } from './private-file.ts';
import {
  type CommitResult,
  type Expectation,
  logEntry,
  materialize,
  type PendingChange,
  replayDocuments,
  type Store,
  type StoredCa,
  type StoredInstance,
  type TokenRecord,
  touchesDocuments,
  withBundle,
} from './store.ts';

// Not a static import: on a Node.js without an unflagged node:sqlite, a static import fails while
// the module graph links, before the package's entry can name the version it needs.
const { DatabaseSync } = process.getBuiltinModule('node:sqlite');

export interface SqliteStoreOptions {
  /** Path of the database file (its directory is created). */
  file: string;
  /**
   * Registry-only log entries kept for resuming watchers; older ones are dropped and a watcher
   * that asks for them gets a snapshot. Document changes are always kept (history and rollback).
   * Defaults to 10000.
   */
  watchHistory?: number;
  /** ISO time source for log entries. Defaults to `new Date().toISOString()`. */
  isoNow?: () => string;
}

export const SQLITE_DEFAULTS = { watchHistory: 10_000 } as const;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
  kind TEXT NOT NULL, name TEXT NOT NULL, spec TEXT NOT NULL,
  revision INTEGER NOT NULL, create_revision INTEGER NOT NULL, PRIMARY KEY (kind, name));
CREATE TABLE IF NOT EXISTS instances (
  service TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL, expires_at INTEGER NOT NULL,
  PRIMARY KEY (service, id));
CREATE TABLE IF NOT EXISTS log (
  revision INTEGER PRIMARY KEY, documents INTEGER NOT NULL, entry TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, hash TEXT NOT NULL, created_at TEXT NOT NULL,
  service TEXT);
`;

interface DocRow {
  kind: string;
  name: string;
  spec: string;
  revision: number;
  create_revision: number;
}

const toDocument = (r: DocRow): StoredDocument => ({
  kind: r.kind as DocumentKind,
  name: r.name,
  spec: JSON.parse(r.spec),
  revision: r.revision,
  createRevision: r.create_revision,
});

const toInstance = (r: { data: string; expires_at: number }): StoredInstance => ({
  instance: JSON.parse(r.data) as Instance,
  expiresAt: r.expires_at,
});

/** Opens (creating if needed) a SQLite store. */
export function sqliteStore(options: SqliteStoreOptions): Store {
  if (!options.file) throw invalidOption('file', 'a database file path is required');
  const watchHistory = options.watchHistory ?? SQLITE_DEFAULTS.watchHistory;
  if (!Number.isInteger(watchHistory) || watchHistory < 1)
    throw invalidOption('watchHistory', 'must be an integer ≥ 1');
  const isoNow = options.isoNow ?? (() => new Date().toISOString());
  preparePrivateFile(options.file);
  const db = new DatabaseSync(options.file);
  try {
    // EXCLUSIVE: this process keeps the file locked, so a second config service on the same data
    // directory fails at start instead of serving a store whose changes it would never see.
    db.exec('PRAGMA busy_timeout = 2000; PRAGMA locking_mode = EXCLUSIVE; PRAGMA journal_mode = WAL;');
    db.exec('PRAGMA synchronous = FULL;');
    db.exec(SCHEMA);
    // Files made before tokens had a service scope lack the column.
    const columns = db.prepare('PRAGMA table_info(tokens)').all() as { name: string }[];
    if (!columns.some((c) => c.name === 'service')) db.exec('ALTER TABLE tokens ADD COLUMN service TEXT');
  } catch (error) {
    db.close();
    if (/locked|busy/i.test((error as Error).message))
      throw new Error(
        `${options.file} is in use by another config service process (one process per SQLite file; use etcd for several replicas)`,
        { cause: error },
      );
    throw error;
  }
  const metaGet = db.prepare('SELECT value FROM meta WHERE key = ?');
  const metaSet = db.prepare(
    'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
  );
  const meta = (key: string) => (metaGet.get(key) as { value: string } | undefined)?.value;
  if (meta('store_id') === undefined) {
    metaSet.run('store_id', randomUUID());
    metaSet.run('revision', '0');
    metaSet.run('compacted_through', '0');
  }
  const id = meta('store_id')!;
  const currentRevision = () => Number(meta('revision'));

  const q = {
    doc: db.prepare('SELECT * FROM documents WHERE kind = ? AND name = ?'),
    docs: db.prepare('SELECT * FROM documents ORDER BY kind, name'),
    docsOfKind: db.prepare('SELECT * FROM documents WHERE kind = ? ORDER BY name'),
    putDoc: db.prepare(
      `INSERT INTO documents (kind, name, spec, revision, create_revision) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(kind, name) DO UPDATE SET spec = excluded.spec, revision = excluded.revision`,
    ),
    delDoc: db.prepare('DELETE FROM documents WHERE kind = ? AND name = ?'),
    inst: db.prepare('SELECT data, expires_at FROM instances WHERE service = ? AND id = ?'),
    insts: db.prepare('SELECT data, expires_at FROM instances ORDER BY service, id'),
    instsOf: db.prepare('SELECT data, expires_at FROM instances WHERE service = ? ORDER BY id'),
    putInst: db.prepare(
      `INSERT INTO instances (service, id, data, expires_at) VALUES (?, ?, ?, ?)
       ON CONFLICT(service, id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at`,
    ),
    delInst: db.prepare('DELETE FROM instances WHERE service = ? AND id = ?'),
    beat: db.prepare('UPDATE instances SET expires_at = ? WHERE service = ? AND id = ?'),
    append: db.prepare('INSERT INTO log (revision, documents, entry) VALUES (?, ?, ?)'),
    since: db.prepare('SELECT entry FROM log WHERE revision > ? ORDER BY revision LIMIT ?'),
    docLog: db.prepare('SELECT entry FROM log WHERE documents = 1 ORDER BY revision DESC'),
    docLogUpTo: db.prepare('SELECT entry FROM log WHERE documents = 1 AND revision <= ? ORDER BY revision'),
    compact: db.prepare('DELETE FROM log WHERE documents = 0 AND revision <= ?'),
    token: db.prepare('SELECT * FROM tokens WHERE id = ?'),
    tokens: db.prepare('SELECT * FROM tokens ORDER BY created_at, id'),
    admins: db.prepare("SELECT count(*) AS n FROM tokens WHERE role = 'admin'"),
    putToken: db.prepare(
      'INSERT OR REPLACE INTO tokens (id, name, role, hash, created_at, service) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    delToken: db.prepare('DELETE FROM tokens WHERE id = ?'),
  };

  // The CA with its private keys lives in the meta table: inside the 0600 database file.
  const readCa = () => {
    const json = meta('ca');
    return json === undefined ? undefined : (JSON.parse(json) as StoredCa);
  };

  const listeners = new Set<(entry: LogEntry) => void>();
  let closed = false;

  function transaction<T>(fn: () => T): T {
    db.exec('BEGIN IMMEDIATE');
    try {
      const result = fn();
      db.exec('COMMIT');
      return result;
    } catch (error) {
      db.exec('ROLLBACK');
      throw error;
    }
  }

  function check(e: Expectation): boolean {
    if (e.type === 'revision') return currentRevision() === e.revision;
    if (e.type === 'ca') return (readCa()?.generation ?? 0) === e.generation;
    if (e.type === 'document') {
      const row = q.doc.get(e.kind, e.name) as DocRow | undefined;
      return (row?.revision ?? 0) === e.revision;
    }
    const row = q.inst.get(e.service, e.id) as { expires_at: number } | undefined;
    return row !== undefined && row.expires_at === e.expiresAt;
  }

  const toToken = (r: Record<string, unknown>): TokenRecord => ({
    id: String(r.id),
    name: String(r.name),
    role: r.role === 'admin' || r.role === 'viewer' ? r.role : 'service',
    hash: String(r.hash),
    createdAt: String(r.created_at),
    ...(typeof r.service === 'string' ? { service: r.service } : {}),
  });

  const store: Store = {
    id,
    async revision() {
      return currentRevision();
    },
    async snapshot(): Promise<Snapshot> {
      // node:sqlite is synchronous: these reads see one consistent state.
      return {
        storeId: id,
        revision: currentRevision(),
        documents: (q.docs.all() as unknown as DocRow[]).map(toDocument),
        instances: (q.insts.all() as unknown as { data: string; expires_at: number }[]).map(
          (r) => toInstance(r).instance,
        ),
        ...withBundle(readCa()),
      };
    },
    async getDocument(kind, name) {
      const row = q.doc.get(kind, name) as DocRow | undefined;
      return row && toDocument(row);
    },
    async listDocuments(kind) {
      const rows = (kind ? q.docsOfKind.all(kind) : q.docs.all()) as unknown as DocRow[];
      return rows.map(toDocument);
    },
    async listInstances(service) {
      const rows = (service ? q.instsOf.all(service) : q.insts.all()) as unknown as {
        data: string;
        expires_at: number;
      }[];
      return rows.map(toInstance);
    },
    async getInstance(service, instanceId) {
      const row = q.inst.get(service, instanceId) as { data: string; expires_at: number } | undefined;
      return row && toInstance(row);
    },
    async commit(changes, expectations = [], author): Promise<CommitResult> {
      const result = transaction((): CommitResult => {
        for (const e of expectations) if (!check(e)) return { ok: false, failed: e };
        const revision = currentRevision() + 1;
        const creates = new Map<string, number>();
        for (const c of changes) {
          if (c.op !== 'put') continue;
          const row = q.doc.get(c.kind, c.name) as DocRow | undefined;
          if (row) creates.set(`${c.kind}/${c.name}`, row.create_revision);
        }
        const entry = logEntry(revision, isoNow(), materialize(changes, revision, creates), author);
        for (const c of entry.changes) {
          if (c.op === 'put') {
            const d = c.document;
            q.putDoc.run(d.kind, d.name, JSON.stringify(d.spec), revision, d.createRevision);
          } else if (c.op === 'delete') q.delDoc.run(c.kind, c.name);
          else if (c.op === 'register') {
            const pending = changes.find(
              (p) =>
                p.op === 'register' &&
                p.instance.service === c.instance.service &&
                p.instance.id === c.instance.id,
            ) as Extract<PendingChange, { op: 'register' }>;
            q.putInst.run(c.instance.service, c.instance.id, JSON.stringify(c.instance), pending.expiresAt);
          } else if (c.op === 'deregister') q.delInst.run(c.service, c.id);
        }
        for (const c of changes) if (c.op === 'ca') metaSet.run('ca', JSON.stringify(c.ca));
        const docs = touchesDocuments(entry) ? 1 : 0;
        q.append.run(revision, docs, JSON.stringify(entry));
        metaSet.run('revision', String(revision));
        if (revision % Math.min(100, watchHistory) === 0 && revision > watchHistory) {
          const through = revision - watchHistory;
          q.compact.run(through);
          metaSet.run('compacted_through', String(through));
        }
        return { ok: true, entry };
      });
      if (result.ok) for (const l of listeners) l(result.entry);
      return result;
    },
    async heartbeat(service, instanceId, expiresAt) {
      return q.beat.run(expiresAt, service, instanceId).changes > 0;
    },
    async logSince(revision, limit) {
      if (revision < Number(meta('compacted_through'))) return undefined;
      return (q.since.all(revision, limit) as { entry: string }[]).map(
        (r) => JSON.parse(r.entry) as LogEntry,
      );
    },
    async history({ kind, name, limit }) {
      const out: LogEntry[] = [];
      for (const row of q.docLog.iterate() as Iterable<{ entry: string }>) {
        const entry = JSON.parse(row.entry) as LogEntry;
        if (touchesDocuments(entry, kind, name)) out.push(entry);
        if (out.length >= limit) break;
      }
      return out;
    },
    async documentsAt(revision) {
      const rows = q.docLogUpTo.all(revision) as { entry: string }[];
      return replayDocuments(rows.map((r) => JSON.parse(r.entry) as LogEntry));
    },
    onCommit(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async getCa() {
      return readCa();
    },
    async createCa(ca) {
      return transaction(() => {
        if (meta('ca') !== undefined) return false;
        metaSet.run('ca', JSON.stringify(ca));
        return true;
      });
    },
    async createFirstAdminToken(t) {
      return transaction(() => {
        if ((q.admins.get() as { n: number }).n > 0) return false;
        q.putToken.run(t.id, t.name, t.role, t.hash, t.createdAt, t.service ?? null);
        return true;
      });
    },
    async putToken(t) {
      q.putToken.run(t.id, t.name, t.role, t.hash, t.createdAt, t.service ?? null);
    },
    async getToken(tokenId) {
      const row = q.token.get(tokenId) as Record<string, unknown> | undefined;
      return row && toToken(row);
    },
    async listTokens() {
      return (q.tokens.all() as Record<string, unknown>[]).map(toToken);
    },
    async deleteToken(tokenId) {
      return q.delToken.run(tokenId).changes > 0;
    },
    async close() {
      if (closed) return;
      closed = true;
      listeners.clear();
      db.close();
    },
  };
  return store;
}
