/**
 * Balancing strategies: each picks one endpoint from the available set in O(1).
 *
 * - `p2cEwma` (default): power of two choices (Mitzenmacher, 2001) over peak-EWMA load — Finagle's
 *   and Linkerd's default. Two random endpoints, the cheaper one wins: latency-aware without herding;
 *   loads within the estimate's noise are a tie, and ties spread.
 * - `p2cLeastLoaded`: the same with outstanding requests as the load.
 * - `roundRobin`: each in turn.
 * - `weighted`: random in proportion to `weight`, by Vose's alias method (O(1) per pick after an
 *   O(n) rebuild on each set change).
 * - `ring-hash`: consistent hashing on a ring (Karger et al., 1997; Envoy's `RING_HASH`): a call
 *   with a hash key (the route rule's `hashOn`, or the balancer's `hashHeader`) goes to the first
 *   endpoint clockwise of the key's point, so one key stays on one endpoint while the set is
 *   unchanged, and only the keys of an endpoint that leaves move. O(log n) per pick; calls without
 *   a key land on a random point.
 */
import type { Random } from '../time/clock.ts';
import type { EndpointState } from './endpoint-state.ts';
import { HASH_RANGE, hash32 } from './hash.ts';

export interface Balancer {
  /** The strategy's name, as in the `balancer.kind` policy field. */
  readonly kind: string;
  /** Called whenever the available set changes. */
  rebuild(available: readonly EndpointState[]): void;
  /** `hash` is the call's hash key ({@link hash32}), when it has one; only `ring-hash` reads it. */
  pick(
    available: readonly EndpointState[],
    now: number,
    random: Random,
    hash?: number,
  ): EndpointState | undefined;
}

export interface P2cEwmaOptions {
  /** Decay time constant of the latency estimate, in ms. Defaults to 10000 (Finagle's 10 s). */
  decayMs?: number;
}

/**
 * Loads closer than this (in ms of peak-EWMA load) are a tie: differences of a fraction of a
 * millisecond are the noise of timing on an event loop, and one noisy sample must not decide every
 * pick for tens of seconds, the other estimate moving only with time. Small enough that the
 * outstanding count still separates endpoints of a millisecond or more.
 */
export const TIE_ABSOLUTE_MS = 0.5;
/** Loads within this fraction of each other are a tie too (the noise of a latency estimate). */
export const TIE_RELATIVE = 0.1;

/**
 * Power of two choices under a load function: two distinct random endpoints, the lighter one wins;
 * within `tie` of each other, the first drawn (itself a uniform choice), so equals share the load.
 * O(1) per pick, and no herding onto one "best" endpoint as a full scan would cause.
 */
function powerOfTwoChoices(
  kind: string,
  load: (ep: EndpointState, now: number) => number,
  tie: (a: number, b: number) => boolean = () => false,
): Balancer {
  return {
    kind,
    rebuild() {},
    pick(available, now, random) {
      const n = available.length;
      if (n < 2) return available[0];
      const i = Math.floor(random() * n);
      let j = Math.floor(random() * (n - 1));
      if (j >= i) j++;
      const a = available[i]!;
      const b = available[j]!;
      const la = load(a, now);
      const lb = load(b, now);
      return la <= lb || tie(la, lb) ? a : b;
    },
  };
}

export function p2cEwma(options: P2cEwmaOptions = {}): Balancer {
  const decayMs = options.decayMs ?? 10_000;
  return powerOfTwoChoices('p2c-ewma', (ep, now) => ep.ewmaLoad(now, decayMs), isTie);
}

/** True when the larger load `a` is within the noise of the smaller `b`. */
function isTie(a: number, b: number): boolean {
  return a - b <= TIE_ABSOLUTE_MS || a - b <= TIE_RELATIVE * b;
}

export function p2cLeastLoaded(): Balancer {
  return powerOfTwoChoices('p2c-least-loaded', (ep) => ep.outstanding / ep.weight);
}

export function roundRobin(): Balancer {
  let next = 0;
  return {
    kind: 'round-robin',
    rebuild() {},
    pick(available) {
      const n = available.length;
      if (n === 0) return undefined;
      if (next >= n) next = 0;
      return available[next++];
    },
  };
}

export function weighted(): Balancer {
  let prob = new Float64Array(0);
  let alias = new Uint32Array(0);
  return {
    kind: 'weighted',
    rebuild(available) {
      const n = available.length;
      prob = new Float64Array(n);
      alias = new Uint32Array(n);
      let total = 0;
      for (const e of available) total += Math.max(0, e.weight);
      if (n === 0 || total === 0) {
        prob.fill(1);
        for (let i = 0; i < n; i++) alias[i] = i;
        return;
      }
      const scaled = available.map((e) => (Math.max(0, e.weight) * n) / total);
      const small: number[] = [];
      const large: number[] = [];
      for (let i = 0; i < n; i++) (scaled[i]! < 1 ? small : large).push(i);
      while (small.length && large.length) {
        const s = small.pop()!;
        const l = large.pop()!;
        prob[s] = scaled[s]!;
        alias[s] = l;
        scaled[l] = scaled[l]! + scaled[s]! - 1;
        (scaled[l]! < 1 ? small : large).push(l);
      }
      for (const i of [...small, ...large]) {
        prob[i] = 1;
        alias[i] = i;
      }
    },
    pick(available, _now, random) {
      const n = available.length;
      if (n === 0) return undefined;
      if (prob.length !== n) this.rebuild(available);
      const r = random() * n;
      const i = Math.floor(r);
      return available[r - i < prob[i]! ? i : alias[i]!];
    },
  };
}

/** Points per endpoint on the ring (times its weight, capped): Envoy's minimum ring size is 1024 for a few hosts. */
export const RING_POINTS_PER_ENDPOINT = 160;
/** Most points on a ring, whatever the weights: bounds the rebuild and the memory. */
export const RING_MAX_POINTS = 65_536;

export function ringHash(): Balancer {
  let points = new Uint32Array(0);
  let owners = new Uint32Array(0);
  let members: readonly EndpointState[] = [];
  return {
    kind: 'ring-hash',
    rebuild(available) {
      members = available;
      const n = available.length;
      if (n === 0) {
        points = new Uint32Array(0);
        owners = new Uint32Array(0);
        return;
      }
      let totalWeight = 0;
      for (const ep of available) totalWeight += Math.max(1, ep.weight);
      const scale = Math.min(RING_POINTS_PER_ENDPOINT, RING_MAX_POINTS / totalWeight);
      const ring: { point: number; owner: number }[] = [];
      available.forEach((ep, owner) => {
        const count = Math.max(1, Math.round(scale * Math.max(1, ep.weight)));
        for (let i = 0; i < count; i++) ring.push({ point: hash32(`${ep.key}_${i}`), owner });
      });
      ring.sort((a, b) => a.point - b.point || a.owner - b.owner);
      points = Uint32Array.from(ring, (r) => r.point);
      owners = Uint32Array.from(ring, (r) => r.owner);
    },
    pick(available, _now, random, hash) {
      const n = available.length;
      if (n === 0) return undefined;
      if (available !== members) this.rebuild(available);
      const key = hash ?? Math.floor(random() * HASH_RANGE);
      // The first point at or after the key, wrapping around.
      let lo = 0;
      let hi = points.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (points[mid]! < key) lo = mid + 1;
        else hi = mid;
      }
      return available[owners[lo === points.length ? 0 : lo]!];
    },
  };
}

/**
 * For a retry: two random endpoints of `list` other than `failed`, the one with the lower peak-EWMA
 * load (whatever the strategy: a retry only needs to go elsewhere, sensibly). Undefined when there
 * is no other.
 */
export function pickAvoiding(
  list: readonly EndpointState[],
  failed: EndpointState,
  now: number,
  decayMs: number,
  random: Random,
): EndpointState | undefined {
  const at = list.indexOf(failed);
  const others = at < 0 ? list.length : list.length - 1;
  if (others < 1) return undefined;
  const nth = (k: number) => list[at < 0 || k < at ? k : k + 1]!;
  const a = nth(Math.floor(random() * others));
  if (others === 1) return a;
  const b = nth(Math.floor(random() * others));
  return b.ewmaLoad(now, decayMs) < a.ewmaLoad(now, decayMs) ? b : a;
}

/** Builds the strategy a policy names. */
export function balancerFor(kind: string, options: P2cEwmaOptions = {}): Balancer {
  switch (kind) {
    case 'p2c-ewma':
      return p2cEwma(options);
    case 'p2c-least-loaded':
      return p2cLeastLoaded();
    case 'round-robin':
      return roundRobin();
    case 'weighted':
      return weighted();
    case 'ring-hash':
      return ringHash();
    default:
      throw new TypeError(`unknown balancer kind ${kind}`);
  }
}
