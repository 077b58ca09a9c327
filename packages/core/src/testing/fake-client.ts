/**
 * A whole protocol-free client on virtual time: the default client stack (or yours) over a
 * {@link scriptedService}, built as every Weft client is, by `createDestination` over a binding —
 * here the {@link fakeBinding}. Tests drive retries, deadlines, balancing and ejection end to end
 * without a socket.
 */
import type { EndpointSet } from '../balancer/endpoint-set.ts';
import type { DestinationPolicy } from '../config/policy.ts';
import { createDestination } from '../destination/create.ts';
import type { DestinationDescription, PolicySource } from '../destination/destination.ts';
import { type Endpoint, type Resolver, StaticResolver } from '../endpoint/endpoint.ts';
import type { ProtocolSemconv } from '../protocol/binding.ts';
import type { RouteSpecInput } from '../route/route-schema.ts';
import { Call } from '../stack/call.ts';
import { defaultClientStack } from '../stack/client-stack.ts';
import type { Classifier, StackEnv } from '../stack/env.ts';
import type { Service, Stack } from '../stack/stack.ts';
import type { Random } from '../time/clock.ts';
import { type FakeConnection, fakeBinding } from './fake-binding.ts';
import { seededRandom } from './random.ts';
import { type FakeResponse, type Script, type ScriptedService, scriptedService } from './scripted-service.ts';
import { VirtualClock } from './virtual-clock.ts';

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
  /** The destination's Route (see docs/traffic.md). Defaults to none. */
  route?: RouteSpecInput;
  /** A policy source (the config service's documents, e.g. a `ManualPolicySource`). Defaults to none. */
  config?: PolicySource;
  /** The classifier. Defaults to `fakeClassifier()` with the policy's `retry.retryOnStatuses`. */
  classify?: Classifier<Call, FakeResponse>;
  /** The binding's span and metric names. Defaults to `FAKE_SEMCONV` (HTTP's names). */
  semconv?: ProtocolSemconv;
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
  /** The destination's description, as a real client's `describe()` (client kind `fakeClient`). */
  describe(): DestinationDescription;
  /** Rebuilds the stack under a new policy; shared state (budget, breaker, endpoints) is kept. */
  rebuild(policy: DestinationPolicy): void;
  /** Closes the destination: the endpoint set and the shared state (breakers). */
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
  const clock = options.clock ?? new VirtualClock();
  const list = options.endpoints ?? 3;
  const resolver =
    options.resolver ?? new StaticResolver(typeof list === 'number' ? fakeEndpoints(list) : list);
  const stack = options.stack ?? defaultClientStack<Call, FakeResponse>();
  const server = scriptedService({
    clock,
    ...(options.scripts ? { scripts: options.scripts } : {}),
    ...(options.fallback ? { fallback: options.fallback } : {}),
  });
  const binding = fakeBinding(server.service, {
    ...(options.classify ? { classify: options.classify } : {}),
    ...(options.semconv ? { semconv: options.semconv } : {}),
  });
  const destination = createDestination(
    binding,
    options.destination ?? 'fake',
    {
      resolver,
      clock,
      random: options.random ?? seededRandom(options.seed ?? 1),
      ...(options.route === undefined ? {} : { route: options.route }),
      ...(options.config === undefined ? {} : { config: options.config }),
    },
    // The policy is used as given (a module's own check names a bad field), the zone is none whatever
    // the environment, and state a rebuild drops is closed at once.
    {
      kind: 'fakeClient',
      stack,
      resolved: { policy: options.policy ?? {}, localZone: undefined },
      graceMs: 0,
    },
  );
  const name = destination.name;

  const makeCall = (init: FakeCallInit = {}): Call => {
    const call = new Call(name, init.method ?? 'GET', init.path ?? '/', init.headers ?? {}, init.signal);
    if (init.timeoutMs !== undefined) call.timeoutMs = init.timeoutMs;
    if (init.replayable !== undefined) call.replayable = init.replayable;
    if (init.idempotent !== undefined) call.idempotent = init.idempotent;
    if (init.longLived !== undefined) call.longLived = init.longLived;
    return call;
  };
  const call = (init?: FakeCallInit | Call) => destination.call(init instanceof Call ? init : makeCall(init));

  return {
    clock,
    random: destination.env.random,
    resolver,
    endpoints: destination.endpoints,
    server,
    env: destination.env,
    stack,
    connected: binding.connected,
    disconnected: binding.disconnected,
    get service() {
      return destination.service;
    },
    makeCall,
    call,
    run: (init) => clock.run(call(init)),
    describe: () => destination.describe(),
    rebuild: (policy) => destination.setPolicy(policy),
    close: () => {
      destination.close();
    },
  };
}
