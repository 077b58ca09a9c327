/**
 * Test helpers for the server middleware: the same little app on real Express 5 or Fastify 5, on
 * 127.0.0.1 port 0, so each behaviour is checked against both frameworks.
 */
import { once } from 'node:events';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DrainResult, ServingState } from '@weft/core';
import { weft as weftExpress } from '@weft/http/express';
import { weft as weftFastify } from '@weft/http/fastify';
import express from 'express';
import Fastify from 'fastify';
import type { RouteAdmissionOptions, ServerOptions } from '../src/server/options.ts';
import type { ServerRuntime } from '../src/server/runtime.ts';

export type Kind = 'express' | 'fastify';
export const KINDS: readonly Kind[] = ['express', 'fastify'];

export interface AppRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
}
export interface AppResponse {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
}
/** A framework-neutral handler; a thrown error goes to the framework's own error handling (500). */
export type Handler = (req: AppRequest) => Promise<AppResponse> | AppResponse;

export interface Route {
  method: 'GET' | 'POST';
  path: string;
  handler: Handler;
  limits?: RouteAdmissionOptions;
}

export interface App {
  readonly kind: Kind;
  readonly port: number;
  readonly endpoint: string;
  readonly url: string;
  readonly runtime: ServerRuntime;
  readonly state: ServingState;
  readonly server: Server;
  drain(): Promise<DrainResult>;
  close(): Promise<void>;
}

export async function startApp(kind: Kind, options: ServerOptions, routes: Route[]): Promise<App> {
  const opts: ServerOptions = { drainSignals: false, ...options };
  if (kind === 'express') {
    const app = express();
    app.set('env', 'test'); // the default error handler answers 500 without logging the stack
    const mesh = weftExpress(opts);
    app.use(mesh);
    for (const r of routes) {
      const handlers: express.RequestHandler[] = [];
      if (r.limits) handlers.push(mesh.route(r.limits) as express.RequestHandler);
      handlers.push(async (req, res) => {
        const out = await r.handler({ method: req.method, path: req.path, headers: req.headers });
        res.status(out.status ?? 200);
        if (out.headers) res.set(out.headers);
        res.send(typeof out.body === 'string' ? out.body : JSON.stringify(out.body ?? {}));
      });
      if (r.method === 'GET') app.get(r.path, ...handlers);
      else app.post(r.path, ...handlers);
    }
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    mesh.attach(server);
    return handle(
      kind,
      server,
      mesh.runtime,
      () => mesh.state,
      mesh.drain,
      async () => {
        if (!server.listening) return;
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      },
    );
  }
  const app = Fastify();
  await app.register(weftFastify, opts);
  for (const r of routes) {
    app.route({
      method: r.method,
      url: r.path,
      ...(r.limits ? { config: { weft: r.limits } } : {}),
      handler: async (request, reply) => {
        const out = await r.handler({
          method: request.method,
          path: request.url.split('?')[0]!,
          headers: request.headers,
        });
        reply.code(out.status ?? 200);
        if (out.headers) reply.headers(out.headers);
        return typeof out.body === 'string' ? out.body : JSON.stringify(out.body ?? {});
      },
    });
  }
  await app.listen({ port: 0, host: '127.0.0.1' });
  return handle(
    kind,
    app.server,
    app.weft.runtime,
    () => app.weft.state,
    app.weft.drain,
    async () => {
      if (!app.server.listening) return;
      const p = app.close();
      app.server.closeAllConnections();
      await p;
    },
  );
}

function handle(
  kind: Kind,
  server: Server,
  runtime: ServerRuntime,
  state: () => ServingState,
  drain: () => Promise<DrainResult>,
  close: () => Promise<void>,
): App {
  const port = (server.address() as AddressInfo).port;
  return {
    kind,
    port,
    endpoint: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    runtime,
    get state() {
      return state();
    },
    server,
    drain,
    close,
  };
}

export const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
