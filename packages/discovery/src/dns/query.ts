/**
 * One DNS lookup turned into an outcome: endpoints with the smallest TTL among the records used,
 * an authoritative "no" (NXDOMAIN or NODATA), or a failure (SERVFAIL, timeout, refused, …).
 */
import type { Resolver as NodeDnsResolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Endpoint } from '@weft/core';
import { isUsableEndpoint } from '@weft/core';
import { hostIssue, portIssue } from '@weft/core/config';

export type DnsRecordType = 'A' | 'AAAA' | 'A+AAAA' | 'SRV';

export type Lookup =
  | { readonly kind: 'bound'; readonly endpoints: Endpoint[]; readonly ttlMs: number }
  | { readonly kind: 'negative' }
  | { readonly kind: 'failed'; readonly error: Error };

/** c-ares codes that mean the name or the record type authoritatively does not exist. */
const NEGATIVE_CODES = new Set(['ENOTFOUND', 'ENODATA']);

interface Address {
  readonly address: string;
  readonly ttlMs: number;
}

type AddressLookup =
  | { kind: 'bound'; addresses: Address[] }
  | { kind: 'negative' }
  | { kind: 'failed'; error: Error };

function classify(err: unknown): { kind: 'negative' } | { kind: 'failed'; error: Error } {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code !== undefined && NEGATIVE_CODES.has(code)) return { kind: 'negative' };
  return { kind: 'failed', error: err instanceof Error ? err : new Error(String(err)) };
}

async function addresses(dns: NodeDnsResolver, name: string, family: 4 | 6): Promise<AddressLookup> {
  try {
    const records =
      family === 4 ? await dns.resolve4(name, { ttl: true }) : await dns.resolve6(name, { ttl: true });
    // Answers are checked like any input: an address that is not one, or a TTL that is not a
    // number of seconds, is dropped or taken as 0 rather than handed to a connection pool.
    const usable = records.filter((r) => hostIssue(r?.address) === undefined);
    if (usable.length === 0) return { kind: 'negative' };
    return {
      kind: 'bound',
      addresses: usable.map((r) => ({
        address: r.address,
        ttlMs: Number.isFinite(r.ttl) && r.ttl > 0 ? r.ttl * 1000 : 0,
      })),
    };
  } catch (err) {
    return classify(err);
  }
}

/** A and/or AAAA for one name: any failure fails the lookup; all negative is negative. */
async function hostAddresses(
  dns: NodeDnsResolver,
  name: string,
  type: 'A' | 'AAAA' | 'A+AAAA',
): Promise<AddressLookup> {
  const families: (4 | 6)[] = type === 'A' ? [4] : type === 'AAAA' ? [6] : [4, 6];
  const results = await Promise.all(families.map((f) => addresses(dns, name, f)));
  const found: Address[] = [];
  for (const r of results) {
    if (r.kind === 'failed') return r;
    if (r.kind === 'bound') found.push(...r.addresses);
  }
  return found.length === 0 ? { kind: 'negative' } : { kind: 'bound', addresses: found };
}

export interface QueryOptions {
  readonly name: string;
  readonly type: DnsRecordType;
  /** Port for A/AAAA answers. */
  readonly port: number;
  /** Labels added to every endpoint. */
  readonly labels: Readonly<Record<string, string>> | undefined;
  /** SRV answers carry no TTL in Node's API: this stands in for it. */
  readonly srvRefreshMs: number;
}

/** Runs one lookup. Never throws: failures come back as `{ kind: 'failed' }`. */
export async function lookup(dns: NodeDnsResolver, q: QueryOptions): Promise<Lookup> {
  if (q.type !== 'SRV') {
    const r = await hostAddresses(dns, q.name, q.type);
    if (r.kind !== 'bound') return r;
    return {
      kind: 'bound',
      endpoints: r.addresses.map((a) => withLabels({ address: a.address, port: q.port }, q.labels)),
      ttlMs: Math.min(...r.addresses.map((a) => a.ttlMs)),
    };
  }
  let records: { name: string; port: number; priority: number; weight: number }[];
  try {
    records = await dns.resolveSrv(q.name);
  } catch (err) {
    return classify(err);
  }
  // RFC 2782: a single record with target "." means the service is decidedly not available here.
  records = records.filter(
    (r) =>
      typeof r?.name === 'string' &&
      r.name !== '' &&
      r.name !== '.' &&
      portIssue(r.port) === undefined &&
      Number.isFinite(r.priority) &&
      Number.isFinite(r.weight),
  );
  if (records.length === 0) return { kind: 'negative' };
  // RFC 2782: clients use the lowest-numbered priority first; the others are backups.
  const best = Math.min(...records.map((r) => r.priority));
  const chosen = records.filter((r) => r.priority === best);
  const targets = [...new Set(chosen.map((r) => r.name))];
  const resolved = new Map<string, Address[]>();
  let ttlMs = q.srvRefreshMs;
  const results = await Promise.all(
    targets.map(async (t): Promise<[string, AddressLookup]> => {
      if (hostIssue(t) !== undefined) return [t, { kind: 'negative' }];
      if (isIP(t) !== 0)
        return [t, { kind: 'bound', addresses: [{ address: t, ttlMs: Number.POSITIVE_INFINITY }] }];
      return [t, await hostAddresses(dns, t, 'A+AAAA')];
    }),
  );
  for (const [target, r] of results) {
    if (r.kind === 'failed') return r;
    if (r.kind === 'bound') {
      resolved.set(target, r.addresses);
      for (const a of r.addresses) ttlMs = Math.min(ttlMs, a.ttlMs);
    }
  }
  const endpoints: Endpoint[] = [];
  for (const r of chosen) {
    for (const a of resolved.get(r.name) ?? []) {
      // A record naming port 0 (or a target that is no address) cannot be connected to: skipped.
      if (!isUsableEndpoint({ address: a.address, port: r.port })) continue;
      // Weight 0 ("very small chance", RFC 2782) becomes 1, the smallest weight an endpoint carries.
      endpoints.push({
        address: a.address,
        port: r.port,
        weight: Math.max(1, r.weight),
        labels: { ...q.labels, host: r.name },
      });
    }
  }
  if (endpoints.length === 0) return { kind: 'negative' };
  return { kind: 'bound', endpoints, ttlMs };
}

function withLabels(
  e: { address: string; port: number },
  labels: Readonly<Record<string, string>> | undefined,
): Endpoint {
  return labels === undefined ? e : { ...e, labels };
}
