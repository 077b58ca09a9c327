/**
 * The `Route` tables of the route-matching scenario and the calls matched against them. Every rule
 * has a path of its own (`/svc-<i>`), so a spread of calls reaches every rule; one call in ten
 * matches no rule at all (it goes to the whole destination).
 *
 * - `prefix`: each rule a `PathPrefix`, every third one also an `Exact` path (`/v1/svc-<i>/health`).
 *   Indexed: the cost should not grow with the number of rules.
 * - `mixed`: each rule a `PathPrefix`; a third of them also need an exact header (`x-tenant`), a
 *   third a header matching a regular expression (`x-user`). Indexed by path, then the candidates'
 *   header conditions run. One call in eight to a header rule carries the wrong header.
 * - `regex`: each rule a `RegularExpression` path: no index, every rule is tried in order until one
 *   matches (the worst case, linear in the rules).
 */
import { Call, type RouteSpecInput } from '@weft/core';
import { seededRandom } from '@weft/core/testing';

export type TableKind = 'prefix' | 'mixed' | 'regex';

export const TABLE_KINDS: readonly TableKind[] = ['prefix', 'mixed', 'regex'];

/** Subsets every table's rules split over, as a canary would. */
export const SUBSETS = { v1: { version: 'v1' }, v2: { version: 'v2' } };

const BACKENDS = [
  { subset: 'v1', weight: 90 },
  { subset: 'v2', weight: 10 },
];

function rule(kind: TableKind, i: number): NonNullable<RouteSpecInput['rules']>[number] {
  const prefix = `/svc-${i}`;
  if (kind === 'regex')
    return {
      matches: [{ path: { type: 'RegularExpression', value: `${prefix}/items(/[0-9]+)?` } }],
      backends: BACKENDS,
    };
  if (kind === 'prefix') {
    const matches: NonNullable<NonNullable<RouteSpecInput['rules']>[number]['matches']> = [
      { path: { type: 'PathPrefix', value: prefix } },
    ];
    if (i % 3 === 0) matches.push({ path: { type: 'Exact', value: `/v1${prefix}/health` } });
    return { matches, backends: BACKENDS };
  }
  const path = { type: 'PathPrefix' as const, value: prefix };
  if (i % 3 === 1)
    return { matches: [{ path, headers: [{ name: 'x-tenant', value: `t${i}` }] }], backends: BACKENDS };
  if (i % 3 === 2)
    return {
      matches: [{ path, headers: [{ name: 'x-user', type: 'RegularExpression', value: `u-${i}-[0-9]+` }] }],
      backends: BACKENDS,
    };
  return { matches: [{ path }], backends: BACKENDS };
}

/** A table of `rules` rules of `kind`. */
export function routeSpec(kind: TableKind, rules: number): RouteSpecInput {
  return { subsets: SUBSETS, rules: Array.from({ length: rules }, (_, i) => rule(kind, i)) };
}

/** The request of call `k` aimed at rule `i` (or at none when `i` is -1): method, path, headers. */
export interface CallShape {
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The index of the rule it must match, or -1 for none. */
  readonly expected: number;
}

/** Headers every call carries, as a browser or an SDK would send them. */
const COMMON = {
  accept: 'application/json',
  'user-agent': 'bench/1.0',
  'accept-encoding': 'gzip, br',
};

function shape(kind: TableKind, i: number, k: number): CallShape {
  const query = k % 4 === 0 ? '?page=2' : '';
  if (i < 0) return { path: `/other/items/${k % 1000}${query}`, headers: COMMON, expected: -1 };
  const wrong = k % 8 === 0;
  const expected = wrong && kind === 'mixed' && i % 3 !== 0 ? -1 : i;
  const headers = {
    ...COMMON,
    'x-tenant': wrong ? 'nobody' : `t${i}`,
    'x-user': wrong ? 'anonymous' : `u-${i}-${1000 + (k % 9000)}`,
  };
  if (kind === 'prefix' && i % 3 === 0 && k % 2 === 0)
    return { path: `/v1/svc-${i}/health`, headers, expected };
  return { path: `/svc-${i}/items/${k % 1000}${query}`, headers, expected };
}

/**
 * `count` call shapes spread evenly over the rules of a `rules`-rule table (one in ten aimed at no
 * rule), in a fixed shuffled order, so that neither the branch predictor nor a cache learns a cycle.
 */
export function callShapes(kind: TableKind, rules: number, count: number): CallShape[] {
  const out: CallShape[] = [];
  let aimed = 0;
  for (let k = 0; k < count; k++) out.push(shape(kind, k % 10 === 9 ? -1 : aimed++ % rules, k));
  const random = seededRandom(rules * 31 + kind.length);
  for (let k = out.length - 1; k > 0; k--) {
    const j = Math.floor(random() * (k + 1));
    [out[k], out[j]] = [out[j]!, out[k]!];
  }
  return out;
}

/** A `Call` of a shape, with its own headers object (the stack writes into it). */
export function callOf(destination: string, s: CallShape): Call {
  return new Call(destination, 'GET', s.path, { ...s.headers });
}
