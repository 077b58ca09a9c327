/**
 * The one way a client builds its destination: a protocol binding plus the options every Weft client
 * shares (endpoints or resolver, the policy set in code, config service, zone, injected time), each
 * resolved and checked here, the same way for HTTP's `createClient` and `createDispatcher`, gRPC's
 * `createGrpcClient` and the testing kit's `fakeClient`.
 */
import type { DestinationPolicy } from '../config/policy.ts';
import type { Resolver } from '../endpoint/endpoint.ts';
import { checkClientMtls } from '../mtls/client-mtls.ts';
import type { ProtocolBinding } from '../protocol/binding.ts';
import type { Call } from '../stack/call.ts';
import { defaultClientStack } from '../stack/client-stack.ts';
import type { Stack } from '../stack/stack.ts';
import {
  type ClientPolicyOptions,
  localZoneFromOptions,
  policyFromOptions,
  resolverFromOptions,
  routeFromOptions,
} from './client-options.ts';
import { Destination } from './destination.ts';

/** What a client gives besides the shared options. */
export interface DestinationExtras<Req extends Call, Res> {
  /** What makes the destination, as `describe()` reports it (`createClient`, `createGrpcClient`, …). */
  kind: string;
  /** The protocol's stack before the user's changes. Defaults to `defaultClientStack()`. */
  stack?: Stack<Req, Res>;
  /** The user's changes to the stack (a client's `stack` option). Defaults to none. */
  customize?: (stack: Stack<Req, Res>) => Stack<Req, Res>;
  /**
   * Where to find a resolver when the options give neither `endpoints` nor `resolver` (gRPC's
   * registered resolvers); `undefined` when there is none. Defaults to nowhere.
   */
  findResolver?: (name: string) => Resolver | undefined;
  /** Added to the error when no resolver is found (`register one with …`). Defaults to none. */
  resolverHint?: string;
  /**
   * The policy and zone already decided (the testing kit's), used as they are instead of the policy
   * options and the zone option or `WEFT_ZONE`. Defaults to those, validated.
   */
  resolved?: { policy: DestinationPolicy; localZone: string | undefined };
  /** See `DestinationOptions.graceMs`. Defaults to 30000. */
  graceMs?: number;
}

/**
 * Builds the destination `name` of a client: resolver (options, then `findResolver`), the validated
 * policy, the stack with the user's changes, the zone (option, else `WEFT_ZONE`), over `binding`.
 * Throws a `WEFT_INVALID_OPTION` error naming the option when one is wrong.
 */
export function createDestination<Req extends Call, Res, T>(
  binding: ProtocolBinding<Req, Res, T>,
  name: string,
  options: ClientPolicyOptions,
  extras: DestinationExtras<Req, Res>,
): Destination<Req, Res, T> {
  checkClientMtls(options.mtls);
  const resolver = resolverFromOptions(name, options, extras.findResolver, extras.resolverHint);
  const resolved = extras.resolved;
  const policy = resolved ? resolved.policy : policyFromOptions(name, options);
  const base = extras.stack ?? defaultClientStack<Req, Res>();
  return new Destination<Req, Res, T>({
    name,
    binding,
    resolver,
    policy,
    stack: extras.customize ? extras.customize(base) : base,
    kind: extras.kind,
    config: options.config,
    route: routeFromOptions(options),
    graceMs: extras.graceMs,
    localZone: resolved ? resolved.localZone : localZoneFromOptions(options),
    clock: options.clock,
    random: options.random,
  });
}
