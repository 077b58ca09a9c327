/**
 * Access tokens: `weft_<id>_<secret>`. Only the SHA-256 of the secret is stored: the secret is 32
 * random bytes, so a fast hash is enough (a slow password hash only helps low-entropy secrets). The
 * id lets the server find the record without scanning; comparison is constant-time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { serviceNameIssue } from '@weft/core/config';
import type { Store, TokenRecord } from '../store/store.ts';

export type Role = TokenRecord['role'];

/** A freshly made token: the secret `token` is shown once and never stored. */
export interface IssuedToken {
  readonly record: TokenRecord;
  readonly token: string;
}

const TOKEN_PATTERN = /^weft_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

const hash = (secret: string) => createHash('sha256').update(secret).digest('hex');

/** Makes a new random token with its record; `service` scopes a service token. */
export function issueToken(name: string, role: Role, service?: string): IssuedToken {
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return {
    record: {
      id,
      name,
      role,
      ...(service === undefined ? {} : { service }),
      hash: hash(secret),
      createdAt: new Date().toISOString(),
    },
    token: `weft_${id}_${secret}`,
  };
}

/** A checked `POST /v1/tokens` body, or the `field: reason` issues of a bad one. */
export type TokenRequest =
  | { readonly ok: true; readonly name: string; readonly role: Role; readonly service?: string }
  | { readonly ok: false; readonly issues: string[] };

/**
 * Checks a token request `{ name, role, service? }`. A `service` token is scoped to `service`,
 * which defaults to its `name` (when that is a valid service name); admin and viewer tokens take no
 * scope.
 */
export function checkTokenRequest(input: unknown): TokenRequest {
  const body = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  const issues: string[] = [];
  for (const key of Object.keys(body))
    if (key !== 'name' && key !== 'role' && key !== 'service') issues.push(`${key}: unknown field`);
  const { name, role } = body;
  if (typeof name !== 'string' || !/^[A-Za-z0-9._-]{1,63}$/.test(name))
    issues.push('name: expected 1–63 letters, digits, ".", "_" or "-"');
  if (role !== 'admin' && role !== 'service' && role !== 'viewer')
    issues.push('role: expected "admin", "service" or "viewer"');
  let service: string | undefined;
  if ((role === 'admin' || role === 'viewer') && body.service !== undefined)
    issues.push(`service: ${role} tokens are not scoped to a service`);
  if (role === 'service') {
    service = body.service === undefined && typeof name === 'string' ? name : (body.service as string);
    const issue = serviceNameIssue(service);
    if (issue)
      issues.push(
        body.service === undefined
          ? `service: required for a service token whose name is not a service name (name ${issue})`
          : `service: ${issue}`,
      );
  }
  if (issues.length) return { ok: false, issues };
  return {
    ok: true,
    name: name as string,
    role: role as Role,
    ...(service === undefined ? {} : { service }),
  };
}

/** A record for a token chosen by the operator (for example from an environment variable). */
export function recordForToken(token: string, name: string, role: Role): TokenRecord | undefined {
  const m = TOKEN_PATTERN.exec(token);
  if (!m) return undefined;
  return { id: m[1]!, name, role, hash: hash(m[2]!), createdAt: new Date().toISOString() };
}

/** True when `token` has the shape of a Weft token. */
export function isTokenShaped(token: string): boolean {
  return TOKEN_PATTERN.test(token);
}

/**
 * Checks bearer tokens against the store, remembering valid ones for `cacheMs` so that a busy
 * watch or heartbeat path does not read the store on every request.
 */
export function tokenVerifier(store: Store, cacheMs = 5000) {
  const cache = new Map<string, { record: TokenRecord; until: number }>();
  /** Drops a revoked token from the cache (other replicas drop it within `cacheMs`). */
  const forget = (id: string) => {
    for (const [token, hit] of cache) if (hit.record.id === id) cache.delete(token);
  };
  const verify = async (token: string | undefined): Promise<TokenRecord | undefined> => {
    if (!token) return undefined;
    const m = TOKEN_PATTERN.exec(token);
    if (!m) return undefined;
    const now = Date.now();
    const hit = cache.get(token);
    if (hit && hit.until > now) return hit.record;
    const record = await store.getToken(m[1]!);
    if (!record) return undefined;
    const expected = Buffer.from(record.hash, 'hex');
    const actual = Buffer.from(hash(m[2]!), 'hex');
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return undefined;
    if (cache.size > 1000) cache.clear();
    cache.set(token, { record, until: now + cacheMs });
    return record;
  };
  return { verify, forget };
}
