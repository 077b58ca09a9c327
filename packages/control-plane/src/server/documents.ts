/**
 * Config document routes: read, write with compare-and-set, apply many at once, delete, history and
 * rollback. Every write is validated in full before anything reaches the store, so a rejected write
 * stores nothing.
 */
import {
  type ConfigDocument,
  type DocumentKind,
  isDocumentKind,
  type StoredDocument,
  validateDocument,
} from '@weft/core/config';
import type { FastifyInstance } from 'fastify';
import type { Expectation, PendingChange, Store } from '../store/store.ts';
import { authorOf } from './auth.ts';
import { badRequest, HttpError, invalid, notFound, preconditionFailed } from './http-errors.ts';

/** Most documents one apply may carry. */
export const MAX_APPLY_DOCUMENTS = 1000;

function kindParam(kind: string): DocumentKind {
  if (!isDocumentKind(kind)) throw notFound(`unknown kind "${kind}"`);
  return kind;
}

/** Canonical JSON (sorted keys) so that equal specs compare equal whatever their key order. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * Parses `If-Match`: `"12"` (the document's revision) or `*` (it must exist). `If-None-Match: *`
 * means it must not exist. Returns the expected revision (0: absent), 'exists', or undefined.
 */
function precondition(headers: Record<string, string | string[] | undefined>): number | 'exists' | undefined {
  const ifNoneMatch = headers['if-none-match'];
  if (ifNoneMatch !== undefined) {
    if (String(ifNoneMatch).trim() !== '*') throw badRequest('If-None-Match: only "*" is supported');
    return 0;
  }
  const ifMatch = headers['if-match'];
  if (ifMatch === undefined) return undefined;
  const value = String(ifMatch).trim();
  if (value === '*') return 'exists';
  const m = /^(?:W\/)?"?(\d+)"?$/.exec(value);
  if (!m) throw badRequest('If-Match: expected a document revision such as "12"');
  return Number(m[1]);
}

/** Kinds only the service itself writes (the rollout driver's status): refused from the API. */
const SERVICE_WRITTEN: ReadonlySet<string> = new Set(['RolloutStatus']);
const serviceWritten = (kind: string) =>
  new HttpError(403, 'forbidden', `${kind} documents are written by the config service itself`);

const changeKey = (c: PendingChange) => (c.op === 'put' || c.op === 'delete' ? `${c.kind}/${c.name}` : c.op);

const etag = (d: StoredDocument) => `"${d.revision}"`;

export function documentRoutes(app: FastifyInstance, store: Store): void {
  app.get('/v1/documents', async (req) => {
    const { kind } = req.query as { kind?: string };
    return {
      revision: await store.revision(),
      documents: await store.listDocuments(kind ? kindParam(kind) : undefined),
    };
  });

  app.get('/v1/documents/:kind', async (req) => {
    const { kind } = req.params as { kind: string };
    return { revision: await store.revision(), documents: await store.listDocuments(kindParam(kind)) };
  });

  app.get('/v1/documents/:kind/:name', async (req, reply) => {
    const { kind, name } = req.params as { kind: string; name: string };
    const doc = await store.getDocument(kindParam(kind), name);
    if (!doc) throw notFound(`${kind}/${name} not found`);
    reply.header('etag', etag(doc));
    return doc;
  });

  app.put('/v1/documents/:kind/:name', async (req, reply) => {
    const { kind, name } = req.params as { kind: string; name: string };
    const body = req.body;
    if (!body || typeof body !== 'object' || Array.isArray(body))
      throw invalid(['(root): expected an object']);
    const input = { kind, name, ...(body as object) } as Record<string, unknown>;
    const mismatch = (['kind', 'name'] as const).filter((f) => input[f] !== (f === 'kind' ? kind : name));
    if (mismatch.length) throw invalid(mismatch.map((f) => `${f}: does not match the URL`));
    if (SERVICE_WRITTEN.has(kind)) throw serviceWritten(kind);
    const result = validateDocument(input);
    if (!result.ok) throw invalid(result.issues);
    const doc = result.document;
    const expected = precondition(req.headers);
    const current = await store.getDocument(doc.kind, doc.name);
    const expectations: Expectation[] = [];
    if (expected === 'exists') {
      if (!current) throw preconditionFailed(`${kind}/${name} does not exist`);
      expectations.push({ type: 'document', kind: doc.kind, name: doc.name, revision: current.revision });
    } else if (expected !== undefined) {
      expectations.push({ type: 'document', kind: doc.kind, name: doc.name, revision: expected });
    }
    const committed = await store.commit(
      [{ op: 'put', kind: doc.kind, name: doc.name, spec: doc.spec }],
      expectations,
      authorOf(req),
    );
    if (!committed.ok) {
      const now = await store.getDocument(doc.kind, doc.name);
      throw preconditionFailed(
        `${kind}/${name} is at revision ${now?.revision ?? 0} (absent when 0), not ${expected === 'exists' ? current?.revision : expected}`,
      );
    }
    const change = committed.entry.changes[0];
    const stored = change?.op === 'put' ? change.document : undefined;
    reply.header('etag', `"${committed.entry.revision}"`);
    reply.code(current ? 200 : 201);
    return { revision: committed.entry.revision, document: stored };
  });

  app.delete('/v1/documents/:kind/:name', async (req) => {
    const { kind, name } = req.params as { kind: string; name: string };
    const k = kindParam(kind);
    if (SERVICE_WRITTEN.has(k)) throw serviceWritten(k);
    const expected = precondition(req.headers);
    const current = await store.getDocument(k, name);
    if (!current) throw notFound(`${kind}/${name} not found`);
    const revision = typeof expected === 'number' ? expected : current.revision;
    const committed = await store.commit(
      [{ op: 'delete', kind: k, name }],
      [{ type: 'document', kind: k, name, revision }],
      authorOf(req),
    );
    if (!committed.ok) throw preconditionFailed(`${kind}/${name} changed (expected revision ${revision})`);
    return { revision: committed.entry.revision };
  });

  app.post('/v1/apply', async (req) => {
    const body = req.body as { documents?: unknown } | undefined;
    if (!body || typeof body !== 'object' || !Array.isArray(body.documents))
      throw invalid(['documents: expected an array of documents']);
    if (body.documents.length > MAX_APPLY_DOCUMENTS)
      throw invalid([`documents: at most ${MAX_APPLY_DOCUMENTS} documents per apply`]);
    const issues: string[] = [];
    const docs: ConfigDocument[] = [];
    const seen = new Set<string>();
    body.documents.forEach((d, i) => {
      const r = validateDocument(d, `documents.${i}`);
      if (!r.ok) {
        issues.push(...r.issues);
        return;
      }
      const key = `${r.document.kind}/${r.document.name}`;
      if (SERVICE_WRITTEN.has(r.document.kind))
        issues.push(`documents.${i}.kind: ${r.document.kind} is written by the config service itself`);
      if (seen.has(key)) issues.push(`documents.${i}: ${key} appears twice`);
      seen.add(key);
      docs.push(r.document);
    });
    if (issues.length) throw invalid(issues);
    const changes: PendingChange[] = [];
    const expectations: Expectation[] = [];
    const unchanged: string[] = [];
    for (const d of docs) {
      const current = await store.getDocument(d.kind, d.name);
      if (current && canonical(current.spec) === canonical(d.spec)) {
        unchanged.push(`${d.kind}/${d.name}`);
        continue;
      }
      changes.push({ op: 'put', kind: d.kind, name: d.name, spec: d.spec });
      expectations.push({ type: 'document', kind: d.kind, name: d.name, revision: current?.revision ?? 0 });
    }
    if (changes.length === 0) return { revision: await store.revision(), changed: [], unchanged };
    const committed = await store.commit(changes, expectations, authorOf(req));
    if (!committed.ok) throw new HttpError(409, 'conflict', 'a document changed during apply; retry');
    return {
      revision: committed.entry.revision,
      changed: changes.map(changeKey),
      unchanged,
    };
  });

  app.get('/v1/history', async (req) => {
    const { kind, name, limit } = req.query as { kind?: string; name?: string; limit?: string };
    const n = limit === undefined ? 100 : Number(limit);
    if (!Number.isInteger(n) || n < 1 || n > 10_000)
      throw badRequest('limit: must be an integer from 1 to 10000');
    const entries = await store.history({ kind: kind ? kindParam(kind) : undefined, name, limit: n });
    const docsOnly = entries.map((e) => ({
      ...e,
      changes: e.changes.filter(
        (c) =>
          (c.op === 'put' && (!name || c.document.name === name) && (!kind || c.document.kind === kind)) ||
          (c.op === 'delete' && (!name || c.name === name) && (!kind || c.kind === kind)),
      ),
    }));
    return { revision: await store.revision(), entries: docsOnly };
  });

  app.post('/v1/rollback', async (req) => {
    const body = req.body as { revision?: unknown } | undefined;
    const target = body?.revision;
    if (typeof target !== 'number' || !Number.isInteger(target) || target < 0)
      throw invalid(['revision: expected a non-negative integer'], 'invalid rollback');
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await store.revision();
      if (target > current)
        throw invalid([`revision: ${target} is after the current revision ${current}`], 'invalid rollback');
      const before = await store.documentsAt(target);
      const now = await store.listDocuments();
      const wanted = new Map(before.map((d) => [`${d.kind}/${d.name}`, d]));
      const changes: PendingChange[] = [];
      for (const d of now) {
        const w = wanted.get(`${d.kind}/${d.name}`);
        if (!w) changes.push({ op: 'delete', kind: d.kind, name: d.name });
        else if (canonical(w.spec) !== canonical(d.spec))
          changes.push({ op: 'put', kind: d.kind, name: d.name, spec: w.spec });
        wanted.delete(`${d.kind}/${d.name}`);
      }
      for (const w of wanted.values()) changes.push({ op: 'put', kind: w.kind, name: w.name, spec: w.spec });
      if (changes.length === 0) return { revision: current, changed: [] };
      // Computed from the state at `current`: valid only if nothing was committed since.
      const committed = await store.commit(changes, [{ type: 'revision', revision: current }], authorOf(req));
      if (committed.ok)
        return {
          revision: committed.entry.revision,
          changed: changes.map(changeKey),
        };
    }
    throw new HttpError(409, 'conflict', 'documents kept changing during rollback; retry');
  });
}
