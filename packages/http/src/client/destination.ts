/**
 * One destination service as seen by a client: its endpoint set (one undici Pool per endpoint), its
 * stack, and its effective policy. The stack is rebuilt when the config service changes the policy;
 * in-flight calls finish on the stack they started on, and state that matters (endpoint history,
 * retry budget, breaker) lives outside the stack so a rebuild keeps it. An invalid policy never
 * replaces a working one.
 */
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
import type { Pool } from 'undici';
import type { HttpCall } from './call.ts';
import { DEFAULT_RETRY_STATUSES, httpClassifier } from './classifier.ts';
import type { HttpExchange } from './exchange.ts';
import { createPool, httpProtocol, send, type TransportOptions } from './transport.ts';

/** A source of destination policies: the config-service client, or anything shaped like it. */
export interface PolicySource {
  policy(destination: string): DestinationPolicy | undefined;
  subscribe(listener: (event: { revision: number }) => void): () => void;
}

export interface DestinationOptions {
  name: string;
  resolver: Resolver;
  /** The policy set in code (validated). */
  policy: DestinationPolicy;
  stack: Stack<HttpCall, HttpExchange>;
  transport: TransportOptions;
  config?: PolicySource;
  /** How long `close()` lets requests in flight finish before destroying connections. Defaults to 5000. */
  closeTimeoutMs?: number;
  /** The caller's zone for zone-aware balancing. */
  localZone?: string;
  clock?: Clock;
  random?: Random;
}

export interface DestinationDescription {
  destination: string;
  /** The policy in force: options in code merged under the config service's. */
  policy: DestinationPolicy;
  /** Where each part of the policy came from. */
  sources: { code: DestinationPolicy; config: DestinationPolicy | undefined };
  /** Why the last config-service policy was refused, if it was. */
  rejectedConfig: string | undefined;
  stack: { role: string; description: string; params: object }[];
  resolver: string;
  panic: boolean;
  localZone: string | undefined;
  endpoints: {
    endpoint: string;
    health: string;
    outstanding: number;
    latencyMs: number;
    completed: number;
    failures: number;
    labels: Record<string, string>;
  }[];
}

export class Destination {
  readonly name: string;
  readonly endpoints: EndpointSet<Pool>;
  readonly #options: DestinationOptions;
  readonly #shared = new SharedState();
  readonly #env: StackEnv<HttpCall, HttpExchange>;
  readonly #unsubscribe: (() => void) | undefined;
  #service: Service<HttpCall, HttpExchange>;
  #policy: DestinationPolicy;
  #configPolicy: DestinationPolicy | undefined;
  #rejected: string | undefined;
  #closed = false;

  constructor(options: DestinationOptions) {
    this.name = options.name;
    this.#options = options;
    const clock = options.clock ?? systemClock;
    const random = options.random ?? Math.random;
    this.endpoints = new EndpointSet<Pool>({
      destination: options.name,
      resolver: options.resolver,
      balancer: balancerFor('p2c-ewma'),
      clock,
      random,
      localZone: options.localZone,
      connect: (endpoint) => createPool(endpoint, options.transport),
      disconnect: (pool) => {
        pool.close().catch(() => {});
      },
    });
    const instruments = createInstruments('http');
    const shared = this.#shared;
    let classify = httpClassifier(DEFAULT_RETRY_STATUSES);
    this.#env = {
      destination: options.name,
      clock,
      random,
      endpoints: this.endpoints as EndpointSet,
      get classify() {
        return classify;
      },
      protocol: httpProtocol,
      instruments,
      shared: (key, create) => shared.get(key, create),
    };
    this.#setClassifier = (statuses) => {
      classify = httpClassifier(statuses);
    };
    this.#configPolicy = options.config?.policy(options.name);
    this.#policy = mergePolicies(options.policy, this.#configPolicy);
    this.#service = this.#build(this.#policy);
    this.#unsubscribe = options.config?.subscribe(() => this.#onConfig());
  }

  readonly #setClassifier: (statuses: readonly number[]) => void;

  /** Sends one call through the stack. */
  call(call: HttpCall): Promise<HttpExchange> {
    if (this.#closed)
      return Promise.reject(new WeftError(ErrorCode.Closed, `client for ${this.name} is closed`));
    return this.#service(call);
  }

  get policy(): DestinationPolicy {
    return this.#policy;
  }

  describe(): DestinationDescription {
    const now = (this.#options.clock ?? systemClock).now();
    const decay = this.endpoints.decayMs;
    return {
      destination: this.name,
      policy: this.#policy,
      sources: { code: this.#options.policy, config: this.#configPolicy },
      rejectedConfig: this.#rejected,
      stack: this.#options.stack.effective(this.#policy).modules.map((m) => ({ ...m })),
      resolver: this.endpoints.resolverState.kind,
      panic: this.endpoints.panic,
      localZone: this.endpoints.localZone,
      endpoints: this.endpoints.all.map((ep) => ({
        endpoint: ep.key,
        health: ep.health,
        outstanding: ep.outstanding,
        latencyMs: Math.round(ep.latency(now, decay) * 1000) / 1000,
        completed: ep.completed,
        failures: ep.failures,
        labels: { ...(ep.endpoint.labels ?? {}) },
      })),
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe?.();
    const pools = this.endpoints.all.map((ep) => ep.transport).filter((p): p is Pool => p !== undefined);
    this.endpoints.close();
    this.#shared.clear();
    // Graceful first: requests in flight finish. A response whose body nobody reads would hold its
    // pool open forever, so after the grace period what is left is destroyed.
    const graceful = Promise.allSettled(pools.map((p) => p.close()));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), this.#options.closeTimeoutMs ?? 5_000);
    });
    if ((await Promise.race([graceful, late])) === 'late')
      await Promise.allSettled(pools.map((p) => p.destroy()));
    clearTimeout(timer);
  }

  #build(policy: DestinationPolicy): Service<HttpCall, HttpExchange> {
    this.#setClassifier(policy.retry?.retryOnStatuses ?? DEFAULT_RETRY_STATUSES);
    this.#shared.beginBuild();
    try {
      return this.#options.stack.build(send, this.#env, policy);
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
      this.#configPolicy = raw;
      this.#rejected = undefined;
    } catch (error) {
      // Keep serving with the stack that works; say why the new one was refused.
      this.#rejected = (error as Error).message;
      this.#build(this.#policy);
    }
  }
}
