/**
 * The terminal service: sends an attempt to the endpoint the balancer chose, over that endpoint's
 * own undici Pool (keep-alive, HTTP/1.1, h2 over TLS by ALPN, or cleartext h2c).
 */
import type { Duplex } from 'node:stream';
import type { ClientMtls, ClientTlsOptions, Endpoint, EndpointState, KeySet, Service } from '@weft/core';
import { addressProblem, endpointKey, isCallerCancellation, portProblem } from '@weft/core';
import { buildConnector, type Dispatcher, Pool } from 'undici';
import type { HttpCall } from './call.ts';
import { HttpExchange } from './exchange.ts';

export interface TransportOptions {
  /** `http` or `https`. Defaults to `http`. */
  scheme?: 'http' | 'https';
  /** `http1`, `h2` (TLS with ALPN, falls back to HTTP/1.1) or `h2c` (cleartext HTTP/2). Defaults to `http1`. */
  protocol?: 'http1' | 'h2' | 'h2c';
  /** Connections per endpoint. Defaults to 16 (HTTP/1.1); HTTP/2 multiplexes on fewer. */
  connections?: number;
  /** Keep-alive timeout for idle connections in ms. Defaults to 4000 (undici's default). */
  keepAliveTimeoutMs?: number;
  /** Connect timeout in ms. Defaults to 10000. */
  connectTimeoutMs?: number;
  /** TLS options (CA, certificates, servername) for `https`. */
  tls?: Record<string, unknown>;
}

export const TRANSPORT_KEYS = {
  scheme: true,
  protocol: true,
  connections: true,
  keepAliveTimeoutMs: true,
  connectTimeoutMs: true,
  tls: true,
} as const satisfies KeySet<TransportOptions>;

export const TRANSPORT_DEFAULTS = {
  scheme: 'http',
  protocol: 'http1',
  connections: 16,
  keepAliveTimeoutMs: 4_000,
  connectTimeoutMs: 10_000,
} as const;

/** Origins of the endpoints Weft's pools talk to, with how many live pools use each. */
const weftOrigins = new Map<string, number>();

/**
 * True for an undici request sent by one of Weft's endpoint pools (by its origin). For OpenTelemetry's
 * undici instrumentation, whose spans would double Weft's own attempt spans:
 * `new UndiciInstrumentation({ ignoreRequestHook: isWeftRequest })`. A request your code sends
 * straight to a Weft endpoint's origin, bypassing Weft, is skipped too.
 */
export function isWeftRequest(request: { origin?: unknown }): boolean {
  return weftOrigins.size > 0 && typeof request?.origin === 'string' && weftOrigins.has(request.origin);
}

/** Forgets a pool's origin once the pool is closed (see {@link createPool}). */
export function retirePool(pool: Pool): void {
  const origin = poolOrigins.get(pool);
  if (origin === undefined) return;
  poolOrigins.delete(pool);
  const n = (weftOrigins.get(origin) ?? 1) - 1;
  if (n <= 0) weftOrigins.delete(origin);
  else weftOrigins.set(origin, n);
}

const poolOrigins = new WeakMap<Pool, string>();

/**
 * The connector of an endpoint's pool under mTLS: each new connection asks the destination's plan
 * whether it is mTLS or plaintext, so a mode that turns strict, a renewed certificate or a rotated
 * bundle applies to the next connection, and connections already open stay as they are.
 */
function mtlsConnector(
  endpoint: Endpoint,
  options: TransportOptions,
  mtls: ClientMtls,
): buildConnector.connector {
  const timeout = options.connectTimeoutMs ?? TRANSPORT_DEFAULTS.connectTimeoutMs;
  const allowH2 = (options.protocol ?? TRANSPORT_DEFAULTS.protocol) === 'h2';
  const plain = buildConnector({ timeout, allowH2, ...options.tls });
  let secure: buildConnector.connector | undefined;
  let madeFor: ClientTlsOptions | undefined;
  return (connect, callback) => {
    const plan = mtls.plan(endpoint);
    if (plan === 'plaintext') {
      plain(connect, callback);
      return;
    }
    if (plan !== 'mtls') {
      queueMicrotask(() => callback(plan, null));
      return;
    }
    const tls = mtls.tlsOptions();
    if (secure === undefined || madeFor !== tls) {
      secure = buildConnector({ timeout, allowH2, ...tls, ca: [...tls.ca] });
      madeFor = tls;
    }
    // The origin stays `http:` for the pool (and in telemetry); the connection under it is TLS.
    secure({ ...connect, protocol: 'https:' }, callback);
  };
}

export function createPool(endpoint: Endpoint, options: TransportOptions, mtls?: ClientMtls): Pool {
  // The URL parser would silently drop CR/LF and read oddities as something else: refuse what is not
  // an IP address or a host name, which makes the endpoint one no connection can be made to.
  const problem = addressProblem(endpoint.address) ?? portProblem(endpoint.port);
  if (problem !== undefined)
    throw new TypeError(`endpoint ${JSON.stringify(endpointKey(endpoint))}: ${problem}`);
  const scheme = options.scheme ?? TRANSPORT_DEFAULTS.scheme;
  const protocol = options.protocol ?? TRANSPORT_DEFAULTS.protocol;
  // `useH2c` is read by the Pool itself, though undici's types only list it under the h2 options.
  const poolOptions: Pool.Options & { useH2c?: boolean } = {
    connections: options.connections ?? TRANSPORT_DEFAULTS.connections,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? TRANSPORT_DEFAULTS.keepAliveTimeoutMs,
    connectTimeout: options.connectTimeoutMs ?? TRANSPORT_DEFAULTS.connectTimeoutMs,
    allowH2: protocol === 'h2',
    useH2c: protocol === 'h2c',
    ...(mtls
      ? { connect: mtlsConnector(endpoint, options, mtls) }
      : options.tls
        ? { connect: options.tls }
        : {}),
  };
  const origin = `${scheme}://${endpointKey(endpoint)}`;
  const pool = new Pool(origin, poolOptions);
  // undici reports a request's origin as the URL's origin: no trailing slash, default ports dropped.
  const reported = new URL(origin).origin;
  poolOrigins.set(pool, reported);
  weftOrigins.set(reported, (weftOrigins.get(reported) ?? 0) + 1);
  return pool;
}

/**
 * An exchange that tells its endpoint how the body ended: a response cut off after its head (a
 * reset mid-body) counts against the endpoint, which the attempt could not (it was a success at
 * the head). The caller's own cancellation or deadline does not.
 */
class EndpointExchange extends HttpExchange {
  readonly #ep: EndpointState;

  constructor(destination: string, ep: EndpointState) {
    super(destination);
    this.#ep = ep;
  }

  override onResponseEnd(controller: Dispatcher.DispatchController, trailers: Headers): void {
    this.#ep.bodyEnded();
    super.onResponseEnd(controller, trailers);
  }

  override onRequestUpgrade(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Headers,
    socket: Duplex,
  ): void {
    // The endpoint answered whole: what the socket does next is the caller's, not the endpoint's.
    this.#ep.bodyEnded();
    super.onRequestUpgrade(controller, statusCode, headers, socket);
  }

  override onResponseError(controller: Dispatcher.DispatchController, err: Error): void {
    if (this.statusCode !== 0 && !isCallerCancellation(err)) this.#ep.bodyFailed();
    super.onResponseError(controller, err);
  }
}

type Headers = Record<string, string | string[] | undefined>;

/** Sends the attempt on the chosen endpoint's pool; resolves at the response head. */
export const send: Service<HttpCall, HttpExchange> = (call) => {
  const ep = call.endpoint!;
  const exchange = new EndpointExchange(call.destination, ep);
  exchange.endpoint = ep.key;
  call.inflight = exchange;
  exchange.watch(call.attemptSignal);
  (ep.transport as Pool).dispatch(
    {
      origin: undefined,
      path: call.path,
      method: call.method as never,
      headers: call.headers,
      body: call.body,
      upgrade: call.upgrade,
    } as never,
    exchange,
  );
  return exchange.head;
};
