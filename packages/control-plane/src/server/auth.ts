/**
 * Authentication and authorization of the HTTP API. The decision is made on the route the router
 * matched (its pattern and its decoded parameters), never on the raw URL: `/v1/%74okens`,
 * `//v1/tokens`, `/v1/x/../tokens` and `HEAD /v1/tokens` reach the same handler as `GET /v1/tokens`
 * and so get the same answer. Every route declares its access in {@link ROUTE_ACCESS}; a route
 * without an entry cannot be registered, and a request that matched no route is treated as
 * admin-only (fail closed).
 */
import type { WriteAuthor } from '@weft/core/config';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TokenRecord } from '../store/store.ts';
import { HttpError } from './http-errors.ts';
import type { tokenVerifier } from './tokens.ts';

/**
 * - `public`: no token (`/healthz`, the CA's trust bundle, the dashboard's static files);
 * - `read`: any valid token (a `viewer` token reaches these routes, and only by GET);
 * - `service`: an admin token, or a service token scoped to the route's `:service`;
 * - `admin`: admin tokens only.
 */
export type Access = 'public' | 'read' | 'service' | 'admin';

/** The access of every route, by `METHOD pattern` (HEAD routes share their GET route's entry). */
export const ROUTE_ACCESS: Readonly<Record<string, Access>> = {
  'GET /healthz': 'public',
  'GET /v1/snapshot': 'read',
  'GET /v1/whoami': 'read',
  'GET /v1/watch': 'read',
  'GET /v1/documents': 'read',
  'GET /v1/documents/:kind': 'read',
  'GET /v1/documents/:kind/:name': 'read',
  'PUT /v1/documents/:kind/:name': 'admin',
  'DELETE /v1/documents/:kind/:name': 'admin',
  'POST /v1/apply': 'admin',
  'GET /v1/history': 'read',
  'POST /v1/rollback': 'admin',
  'GET /v1/services': 'read',
  'GET /v1/services/:service/endpoints': 'read',
  'POST /v1/services/:service/instances': 'service',
  'PUT /v1/services/:service/instances/:id/lease': 'service',
  'DELETE /v1/services/:service/instances/:id': 'service',
  'POST /v1/tokens': 'admin',
  'GET /v1/tokens': 'admin',
  'DELETE /v1/tokens/:id': 'admin',
  'POST /v1/services/:service/certificates': 'service',
  'GET /v1/ca/bundle': 'public',
  'GET /v1/ca': 'admin',
  'POST /v1/ca/rotate': 'admin',
  'POST /v1/traffic/reports': 'read',
  'GET /v1/traffic': 'read',
  'GET /v1/traffic/services/:service': 'read',
  'GET /metrics': 'read',
  'GET /v1/rollouts': 'read',
  'GET /v1/rollouts/:service': 'read',
  'POST /v1/rollouts/:service/pause': 'admin',
  'POST /v1/rollouts/:service/resume': 'admin',
  'POST /v1/rollouts/:service/promote': 'admin',
  'POST /v1/rollouts/:service/abort': 'admin',
  'GET /ui': 'public',
  'GET /ui/': 'public',
  'GET /ui/:file': 'public',
};

const routeKey = (method: string, url: string | undefined) =>
  `${method === 'HEAD' ? 'GET' : method} ${url ?? ''}`;

/** The service a token may act for: its scope, or (tokens made before scopes) its name. */
export function scopeOf(record: TokenRecord): string | undefined {
  if (record.role !== 'service') return undefined;
  return record.service ?? record.name;
}

const verified = new WeakMap<FastifyRequest, TokenRecord>();
const kAccess = 'weftAccess';

/** The token record that authenticated `req` (undefined on public routes). */
export function tokenOf(req: FastifyRequest): TokenRecord | undefined {
  return verified.get(req);
}

/** The author recorded for a write made by `req`: its token's id and name (never the secret). */
export function authorOf(req: FastifyRequest): WriteAuthor | undefined {
  const record = verified.get(req);
  return record && { tokenId: record.id, name: record.name };
}

function decide(record: TokenRecord, access: Access, method: string, params: unknown): string | undefined {
  if (record.role === 'admin') return undefined;
  // A viewer reads and nothing else: not even the `read` routes that take a POST (traffic reports).
  if (record.role === 'viewer')
    return access === 'read' && (method === 'GET' || method === 'HEAD')
      ? undefined
      : `token "${record.name}" is a viewer token: it may only read`;
  if (access === 'read') return undefined;
  if (access === 'service') {
    const service = (params as { service?: unknown } | undefined)?.service;
    const scope = scopeOf(record);
    if (typeof service === 'string' && service === scope) return undefined;
    return `token "${record.name}" is scoped to service "${scope}" and may not act for service "${String(service)}"`;
  }
  return `token "${record.name}" (role ${record.role}) may not do this`;
}

/** Installs the route check and the authentication hook. Call before any route is added. */
export function installAuth(app: FastifyInstance, tokens: ReturnType<typeof tokenVerifier>): void {
  // Each route carries its access in its config, looked up once here rather than per request.
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    let access: Access | undefined;
    for (const method of methods) {
      const found = ROUTE_ACCESS[routeKey(method, route.url)];
      if (found === undefined || (access !== undefined && found !== access))
        throw new Error(`route ${method} ${route.url} has no (single) entry in ROUTE_ACCESS`);
      access = found;
    }
    route.config = { ...(route.config as object | undefined), [kAccess]: access };
  });

  app.addHook('onRequest', async (req) => {
    // Unmatched requests (the not-found handler) carry no access: admin only.
    const access = (req.routeOptions.config as { [kAccess]?: Access } | undefined)?.[kAccess] ?? 'admin';
    if (access === 'public') return;
    const header = req.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    const record = await tokens.verify(token);
    if (!record) throw new HttpError(401, 'unauthorized', 'a valid bearer token is required');
    const denied = decide(record, access, req.method, req.params);
    if (denied) throw new HttpError(403, 'forbidden', denied);
    verified.set(req, record);
  });
}
