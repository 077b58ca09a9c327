/**
 * The server half of Weft over HTTP, shared by the Express middleware and the Fastify plugin. Per
 * request: health, readiness and admin paths are answered first (outside the stack); everything
 * else runs the server stack (`drain → deadline → admission → authorization → telemetry → context`,
 * or the `stack` option's edit of it) down to the HTTP terminal, which hands the request to the
 * framework. See call.ts for how the response is tracked and binding.ts for the refusals' replies.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Server as NetServer } from 'node:net';
import {
  describeDestinations,
  MTLS_LABEL,
  type RouteAdmission,
  SERVER_REJECTIONS,
  ServerRuntimeBase,
} from '@weft/core';
import { registerListener, type ServerRegistrationOptions } from '@weft/discovery';
import { httpServerBinding } from './binding.ts';
import { callOf, httpTerminal } from './call.ts';
import { type HttpMtls, installMtls } from './mtls.ts';
import { type ResolvedServerOptions, resolveServerOptions, type ServerOptions } from './options.ts';
import { adminReply, LIVE, NOT_READY, READY, type Reply, replyFor } from './replies.ts';

export class ServerRuntime extends ServerRuntimeBase {
  readonly options: ResolvedServerOptions;
  readonly #observeLimit: (result: { observe(value: number): void }) => void;
  readonly #mtls = new Map<Server, HttpMtls>();

  constructor(options?: ServerOptions) {
    const resolved = resolveServerOptions(options);
    super({ server: resolved, binding: httpServerBinding, terminal: httpTerminal });
    this.options = resolved;
    this.#observeLimit = (result) => {
      const c = this.admission.snapshot().concurrency;
      if (c) result.observe(c.limit);
    };
    this.instruments.limit.addCallback(this.#observeLimit);
  }

  /**
   * Registers the listening server when the options ask for it (`register`), or with `override`;
   * the registration is withdrawn when a drain starts or the listener closes.
   */
  registerListener(server: NetServer, override?: ServerRegistrationOptions): void {
    const options = override ?? this.options.register;
    if (!options) return;
    const start = () => {
      const bound = server.address();
      if (bound === null || typeof bound === 'string') return; // a pipe: nothing to register
      // A server serving mTLS says so, so that clients in PERMISSIVE mode use mTLS with it.
      const labels = this.options.mtls ? { ...options.labels, [MTLS_LABEL]: 'true' } : options.labels;
      this.announce(registerListener(bound, labels ? { ...options, labels } : options));
    };
    if (server.listening) start();
    else server.once('listening', start);
    server.once('close', () => void this.withdraw());
  }

  /** The reply for Weft's own paths (liveness, readiness, admin; GET and HEAD only), if `req` is for one. */
  ownPath(req: IncomingMessage): Reply | undefined {
    const method = req.method;
    if (method !== 'GET' && method !== 'HEAD') return undefined;
    const url = req.url ?? '/';
    const o = this.options;
    if (o.livenessPath !== false && matches(url, o.livenessPath)) return LIVE;
    if (o.readinessPath !== false && matches(url, o.readinessPath))
      return this.drainState.ready ? READY : NOT_READY;
    if (o.adminPath !== false && matches(url, o.adminPath)) return adminReply(this.describe());
    return undefined;
  }

  /**
   * Applies a route's own limit to a request already running (Express, where the route is known
   * only once routing ran, below the stack). Returns the refusal to send, or undefined.
   */
  admitRoute(res: ServerResponse, limit: RouteAdmission): Reply | undefined {
    const call = callOf(res);
    if (!call || call.routeLimit) return undefined;
    const reason = limit.tryAdmit(call);
    if (reason !== undefined) {
      this.countRejection(reason);
      return replyFor(SERVER_REJECTIONS[reason]);
    }
    call.routeLimit = limit;
    return undefined;
  }

  /** Drops the signal handlers and metric callbacks (the server is closing). */
  override stopListening(): void {
    super.stopListening();
    this.instruments.limit.removeCallback(this.#observeLimit);
  }

  /**
   * Serves mTLS on `server` when the `mtls` option asks for it (see ./mtls.ts); once per listener.
   */
  serveMtls(server: Server): void {
    const options = this.options;
    if (options.mtls === undefined || this.#mtls.has(server)) return;
    this.#mtls.set(server, installMtls(server, options.mtls, options.service, options.config));
  }

  /** The admin document: this server's state and every live Weft client's effective configuration. */
  describe(): object {
    return {
      server: {
        ...this.describeState(),
        mtls: this.#mtls.size > 0 ? [...this.#mtls.values()].map((m) => m.front.describe()) : undefined,
        options: {
          livenessPath: this.options.livenessPath,
          readinessPath: this.options.readinessPath,
          adminPath: this.options.adminPath,
          drainTimeoutMs: this.options.drainTimeoutMs,
          drainDelayMs: this.options.drainDelayMs,
          drainSignals: this.options.drainSignals,
        },
      },
      clients: describeDestinations(),
    };
  }
}

function matches(url: string, path: string): boolean {
  return url === path || (url.startsWith(path) && url.charCodeAt(path.length) === 63) /* ? */;
}
