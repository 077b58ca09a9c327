/**
 * `@weft/http/express`: Weft's server half as Express 5 middleware. Mount it first, at the root:
 *
 * ```ts
 * const mesh = weft({ concurrency: 200 });
 * app.use(mesh);
 * app.get('/report', mesh.route({ concurrency: 4 }), handler); // a route's own limit
 * const server = app.listen(8080);
 * mesh.attach(server); // drain() (or SIGTERM) then closes this listener
 * ```
 *
 * Every handler runs inside the request's context: outbound Weft calls inherit its deadline and trace,
 * and a 5xx after downstream retries gave up is marked `weft-no-retry`. The `stack` option edits the
 * server stack by role, as for gRPC servers. See docs/server.md.
 */
// First: refuses too old a Node.js before any other module of the package runs.
import './node-check.ts';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { checkKnownKeys, type DrainResult, RouteAdmission, type ServingState } from '@weft/core';
import { checkServerRegistration, type ServerRegistrationOptions } from '@weft/discovery';
import { HttpServerCall, type HttpServerHost, sendRaw } from './server/call.ts';
import { checkRouteAdmission, type RouteAdmissionOptions, type ServerOptions } from './server/options.ts';
import type { Reply } from './server/replies.ts';
import { ServerRuntime } from './server/runtime.ts';

export type { RouteAdmissionOptions, ServerOptions } from './server/options.ts';
export { SERVER_DEFAULTS } from './server/options.ts';

/** Options of `attach`. */
export interface AttachOptions {
  /** Register this server (overrides the middleware's `register` option). Defaults to the middleware's. */
  register?: ServerRegistrationOptions;
}

type Next = (error?: unknown) => void;
type Middleware = (req: IncomingMessage, res: ServerResponse, next: Next) => void;

export interface WeftMiddleware extends Middleware {
  /** Serving, draining or closed. */
  readonly state: ServingState;
  /** The shared server logic (admission, drain state, counters), for admin and tests. */
  readonly runtime: ServerRuntime;
  /**
   * The listener that `drain()` closes; also starts listening for the drain signals, serves mTLS on
   * it when the `mtls` option asks for it, and registers the server in the mesh when `register` is
   * given here or in the middleware's options (withdrawn as soon as a drain starts, before the
   * listener closes). Attach right after `app.listen()` (or before `server.listen()`).
   */
  attach(server: Server, options?: AttachOptions): void;
  /** A route's own limits, checked after the server's: `app.get(path, mesh.route({...}), handler)`. */
  route(options: RouteAdmissionOptions): Middleware;
  /** Stops admitting, lets in-flight requests finish (up to `drainTimeoutMs`), closes the attached listener. */
  drain(): Promise<DrainResult>;
}

/** A request through Express: the route is Express's (`baseUrl` + the matched route's path). */
class ExpressCall extends HttpServerCall {
  constructor(host: HttpServerHost, req: IncomingMessage, res: ServerResponse, next: Next) {
    super(host, req, res, next);
  }

  override get route(): string | undefined {
    const req = this.req as { route?: { path?: unknown }; baseUrl?: string };
    const path = req.route?.path;
    return typeof path === 'string' ? `${req.baseUrl ?? ''}${path}` : undefined;
  }

  send(reply: Reply): void {
    sendRaw(this.res, reply);
  }
}

export function weft(options: ServerOptions = {}): WeftMiddleware {
  const runtime = new ServerRuntime(options);
  const middleware: Middleware = (req, res, next) => {
    const own = runtime.ownPath(req);
    if (own !== undefined) sendRaw(res, own);
    else runtime.handle(new ExpressCall(runtime, req, res, next));
  };
  let attached: Server | undefined;
  const api: Omit<WeftMiddleware, keyof Middleware | 'state'> = {
    runtime,
    attach(server: Server, attachOptions?: AttachOptions) {
      if (attachOptions !== undefined) checkKnownKeys('attach', attachOptions, { register: true });
      if (attachOptions?.register) checkServerRegistration(attachOptions.register);
      attached = server;
      runtime.serveMtls(server);
      runtime.registerListener(server, attachOptions?.register);
      runtime.onClose((force) => closeServer(server, force));
      server.once('close', () => runtime.stopListening());
      runtime.listenForSignals();
    },
    route(routeOptions: RouteAdmissionOptions): Middleware {
      const limit = new RouteAdmission({
        ...checkRouteAdmission(routeOptions),
        clock: runtime.options.clock,
      });
      return (_req, res, next) => {
        const rejection = runtime.admitRoute(res, limit);
        if (rejection) sendRaw(res, rejection);
        else next();
      };
    },
    drain() {
      if (!attached) runtime.onClose(async () => {});
      return runtime.drain();
    },
  };
  // Not Object.assign: it would copy the `state` getter's current value instead of the getter.
  Object.defineProperty(middleware, 'state', { get: () => runtime.drainState.state, enumerable: true });
  return Object.assign(middleware, api) as WeftMiddleware;
}

/** Closes the listener: idle keep-alive connections now, busy ones when their response ends (or now if `force`). */
function closeServer(server: Server, force: boolean): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
    server.closeIdleConnections();
    if (force) server.closeAllConnections();
  });
}
