/**
 * A route rule as the data plane runs it: the compiled rule bound to the destination's endpoint
 * subsets and to the stack below the route module built with the rule's overrides. The `route`
 * module sets it on the call (`call.route`); `balance` picks a backend from it per attempt;
 * `fault` reads its fault; telemetry reads its labels.
 */
import type { EndpointPool } from '../balancer/endpoint-pool.ts';
import { HASH_RANGE } from '../balancer/hash.ts';
import type { Random } from '../time/clock.ts';
import type { CompiledRule } from './route-table.ts';

/** Metric attributes by outcome, made once per rule and backend. */
export interface OutcomeAttributes {
  readonly success: Readonly<Record<string, string>>;
  readonly failure: Readonly<Record<string, string>>;
  readonly cancelled: Readonly<Record<string, string>>;
}

export interface RoutedBackend {
  readonly subset: string;
  readonly weight: number;
  readonly pool: EndpointPool;
  /** `server.address`, `weft.route.rule`, `weft.route.subset` and the outcome. */
  readonly attributes: OutcomeAttributes;
}

export interface RoutedRule {
  readonly rule: CompiledRule;
  /** Undefined: the whole destination. */
  readonly backends: readonly RoutedBackend[] | undefined;
  /** The rule's attributes when the call went to the whole destination (no backend). */
  readonly attributes: OutcomeAttributes;
  /** Subsets by name, for the travelling override. */
  readonly subsets: ReadonlyMap<string, RoutedBackend>;
}

/**
 * Picks a backend by weight among those that have endpoints now (an empty canary never takes its
 * share). With a hash key the choice is a fixed point on the cumulative weights, so one key stays
 * on one backend while the weights hold, and a canary that grows keeps the keys it had when it is
 * listed last. Undefined when no backend with weight has endpoints.
 */
export function chooseBackend(
  backends: readonly RoutedBackend[],
  random: Random,
  hash: number | undefined,
): RoutedBackend | undefined {
  let total = 0;
  for (let i = 0; i < backends.length; i++) {
    const b = backends[i]!;
    if (b.weight > 0 && b.pool.all.length > 0) total += b.weight;
  }
  if (total === 0) return undefined;
  let point = (hash === undefined ? random() : hash / HASH_RANGE) * total;
  for (let i = 0; i < backends.length; i++) {
    const b = backends[i]!;
    if (b.weight <= 0 || b.pool.all.length === 0) continue;
    point -= b.weight;
    if (point < 0) return b;
  }
  // Rounding at the top end: the last eligible one.
  for (let i = backends.length - 1; i >= 0; i--) {
    const b = backends[i]!;
    if (b.weight > 0 && b.pool.all.length > 0) return b;
  }
  return undefined;
}
