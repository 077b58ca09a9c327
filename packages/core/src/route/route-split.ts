/**
 * Rewriting the weights of a Route's default rule: what `weft split` and the rollout driver write.
 * One implementation, so a canary step made by hand and one made by a Rollout change the same rule
 * in the same way.
 */
import type { RouteSpec } from './route-schema.ts';

type RouteRule = RouteSpec['rules'][number];
/** A backend of a rule: a subset and its relative weight. */
export type SplitBackend = NonNullable<RouteRule['backends']>[number];

/** The outcome of {@link splitSpec}. */
export interface SplitChange {
  readonly spec: RouteSpec;
  /** Index of the default rule in `spec.rules`. */
  readonly rule: number;
  /** True when the Route had no default rule and one was appended. */
  readonly appended: boolean;
  /** The rule's backends before (undefined: none, so the whole destination). */
  readonly before: readonly SplitBackend[] | undefined;
}

/**
 * The default rule: the first rule without matches. Rules are tried in order and such a rule takes
 * every call no earlier rule matched, so it is the one that runs (any later rule is never reached).
 * -1 when there is none.
 */
export function defaultRuleIndex(rules: readonly RouteRule[]): number {
  return rules.findIndex((r) => !r.matches?.length);
}

/**
 * Gives the default rule exactly `backends` (appending a rule without matches when there is none);
 * its other fields and every other rule stay as they are.
 */
export function splitSpec(spec: RouteSpec, backends: readonly SplitBackend[]): SplitChange {
  const rules = [...spec.rules];
  const found = defaultRuleIndex(rules);
  const rule = found < 0 ? rules.length : found;
  const before = found < 0 ? undefined : rules[found]!.backends;
  rules[rule] = { ...(found < 0 ? {} : rules[found]), backends: backends.map((b) => ({ ...b })) };
  return { spec: { ...spec, rules }, rule, appended: found < 0, before };
}
