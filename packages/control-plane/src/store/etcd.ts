/**
 * The replicated store: etcd, shared by several config-service replicas. Weft keeps its own dense
 * global revision in one counter key; every commit is one etcd transaction that compares the
 * counter (and the keys its expectations name) by etcd mod-revision and only then writes the
 * documents, the counter and the log entry. Concurrent replicas therefore serialize on the counter:
 * a loser re-reads and retries (optimistic concurrency, as in etcd's own STM). Every replica
 * watches the log prefix, so watchers of any replica see every replica's writes in revision order.
 */
import { randomUUID } from 'node:crypto';
import { invalidOption } from '@weft/core';
import type { DocumentKind, LogEntry, Snapshot, StoredDocument, WriteAuthor } from '@weft/core/config';
import { Etcd3, type IKeyValue, Range, type Watcher } from 'etcd3';
import {
  type CommitResult,
  compareDocuments,
  type Expectation,
  logEntry,
  materialize,
  type PendingChange,
  replayDocuments,
  type Store,
  type StoredCa,
  type StoredInstance,
  StoreLimitError,
  type TokenRecord,
  touchesDocuments,
  withBundle,
} from './store.ts';

export interface EtcdStoreOptions {
  /** etcd client URLs, such as `http://127.0.0.1:2379`. */
  endpoints: readonly string[];
  /** Prefix of every key Weft writes. Defaults to `/weft/`. */
  prefix?: string;
  /** Registry-only log entries kept for resuming watchers. Defaults to 10000. */
  watchHistory?: number;
  /** Attempts of a commit that keeps losing races to other replicas. Defaults to 50. */
  maxCommitAttempts?: number;
  /** Operations etcd accepts in one transaction (its `--max-txn-ops`). Defaults to 128. */
  maxTxnOps?: number;
}

export const ETCD_DEFAULTS = {
  prefix: '/weft/',
  watchHistory: 10_000,
  maxCommitAttempts: 50,
  maxTxnOps: 128,
} as const;

const pad = (n: number) => String(n).padStart(16, '0');
const parse = <T>(kv: IKeyValue): T => JSON.parse(kv.value.toString()) as T;

export async function etcdStore(options: EtcdStoreOptions): Promise<Store> {
  if (!options.endpoints?.length) throw invalidOption('endpoints', 'at least one etcd URL is required');
  const p = options.prefix ?? ETCD_DEFAULTS.prefix;
  if (!p.endsWith('/')) throw invalidOption('prefix', 'must end with "/"');
  const watchHistory = options.watchHistory ?? ETCD_DEFAULTS.watchHistory;
  const maxAttempts = options.maxCommitAttempts ?? ETCD_DEFAULTS.maxCommitAttempts;
  const maxTxnOps = options.maxTxnOps ?? ETCD_DEFAULTS.maxTxnOps;
  // Every commit also writes the counter and one or two log keys, and compares the counter.
  const maxChanges = maxTxnOps - 3;
  if (!Number.isInteger(maxTxnOps) || maxTxnOps < 8)
    throw invalidOption('maxTxnOps', 'must be an integer ≥ 8');
  const client = new Etcd3({ hosts: [...options.endpoints], dialTimeout: 3000 });
  const k = {
    id: `${p}meta/id`,
    rev: `${p}meta/rev`,
    compacted: `${p}meta/compacted`,
    doc: (kind: string, name: string) => `${p}doc/${kind}/${name}`,
    docs: (kind?: string) => `${p}doc/${kind ? `${kind}/` : ''}`,
    inst: (service: string, id: string) => `${p}inst/${service}/${id}`,
    insts: (service?: string) => `${p}inst/${service ? `${service}/` : ''}`,
    log: (rev: number) => `${p}log/${pad(rev)}`,
    dlog: (rev: number) => `${p}dlog/${pad(rev)}`,
    token: (id: string) => `${p}token/${id}`,
    // The CA with its private keys: whoever can read this key can sign for the mesh (see docs).
    ca: `${p}ca`,
  };

  try {
    await client
      .if(k.id, 'Version', '==', 0)
      .then(client.put(k.id).value(randomUUID()), client.put(k.rev).value('0'))
      .commit();
  } catch (error) {
    client.close();
    throw new Error(`cannot reach etcd at ${options.endpoints.join(', ')}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const id = (await client.get(k.id).string())!;

  const listeners = new Set<(entry: LogEntry) => void>();
  const start = await client.get(k.rev).exec();
  let lastEmitted = Number(start.kvs[0]?.value.toString() ?? 0);
  const watcher: Watcher = await client
    .watch()
    .prefix(`${p}log/`)
    .startRevision(String(Number(start.header.revision) + 1))
    .create();
  watcher.on('put', (kv) => {
    const entry = parse<LogEntry>(kv);
    if (entry.revision <= lastEmitted) return;
    lastEmitted = entry.revision;
    for (const l of listeners) l(entry);
  });

  const readKv = async (key: string) => (await client.get(key).exec()).kvs[0];

  async function checkExpectation(
    e: Exclude<Expectation, { type: 'revision' }>,
  ): Promise<{ ok: boolean; key: string; mod: string }> {
    const key =
      e.type === 'document' ? k.doc(e.kind, e.name) : e.type === 'ca' ? k.ca : k.inst(e.service, e.id);
    const kv = await readKv(key);
    const mod = kv ? String(kv.mod_revision) : '0';
    if (e.type === 'ca') return { ok: (kv ? parse<StoredCa>(kv).generation : 0) === e.generation, key, mod };
    if (e.type === 'document')
      return { ok: (kv ? parse<StoredDocument>(kv).revision : 0) === e.revision, key, mod };
    return { ok: kv !== undefined && parse<StoredInstance>(kv).expiresAt === e.expiresAt, key, mod };
  }

  async function commitOnce(
    changes: readonly PendingChange[],
    expectations: readonly Expectation[],
    author: WriteAuthor | undefined,
  ): Promise<CommitResult | 'retry'> {
    const counter = await readKv(k.rev);
    const revision = Number(counter?.value.toString() ?? 0) + 1;
    const guard = client.if(k.rev, 'Mod', '==', counter ? String(counter.mod_revision) : '0');
    for (const e of expectations) {
      if (e.type === 'revision') {
        // The counter compare below makes this atomic with the writes.
        if (revision - 1 !== e.revision) return { ok: false, failed: e };
        continue;
      }
      const r = await checkExpectation(e);
      if (!r.ok) return { ok: false, failed: e };
      guard.and(r.key, 'Mod', '==', r.mod);
    }
    const creates = new Map<string, number>();
    for (const c of changes) {
      if (c.op !== 'put') continue;
      const kv = await readKv(k.doc(c.kind, c.name));
      if (kv) creates.set(`${c.kind}/${c.name}`, parse<StoredDocument>(kv).createRevision);
    }
    const entry = logEntry(
      revision,
      new Date().toISOString(),
      materialize(changes, revision, creates),
      author,
    );
    const ops = entry.changes.map((c, i) => {
      if (c.op === 'put')
        return client.put(k.doc(c.document.kind, c.document.name)).value(JSON.stringify(c.document));
      if (c.op === 'delete') return client.delete().key(k.doc(c.kind, c.name));
      if (c.op === 'register') {
        const pending = changes[i] as Extract<PendingChange, { op: 'register' }>;
        const stored: StoredInstance = { instance: c.instance, expiresAt: pending.expiresAt };
        return client.put(k.inst(c.instance.service, c.instance.id)).value(JSON.stringify(stored));
      }
      if (c.op === 'deregister') return client.delete().key(k.inst(c.service, c.id));
      const pending = changes[i] as Extract<PendingChange, { op: 'ca' }>;
      return client.put(k.ca).value(JSON.stringify(pending.ca));
    });
    const json = JSON.stringify(entry);
    ops.push(client.put(k.rev).value(String(revision)), client.put(k.log(revision)).value(json));
    if (touchesDocuments(entry)) ops.push(client.put(k.dlog(revision)).value(json));
    const result = await guard.then(...ops).commit();
    if (!result.succeeded) return 'retry';
    if (revision % Math.min(100, watchHistory) === 0 && revision > watchHistory) {
      const through = revision - watchHistory;
      await client.put(k.compacted).value(String(through));
      await client.delete().range(new Range(k.log(0), k.log(through + 1)));
    }
    return { ok: true, entry };
  }

  const rangeValues = async <T>(prefix: string) =>
    (await client.getAll().prefix(prefix).exec()).kvs.map((kv) => parse<T>(kv));

  const store: Store = {
    id,
    async revision() {
      return Number((await client.get(k.rev).string()) ?? 0);
    },
    async snapshot(): Promise<Snapshot> {
      // One transaction of three range reads: all three see the same etcd revision.
      const r = await client
        .if(k.id, 'Version', '>', 0)
        .then(
          client.get(k.rev),
          client.getAll().prefix(k.docs()),
          client.getAll().prefix(k.insts()),
          client.get(k.ca),
        )
        .commit();
      const kvs = (i: number) => (r.responses[i]?.response_range?.kvs ?? []) as IKeyValue[];
      const caKv = kvs(3)[0];
      return {
        storeId: id,
        revision: Number(kvs(0)[0]?.value.toString() ?? 0),
        documents: kvs(1)
          .map((kv) => parse<StoredDocument>(kv))
          .sort(compareDocuments),
        instances: kvs(2).map((kv) => parse<StoredInstance>(kv).instance),
        ...withBundle(caKv && parse<StoredCa>(caKv)),
      };
    },
    async getDocument(kind, name) {
      const kv = await readKv(k.doc(kind, name));
      return kv && parse<StoredDocument>(kv);
    },
    async listDocuments(kind?: DocumentKind) {
      return (await rangeValues<StoredDocument>(k.docs(kind))).sort(compareDocuments);
    },
    async listInstances(service) {
      return rangeValues<StoredInstance>(k.insts(service));
    },
    async getInstance(service, instanceId) {
      const kv = await readKv(k.inst(service, instanceId));
      return kv && parse<StoredInstance>(kv);
    },
    async commit(changes, expectations = [], author) {
      if (changes.length > maxChanges || expectations.length > maxChanges)
        throw new StoreLimitError(
          `etcd takes at most ${maxChanges} changes in one revision (its --max-txn-ops is ${maxTxnOps}); got ${changes.length}: split the write`,
        );
      for (let attempt = 0; attempt < maxAttempts; attempt++) {
        const r = await commitOnce(changes, expectations, author);
        if (r !== 'retry') return r;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * (attempt + 1)));
      }
      throw new Error(`commit lost ${maxAttempts} races in a row to other replicas`);
    },
    async heartbeat(service, instanceId, expiresAt) {
      for (let attempt = 0; attempt < 10; attempt++) {
        const kv = await readKv(k.inst(service, instanceId));
        if (!kv) return false;
        const stored = parse<StoredInstance>(kv);
        const r = await client
          .if(k.inst(service, instanceId), 'Mod', '==', String(kv.mod_revision))
          .then(client.put(k.inst(service, instanceId)).value(JSON.stringify({ ...stored, expiresAt })))
          .commit();
        if (r.succeeded) return true;
      }
      return false;
    },
    async logSince(revision, limit) {
      const compacted = Number((await client.get(k.compacted).string()) ?? 0);
      if (revision < compacted) return undefined;
      const r = await client
        .getAll()
        .inRange(new Range(k.log(revision + 1), `${p}log0`))
        .sort('Key', 'Ascend')
        .limit(limit)
        .exec();
      return r.kvs.map((kv) => parse<LogEntry>(kv));
    },
    async history({ kind, name, limit }) {
      const entries = (await rangeValues<LogEntry>(`${p}dlog/`)).sort((a, b) => b.revision - a.revision);
      return entries.filter((e) => touchesDocuments(e, kind, name)).slice(0, limit);
    },
    async documentsAt(revision) {
      const entries = (await rangeValues<LogEntry>(`${p}dlog/`)).sort((a, b) => a.revision - b.revision);
      return replayDocuments(entries.filter((e) => e.revision <= revision));
    },
    onCommit(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async getCa() {
      const kv = await readKv(k.ca);
      return kv && parse<StoredCa>(kv);
    },
    async createCa(ca) {
      const r = await client
        .if(k.ca, 'Version', '==', 0)
        .then(client.put(k.ca).value(JSON.stringify(ca)))
        .commit();
      return r.succeeded;
    },
    async createFirstAdminToken(t) {
      const adminMarker = `${p}meta/admin-created`;
      const r = await client
        .if(adminMarker, 'Version', '==', 0)
        .then(client.put(adminMarker).value(t.id), client.put(k.token(t.id)).value(JSON.stringify(t)))
        .commit();
      return r.succeeded;
    },
    async putToken(t) {
      await client.put(k.token(t.id)).value(JSON.stringify(t));
    },
    async getToken(tokenId) {
      const kv = await readKv(k.token(tokenId));
      return kv && parse<TokenRecord>(kv);
    },
    async listTokens() {
      return rangeValues<TokenRecord>(`${p}token/`);
    },
    async deleteToken(tokenId) {
      const r = await client.delete().key(k.token(tokenId)).exec();
      return Number(r.deleted) > 0;
    },
    blobs: {
      async put(name, value, ttlS) {
        // A lease of its own, never kept alive: the value goes when its time is up.
        const lease = client.lease(ttlS, { autoKeepAlive: false });
        await lease.put(`${p}blob/${name}`).value(value);
      },
      async names(prefix) {
        const keys = await client.getAll().prefix(`${p}blob/${prefix}`).keys();
        return keys.map((key) => key.slice(`${p}blob/`.length));
      },
      async get(name) {
        return (await client.get(`${p}blob/${name}`).string()) ?? undefined;
      },
    },
    async close() {
      listeners.clear();
      await watcher.cancel().catch(() => {});
      client.close();
    },
  };
  return store;
}
