/**
 * `@weft/http/fastify`: Weft's server half as a Fastify 5 plugin (made with fastify-plugin, so its
 * hooks apply to the whole app). Register it before the routes:
 *
 * ```ts
 * await app.register(weft, { concurrency: 200 });
 * app.get('/report', { config: { weft: { concurrency: 4 } } }, handler); // a route's own limit
 * await app.listen({ port: 8080 });
 * // app.weft.drain() (or SIGTERM): stop admitting, finish in-flight requests, then app.close()
 * ```
 *
 * Same options and behaviour as the Express middleware; the shared logic is in ./server. Drain with
 * `app.weft.drain()`, not `app.close()` alone: Fastify's own closing answers plain 503s, which a
 * Weft client may retry only for idempotent requests. See docs/server.md.
 */
// First: refuses too old a Node.js before any other module of the package runs.
import './node-check.ts';
import { type DrainResult, RouteAdmission, type ServingState } from '@weft/core';
import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { HttpServerCall, type HttpServerHost } from './server/call.ts';
import { checkRouteAdmission, type RouteAdmissionOptions, type ServerOptions } from './server/options.ts';
import { type Reply, replyHeaders } from './server/replies.ts';
import { ServerRuntime } from './server/runtime.ts';

export type { RouteAdmissionOptions, ServerOptions } from './server/options.ts';
export { SERVER_DEFAULTS } from './server/options.ts';

export interface WeftFastify {
  /** Serving, draining or closed. */
  readonly state: ServingState;
  /** The shared server logic (admission, drain state, counters), for admin and tests. */
  readonly runtime: ServerRuntime;
  /** Stops admitting, lets in-flight requests finish (up to `drainTimeoutMs`), then closes the app. */
  drain(): Promise<DrainResult>;
}

declare module 'fastify' {
  interface FastifyInstance {
    weft: WeftFastify;
  }
  interface FastifyContextConfig {
    /** This route's own admission limits, checked after the server's. */
    weft?: RouteAdmissionOptions;
  }
}

const kCall = Symbol('weft.call');
type WithCall = FastifyRequest & { [kCall]?: FastifyCall };

/** A request through Fastify: the route is the matched route's URL; replies go through Fastify. */
class FastifyCall extends HttpServerCall {
  readonly request: FastifyRequest;
  readonly reply: FastifyReply;

  constructor(host: HttpServerHost, request: FastifyRequest, reply: FastifyReply, next: () => void) {
    super(host, request.raw, reply.raw, next);
    this.request = request;
    this.reply = reply;
  }

  override get route(): string | undefined {
    return this.request.routeOptions?.url;
  }

  send(reply: Reply): void {
    sendReply(this.reply, reply);
  }
}

function sendReply(reply: FastifyReply, own: Reply): void {
  reply.code(own.status).headers(replyHeaders(own, reply.raw.req?.httpVersionMajor)).send(own.body);
}

/** Options Fastify's `register` itself reads; they reach the plugin too and are not Weft's to refuse. */
type RegisterOptions = { prefix?: unknown; logLevel?: unknown; logSerializers?: unknown };

const plugin: FastifyPluginCallback<ServerOptions> = (fastify, options, done) => {
  const { prefix: _p, logLevel: _l, logSerializers: _s, ...own } = options as ServerOptions & RegisterOptions;
  let runtime: ServerRuntime;
  try {
    runtime = new ServerRuntime(own);
  } catch (error) {
    // Thrown from a callback plugin it would crash the process; handed to `done`, app.ready() rejects.
    done(error as Error);
    return;
  }
  const routes = new Map<string, RouteAdmission>();

  fastify.addHook('onRoute', (route) => {
    const config = (route.config as { weft?: RouteAdmissionOptions } | undefined)?.weft;
    if (!config) return;
    const limit = new RouteAdmission({ ...checkRouteAdmission(config), clock: runtime.options.clock });
    for (const method of [route.method].flat()) routes.set(`${method} ${route.url}`, limit);
  });

  fastify.addHook('onRequest', (request, reply, next) => {
    const own = runtime.ownPath(request.raw);
    if (own !== undefined) {
      sendReply(reply, own);
      return;
    }
    const call = new FastifyCall(runtime, request, reply, next);
    if (routes.size > 0) call.routeLimit = routes.get(`${request.method} ${request.routeOptions.url}`);
    (request as WithCall)[kCall] = call;
    runtime.handle(call);
  });

  // The body is parsed in stream callbacks outside the request's async context; enter it again so
  // the handler (and the hooks before it) run inside it.
  fastify.addHook('preValidation', (request, _reply, next) => {
    const ctx = (request as WithCall)[kCall]?.ctx;
    if (ctx) runtime.run(ctx, next);
    else next();
  });

  runtime.onClose(async (force) => {
    const closing = fastify.close();
    if (force) fastify.server.closeAllConnections();
    await closing;
  });
  fastify.addHook('onReady', (ready) => {
    runtime.listenForSignals();
    ready();
  });
  runtime.serveMtls(fastify.server);
  if (runtime.options.register) runtime.registerListener(fastify.server);
  fastify.addHook('onClose', (_instance, closed) => {
    runtime.stopListening();
    closed();
  });

  const api: WeftFastify = {
    get state() {
      return runtime.drainState.state;
    },
    runtime,
    drain: () => runtime.drain(),
  };
  fastify.decorate('weft', api);
  done();
};

/** The Fastify plugin: `app.register(weft, options)`. */
export const weft = fp(plugin, { fastify: '5.x', name: '@weft/http' });
