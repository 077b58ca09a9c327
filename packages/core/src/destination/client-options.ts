/**
 * The options every Weft client shares, whatever its protocol: where endpoints come from, the
 * destination policy set in code, the config service, the zone, injected time. The policy part is
 * validated with the same zod schema the config service uses, so an error names the field.
 */

import { validateServiceName } from '../config/names.ts';
import {
  type AdaptivePerTryPolicy,
  type BalancerKind,
  type BalancerPolicy,
  type CircuitBreakerPolicy,
  DestinationPolicy,
  formatIssues,
  type OutlierPolicy,
  type RetryPolicy,
} from '../config/policy.ts';
import { addressProblem, portProblem } from '../endpoint/address.ts';
import { type Endpoint, parseEndpoint, type Resolver, StaticResolver } from '../endpoint/endpoint.ts';
import { invalidOption } from '../errors/errors.ts';
import type { ClientMtlsOptions } from '../mtls/client-mtls.ts';
import { RouteSpec, type RouteSpecInput } from '../route/route-schema.ts';
import type { Clock, Random } from '../time/clock.ts';
import type { KeySet } from '../util/known-keys.ts';
import type { PolicySource } from './destination.ts';

export interface ClientPolicyOptions {
  /** Fixed endpoints (`host:port`, URLs or objects). */
  endpoints?: readonly (string | Endpoint)[];
  /** A watchable endpoint source (see @weft/discovery). */
  resolver?: Resolver;
  /** Balancer kind or settings. Defaults to `p2c-ewma`. */
  balancer?: BalancerKind | BalancerPolicy;
  /**
   * Total time per call in ms, retries and body included; 0 = only per-call and inherited deadlines.
   * Defaults to 15000 (Envoy's default route timeout); long-lived gRPC streams are exempt.
   */
  timeoutMs?: number;
  /** Time per attempt (to the response head) in ms; 0 = the adaptive per-try timeout. Defaults to 0. */
  perTryTimeoutMs?: number;
  /**
   * The per-try timeout derived from each endpoint's latency, for attempts that can be retried, or
   * `false` for none. Defaults to 4 × the endpoint's success latency, at least 100 ms.
   */
  adaptivePerTry?: AdaptivePerTryPolicy | false;
  /** Retry settings, or `false` for none. Defaults to 3 attempts at most under a 20% + 10/s budget. */
  retry?: RetryPolicy | false;
  /** Circuit breaker settings, or `false` for none. Defaults to on, 50% errors over ≥ 20 calls. */
  circuitBreaker?: CircuitBreakerPolicy | false;
  /** Outlier detection, or `false` for none. Defaults to 5 consecutive failures. */
  outlierDetection?: OutlierPolicy | false;
  /** Policies from the config service, applied over these options at run time. */
  config?: PolicySource;
  /**
   * The destination's `Route` (splits, matches, mirroring, faults; see docs/traffic.md), as the spec
   * of a `Route` document. The config service's Route for this destination, when it has one,
   * replaces it whole. Defaults to none (every call goes to the whole destination).
   */
  route?: RouteSpecInput;
  /**
   * This process's zone: endpoints labelled with the same `zone` are preferred while healthy and not
   * overloaded. Defaults to the `WEFT_ZONE` environment variable, or none.
   */
  localZone?: string;
  /**
   * mTLS with this process's identity: `{ identity, mode?, serverIdentities? }`. Each new connection
   * is mTLS when the destination's mode is `STRICT` (its `PeerAuthentication`, else the mesh's, or
   * `mode` here) or the endpoint serves mTLS (its server registered the `weft/mtls` label), and the
   * server must present the destination's SPIFFE ID (or one of `serverIdentities`). See
   * docs/security.md. Defaults to none: plaintext, except that a `STRICT` destination is then refused
   * (`WEFT_MTLS_REQUIRED`).
   */
  mtls?: ClientMtlsOptions;
  /** Injected time (tests). Defaults to the process clock. */
  clock?: Clock;
  /** Injected randomness (tests). Defaults to Math.random. */
  random?: Random;
}

/** The keys of {@link ClientPolicyOptions}, for the unknown-key check of every client. */
export const CLIENT_POLICY_KEYS = {
  endpoints: true,
  resolver: true,
  balancer: true,
  timeoutMs: true,
  perTryTimeoutMs: true,
  adaptivePerTry: true,
  retry: true,
  circuitBreaker: true,
  outlierDetection: true,
  config: true,
  route: true,
  localZone: true,
  mtls: true,
  clock: true,
  random: true,
} as const satisfies KeySet<ClientPolicyOptions>;

/** The policy the options set in code, validated; the error names `service` and every bad field. */
export function policyFromOptions(service: string, options: ClientPolicyOptions): DestinationPolicy {
  const candidate = {
    balancer: typeof options.balancer === 'string' ? { kind: options.balancer } : options.balancer,
    timeoutMs: options.timeoutMs,
    perTryTimeoutMs: options.perTryTimeoutMs,
    adaptivePerTry: options.adaptivePerTry === false ? { enabled: false } : options.adaptivePerTry,
    retry: options.retry === false ? { enabled: false } : options.retry,
    circuitBreaker: options.circuitBreaker === false ? { enabled: false } : options.circuitBreaker,
    outlierDetection: options.outlierDetection === false ? { enabled: false } : options.outlierDetection,
  };
  const parsed = DestinationPolicy.safeParse(candidate);
  if (!parsed.success) throw invalidOption(service, formatIssues(parsed.error).join('; '));
  return parsed.data;
}

/** The Route set in code, validated; the error names `route.<field>`. Undefined when none. */
export function routeFromOptions(options: ClientPolicyOptions): RouteSpec | undefined {
  if (options.route === undefined) return undefined;
  const parsed = RouteSpec.safeParse(options.route);
  if (!parsed.success) throw invalidOption('route', formatIssues(parsed.error, 'route').join('; '));
  return parsed.data;
}

/** A resolver over fixed endpoints, each checked: the error names `endpoints[i]` and why. */
export function staticEndpoints(endpoints: readonly (string | Endpoint)[]): StaticResolver {
  return new StaticResolver(
    endpoints.map((e, i) => {
      try {
        if (typeof e === 'string' && e.includes('://')) {
          const url = new URL(e);
          // Weft sends the caller's path as it is: a base path on an endpoint would be dropped silently.
          if (url.pathname !== '/' || url.search || url.hash || url.username)
            throw new Error(
              'an endpoint is host:port only; a path, query or credentials in it would be ignored',
            );
        }
        const ep = parseEndpoint(e);
        const problem = addressProblem(ep.address);
        if (problem !== undefined) throw new Error(`address ${problem}`);
        if (portProblem(ep.port) !== undefined) throw new Error(`port ${ep.port} out of range`);
        return ep;
      } catch (error) {
        throw invalidOption(
          `endpoints[${i}]`,
          `${JSON.stringify(e)} is not host:port or a URL (${(error as Error).message})`,
        );
      }
    }),
  );
}

/**
 * The resolver of destination `service`: the `resolver` option, else the fixed `endpoints`, else
 * what `find` knows of (gRPC's registered resolvers). Throws naming `endpoints` when there is none;
 * `hint` ends the message (how else to give one).
 */
export function resolverFromOptions(
  service: string,
  options: ClientPolicyOptions,
  find?: (service: string) => Resolver | undefined,
  hint?: string,
): Resolver {
  if (options.resolver) return options.resolver;
  if (options.endpoints) return staticEndpoints(options.endpoints);
  const found = find?.(service);
  if (found) return found;
  throw invalidOption(
    'endpoints',
    `give endpoints or a resolver for ${service}${hint ? `, or ${hint}` : ''}`,
  );
}

/** The client's zone: the option, else `WEFT_ZONE`. */
export function localZoneFromOptions(options: ClientPolicyOptions): string | undefined {
  return options.localZone ?? process.env.WEFT_ZONE;
}

/**
 * Checks a destination name by the one rule of service and document names (`serviceNameIssue`:
 * lowercase dot-separated DNS labels), so a client accepts exactly the names the registry does.
 */
export function checkServiceName(service: unknown): string {
  return validateServiceName(service, 'service');
}
