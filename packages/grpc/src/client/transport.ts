/**
 * The terminal service: sends an attempt on the channel of the endpoint the balancer chose. Each
 * endpoint gets its own grpc-js Channel (one HTTP/2 connection, multiplexed), created when the
 * endpoint is first picked and closed when the resolver drops it; with mTLS, replaced when its plan
 * changes.
 */
import {
  Channel,
  type ChannelCredentials,
  type ChannelOptions,
  credentials as grpcCredentials,
  type Metadata,
} from '@grpc/grpc-js';
import type { ConnectionPlan, Endpoint, Service, WeftError } from '@weft/core';
import { addressProblem, endpointKey, portProblem } from '@weft/core';
import type { GrpcCall } from './call.ts';
import { GrpcExchange } from './exchange.ts';
import type { GrpcClientMtls } from './mtls.ts';

export interface TransportOptions {
  /** Channel credentials for every endpoint. Defaults to insecure (plaintext HTTP/2). */
  credentials?: ChannelCredentials;
  /** grpc-js channel options for every endpoint's channel (message sizes, keepalive, …). Defaults to none. */
  channelOptions?: ChannelOptions;
}

/** Channel options Weft sets: its own retries replace grpc-js's, so grpc-js must not retry too. */
const WEFT_CHANNEL_OPTIONS: ChannelOptions = { 'grpc.enable_retries': 0 };

/**
 * The connection handle of one endpoint: its grpc-js Channel (one HTTP/2 connection, multiplexed).
 * With mTLS (`planner`), the channel is mTLS or plaintext as the plan says, and is made again when
 * the plan changes (see mtls.ts); checking costs two comparisons per call.
 */
export class EndpointChannel {
  readonly #key: string;
  readonly #options: TransportOptions;
  readonly #planner: GrpcClientMtls | undefined;
  #channel: Channel | undefined;
  #plan: ConnectionPlan | undefined;
  #generation = -1;
  #for: Endpoint | undefined;

  constructor(endpoint: Endpoint, options: TransportOptions, planner: GrpcClientMtls | undefined) {
    // grpc-js would only fail each call later, as a name resolution failure: refuse it here, which
    // makes the endpoint one no connection can be made to (ejected at once).
    const problem = addressProblem(endpoint.address) ?? portProblem(endpoint.port);
    if (problem !== undefined)
      throw new TypeError(`endpoint ${JSON.stringify(endpointKey(endpoint))}: ${problem}`);
    this.#key = endpointKey(endpoint);
    this.#options = options;
    this.#planner = planner;
    if (planner === undefined) this.#channel = this.#make('plaintext');
    else this.channel(endpoint);
  }

  /** What the channel is now (`mtls`, `plaintext`), or undefined before one could be made. */
  get plan(): ConnectionPlan | undefined {
    return this.#planner === undefined ? 'plaintext' : this.#plan;
  }

  /** The channel for the next call to `endpoint` (its current registration), or why none may be made. */
  channel(endpoint: Endpoint): Channel | WeftError {
    const planner = this.#planner;
    if (planner === undefined) return this.#channel!;
    if (planner.generation === this.#generation && endpoint === this.#for && this.#channel !== undefined)
      return this.#channel;
    const plan = planner.plan(endpoint);
    if (typeof plan !== 'string') return plan;
    this.#generation = planner.generation;
    this.#for = endpoint;
    if (plan !== this.#plan || this.#channel === undefined) {
      const previous = this.#channel;
      this.#channel = this.#make(plan);
      this.#plan = plan;
      // Its calls in flight finish on it; new ones go to the new channel.
      previous?.close();
    }
    return this.#channel;
  }

  close(): void {
    this.#channel?.close();
  }

  #make(plan: ConnectionPlan): Channel {
    const options = this.#options;
    const mtls = plan === 'mtls' ? this.#planner : undefined;
    const credentials = mtls?.credentials ?? options.credentials ?? grpcCredentials.createInsecure();
    return new Channel(this.#key, credentials, {
      ...options.channelOptions,
      ...mtls?.channelOptions,
      ...WEFT_CHANNEL_OPTIONS,
    });
  }
}

/**
 * The attempt's metadata: the caller's, plus the headers the stack added (trace, attempt number).
 * The deadline is not among them: the binding leaves it to the call's native deadline.
 */
function attemptMetadata(call: GrpcCall): Metadata {
  const md = call.metadata.clone();
  const headers = call.headers;
  for (const name in headers) md.set(name, headers[name]!);
  return md;
}

/** The native gRPC deadline (wall-clock ms) for the call's stack-clock deadline. */
function nativeDeadline(call: GrpcCall, now: number): number {
  if (call.deadline === Number.POSITIVE_INFINITY) return Number.POSITIVE_INFINITY;
  return Date.now() + Math.max(0, call.deadline - now);
}

/** The terminal service for a stack whose clock is `now`. */
export function sender(now: () => number): Service<GrpcCall, GrpcExchange> {
  return (call) => {
    const signal = call.attemptSignal;
    // Cancelled while the stack was still deciding: never open the stream.
    if (signal?.aborted) return Promise.reject(signal.reason);
    const ep = call.endpoint!;
    const channel = (ep.transport as EndpointChannel).channel(ep.endpoint);
    if (!(channel instanceof Channel)) return Promise.reject(channel);
    const raw = channel.createCall(call.path, nativeDeadline(call, now()), null, null, null);
    const exchange = new GrpcExchange(raw, ep.key, call, now);
    call.inflight = exchange;
    raw.start(attemptMetadata(call), exchange);
    if (call.outbound) call.outbound.attach(raw);
    else {
      raw.sendMessageWithContext({}, call.request!);
      raw.halfClose();
    }
    raw.startRead();
    // Watched once started, so an abort cancels a stream that exists (with RST_STREAM).
    exchange.watch(signal);
    return exchange.head;
  };
}
