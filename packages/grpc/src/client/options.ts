/**
 * Client options: the destination policy set in code (validated by the shared zod schema, so an
 * error names the field), where endpoints come from, which methods may be retried, and transport
 * settings.
 */
import type { Interceptor, status as Status } from '@grpc/grpc-js';
import type { PolicySource } from '@weft/core';
import {
  type Clock,
  defaultClientStack,
  type Endpoint,
  invalidOption,
  parseEndpoint,
  type Random,
  type Resolver,
  type Stack,
  StaticResolver,
} from '@weft/core';
import {
  type BalancerKind,
  type BalancerPolicy,
  type CircuitBreakerPolicy,
  DestinationPolicy,
  formatIssues,
  type OutlierPolicy,
  type RetryPolicy,
} from '@weft/core/config';
import { lookupResolver } from '../resolver/registry.ts';
import { DEFAULT_REPLAY_LIMIT_BYTES, type GrpcCall } from './call.ts';
import { DEFAULT_RETRYABLE_CODES } from './classifier.ts';
import type { GrpcExchange } from './exchange.ts';
import { streamTelemetryModule } from './telemetry.ts';
import type { TransportOptions } from './transport.ts';

export interface GrpcClientOptions extends TransportOptions {
  /** Fixed endpoints (`host:port` or objects). Defaults to the resolver, then the registered `weft:` resolver. */
  endpoints?: readonly (string | Endpoint)[];
  /** A watchable endpoint source (see @weft/discovery). Defaults to the one `registerWeftResolver` gives. */
  resolver?: Resolver;
  /** Balancer kind or settings. Defaults to `p2c-ewma`. */
  balancer?: BalancerKind | BalancerPolicy;
  /** Total time per call in ms, retries included; 0 = only per-call and inherited deadlines. Defaults to 0. */
  timeoutMs?: number;
  /** Time per attempt (to the first response message, or the status) in ms; 0 = none. Defaults to 0. */
  perTryTimeoutMs?: number;
  /** Retry settings, or `false` for none. Defaults to 3 attempts at most under a 20% + 10/s budget. */
  retry?: Omit<RetryPolicy, 'retryOnStatuses'> | false;
  /** Circuit breaker settings, or `false` for none. Defaults to on, 50% errors over ≥ 20 calls. */
  circuitBreaker?: CircuitBreakerPolicy | false;
  /** Outlier detection, or `false` for none. Defaults to 5 consecutive failures. */
  outlierDetection?: OutlierPolicy | false;
  /**
   * Methods safe to send more than once, by name (`GetUser`) or path (`/users.Users/GetUser`).
   * Methods whose proto sets `idempotency_level` to IDEMPOTENT or NO_SIDE_EFFECTS are included.
   * Defaults to none: only calls the server never processed are retried.
   */
  idempotentMethods?: readonly string[];
  /** Status codes retried on idempotent methods. Defaults to [UNAVAILABLE]. */
  retryableCodes?: readonly Status[];
  /**
   * Bytes of a client or bidi stream's request messages kept so the stream can be retried before
   * its first response message; a stream that writes more is not retried. Defaults to 262144
   * (256 KiB, gRPC's own per-call retry buffer).
   */
  retryBufferBytes?: number;
  /** Interceptors of your own, run before Weft's (Weft's is always last). Defaults to none. */
  interceptors?: readonly Interceptor[];
  /** Policies from the config service, applied over these options at run time. */
  config?: PolicySource;
  /**
   * This process's zone: endpoints labelled with the same `zone` are preferred while healthy and not
   * overloaded. Defaults to the `WEFT_ZONE` environment variable, or none.
   */
  localZone?: string;
  /** Changes the stack: insert, replace, remove or configure modules by role. */
  stack?: (stack: Stack<GrpcCall, GrpcExchange>) => Stack<GrpcCall, GrpcExchange>;
  /** Injected time (tests). Defaults to the process clock. */
  clock?: Clock;
  /** Injected randomness (tests). Defaults to Math.random. */
  random?: Random;
}

export const GRPC_CLIENT_DEFAULTS = {
  retryableCodes: DEFAULT_RETRYABLE_CODES,
  idempotentMethods: [] as readonly string[],
  retryBufferBytes: DEFAULT_REPLAY_LIMIT_BYTES,
} as const;

export function retryBufferFromOptions(options: GrpcClientOptions): number {
  const bytes = options.retryBufferBytes ?? GRPC_CLIENT_DEFAULTS.retryBufferBytes;
  if (!Number.isInteger(bytes) || bytes < 0 || bytes > 1 << 30)
    throw invalidOption('retryBufferBytes', 'must be an integer within 0–1073741824');
  return bytes;
}

/** The policy the options set in code, validated. */
export function policyFromOptions(service: string, options: GrpcClientOptions): DestinationPolicy {
  const candidate = {
    balancer: typeof options.balancer === 'string' ? { kind: options.balancer } : options.balancer,
    timeoutMs: options.timeoutMs,
    perTryTimeoutMs: options.perTryTimeoutMs,
    retry: options.retry === false ? { enabled: false } : options.retry,
    circuitBreaker: options.circuitBreaker === false ? { enabled: false } : options.circuitBreaker,
    outlierDetection: options.outlierDetection === false ? { enabled: false } : options.outlierDetection,
  };
  const parsed = DestinationPolicy.safeParse(candidate);
  if (!parsed.success) throw invalidOption(service, formatIssues(parsed.error).join('; '));
  return parsed.data;
}

export function resolverFromOptions(service: string, options: GrpcClientOptions): Resolver {
  if (options.resolver) return options.resolver;
  if (options.endpoints) {
    const endpoints = options.endpoints.map((e, i) => {
      try {
        const ep = parseEndpoint(e);
        if (!Number.isInteger(ep.port) || ep.port < 1 || ep.port > 65535)
          throw new Error(`port ${ep.port} out of range`);
        return ep;
      } catch (error) {
        throw invalidOption(
          `endpoints[${i}]`,
          `${JSON.stringify(e)} is not host:port (${(error as Error).message})`,
        );
      }
    });
    return new StaticResolver(endpoints);
  }
  const registered = lookupResolver(service);
  if (registered) return registered;
  throw invalidOption(
    'endpoints',
    `give endpoints or a resolver for ${service}, or register one with registerWeftResolver`,
  );
}

/** The default client stack with a telemetry module whose span covers the whole call, streams included. */
export function stackFromOptions(options: GrpcClientOptions): Stack<GrpcCall, GrpcExchange> {
  const base = defaultClientStack<GrpcCall, GrpcExchange>().replace(
    'telemetry',
    streamTelemetryModule() as never,
  );
  return options.stack ? options.stack(base) : base;
}

export function retryableCodesFromOptions(options: GrpcClientOptions): readonly Status[] {
  const codes = options.retryableCodes ?? GRPC_CLIENT_DEFAULTS.retryableCodes;
  if (!Array.isArray(codes) || codes.some((c) => !Number.isInteger(c) || c < 1 || c > 16))
    throw invalidOption('retryableCodes', 'must be a list of gRPC status codes within 1–16');
  return codes;
}

export function checkServiceName(service: unknown): string {
  if (typeof service !== 'string' || !/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/i.test(service))
    throw invalidOption(
      'service',
      `${JSON.stringify(service)} must be a DNS-style name (letters, digits, '.', '-')`,
    );
  return service;
}
