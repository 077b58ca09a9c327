/**
 * The `weft:` name scheme for grpc-js. `registerWeftResolver({ resolve })` tells Weft where the
 * endpoints of a service name come from (any core `Resolver`: static, DNS, file, registry,
 * Kubernetes, etcd) and registers the scheme with grpc-js, so that:
 *
 * - `createGrpcClient(Ctor, 'users')` finds its endpoints without further options, and
 * - a plain grpc-js client on `weft:///users` resolves through Weft discovery too (with grpc-js's
 *   own round-robin balancing and none of the Weft stack: the light option).
 *
 * The grpc-js resolver API is experimental; the package pins the grpc-js minor version for it.
 */
import { experimental } from '@grpc/grpc-js';
import { invalidOption, type Resolver } from '@weft/core';
import { WeftNameResolver } from './grpc-resolver.ts';

export interface WeftResolverRegistry {
  /** The resolver for a service name, or undefined when the name is not known. */
  resolve(service: string): Resolver | undefined;
}

/** The URI scheme Weft registers with grpc-js. */
export const WEFT_SCHEME = 'weft';

let current: WeftResolverRegistry | undefined;

/** Sets where `weft:///<service>` names resolve, and registers the scheme with grpc-js. */
export function registerWeftResolver(registry: WeftResolverRegistry): void {
  if (typeof registry?.resolve !== 'function')
    throw invalidOption('registry.resolve', 'must be a function (service) => Resolver | undefined');
  current = registry;
  experimental.registerResolver(WEFT_SCHEME, WeftNameResolver);
}

/** The registered resolver for `service`, if a registry is set and knows the name. */
export function lookupResolver(service: string): Resolver | undefined {
  return current?.resolve(service);
}

/** The service name in a `weft:///<service>` (or `weft:<service>`) target; undefined for other targets. */
export function serviceFromTarget(target: string): string | undefined {
  const m = /^weft:(?:\/\/[^/]*\/)?([^/?#]+)$/.exec(target);
  return m?.[1];
}
