/**
 * A whole protocol-free client on virtual time: the default client stack (or yours) over a
 * {@link scriptedService}, with a real `EndpointSet`, a resolver, a simple classifier and a protocol
 * adapter. Tests drive retries, deadlines, balancing and ejection end to end without a socket.
 */
import { EndpointSet } from '../balancer/endpoint-set.ts';
import { balancerFor } from '../balancer/strategies.ts';
import type { DestinationPolicy } from '../config/policy.ts';
import { type Endpoint, endpointKey, type Resolver, StaticResolver } from '../endpoint/endpoint.ts';
import { classifyError } from '../retry/classifier.ts';
import { Call } from '../stack/call.ts';
import { defaultClientStack } from '../stack/client-stack.ts';
import { type Classifier, type ProtocolAdapter, SharedState, type StackEnv } from '../stack/env.ts';
import type { Service, Stack } from '../stack/stack.ts';
import { createInstruments } from '../telemetry/instruments.ts';
import type { Random } from '../time/clock.ts';
import { seededRandom } from './random.ts';
import { type FakeResponse, type Script, type ScriptedService, scriptedService } from './scripted-service.ts';
import { VirtualClock } from './virtual-clock.ts';

/** Statuses the fake classifier retries on idempotent calls, like the HTTP binding's defaults. */
export const FAKE_RETRY_STATUSES: readonly number[] = [502, 503, 504];

/**
 * A classifier for {@link FakeResponse}: `rejected` responses are retryable whatever the method,
 * `retryOnStatuses` are retryable on idempotent calls, other 5xx are failures, the rest succeed;
 * errors go to core's `classifyError`.
 *
 * @param retryOnStatuses - Defaults to {@link FAKE_RETRY_STATUSES}.
 */
export function fakeClassifier(
  retryOnStatuses: readonly number[] = FAKE_RETRY_STATUSES,
): Classifier<Call, FakeResponse> {
  const retryable = new Set(retryOnStatuses);
  return (call, response, error) => {
    if (response === undefined) return classifyError(call, error);
    if (response.rejected) return 'retryable';
    if (retryable.has(response.status) && call.idempotent) return 'retryable';
    return response.status >= 500 ? 'failure' : 'success';
  };
}

/** The protocol adapter of {@link FakeResponse}s (reports itself as `http` to telemetry). */
export const fakeProtocol: ProtocolAdapter<FakeResponse> = {
  name: 'http',
  discard: (response) => response.discard(),
  onBodyDone: (response, done) => response.onBodyDone(done),
  status: (response) => response.status,
};

/** The connection handle the fake client's endpoint set keeps per endpoint. */
export interface FakeConnection {
  readonly key: string;
  closed: boolean;
}

export interface FakeClientOptions {
  /** The destination's name. Defaults to `fake`. */
  destination?: string;
  /**
   * The endpoints behind a `StaticResolver`, or a count of endpoints `10.0.0.1:8080`,
   * `10.0.0.2:8080`, … Ignored when `resolver` is given. Defaults to 3.
   */
  endpoints?: readonly Endpoint[] | number;
  /** A resolver of your own (e.g. a `ManualResolver`). Defaults to a `StaticResolver`. */
  resolver?: Resolver;
  /** Scripts by endpoint key. Defaults to none. */
  scripts?: Readonly<Record<string, Script>>;
  /** The script of endpoints without their own. Defaults to an instant 200. */
  fallback?: Script;
  /** The clock. Defaults to a new `VirtualClock` at 0. */
  clock?: VirtualClock;
  /** Seed of the randomness given to the stack. Defaults to 1. Ignored when `random` is given. */
  seed?: number;
  /** The randomness given to the stack. Defaults to `seededRandom(seed)`. */
  random?: Random;
  /** The stack. Defaults to `defaultClientStack()`. */
  stack?: Stack<Call, FakeResponse>;
  /** The policy the stack is built with. Defaults to `{}`. */
  policy?: DestinationPolicy;
  /** The classifier. Defaults to `fakeClassifier()`. */
  classify?: Classifier<Call, FakeResponse>;
}

/** Per-call settings of {@link FakeClient.call}. */
export interface FakeCallInit {
  /** Defaults to `GET`. */
  method?: string;
  /** Defaults to `/`. */
  path?: string;
  /** Defaults to `{}`. */
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** The caller's own total timeout in ms. Defaults to 0 (the stack's). */
  timeoutMs?: number;
  /** Defaults to true. */
  replayable?: boolean;
  /** Overrides the method's idempotency. */
  idempotent?: boolean;
  /** Marks the call long-lived (as gRPC streams are): no default total or adaptive per-try timeout. Defaults to false. */
  longLived?: boolean;
}

export interface FakeClient {
  readonly clock: VirtualClock;
  readonly random: Random;
  readonly resolver: Resolver;
  readonly endpoints: EndpointSet<FakeConnection>;
  /** The fake service under the stack: scripts, attempt counts and the attempt log. */
  readonly server: ScriptedService;
  readonly env: StackEnv<Call, FakeResponse>;
  readonly stack: Stack<Call, FakeResponse>;
  /** Endpoint keys connected to so far, in order. */
  readonly connected: readonly string[];
  /** Endpoint keys disconnected so far, in order. */
  readonly disconnected: readonly string[];
  /** The built service (rebuilt by {@link FakeClient.rebuild}). */
  readonly service: Service<Call, FakeResponse>;
  /** Makes the `Call` object {@link FakeClient.call} would send, for inspection after the call. */
  makeCall(init?: FakeCallInit): Call;
  /** Starts a call. Time does not move by itself: advance the clock, or use {@link FakeClient.run}. */
  call(init?: FakeCallInit | Call): Promise<FakeResponse>;
  /** Starts a call and advances the virtual clock until it settles; returns its response or throws. */
  run(init?: FakeCallInit | Call): Promise<FakeResponse>;
  /** Rebuilds the stack under a new policy; shared state (budget, breaker, endpoints) is kept. */
  rebuild(policy: DestinationPolicy): void;
  /** Closes the endpoint set and the shared state (breakers). */
  close(): void;
}

/** Endpoints `10.0.0.1:8080` … `10.0.0.n:8080`. */
export function fakeEndpoints(n: number): Endpoint[] {
  return Array.from({ length: n }, (_, i) => ({
    address: `10.0.${Math.floor((i + 1) / 256)}.${(i + 1) % 256}`,
    port: 8080,
  }));
}

/**
 * Builds a full client stack over a scripted fake service, on a virtual clock and seeded randomness.
 *
 * @example
 * ```ts
 * const client = fakeClient({ scripts: { '10.0.0.1:8080': { status: 503 } }, policy: { timeoutMs: 1000 } });
 * const response = await client.run();           // retried onto a healthy endpoint
 * assert.equal(client.server.attempts(), 2);
 * client.close();
 * ```
 */
export function fakeClient(options: FakeClientOptions = {}): FakeClient {
  const destination = options.destination ?? 'fake';
  const clock = options.clock ?? new VirtualClock();
  const random = options.random ?? seededRandom(options.seed ?? 1);
  const list = options.endpoints ?? 3;
  const resolver =
    options.resolver ?? new StaticResolver(typeof list === 'number' ? fakeEndpoints(list) : list);
  const stack = options.stack ?? defaultClientStack<Call, FakeResponse>();
  const classify = options.classify ?? fakeClassifier();
  const server = scriptedService({
    clock,
    ...(options.scripts ? { scripts: options.scripts } : {}),
    ...(options.fallback ? { fallback: options.fallback } : {}),
  });
  const connected: string[] = [];
  const disconnected: string[] = [];
  const endpoints = new EndpointSet<FakeConnection>({
    destination,
    resolver,
    balancer: balancerFor('p2c-ewma'),
    clock,
    random,
    connect: (e) => {
      const key = endpointKey(e);
      connected.push(key);
      return { key, closed: false };
    },
    disconnect: (c) => {
      c.closed = true;
      disconnected.push(c.key);
    },
  });
  const shared = new SharedState(0);
  const env: StackEnv<Call, FakeResponse> = {
    destination,
    clock,
    random,
    endpoints: endpoints as EndpointSet,
    classify,
    protocol: fakeProtocol,
    instruments: createInstruments('http'),
    shared: (key, create) => shared.get(key, create),
  };
  const build = (policy: DestinationPolicy) => {
    shared.beginBuild();
    try {
      return stack.build(server.service, env, policy);
    } finally {
      shared.endBuild();
    }
  };
  let service = build(options.policy ?? {});

  const makeCall = (init: FakeCallInit = {}): Call => {
    const call = new Call(
      destination,
      init.method ?? 'GET',
      init.path ?? '/',
      init.headers ?? {},
      init.signal,
    );
    if (init.timeoutMs !== undefined) call.timeoutMs = init.timeoutMs;
    if (init.replayable !== undefined) call.replayable = init.replayable;
    if (init.idempotent !== undefined) call.idempotent = init.idempotent;
    if (init.longLived !== undefined) call.longLived = init.longLived;
    return call;
  };
  const call = (init?: FakeCallInit | Call) => service(init instanceof Call ? init : makeCall(init));

  return {
    clock,
    random,
    resolver,
    endpoints,
    server,
    env,
    stack,
    connected,
    disconnected,
    get service() {
      return service;
    },
    makeCall,
    call,
    run: (init) => clock.run(call(init)),
    rebuild(policy) {
      service = build(policy);
    },
    close() {
      endpoints.close();
      shared.clear();
    },
  };
}
