/**
 * The endpoints one pick is made from: the whole destination, or one subset of it (a route's
 * `version: v2`). Each pool keeps its own available list (healthy members, or all of them in panic
 * mode), its own balancer instance (strategies keep per-list state: a ring, an alias table, a
 * cursor) and its own zone split, rebuilt by the endpoint set when membership or health changes —
 * never per pick. Health itself (outlier detection, ejection) belongs to the endpoint, so it is the
 * same in every pool an endpoint is a member of.
 */
import type { EndpointState } from './endpoint-state.ts';
import { type Balancer, balancerFor } from './strategies.ts';
import { ZoneSplit } from './zones.ts';

/** A label selector: every label must be present with this value. */
export type Selector = Readonly<Record<string, string>>;

export class EndpointPool<T = unknown> {
  /** The label selector of a subset; undefined for the whole destination. */
  readonly selector: Selector | undefined;
  all: EndpointState<T>[] = [];
  available: EndpointState<T>[] = [];
  panic = false;
  balancer: Balancer;
  readonly zones: ZoneSplit | undefined;

  constructor(
    selector: Selector | undefined,
    balancer: Balancer,
    localZone: string | undefined,
    spillover: number,
  ) {
    this.selector = selector;
    this.balancer = balancer;
    this.zones = localZone ? new ZoneSplit(localZone, spillover) : undefined;
  }

  /** True when `ep` carries every label of the selector. */
  admits(ep: EndpointState<T>): boolean {
    const selector = this.selector;
    if (selector === undefined) return true;
    const labels = ep.endpoint.labels;
    for (const key in selector) if (labels?.[key] !== selector[key]) return false;
    return true;
  }

  /** A new strategy of `kind` for a subset pool (the whole destination's is given). */
  static strategy(kind: string, decayMs: number): Balancer {
    return balancerFor(kind, { decayMs });
  }

  /** Recomputes membership from the destination's endpoints (on a membership change). */
  members(all: readonly EndpointState<T>[]): void {
    this.all =
      this.selector === undefined ? (all as EndpointState<T>[]) : all.filter((ep) => this.admits(ep));
  }

  /** Recomputes the available list and panic mode (on a health or membership change). */
  rebuild(panicThreshold: number, decayMs: number): void {
    const healthy: EndpointState<T>[] = [];
    for (const ep of this.all) {
      if (ep.health === 'healthy' || (ep.health === 'probing' && !ep.probing)) healthy.push(ep);
    }
    const total = this.all.length;
    this.panic = total > 0 && healthy.length * 100 < total * panicThreshold;
    this.available = this.panic ? this.all : healthy;
    this.balancer.rebuild(this.available);
    this.zones?.rebuild(this.all, this.available, panicThreshold, this.balancer.kind, decayMs);
  }
}

/** The key a selector is kept under: its entries in key order. */
export function selectorKey(selector: Selector): string {
  return JSON.stringify(Object.entries(selector).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
