/**
 * The server half of Weft over HTTP, shared by the Express middleware and the Fastify plugin. It
 * works on Node's own request and response objects, so both frameworks get the same behaviour:
 *
 *   health/admin paths → drain (refuse while draining) → deadline (refuse if already passed)
 *   → admission (concurrency, rate) → server span (parent from `traceparent`) → handler in context
 *
 * When the response head is written, a 5xx of a handler whose downstream calls gave up on retries
 * gets `weft-no-retry: 1`, so the caller does not retry (no retry amplification across hops). When
 * the response closes, the admission permit returns, the span ends and the duration is recorded.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server as NetServer } from 'node:net';
import {
  type Admission,
  describeDestinations,
  endServerSpan,
  Header,
  readInbound,
  ServerContext,
  ServerRuntimeBase,
  type ServerSpan,
  startServerSpan,
} from '@weft/core';
import { registerListener, type ServerRegistrationOptions } from '@weft/discovery';
import { type ResolvedServerOptions, resolveServerOptions, type ServerOptions } from './options.ts';
import { adminReply, LIVE, NOT_READY, READY, REJECTIONS, type Reply, type ShedReason } from './replies.ts';

type Attributes = Record<string, string | number>;

const kState = Symbol('weft.server.request');

interface RequestState {
  readonly runtime: ServerRuntime;
  readonly ctx: ServerContext;
  readonly span: ServerSpan['span'];
  readonly start: number;
  readonly method: string;
  /** The framework's request object, for the matched route. */
  readonly request: unknown;
  /** The route's admission, once it admitted the request. */
  route: Admission | undefined;
  readonly writeHead: ServerResponse['writeHead'];
}

type TrackedResponse = ServerResponse & { [kState]?: RequestState | undefined };

/** Finds the matched route template of a framework request (`/users/:id`), if any. */
export type RouteOf = (request: unknown) => string | undefined;

export class ServerRuntime extends ServerRuntimeBase {
  readonly options: ResolvedServerOptions;
  readonly routeOf: RouteOf;
  readonly #observeLimit: (result: { observe(value: number): void }) => void;

  constructor(options: ServerOptions | undefined, routeOf: RouteOf) {
    const resolved = resolveServerOptions(options);
    super({ server: resolved, protocol: 'http' });
    this.options = resolved;
    this.routeOf = routeOf;
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
      this.announce(registerListener(bound, options));
    };
    if (server.listening) start();
    else server.once('listening', start);
    server.once('close', () => void this.withdraw());
  }

  /**
   * Starts handling a request. Returns the reply to send at once (health, admin, or a rejection),
   * or the context to run the handler in. `routeAdmission` is the matched route's own limit, when
   * the framework knows the route this early (Fastify).
   */
  begin(
    req: IncomingMessage,
    res: ServerResponse,
    request: unknown,
    routeAdmission?: Admission,
  ): Reply | ServerContext {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    if (method === 'GET' || method === 'HEAD') {
      const own = this.#ownPath(url);
      if (own !== undefined) return own;
    }
    if (!this.drainState.enter()) return this.#shed('draining');
    const headers = req.headers;
    const inbound = readInbound(
      {
        deadline: headers[Header.deadline],
        traceparent: headers.traceparent,
        tracestate: headers.tracestate,
        baggage: headers.baggage,
      },
      this.onMalformed,
    );
    const clock = this.options.clock;
    const start = clock.now();
    if (inbound.remainingMs !== undefined && inbound.remainingMs <= 0) {
      this.drainState.leave();
      return this.#shed('deadline');
    }
    const reason = this.admission.tryAdmit();
    if (reason !== undefined) {
      this.drainState.leave();
      return this.#shed(reason);
    }
    let route: Admission | undefined;
    if (routeAdmission) {
      const routeReason = routeAdmission.tryAdmit();
      if (routeReason !== undefined) {
        this.admission.release(0, 'ignored');
        this.drainState.leave();
        return this.#shed(routeReason);
      }
      route = routeAdmission;
    }

    const { span, otel } = startServerSpan(
      this.instruments,
      method,
      { 'http.request.method': method, 'url.path': pathOf(url) },
      headers,
    );
    const ctx = new ServerContext(
      {
        deadline: inbound.remainingMs === undefined ? Number.POSITIVE_INFINITY : start + inbound.remainingMs,
        traceparent: inbound.traceparent,
        tracestate: inbound.tracestate,
        baggage: inbound.baggage,
        otel,
      },
      clock,
    );
    const tracked = res as TrackedResponse;
    tracked[kState] = { runtime: this, ctx, span, start, method, request, route, writeHead: res.writeHead };
    tracked.writeHead = writeHeadWithMarkers as ServerResponse['writeHead'];
    res.once('close', onResponseClose);
    this.instruments.inflight.add(1);
    return ctx;
  }

  /**
   * Applies a route's own limit to a request already admitted by {@link begin} (Express, where the
   * route is known only once routing ran). Returns the rejection to send, or undefined.
   */
  admitRoute(res: ServerResponse, routeAdmission: Admission): Reply | undefined {
    const state = (res as TrackedResponse)[kState];
    if (!state || state.route) return undefined;
    const reason = routeAdmission.tryAdmit();
    if (reason !== undefined) {
      this.countRejection(reason);
      return REJECTIONS[reason];
    }
    state.route = routeAdmission;
    return undefined;
  }

  /** Drops the signal handlers and metric callbacks (the server is closing). */
  override stopListening(): void {
    super.stopListening();
    this.instruments.limit.removeCallback(this.#observeLimit);
  }

  /** The admin document: this server's state and every live Weft client's effective configuration. */
  describe(): object {
    return {
      server: {
        ...this.describeState(),
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

  #ownPath(url: string): Reply | undefined {
    const o = this.options;
    if (o.livenessPath !== false && matches(url, o.livenessPath)) return LIVE;
    if (o.readinessPath !== false && matches(url, o.readinessPath))
      return this.drainState.ready ? READY : NOT_READY;
    if (o.adminPath !== false && matches(url, o.adminPath)) return adminReply(this.describe());
    return undefined;
  }

  #shed(reason: ShedReason): Reply {
    this.countShed(reason);
    return REJECTIONS[reason];
  }
}

/** `res.writeHead` while Weft tracks the response: adds the markers, then writes as before. */
function writeHeadWithMarkers(this: TrackedResponse, statusCode: number, ...rest: unknown[]): ServerResponse {
  const state = this[kState];
  if (state && !this.headersSent) {
    if (statusCode >= 500 && state.ctx.downstreamExhausted) this.setHeader(Header.noRetry, '1');
    // HTTP/1.1 only: HTTP/2 forbids the header (the session's GOAWAY at close does its work there).
    if (!state.runtime.drainState.ready && this.req?.httpVersionMajor !== 2)
      this.setHeader('connection', 'close');
  }
  const write = state?.writeHead ?? Object.getPrototypeOf(this).writeHead;
  return write.call(this, statusCode, ...rest);
}

/** The response is done or abandoned: release the permit, end the span, record the duration. */
function onResponseClose(this: TrackedResponse): void {
  const state = this[kState];
  if (!state) return;
  this[kState] = undefined;
  const { runtime, ctx, span, start, method } = state;
  const now = runtime.options.clock.now();
  const elapsed = now - start;
  const finished = this.writableFinished;
  if (!finished) ctx.cancel('the client closed the connection before the response was done');
  ctx.end();
  const status = this.statusCode;
  // Latency of a complete, successful response is a load sample; one that ran past its deadline
  // says the server is too slow (an adaptive limit shrinks); failures and cancellations say nothing.
  const sample = !finished || status >= 500 ? 'ignored' : ctx.deadline <= now ? 'dropped' : 'success';
  runtime.admission.release(elapsed, sample);
  state.route?.release(elapsed, sample);
  runtime.drainState.leave();
  runtime.instruments.inflight.add(-1);

  const route = runtime.routeOf(state.request);
  const attributes: Attributes = { 'http.request.method': method, 'http.response.status_code': status };
  if (route !== undefined) attributes['http.route'] = route;
  if (!finished) attributes['error.type'] = 'aborted';
  else if (status >= 500) attributes['error.type'] = String(status);
  endServerSpan(
    span,
    attributes,
    attributes['error.type'] !== undefined,
    route === undefined ? undefined : `${method} ${route}`,
  );
  runtime.instruments.duration.record(elapsed / 1000, attributes);
}

function matches(url: string, path: string): boolean {
  return url === path || (url.startsWith(path) && url.charCodeAt(path.length) === 63) /* ? */;
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}
