/**
 * One destination service as a client sees it, for any protocol: its endpoint set (one connection
 * handle per endpoint, made by the protocol binding), its stack over the binding's terminal, and its
 * effective policy. Clients build one with `createDestination` (create.ts).
 *
 * The stack is rebuilt when the config service changes the policy; calls in flight finish on the
 * stack they started on, and the state that matters (endpoint history and health, the retry budget,
 * the breaker) lives outside the stack, so a rebuild keeps it. A policy that fails validation, or
 * whose stack cannot be built, never replaces a working one: the destination keeps the last good
 * stack and says why in {@link DestinationDescription.rejectedConfig}.
 */
import { EndpointSet } from '../balancer/endpoint-set.ts';
import { balancerFor } from '../balancer/strategies.ts';
import { DestinationPolicy, formatIssues, mergePolicies } from '../config/policy.ts';
import type { Endpoint, Resolver } from '../endpoint/endpoint.ts';
import { ErrorCode, WeftError } from '../errors/errors.ts';
import type { ProtocolBinding } from '../protocol/binding.ts';
import type { MirrorGate } from '../route/mirror.ts';
import { ruleOverrides } from '../route/route-module.ts';
import type { RouteSpec } from '../route/route-schema.ts';
import { compileRoute, type RouteTable } from '../route/route-table.ts';
import type { Call } from '../stack/call.ts';
import { type Classifier, SharedState, type StackEnv } from '../stack/env.ts';
import type { Service, Stack } from '../stack/stack.ts';
import type { DestinationSummary } from '../summary/recorder.ts';
import type { TrafficSummary } from '../summary/summary.ts';
import { createInstruments } from '../telemetry/instruments.ts';
import { type Clock, type Random, systemClock } from '../time/clock.ts';
import type { TrafficSwitchSpec } from '../traffic/switch-schema.ts';
import { stopMessage, TrafficGate, type TrafficGateDescription } from '../traffic/traffic-gate.ts';

/** A source of destination policies: the config-service client, or anything shaped like it. */
export interface PolicySource {
  policy(destination: string): DestinationPolicy | undefined;
  /** The destination's validated `Route`, if it has one. Optional: a source without it routes nothing. */
  route?(destination: string): RouteSpec | undefined;
  /** The validated `TrafficSwitch` of `name` (`mesh` or a service). Optional: a source without it never stops traffic. */
  trafficSwitch?(name: string): TrafficSwitchSpec | undefined;
  subscribe(listener: (event: { revision: number }) => void): () => void;
  /**
   * The process's traffic summary (docs/control-room.md): the destination records each attempt
   * into it. Optional: a source without it records nothing.
   */
  readonly traffic?: TrafficSummary | undefined;
}

export interface DestinationOptions<Req extends Call, Res, T> {
  /** The destination service's name. */
  name: string;
  resolver: Resolver;
  /** The policy set in code, validated. */
  policy: DestinationPolicy;
  stack: Stack<Req, Res>;
  /** The protocol: terminal, classifier, connection handles, wire encoding, telemetry names. */
  binding: ProtocolBinding<Req, Res, T>;
  /** Policies from the config service, applied over `policy`. */
  config?: PolicySource;
  /** The `Route` set in code, validated; the config service's Route, when there is one, replaces it whole. */
  route?: RouteSpec;
  /** The caller's zone for zone-aware balancing. */
  localZone?: string;
  /** What made this destination, as `describe()` reports it (`createClient`, …). Defaults to `client`. */
  kind?: string;
  clock?: Clock;
  random?: Random;
  /**
   * How long shared state a rebuilt stack no longer uses (a breaker with other settings) stays open
   * for calls still running on the old stack, in ms. Defaults to 30000.
   */
  graceMs?: number;
}

let nextId = 1;

export interface DestinationDescription {
  destination: string;
  /**
   * Which client this is: what made it (`createClient`, `createDispatcher`, `createGrpcClient`, …),
   * its protocol, and a number unique in the process, so two clients of one service are told apart.
   */
  client: { kind: string; protocol: string; id: number };
  /** The policy in force: options in code merged under the config service's. */
  policy: DestinationPolicy;
  /** Where each part of the policy came from. */
  sources: { code: DestinationPolicy; config: DestinationPolicy | undefined };
  /** Why the last config-service policy was refused, if it was. */
  rejectedConfig: string | undefined;
  /** The Route in force (where it came from, its subsets with their endpoint counts, its rules), or undefined. */
  route: RouteDescription | undefined;
  /** Why the last Route received was refused (the previous one stays in force), if it was. */
  rejectedRoute: string | undefined;
  /** The kill switch as this client sees it (undefined without a config source). */
  traffic: TrafficGateDescription | undefined;
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

export interface RouteDescription {
  source: 'code' | 'config';
  overrides: boolean;
  subsets: { name: string; selector: Record<string, string>; endpoints: number; available: number }[];
  rules: {
    rule: string;
    matches: number;
    backends: { subset: string; weight: number }[] | undefined;
    /** The destination-policy fields the rule overrides (`timeoutMs`, `perTryTimeoutMs`, `retry`), if any. */
    overrides: DestinationPolicy | undefined;
  }[];
  /** Mirrored copies by outcome since the client started. */
  mirrors: Record<string, number> | undefined;
  /** Features this protocol does not apply (e.g. `responseHeaders` without a binding hook). */
  unsupported: string[];
}

/** Every open destination of the process, for admin endpoints. */
const live = new Set<{ describe(): DestinationDescription }>();

/**
 * The description of every open client destination of this process (HTTP and gRPC alike): the
 * effective policy and where it came from, the stack, and endpoint health. This is what an admin
 * endpoint shows.
 */
export function describeDestinations(): DestinationDescription[] {
  return [...live].map((d) => d.describe());
}

export class Destination<Req extends Call, Res, T = unknown> {
  readonly name: string;
  readonly endpoints: EndpointSet<T>;
  readonly clock: Clock;
  readonly #options: DestinationOptions<Req, Res, T>;
  readonly #shared: SharedState;
  readonly #env: StackEnv<Req, Res>;
  readonly #terminal: Service<Req, Res>;
  readonly #unsubscribe: (() => void) | undefined;
  readonly #traffic: TrafficGate | undefined;
  readonly #summary: DestinationSummary | undefined;
  #codePolicy: DestinationPolicy;
  #classify: Classifier<Req, Res>;
  #service: Service<Req, Res>;
  #policy: DestinationPolicy;
  #configPolicy: DestinationPolicy | undefined;
  #rejected: string | undefined;
  #codeRoute: RouteSpec | undefined;
  #configRoute: RouteSpec | undefined;
  /** The config service's Route last seen (in force or refused). */
  #seenRoute: RouteSpec | undefined;
  #table: RouteTable | undefined;
  #rejectedRoute: string | undefined;
  #closed = false;

  constructor(options: DestinationOptions<Req, Res, T>) {
    this.name = options.name;
    this.#options = options;
    const clock = options.clock ?? systemClock;
    this.clock = clock;
    const random = options.random ?? Math.random;
    const binding = options.binding;
    this.#shared = new SharedState(options.graceMs);
    this.#codePolicy = options.policy;
    this.#terminal = binding.terminal(clock);
    const instruments = createInstruments(binding.semconv.attemptDuration);
    const ejectionAttributes = { 'server.address': options.name };
    this.endpoints = new EndpointSet<T>({
      destination: options.name,
      resolver: options.resolver,
      balancer: balancerFor('p2c-ewma'),
      clock,
      random,
      localZone: options.localZone,
      connect: (endpoint: Endpoint) => binding.connect(endpoint),
      disconnect: (handle: T) => binding.disconnect(handle),
      onHealthChanged: (ep) => {
        if (ep.health === 'ejected') instruments.ejections.add(1, ejectionAttributes);
      },
    });
    const self = this;
    const name = options.name;
    const traffic = options.config
      ? new TrafficGate(
          name,
          (scope, reason) =>
            new WeftError(
              ErrorCode.TrafficStopped,
              `${stopMessage(name, scope, reason)}: the call to ${name} was not sent`,
            ),
        )
      : undefined;
    traffic?.update(options.config);
    this.#traffic = traffic;
    const shared = this.#shared;
    const summary = options.config?.traffic?.open(name, this.endpoints as EndpointSet);
    this.#summary = summary;
    this.#classify = binding.classifier(options.policy);
    this.#env = {
      destination: options.name,
      clock,
      random,
      endpoints: this.endpoints as EndpointSet,
      // Read at build time by the modules, and per call by the breaker: always the current one.
      get classify() {
        return self.#classify;
      },
      binding,
      instruments,
      get route() {
        return self.#table;
      },
      shared: (key, create) => shared.get(key, create),
      traffic,
      summary,
    };
    this.#configPolicy = options.config?.policy(options.name);
    this.#policy = mergePolicies(options.policy, this.#configPolicy);
    this.#codeRoute = options.route;
    this.#configRoute = options.config?.route?.(options.name);
    this.#seenRoute = this.#configRoute;
    let table: RouteTable | undefined;
    try {
      table = this.#compile(this.#configRoute ?? this.#codeRoute);
      this.#service = this.#build(this.#policy, table);
    } catch (error) {
      // A Route from the config service that cannot be built never stops the client: it runs
      // without it and says why. One set in code is the caller's error.
      if (this.#configRoute === undefined) throw error;
      this.#rejectedRoute = (error as Error).message;
      this.#configRoute = undefined;
      table = this.#compile(this.#codeRoute);
      this.#service = this.#build(this.#policy, table);
    }
    this.#unsubscribe = options.config?.subscribe(() => this.#onConfig());
    this.#client = { kind: options.kind ?? 'client', protocol: binding.name, id: nextId++ };
    live.add(this);
  }

  readonly #client: DestinationDescription['client'];

  /** Sends one call through the stack. */
  call(call: Req): Promise<Res> {
    if (this.#closed)
      return Promise.reject(new WeftError(ErrorCode.Closed, `client for ${this.name} is closed`));
    return this.#service(call);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The policy in force. */
  get policy(): DestinationPolicy {
    return this.#policy;
  }

  /** What the modules of its stack share (clock, endpoints, binding, instruments, …). */
  get env(): StackEnv<Req, Res> {
    return this.#env;
  }

  /** The stack built for the policy in force, over the binding's terminal (a rebuild replaces it). */
  get service(): Service<Req, Res> {
    return this.#service;
  }

  /**
   * Replaces the policy set in code and rebuilds the stack for the next calls; the config service's
   * policy still applies over it, and calls in flight finish on the stack they started on. Throws,
   * keeping the working stack, when the new one cannot be built.
   */
  setPolicy(policy: DestinationPolicy): void {
    const next = mergePolicies(policy, this.#configPolicy);
    this.#service = this.#build(next, this.#table);
    this.#codePolicy = policy;
    this.#policy = next;
  }

  describe(): DestinationDescription {
    const now = this.clock.now();
    const decay = this.endpoints.decayMs;
    return {
      destination: this.name,
      client: this.#client,
      policy: this.#policy,
      sources: { code: this.#codePolicy, config: this.#configPolicy },
      rejectedConfig: this.#rejected,
      route: this.#describeRoute(),
      rejectedRoute: this.#rejectedRoute,
      traffic: this.#traffic?.describe(),
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

  /**
   * Stops following the resolver and the config service, releases every endpoint's handle
   * (`disconnect`), and closes shared state. Returns the handles that were open, for protocols
   * that want to wait on them.
   */
  close(): T[] {
    if (this.#closed) return [];
    this.#closed = true;
    live.delete(this);
    this.#unsubscribe?.();
    this.#summary?.close();
    const transports = this.endpoints.all.map((ep) => ep.transport).filter((t): t is T => t !== undefined);
    this.endpoints.close();
    this.#shared.clear();
    return transports;
  }

  #compile(spec: RouteSpec | undefined): RouteTable | undefined {
    return spec === undefined ? undefined : compileRoute(spec, this.#options.binding.methodKind ?? 'verb');
  }

  /** Builds the stack for `policy` and the route `table` (both kept only when the build succeeds). */
  #build(policy: DestinationPolicy, table: RouteTable | undefined): Service<Req, Res> {
    const previous = this.#classify;
    const previousTable = this.#table;
    this.#classify = this.#options.binding.classifier(policy);
    this.#table = table;
    this.#shared.beginBuild();
    try {
      const service = this.#options.stack.build(this.#terminal, this.#env, policy);
      this.#shared.endBuild();
      return service;
    } catch (error) {
      // Nothing the working stack uses may be dropped because a new one failed to build.
      this.#shared.abortBuild();
      this.#classify = previous;
      this.#table = previousTable;
      throw error;
    }
  }

  #describeRoute(): RouteDescription | undefined {
    const table = this.#table;
    if (table === undefined) return undefined;
    const spec = table.spec;
    const binding = this.#options.binding;
    const unsupported: string[] = [];
    const uses = (f: (r: RouteSpec['rules'][number]) => unknown) =>
      spec.rules.some((r) => f(r) !== undefined);
    if (!this.#options.stack.has('route')) unsupported.push('the stack has no route module');
    if (uses((r) => r.responseHeaders) && !binding.editResponseHeaders) unsupported.push('responseHeaders');
    if (uses((r) => r.rewrite) && !binding.rewritesPaths) unsupported.push('rewrite');
    if (uses((r) => r.mirror) && !binding.mirror) unsupported.push('mirror');
    const gate = this.#shared.peek<MirrorGate>('route-mirror');
    return {
      source: this.#configRoute !== undefined ? 'config' : 'code',
      overrides: spec.overrides === true,
      subsets: Object.entries(spec.subsets ?? {}).map(([name, selector]) => {
        const pool = this.endpoints.subset(selector);
        return {
          name,
          selector: { ...selector },
          endpoints: pool.all.length,
          available: pool.available.length,
        };
      }),
      rules: table.rules.map((r) => ({
        rule: r.label,
        matches: r.spec.matches?.length ?? 0,
        backends: r.spec.backends?.map((b) => ({ subset: b.subset, weight: b.weight })),
        overrides: ruleOverrides(r.spec),
      })),
      mirrors: gate ? { ...gate.counts, inflight: gate.inflight } : undefined,
      unsupported,
    };
  }

  #onConfig(): void {
    const config = this.#options.config;
    // The kill switch first, and without a rebuild: the stack reads the flag per call.
    this.#traffic?.update(config);
    const raw = config?.policy(this.name);
    const rawRoute = config?.route?.(this.name);
    // Nothing of this destination changed (another service's document, a registration): no rebuild.
    if (raw === this.#configPolicy && rawRoute === this.#seenRoute && this.#rejected === undefined) return;
    const parsed = DestinationPolicy.safeParse(raw ?? {});
    if (!parsed.success) {
      this.#rejected = formatIssues(parsed.error, this.name).join('; ');
      return;
    }
    const next = mergePolicies(this.#codePolicy, parsed.data);
    if (rawRoute !== this.#seenRoute) {
      // A Route is tried once per version received: one refused stays refused until it changes.
      this.#seenRoute = rawRoute;
      try {
        this.#service = this.#build(next, this.#compile(rawRoute ?? this.#codeRoute));
        this.#policy = next;
        this.#configPolicy = raw;
        this.#rejected = undefined;
        this.#configRoute = rawRoute;
        this.#rejectedRoute = undefined;
        return;
      } catch (error) {
        // Keep the Route in force; the policy may still be good on its own.
        this.#rejectedRoute = (error as Error).message;
      }
    }
    try {
      this.#service = this.#build(next, this.#table);
      this.#policy = next;
      this.#configPolicy = raw;
      this.#rejected = undefined;
    } catch (error) {
      // Keep serving with the stack that works; say why the new one was refused.
      this.#rejected = (error as Error).message;
    }
  }
}
