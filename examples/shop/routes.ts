/**
 * The demo's `Route` for catalog, in every state the tour puts it in. Catalog runs two v1 instances
 * and one v2 (its `version` label, registered by each instance); v2 starts dark:
 *
 * - rule `canary-header`: requests with `x-canary: yes` go to v2 (a dark launch for testers);
 * - rule `default` (no matches: everything else): v1 and v2 by weight — 100/0 at first, then the
 *   tour's canary 10 → 50 → 100 — with, in some steps, a mirror to v2 or an injected delay;
 * - `overrides: true`: a request carrying `weft-route: catalog=v2` reaches v2, from any hop.
 *
 * One builder makes the spec (seeded through the API as JSON) and the YAML file the tour hands to
 * `weft apply`, so the two never differ.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RouteSpecInput } from '@weft/core/config';

/** Relative weights of the default rule's backends. */
export interface Weights {
  v1: number;
  v2: number;
}

export interface CatalogRouteOptions {
  weights: Weights;
  /** Mirrors this percentage of the default rule's calls to v2 (shadow traffic). Defaults to none. */
  mirrorPercent?: number;
  /** Delays every call of the default rule by this many ms (a chaos drill). Defaults to none. */
  delayMs?: number;
  /** Adds subset v3 (the tour's broken version, for its Rollout). Defaults to no. */
  v3?: boolean;
}

/** The catalog Route the demo starts with: every call to v1, v2 only by header or override. */
export const INITIAL_WEIGHTS: Weights = { v1: 100, v2: 0 };

export function catalogRoute(options: CatalogRouteOptions): RouteSpecInput {
  const { weights, mirrorPercent, delayMs, v3 } = options;
  return {
    subsets: { v1: { version: 'v1' }, v2: { version: 'v2' }, ...(v3 ? { v3: { version: 'v3' } } : {}) },
    overrides: true,
    rules: [
      {
        name: 'canary-header',
        matches: [{ headers: [{ name: 'x-canary', value: 'yes' }] }],
        backends: [{ subset: 'v2' }],
      },
      {
        name: 'default',
        backends: [
          { subset: 'v1', weight: weights.v1 },
          { subset: 'v2', weight: weights.v2 },
        ],
        ...(mirrorPercent === undefined ? {} : { mirror: { subset: 'v2', percent: mirrorPercent } }),
        ...(delayMs === undefined ? {} : { fault: { delay: { ms: delayMs, percent: 100 } } }),
      },
    ],
  };
}

/** Writes `catalog-route.yaml` (a Route document) in `dir` for `weft apply -f`; returns its path. */
export function routeFile(dir: string, spec: RouteSpecInput): string {
  const file = join(dir, 'catalog-route.yaml');
  const rules = (spec.rules ?? []).flatMap((rule) =>
    Object.entries(rule).map(([key, value], i) => `${i === 0 ? '    - ' : '      '}${key}: ${flow(value)}`),
  );
  const lines = ['kind: Route', 'name: catalog', 'spec:'];
  for (const [key, value] of Object.entries(spec))
    if (key !== 'rules') lines.push(`  ${key}: ${flow(value)}`);
  lines.push('  rules:', ...rules, '');
  writeFileSync(file, lines.join('\n'));
  return file;
}

/** Scalars YAML could read as something other than a string are quoted. */
const PLAIN = /^[a-z][a-z0-9./-]*$/i;
const AMBIGUOUS = /^(?:y|n|yes|no|on|off|true|false|null)$/i;

/** A value in YAML flow style (`{ subset: v1, weight: 90 }`). */
function flow(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(flow).join(', ')}]`;
  if (typeof value === 'object' && value !== null)
    return `{ ${Object.entries(value)
      .map(([k, v]) => `${k}: ${flow(v)}`)
      .join(', ')} }`;
  if (typeof value === 'string' && PLAIN.test(value) && !AMBIGUOUS.test(value)) return value;
  return JSON.stringify(value);
}
