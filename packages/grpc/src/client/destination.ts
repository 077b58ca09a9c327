/**
 * One destination service as a gRPC client sees it: its endpoint set (one grpc-js Channel per
 * endpoint), its stack and its effective policy. As in the HTTP binding, the stack is rebuilt when
 * the config service changes the policy; in-flight calls finish on the stack they started on, and
 * endpoint history, retry budget and breaker live outside the stack so a rebuild keeps them. An
 * invalid policy never replaces a working one.
 */
import type { Channel, status as Status } from '@grpc/grpc-js';
import {
  balancerFor,
  type Clock,
  createInstruments,
  EndpointSet,
  ErrorCode,
  type Random,
  type Resolver,
  type Service,
  SharedState,
  type Stack,
  type StackEnv,
  systemClock,
  WeftError,
} from '@weft/core';
import { DestinationPolicy, formatIssues, mergePolicies } from '@weft/core/config';
import type { GrpcCall } from './call.ts';
import { grpcClassifier } from './classifier.ts';
import type { GrpcExchange } from './exchange.ts';
import { createChannel, grpcProtocol, sender, type TransportOptions } from './transport.ts';

/** A source of destination policies: the config-service client, or anything shaped like it. */
export interface PolicySource {
  policy(destination: string): DestinationPolicy | undefined;
  subscribe(listener: (event: { revision: number }) => void): () => void;
}

export interface GrpcDestinationOptions {
  name: string;
  resolver: Resolver;
  /** The policy set in code (validated). */
  policy: DestinationPolicy;
  stack: Stack<GrpcCall, GrpcExchange>;
  transport: TransportOptions;
  retryableCodes: readonly Status[];
  config?: PolicySource;
  clock?: Clock;
  random?: Random;
}

export interface GrpcDestinationDescription {
  destination: string;
  policy: DestinationPolicy;
  rejectedConfig: string | undefined;
  stack: { role: string; description: string; params: object }[];
  resolver: string;
  panic: boolean;
  endpoints: { endpoint: string; health: string; outstanding: number; completed: number; failures: number }[];
}

export class GrpcDestination {
  readonly name: string;
  readonly endpoints: EndpointSet<Channel>;
  readonly clock: Clock;
  readonly #options: GrpcDestinationOptions;
  readonly #shared = new SharedState();
  readonly #env: StackEnv<GrpcCall, GrpcExchange>;
  readonly #terminal: Service<GrpcCall, GrpcExchange>;
  readonly #unsubscribe: (() => void) | undefined;
  #service: Service<GrpcCall, GrpcExchange>;
  #policy: DestinationPolicy;
  #rejected: string | undefined;
  #closed = false;

  constructor(options: GrpcDestinationOptions) {
    this.name = options.name;
    this.#options = options;
    const clock = options.clock ?? systemClock;
    this.clock = clock;
    const random = options.random ?? Math.random;
    this.endpoints = new EndpointSet<Channel>({
      destination: options.name,
      resolver: options.resolver,
      balancer: balancerFor('p2c-ewma'),
      clock,
      random,
      connect: (endpoint) => createChannel(endpoint, options.transport),
      // A removed endpoint's channel closes once its calls end (grpc-js lets them finish).
      disconnect: (channel) => channel.close(),
    });
    const shared = this.#shared;
    this.#env = {
      destination: options.name,
      clock,
      random,
      endpoints: this.endpoints as EndpointSet,
      classify: grpcClassifier(options.retryableCodes),
      protocol: grpcProtocol,
      instruments: createInstruments('rpc'),
      shared: (key, create) => shared.get(key, create),
    };
    this.#terminal = sender(() => clock.now());
    this.#policy = mergePolicies(options.policy, options.config?.policy(options.name));
    this.#service = this.#build(this.#policy);
    this.#unsubscribe = options.config?.subscribe(() => this.#onConfig());
  }

  /** Sends one call through the stack; resolves with the attempt that was kept. */
  call(call: GrpcCall): Promise<GrpcExchange> {
    if (this.#closed)
      return Promise.reject(new WeftError(ErrorCode.Closed, `client for ${this.name} is closed`));
    return this.#service(call);
  }

  get closed(): boolean {
    return this.#closed;
  }

  get policy(): DestinationPolicy {
    return this.#policy;
  }

  describe(): GrpcDestinationDescription {
    return {
      destination: this.name,
      policy: this.#policy,
      rejectedConfig: this.#rejected,
      stack: this.#options.stack.effective(this.#policy).modules.map((m) => ({ ...m })),
      resolver: this.endpoints.resolverState.kind,
      panic: this.endpoints.panic,
      endpoints: this.endpoints.all.map((ep) => ({
        endpoint: ep.key,
        health: ep.health,
        outstanding: ep.outstanding,
        completed: ep.completed,
        failures: ep.failures,
      })),
    };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe?.();
    this.endpoints.close();
    this.#shared.clear();
  }

  #build(policy: DestinationPolicy): Service<GrpcCall, GrpcExchange> {
    this.#shared.beginBuild();
    try {
      return this.#options.stack.build(this.#terminal, this.#env, policy);
    } finally {
      this.#shared.endBuild();
    }
  }

  #onConfig(): void {
    const raw = this.#options.config?.policy(this.name);
    const parsed = DestinationPolicy.safeParse(raw ?? {});
    if (!parsed.success) {
      this.#rejected = formatIssues(parsed.error, this.name).join('; ');
      return;
    }
    const next = mergePolicies(this.#options.policy, parsed.data);
    try {
      this.#service = this.#build(next);
      this.#policy = next;
      this.#rejected = undefined;
    } catch (error) {
      this.#rejected = (error as Error).message;
      this.#build(this.#policy);
    }
  }
}
