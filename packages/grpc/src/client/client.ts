/**
 * `createGrpcClient(UsersClient, 'users', options)`: a generated grpc-js client whose every call goes
 * through the Weft stack — inherited deadline and trace, breaker, budgeted retries, per-try timeout,
 * P2C-EWMA over healthy endpoints, one channel per endpoint. `weftClientOptions` gives the same as
 * the options argument of any generated client constructor, for code that builds its clients itself.
 */
import {
  type CallProperties,
  type Client,
  type ClientOptions,
  credentials as grpcCredentials,
  type Interceptor,
  type ServiceDefinition,
} from '@grpc/grpc-js';
import { checkServiceName, type DestinationDescription } from '@weft/core';
import { WEFT_SCHEME } from '../resolver/registry.ts';
import { WeftChannel } from './channel.ts';
import { createGrpcDestination } from './destination.ts';
import { type MethodInfo, weftInterceptor } from './interceptor.ts';
import { checkGrpcClientKeys, type GrpcClientOptions, retryBufferFromOptions } from './options.ts';

/** A generated client constructor (`loadPackageDefinition(...).pkg.Users`, or protoc's output). */
export interface GrpcClientConstructor<C extends Client> {
  new (
    address: string,
    credentials: ReturnType<typeof grpcCredentials.createInsecure>,
    options?: ClientOptions,
  ): C;
  /** The service definition generated constructors carry; used for method idempotency options. */
  service?: ServiceDefinition;
}

/** The options to pass to a generated client's constructor, and the destination behind them. */
export interface WeftClientSetup {
  /** The target to give the constructor: `weft:///<service>`. */
  readonly target: string;
  /** Pass as the constructor's third argument. */
  readonly options: ClientOptions;
  /** The effective policy, stack and endpoint state. */
  describe(): DestinationDescription;
  /** Closes the per-endpoint channels (also done by `client.close()`). */
  close(): void;
}

const IDEMPOTENT_LEVELS = new Set(['IDEMPOTENT', 'NO_SIDE_EFFECTS']);

/** Which methods may be retried: named in options, or marked idempotent in the proto. */
function methodInfo(options: GrpcClientOptions, service: ServiceDefinition | undefined): MethodInfo {
  const replayLimitBytes = retryBufferFromOptions(options);
  const names = new Set<string>();
  for (const m of options.idempotentMethods ?? []) names.add(m);
  for (const [name, def] of Object.entries(service ?? {})) {
    const level = (def as { options?: { idempotency_level?: string } }).options?.idempotency_level;
    if (level !== undefined && IDEMPOTENT_LEVELS.has(level)) names.add(def.path);
    if (names.has(name) || names.has(def.originalName ?? '')) names.add(def.path);
  }
  const paths = new Set<string>();
  for (const n of names) if (n.startsWith('/')) paths.add(n);
  // Bare method names also match any service's method of that name.
  const bare = new Set([...names].filter((n) => !n.startsWith('/')));
  return {
    replayLimitBytes,
    idempotent: (path) =>
      paths.has(path) || (bare.size > 0 && bare.has(path.slice(path.lastIndexOf('/') + 1))),
  };
}

/** Builds the Weft client options for `service`; `definition` supplies proto method options. */
export function weftClientOptions(
  service: string,
  options: GrpcClientOptions = {},
  definition?: ServiceDefinition,
): WeftClientSetup {
  checkGrpcClientKeys(options);
  const name = checkServiceName(service);
  const methods = methodInfo(options, definition);
  const { destination, mtls } = createGrpcDestination(name, options);
  const weft = weftInterceptor(destination, methods, mtls);
  const own = options.interceptors ?? [];
  const interceptors: Interceptor[] = [...own, weft];
  return {
    target: `${WEFT_SCHEME}:///${name}`,
    options: {
      interceptors,
      channelOverride: new WeftChannel(destination, () => mtls?.close()),
      // Interceptors given per call replace the client's (grpc-js rule); keep Weft's at the bottom.
      callInvocationTransformer: (props: CallProperties<unknown, unknown>) => {
        const perCall = props.callOptions.interceptors;
        if (perCall && perCall.length > 0 && perCall[perCall.length - 1] !== weft)
          props.callOptions.interceptors = [...perCall, weft];
        return props;
      },
    },
    describe: () => destination.describe(),
    close: () => {
      mtls?.close();
      destination.close();
    },
  };
}

/** The effective policy, stack and endpoints of a client made by `createGrpcClient`; undefined for others. */
export function describeGrpcClient(client: Client): DestinationDescription | undefined {
  const channel = client.getChannel();
  return channel instanceof WeftChannel ? channel.describe() : undefined;
}

/** Creates a generated client for `service` whose calls go through Weft. Close it with `client.close()`. */
export function createGrpcClient<C extends Client>(
  Ctor: GrpcClientConstructor<C>,
  service: string,
  options: GrpcClientOptions = {},
): C {
  const setup = weftClientOptions(service, options, Ctor.service);
  return new Ctor(setup.target, options.credentials ?? grpcCredentials.createInsecure(), setup.options);
}
