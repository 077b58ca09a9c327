/**
 * The client commands of the `weft` CLI: apply, get, delete, history, rollback, endpoints, tokens.
 * Each prints a short human summary, or with `--output json` the service's JSON reply.
 */
import {
  DOCUMENT_KINDS,
  type DocumentKind,
  type Instance,
  type LogEntry,
  type StoredDocument,
} from '@weft/core/config';
import { stringify } from 'yaml';
import type { Api } from './api.ts';
import { readDocuments } from './files.ts';

export interface Output {
  json: boolean;
  write(text: string): void;
}

const ALIASES: Record<string, DocumentKind> = {
  destinationpolicy: 'DestinationPolicy',
  destinationpolicies: 'DestinationPolicy',
  policy: 'DestinationPolicy',
  policies: 'DestinationPolicy',
  dp: 'DestinationPolicy',
};

export class UsageError extends Error {}

/** Resolves a kind as typed on the command line (`policy`, `DestinationPolicy`, …). */
export function resolveKind(kind: string): DocumentKind {
  const k = ALIASES[kind.toLowerCase()];
  if (!k)
    throw new UsageError(
      `unknown kind "${kind}" (kinds: ${Object.keys(DOCUMENT_KINDS).join(', ')}; alias: policy)`,
    );
  return k;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

const out = (o: Output, body: unknown, text: () => string) =>
  o.write(o.json ? JSON.stringify(body, null, 2) : text());

export async function apply(request: Api, o: Output, files: string[]): Promise<void> {
  const documents = files.flatMap(readDocuments);
  const { body } = await request('POST', '/v1/apply', { documents });
  const r = body as { revision: number; changed: string[]; unchanged: string[] };
  out(o, body, () =>
    [
      ...r.changed.map((d) => `${d} configured`),
      ...r.unchanged.map((d) => `${d} unchanged`),
      `revision ${r.revision}`,
    ].join('\n'),
  );
}

export async function get(request: Api, o: Output, kind: string, name?: string): Promise<void> {
  const k = resolveKind(kind);
  if (name) {
    const { body } = await request('GET', `/v1/documents/${k}/${encodeURIComponent(name)}`);
    const d = body as StoredDocument;
    out(o, body, () =>
      stringify({ kind: d.kind, name: d.name, revision: d.revision, spec: d.spec }).trimEnd(),
    );
    return;
  }
  const { body } = await request('GET', `/v1/documents/${k}`);
  const r = body as { revision: number; documents: StoredDocument[] };
  out(o, body, () =>
    r.documents.length
      ? table([
          ['NAME', 'REVISION', 'CREATED'],
          ...r.documents.map((d) => [d.name, String(d.revision), String(d.createRevision)]),
        ])
      : `no ${k} documents (revision ${r.revision})`,
  );
}

export async function remove(
  request: Api,
  o: Output,
  kind: string,
  name: string,
  ifRevision?: number,
): Promise<void> {
  const k = resolveKind(kind);
  const headers: Record<string, string> = ifRevision === undefined ? {} : { 'if-match': `"${ifRevision}"` };
  const { body } = await request(
    'DELETE',
    `/v1/documents/${k}/${encodeURIComponent(name)}`,
    undefined,
    headers,
  );
  out(o, body, () => `${k}/${name} deleted\nrevision ${(body as { revision: number }).revision}`);
}

function describeChange(c: LogEntry['changes'][number]): string {
  if (c.op === 'put') return `put ${c.document.kind}/${c.document.name}`;
  if (c.op === 'delete') return `delete ${c.kind}/${c.name}`;
  return c.op;
}

export async function history(
  request: Api,
  o: Output,
  kind?: string,
  name?: string,
  limit = 20,
): Promise<void> {
  const params = new URLSearchParams({ limit: String(limit) });
  if (kind) params.set('kind', resolveKind(kind));
  if (name) params.set('name', name);
  const { body } = await request('GET', `/v1/history?${params}`);
  const r = body as { revision: number; entries: LogEntry[] };
  out(o, body, () =>
    r.entries.length
      ? table([
          ['REVISION', 'TIME', 'CHANGES'],
          ...r.entries.map((e) => [String(e.revision), e.at, e.changes.map(describeChange).join(', ')]),
        ])
      : 'no history',
  );
}

export async function rollback(request: Api, o: Output, revision: number): Promise<void> {
  const { body } = await request('POST', '/v1/rollback', { revision });
  const r = body as { revision: number; changed: string[] };
  out(o, body, () =>
    r.changed.length
      ? `rolled back to revision ${revision}: ${r.changed.join(', ')}\nrevision ${r.revision}`
      : `nothing to do: documents already match revision ${revision}`,
  );
}

export async function endpoints(request: Api, o: Output, service: string): Promise<void> {
  const { body } = await request('GET', `/v1/services/${encodeURIComponent(service)}/endpoints`);
  const r = body as { revision: number; instances: Instance[] };
  const labels = (i: Instance) =>
    Object.entries(i.labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(',') || '-';
  out(o, body, () =>
    r.instances.length
      ? table([
          ['ID', 'ADDRESS', 'PORT', 'LABELS', 'TTL'],
          ...r.instances.map((i) => [i.id, i.address, String(i.port), labels(i), `${i.ttlMs}ms`]),
        ])
      : `no instances of ${service} (revision ${r.revision})`,
  );
}

export async function tokenCreate(
  request: Api,
  o: Output,
  name: string,
  role: string,
  service?: string,
): Promise<void> {
  const { body } = await request('POST', '/v1/tokens', { name, role, ...(service ? { service } : {}) });
  const r = body as { id: string; token: string; service?: string };
  out(
    o,
    body,
    () =>
      `${r.token}\n(token ${r.id} for "${name}", role ${role}${r.service ? `, acts for service ${r.service}` : ''}: shown once, stored only hashed)`,
  );
}

export async function tokenList(request: Api, o: Output): Promise<void> {
  const { body } = await request('GET', '/v1/tokens');
  const r = body as {
    tokens: { id: string; name: string; role: string; service?: string; createdAt: string }[];
  };
  out(o, body, () =>
    table([
      ['ID', 'NAME', 'ROLE', 'SERVICE', 'CREATED'],
      ...r.tokens.map((t) => [
        t.id,
        t.name,
        t.role,
        t.role === 'service' ? (t.service ?? t.name) : '-',
        t.createdAt,
      ]),
    ]),
  );
}

export async function tokenDelete(request: Api, o: Output, id: string): Promise<void> {
  const { body } = await request('DELETE', `/v1/tokens/${encodeURIComponent(id)}`);
  out(o, body, () => `token ${id} deleted`);
}
