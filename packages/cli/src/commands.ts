/**
 * The client commands of the `weft` CLI: apply, get, delete, history, rollback, endpoints, tokens
 * (`split` has its own module). Each prints a short human summary, or with `--output json` the service's JSON reply.
 */
import {
  type ConfigDocument,
  DOCUMENT_KINDS,
  type DocumentKind,
  type Instance,
  type LogEntry,
  type StoredDocument,
} from '@weft/core/config';
import { stringify } from 'yaml';
import { type Api, ApiError } from './api.ts';
import { readDocuments } from './files.ts';

export interface Output {
  json: boolean;
  write(text: string): void;
  /** Writes a warning (stderr); never changes the exit status. */
  warn?(text: string): void;
}

const ALIASES: Record<string, DocumentKind> = {
  destinationpolicy: 'DestinationPolicy',
  destinationpolicies: 'DestinationPolicy',
  policy: 'DestinationPolicy',
  policies: 'DestinationPolicy',
  dp: 'DestinationPolicy',
  route: 'Route',
  routes: 'Route',
  rt: 'Route',
  trafficswitch: 'TrafficSwitch',
  trafficswitches: 'TrafficSwitch',
  switch: 'TrafficSwitch',
  authorizationpolicy: 'AuthorizationPolicy',
  authorizationpolicies: 'AuthorizationPolicy',
  authz: 'AuthorizationPolicy',
};

export class UsageError extends Error {}

/** Resolves a kind as typed on the command line (`policy`, `DestinationPolicy`, …). */
export function resolveKind(kind: string): DocumentKind {
  const k = ALIASES[kind.toLowerCase()];
  if (!k)
    throw new UsageError(
      `unknown kind "${kind}" (kinds: ${Object.keys(DOCUMENT_KINDS).join(', ')}; aliases: policy, dp, route, rt, authz)`,
    );
  return k;
}

export function table(rows: string[][]): string {
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

export async function apply(request: Api, o: Output, files: string[], dryRun = false): Promise<void> {
  const documents = files.flatMap(readDocuments);
  if (dryRun) {
    await dryRunApply(request, o, documents);
    await warnUnregistered(request, o, documents);
    return;
  }
  const { body } = await request('POST', '/v1/apply', { documents });
  const r = body as { revision: number; changed: string[]; unchanged: string[] };
  out(o, body, () =>
    [
      ...r.changed.map((d) => `${d} configured`),
      ...r.unchanged.map((d) => `${d} unchanged`),
      `revision ${r.revision}`,
    ].join('\n'),
  );
  await warnUnregistered(request, o, documents);
}

/** What `apply` would change, against the stored documents: created, unchanged, or a line diff of the spec. */
async function dryRunApply(request: Api, o: Output, documents: ConfigDocument[]): Promise<void> {
  const results: { document: string; action: 'create' | 'update' | 'unchanged'; diff?: string[] }[] = [];
  for (const d of documents) {
    const id = `${d.kind}/${d.name}`;
    let stored: StoredDocument | undefined;
    try {
      stored = (await request('GET', `/v1/documents/${d.kind}/${encodeURIComponent(d.name)}`))
        .body as StoredDocument;
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404)) throw error;
    }
    if (!stored) {
      results.push({ document: id, action: 'create', diff: lineDiff([], yamlLines(d.spec)) });
      continue;
    }
    const diff = lineDiff(yamlLines(stored.spec), yamlLines(d.spec));
    const changed = diff.some((l) => l.startsWith('+') || l.startsWith('-'));
    results.push(changed ? { document: id, action: 'update', diff } : { document: id, action: 'unchanged' });
  }
  out(o, { dryRun: true, results }, () =>
    results
      .map((r) =>
        r.action === 'unchanged'
          ? `${r.document} unchanged`
          : [
              `${r.document} would be ${r.action === 'create' ? 'created' : 'updated'}:`,
              ...(r.diff ?? []).map((l) => `  ${l}`),
            ].join('\n'),
      )
      .concat('(dry run: nothing was written)')
      .join('\n'),
  );
}

const yamlLines = (spec: unknown) =>
  stringify(spec ?? {})
    .trimEnd()
    .split('\n');

/**
 * A line diff (longest common subsequence): unchanged lines start with two spaces, removed ones
 * with `- `, added ones with `+ `. Documents are small, so the quadratic table is fine.
 */
export function lineDiff(before: readonly string[], after: readonly string[]): string[] {
  const n = before.length;
  const m = after.length;
  const lcs = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      lcs[i]![j] =
        before[i] === after[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const lines: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && before[i] === after[j]) {
      lines.push(`  ${before[i++]}`);
      j++;
    } else if (i < n && (j === m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) lines.push(`- ${before[i++]}`);
    else lines.push(`+ ${after[j++]}`);
  }
  return lines;
}

/** Kinds whose name is the service they configure. */
const NAMES_A_SERVICE: ReadonlySet<string> = new Set(['DestinationPolicy', 'Route']);

/**
 * Warns (on stderr, never failing the command) about documents that name a service with no
 * registered instance: often a typo (`catalgo`), sometimes a service not started yet or not using
 * the registry. Skipped silently when the token may not list services.
 */
async function warnUnregistered(request: Api, o: Output, documents: ConfigDocument[]): Promise<void> {
  const named = documents.filter((d) => NAMES_A_SERVICE.has(d.kind));
  if (named.length === 0 || !o.warn) return;
  let services: Set<string>;
  try {
    const { body } = await request('GET', '/v1/services');
    services = new Set(((body as { services?: { name: string }[] }).services ?? []).map((s) => s.name));
  } catch {
    return;
  }
  for (const d of named)
    if (!services.has(d.name))
      o.warn(
        `warning: ${d.kind}/${d.name}: no instance of service "${d.name}" is registered (a typo, or not started yet?)`,
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

/** `name (token id)`, or `-` for the service's own writes and entries stored before attribution. */
function describeAuthor(e: LogEntry): string {
  return e.author ? `${e.author.name} (${e.author.tokenId})` : '-';
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
          ['REVISION', 'TIME', 'AUTHOR', 'CHANGES'],
          ...r.entries.map((e) => [
            String(e.revision),
            e.at,
            describeAuthor(e),
            e.changes.map(describeChange).join(', '),
          ]),
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
