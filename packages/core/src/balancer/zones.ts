/**
 * Zone awareness for one endpoint set: the available endpoints split into the caller's zone and the
 * others, each with a balancer of its own. A pick compares the local choice with a choice among the
 * other zones and spills over when the local one's peak-EWMA load is more than `spillover` times the
 * remote one's. The split is rebuilt only when membership or health changes.
 */

import type { Random } from '../time/clock.ts';
import type { EndpointState } from './endpoint-state.ts';
import { type Balancer, balancerFor } from './strategies.ts';

export class ZoneSplit {
  readonly zone: string;
  spillover: number;
  /** Available endpoints in the local zone, and in the others; empty when the zone is not preferred. */
  #local: EndpointState[] = [];
  #remote: EndpointState[] = [];
  #localBalancer: Balancer | undefined;
  #remoteBalancer: Balancer | undefined;

  constructor(zone: string, spillover: number) {
    this.zone = zone;
    this.spillover = spillover;
  }

  /** True when picks prefer the local zone. */
  get active(): boolean {
    return this.#local.length > 0;
  }

  /** The balancer kind changed: the zone balancers are made again on the next rebuild. */
  reset(): void {
    this.#localBalancer = this.#remoteBalancer = undefined;
  }

  rebuild(
    all: readonly EndpointState[],
    available: readonly EndpointState[],
    panicThreshold: number,
    kind: string,
    decayMs: number,
  ): void {
    this.#local = [];
    this.#remote = [];
    const zone = this.zone;
    let localTotal = 0;
    for (const ep of all) if (ep.endpoint.labels?.zone === zone) localTotal++;
    const local: EndpointState[] = [];
    const remote: EndpointState[] = [];
    for (const ep of available) (ep.endpoint.labels?.zone === zone ? local : remote).push(ep);
    // Within the zone the panic threshold applies too: a zone with too few healthy endpoints is
    // not preferred, and traffic spreads over every zone.
    if (local.length === 0 || local.length * 100 < localTotal * panicThreshold) return;
    this.#localBalancer ??= balancerFor(kind, { decayMs });
    this.#remoteBalancer ??= balancerFor(kind, { decayMs });
    this.#local = local;
    this.#remote = remote;
    this.#localBalancer.rebuild(local);
    this.#remoteBalancer.rebuild(remote);
  }

  pick(now: number, random: Random, decayMs: number): EndpointState | undefined {
    const local = this.#localBalancer!.pick(this.#local, now, random);
    if (this.#remote.length === 0 || local === undefined) return local;
    const remote = this.#remoteBalancer!.pick(this.#remote, now, random);
    if (remote === undefined) return local;
    return local.ewmaLoad(now, decayMs) > this.spillover * remote.ewmaLoad(now, decayMs) ? remote : local;
  }
}
