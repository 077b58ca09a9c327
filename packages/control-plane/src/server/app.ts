/**
 * The config service as a Fastify app: authentication, the document, registry, watch and token
 * routes, the dashboard's static files at `/ui`, uniform error replies and the lease reaper.
 */
import { invalidOption } from '@weft/core';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { CA_DEFAULTS, CERTIFICATE_LIFETIME_LIMITS, CertificateAuthority } from '../ca/authority.ts';
import { caRoutes } from '../ca/routes.ts';
import { type RolloutDriverOptions, startRolloutDriver } from '../rollout/driver.ts';
import { rolloutRoutes } from '../rollout/routes.ts';
import { type Store, StoreLimitError } from '../store/store.ts';
import { embeddedSource } from '../traffic/embedded.ts';
import { shareWindow } from '../traffic/replicas.ts';
import { type TrafficSource, trafficRoutes } from '../traffic/routes.ts';
import { TrafficWindow, type TrafficWindowOptions } from '../traffic/window.ts';
import { installAuth, tokenOf } from './auth.ts';
import { documentRoutes } from './documents.ts';
import { HttpError, invalid, notFound } from './http-errors.ts';
import { metricsRoutes } from './metrics.ts';
import { reapExpired, registryRoutes } from './registry.ts';
import { closeAfterRejection } from './reject-body.ts';
import { checkTokenRequest, issueToken, tokenVerifier } from './tokens.ts';
import { uiRoutes } from './ui.ts';
import { watchRoutes } from './watch.ts';

export interface AppOptions {
  store: Store;
  /** Largest request body in bytes; larger ones get 413. Defaults to 262144 (256 KiB). */
  bodyLimit?: number;
  /** Fastify logger settings. Defaults to off. Request headers (and so tokens) are never logged. */
  logger?: FastifyServerOptions['logger'];
  /** Interval of SSE keep-alive comments in ms. Defaults to 15000. */
  heartbeatMs?: number;
  /** Most missed revisions replayed to a resuming watcher before it gets a snapshot. Defaults to 1000. */
  maxResume?: number;
  /** Socket buffer in bytes beyond which a slow watcher is cut off. Defaults to 4194304 (4 MiB). */
  maxBufferedBytes?: number;
  /**
   * How long a verified token is trusted without reading the store again, and how often open watch
   * streams re-read their token (a token revoked on another replica ends its streams within this).
   * Defaults to 5000.
   */
  tokenCacheMs?: number;
  /** How often expired leases are removed, in ms. Defaults to 1000. */
  reapIntervalMs?: number;
  /** Wall clock in ms, for leases and certificates. Defaults to `Date.now`. */
  now?: () => number;
  /**
   * Longest lifetime of a certificate the CA signs, and the lifetime of those that ask for none
   * (1000 to 604800000 ms: 1 s to 7 days). Defaults to 86400000 (24 h).
   */
  certificateLifetimeMs?: number;
  /**
   * Serve HTTPS with this PEM certificate (its chain after it) and key instead of plain HTTP.
   * Defaults to none (HTTP: loopback or a network you trust, or TLS in front).
   */
  https?: { readonly cert: string; readonly key: string };
  /** The rolling window of traffic reports (bucket width, caps). Defaults to {@link TRAFFIC_WINDOW_DEFAULTS}. */
  trafficWindow?: Omit<TrafficWindowOptions, 'now'>;
  /**
   * Where `GET /v1/traffic…` reads from, given the embedded window. Defaults to the embedded window
   * itself; `prometheusSource` reads a Prometheus server instead.
   */
  trafficSource?: (window: TrafficWindow) => TrafficSource;
  /**
   * The rollout driver: how often it looks at the rollouts and, with a shared store, the lease of
   * its election. Defaults to a 1000 ms tick and a 10 s lease. It always reads the embedded window.
   */
  rollouts?: Pick<RolloutDriverOptions, 'tickMs' | 'leaseS'>;
}

export const APP_DEFAULTS = {
  bodyLimit: 262_144,
  heartbeatMs: 15_000,
  maxResume: 1000,
  maxBufferedBytes: 4 * 1024 * 1024,
  reapIntervalMs: 1000,
  tokenCacheMs: 5000,
} as const;

function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw invalidOption(name, `must be an integer ≥ 1, got ${value}`);
  return value;
}

export function buildApp(options: AppOptions): FastifyInstance {
  const { store } = options;
  const bodyLimit = positiveInt('bodyLimit', options.bodyLimit ?? APP_DEFAULTS.bodyLimit);
  const heartbeatMs = positiveInt('heartbeatMs', options.heartbeatMs ?? APP_DEFAULTS.heartbeatMs);
  const maxResume = positiveInt('maxResume', options.maxResume ?? APP_DEFAULTS.maxResume);
  const maxBufferedBytes = positiveInt(
    'maxBufferedBytes',
    options.maxBufferedBytes ?? APP_DEFAULTS.maxBufferedBytes,
  );
  const reapIntervalMs = positiveInt('reapIntervalMs', options.reapIntervalMs ?? APP_DEFAULTS.reapIntervalMs);
  const now = options.now ?? Date.now;
  const tokenRecheckMs = positiveInt('tokenCacheMs', options.tokenCacheMs ?? APP_DEFAULTS.tokenCacheMs);
  const certificateLifetimeMs = options.certificateLifetimeMs ?? CA_DEFAULTS.certificateLifetimeMs;
  const { minMs, maxMs } = CERTIFICATE_LIFETIME_LIMITS;
  if (
    !Number.isInteger(certificateLifetimeMs) ||
    certificateLifetimeMs < minMs ||
    certificateLifetimeMs > maxMs
  )
    throw invalidOption('certificateLifetimeMs', `must be an integer from ${minMs} to ${maxMs}`);

  const app = Fastify({
    ...(options.https ? { https: { cert: options.https.cert, key: options.https.key } } : {}),
    bodyLimit,
    logger: options.logger ?? false,
    forceCloseConnections: true,
    return503OnClosing: true,
  });
  const tokens = tokenVerifier(store, tokenRecheckMs);

  app.setErrorHandler((error, req, reply) => {
    if (error instanceof HttpError) return reply.code(error.status).send(error.toJSON());
    if (error instanceof StoreLimitError)
      return reply.code(400).send({ error: { code: 'too_many_changes', message: error.message } });
    const e = error as { statusCode?: number; code?: string; message: string };
    const status = e.statusCode ?? 500;
    if (status === 413)
      return reply.code(413).send({
        error: {
          code: 'payload_too_large',
          message: `request body is larger than the limit of ${bodyLimit} bytes`,
        },
      });
    if (status >= 400 && status < 500)
      return reply.code(status).send({ error: { code: 'bad_request', message: e.message } });
    req.log.error({ err: error }, 'request failed');
    return reply.code(500).send({ error: { code: 'internal', message: 'internal error' } });
  });
  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send(notFound(`no route ${req.method} ${req.url.split('?')[0]}`).toJSON());
  });

  installAuth(app, tokens);
  closeAfterRejection(app);
  const window = new TrafficWindow({ ...options.trafficWindow, now, share: store.blobs !== undefined });
  const exchange =
    store.blobs &&
    shareWindow(window, store.blobs, {
      onError: (error) => app.log.warn({ err: error }, 'traffic exchange with the other replicas failed'),
    });
  const metrics = metricsRoutes(app, { store, window, watchStreams: () => watches.open });

  app.get('/healthz', async () => ({ ok: true, storeId: store.id, revision: await store.revision() }));
  app.get('/v1/snapshot', async () => store.snapshot());
  // Who the caller's token is (never its secret): the dashboard shows it and offers changes to admins only.
  app.get('/v1/whoami', async (req) => {
    const { hash: _h, ...record } = tokenOf(req)!;
    return record;
  });

  app.post('/v1/tokens', async (req, reply) => {
    const request = checkTokenRequest(req.body);
    if (!request.ok) throw invalid(request.issues, 'invalid token request');
    const issued = issueToken(request.name, request.role, request.service);
    await store.putToken(issued.record);
    reply.code(201);
    const { hash: _h, ...record } = issued.record;
    return { ...record, token: issued.token };
  });
  app.get('/v1/tokens', async () => ({
    tokens: (await store.listTokens()).map(({ hash: _h, ...t }) => t),
  }));
  app.delete('/v1/tokens/:id', async (req) => {
    const { id } = req.params as { id: string };
    const all = await store.listTokens();
    const target = all.find((t) => t.id === id);
    if (!target) throw notFound(`token ${id} not found`);
    if (target.role === 'admin' && all.filter((t) => t.role === 'admin').length === 1)
      throw new HttpError(409, 'conflict', 'this is the last admin token: create another admin token first');
    await store.deleteToken(id);
    tokens.forget(id);
    watches.revoke(id);
    return { deleted: id };
  });

  documentRoutes(app, store);
  caRoutes(app, new CertificateAuthority(store, { certificateLifetimeMs, now }), certificateLifetimeMs);
  registryRoutes(app, store, { now });
  uiRoutes(app);
  trafficRoutes(app, window, (options.trafficSource ?? embeddedSource)(window));
  const rollouts = startRolloutDriver({
    ...options.rollouts,
    store,
    window,
    now,
    onError: (error) => app.log.error({ err: error }, 'rollout driver failed'),
  });
  rolloutRoutes(app, store, rollouts);
  const sweeper = setInterval(() => window.sweep(), window.bucketMs);
  sweeper.unref();

  const watches = watchRoutes(app, store, {
    heartbeatMs,
    maxResume,
    maxBufferedBytes,
    tokenRecheckMs,
    forgetToken: tokens.forget,
  });

  const startedAt = now();
  let reaping = false;
  const reaper = setInterval(() => {
    if (reaping) return;
    reaping = true;
    reapExpired(store, now(), startedAt)
      .catch((error) => app.log.error({ err: error }, 'lease reaper failed'))
      .finally(() => {
        reaping = false;
      });
  }, reapIntervalMs);
  reaper.unref();

  app.addHook('preClose', async () => {
    clearInterval(reaper);
    clearInterval(sweeper);
    exchange?.stop();
    await rollouts.stop();
    watches.end();
    await metrics.shutdown();
  });
  return app;
}
