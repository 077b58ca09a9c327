/**
 * The terminal service: sends an attempt to the endpoint the balancer chose, over that endpoint's
 * own undici Pool (keep-alive, HTTP/1.1, h2 over TLS by ALPN, or cleartext h2c).
 */
import type { Endpoint, EndpointState, ProtocolAdapter, Service } from '@weft/core';
import {
  addressProblem,
  endpointKey,
  Header,
  isCallerCancellation,
  parseRetryAfter,
  portProblem,
} from '@weft/core';
import { type Dispatcher, Pool } from 'undici';
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

export const TRANSPORT_DEFAULTS = {
  scheme: 'http',
  protocol: 'http1',
  connections: 16,
  keepAliveTimeoutMs: 4_000,
  connectTimeoutMs: 10_000,
} as const;

export function createPool(endpoint: Endpoint, options: TransportOptions): Pool {
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
    ...(options.tls ? { connect: options.tls } : {}),
  };
  return new Pool(`${scheme}://${endpointKey(endpoint)}`, poolOptions);
}

/**
 * An exchange that tells its endpoint how the body ended: a response cut off after its head (a
 * reset mid-body) counts against the endpoint, which the attempt could not (it was a success at
 * the head). The caller's own cancellation or deadline does not.
 */
class EndpointExchange extends HttpExchange {
  readonly #ep: EndpointState;

  constructor(destination: string, method: string, ep: EndpointState) {
    super(destination, method);
    this.#ep = ep;
  }

  override onResponseEnd(controller: Dispatcher.DispatchController, trailers: Headers): void {
    this.#ep.bodyEnded();
    super.onResponseEnd(controller, trailers);
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
  const exchange = new EndpointExchange(call.destination, call.method, ep);
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
    } as never,
    exchange,
  );
  return exchange.head;
};

export const httpProtocol: ProtocolAdapter<HttpExchange> = {
  name: 'http',
  discard: (response) => response.discard(),
  onBodyDone: (response, done) => response.onDone(done),
  status: (response) => response.statusCode,
  upstreamExhausted: (response) => response.headers[Header.noRetry] !== undefined,
  pushbackMs: (response) => parseRetryAfter(response.headers['retry-after'], Date.now()),
};
