/**
 * Client options: the destination policy set in code (validated by the shared zod schema, so an
 * error names the field), where endpoints come from, and transport settings.
 */
import {
  type Clock,
  defaultClientStack,
  type Endpoint,
  invalidOption,
  type PolicySource,
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
import type { HttpCall } from './call.ts';
import type { HttpExchange } from './exchange.ts';
import type { TransportOptions } from './transport.ts';

export interface ClientOptions extends TransportOptions {
  /** The destination service's logical name. */
  service: string;
  /** Fixed endpoints (`host:port`, URLs or objects). One of `endpoints` and `resolver` is required. */
  endpoints?: readonly (string | Endpoint)[];
  /** A watchable endpoint source (see @weft/discovery). */
  resolver?: Resolver;
  /** Balancer kind or settings. Defaults to `p2c-ewma`. */
  balancer?: BalancerKind | BalancerPolicy;
  /** Total time per call in ms, retries included; 0 = only inherited deadlines. Defaults to 0. */
  timeoutMs?: number;
  /** Time per attempt (to the response head) in ms; 0 = none. Defaults to 0. */
  perTryTimeoutMs?: number;
  /** Retry settings, or `false` for none. Defaults to 3 attempts at most under a 20% + 10/s budget. */
  retry?: RetryPolicy | false;
  /** Circuit breaker settings, or `false` for none. Defaults to on, 50% errors over ≥ 20 calls. */
  circuitBreaker?: CircuitBreakerPolicy | false;
  /** Outlier detection, or `false` for none. Defaults to 5 consecutive failures. */
  outlierDetection?: OutlierPolicy | false;
  /**
   * This process's zone: endpoints labelled with the same `zone` are preferred while healthy and not
   * overloaded. Defaults to the `WEFT_ZONE` environment variable, or none.
   */
  localZone?: string;
  /** Policies from the config service, applied over these options at run time. */
  config?: PolicySource;
  /** Changes the stack: insert, replace, remove or configure modules by role. */
  stack?: (stack: Stack<HttpCall, HttpExchange>) => Stack<HttpCall, HttpExchange>;
  /** Injected time (tests). Defaults to the process clock. */
  clock?: Clock;
  /** Injected randomness (tests). Defaults to Math.random. */
  random?: Random;
}

/** The policy the options set in code, validated. */
export function policyFromOptions(options: ClientOptions): DestinationPolicy {
  const candidate = {
    balancer: typeof options.balancer === 'string' ? { kind: options.balancer } : options.balancer,
    timeoutMs: options.timeoutMs,
    perTryTimeoutMs: options.perTryTimeoutMs,
    retry: options.retry === false ? { enabled: false } : options.retry,
    circuitBreaker: options.circuitBreaker === false ? { enabled: false } : options.circuitBreaker,
    outlierDetection: options.outlierDetection === false ? { enabled: false } : options.outlierDetection,
  };
  const parsed = DestinationPolicy.safeParse(candidate);
  if (!parsed.success)
    throw invalidOption(options.service ?? 'client', formatIssues(parsed.error).join('; '));
  return parsed.data;
}

export function resolverFromOptions(options: ClientOptions): Resolver {
  if (options.resolver) return options.resolver;
  if (!options.endpoints)
    throw invalidOption('endpoints', `give endpoints or a resolver for ${options.service}`);
  const endpoints = options.endpoints.map((e, i) => {
    try {
      const ep = parseEndpoint(e);
      if (!Number.isInteger(ep.port) || ep.port < 1 || ep.port > 65535)
        throw new Error(`port ${ep.port} out of range`);
      return ep;
    } catch (error) {
      throw invalidOption(
        `endpoints[${i}]`,
        `${JSON.stringify(e)} is not host:port or a URL (${(error as Error).message})`,
      );
    }
  });
  return new StaticResolver(endpoints);
}

export function stackFromOptions(options: ClientOptions): Stack<HttpCall, HttpExchange> {
  const base = defaultClientStack<HttpCall, HttpExchange>();
  return options.stack ? options.stack(base) : base;
}

export function checkServiceName(service: unknown): string {
  if (typeof service !== 'string' || !/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/i.test(service))
    throw invalidOption(
      'service',
      `${JSON.stringify(service)} must be a DNS-style name (letters, digits, '.', '-')`,
    );
  return service;
}
