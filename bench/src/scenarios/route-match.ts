/**
 * 10. Route matching cost: `RouteTable.match` (what the route module runs per call) on tables of 1,
 * 10 and 100 rules of three kinds (bench/src/lib/route-tables.ts): exact and prefix paths (indexed),
 * a mixed table of prefixes with exact and regular-expression header conditions (indexed by path),
 * and regular-expression paths only (no index: the worst case, linear). Each figure times a loop of
 * matches over a shuffled spread of calls (bench/src/lib/micro.ts). Then the whole route module's
 * added cost: the default client stack over a no-op terminal, with and without a 100-rule Route.
 */
import {
  type Call,
  compileRoute,
  createDestination,
  RouteSpec,
  type RouteSpecInput,
  type RouteTable,
  readCallHeader,
  systemClock,
} from '@weft/core';
import { FakeResponse, fakeBinding } from '@weft/core/testing';
import { type BenchContext, fixed, type Scenario, type ScenarioResult, table } from '../lib/context.ts';
import { type MicroCase, measureMicro } from '../lib/micro.ts';
import { callOf, callShapes, routeSpec, TABLE_KINDS, type TableKind } from '../lib/route-tables.ts';

const SIZES = [1, 10, 100];
/** Calls per table, cycled through (a power of two). */
const CALLS = 1024;
const MASK = CALLS - 1;
const KIND_NAMES: Record<TableKind, string> = {
  prefix: '(a) exact and prefix paths',
  mixed: '(b) mixed: prefixes with exact or regex headers',
  regex: '(c) regex paths only (no index)',
};
const NO_ROUTE = 'default stack, no Route';
const WITH_ROUTE = 'default stack, 100-rule mixed Route (90/10 split per rule)';

function matchCase(kind: TableKind, rules: number): { micro: MicroCase; matched: number } {
  const compiled: RouteTable = compileRoute(RouteSpec.parse(routeSpec(kind, rules)), 'verb');
  const shapes = callShapes(kind, rules, CALLS);
  const calls = shapes.map((s) => callOf('bench', s));
  // The figures are only worth something if every call finds the rule it was made for.
  let matched = 0;
  calls.forEach((c, k) => {
    const got = compiled.match(c, readCallHeader)?.index ?? -1;
    if (got !== shapes[k]!.expected)
      throw new Error(`${kind} × ${rules}: ${c.path} matched rule ${got}, not ${shapes[k]!.expected}`);
    if (got >= 0) matched++;
  });
  return {
    matched: matched / CALLS,
    micro: {
      name: `${kind} × ${rules}`,
      run(n) {
        let hits = 0;
        for (let k = 0; k < n; k++)
          if (compiled.match(calls[k & MASK]!, readCallHeader) !== undefined) hits++;
        return hits;
      },
    },
  };
}

/** Labelled endpoints the no-op terminal never really reaches. */
const ENDPOINTS = [1, 2, 3, 4].map((i) => ({
  address: `10.0.0.${i}`,
  port: 8080,
  labels: { version: i < 4 ? 'v1' : 'v2' },
}));

/** The default client stack of a destination whose terminal answers at once, over the fake binding. */
function stackCase(name: string, route: RouteSpecInput | undefined) {
  const terminal = (call: Call) =>
    Promise.resolve(
      new FakeResponse(200, call.endpoint?.key ?? '', call.attempt, false, systemClock, 0, undefined),
    );
  const destination = createDestination(
    fakeBinding(terminal),
    'bench',
    { endpoints: ENDPOINTS, ...(route ? { route } : {}) },
    { kind: 'bench' },
  );
  const shapes = callShapes('mixed', 100, CALLS);
  const micro: MicroCase = {
    name,
    async run(n) {
      let ok = 0;
      for (let k = 0; k < n; k++) {
        const response = await destination.call(callOf('bench', shapes[k & MASK]!));
        if (response.status === 200) ok++;
      }
      return ok;
    },
  };
  return { micro, close: () => destination.close() };
}

export const routeMatch: Scenario = {
  id: 'route-match',
  title: '10. Route matching cost',
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const options = ctx.quick
      ? { rounds: 3, roundMs: 10, warmupMs: 10 }
      : { rounds: 15, roundMs: 40, warmupMs: 100 };
    const cases = TABLE_KINDS.flatMap((kind) => SIZES.map((n) => matchCase(kind, n)));
    ctx.log(`route match: ${cases.length} tables, ${options.rounds} rounds of ~${options.roundMs} ms`);
    const matches = await measureMicro(
      cases.map((c) => c.micro),
      options,
    );
    const stacks = [stackCase(NO_ROUTE, undefined), stackCase(WITH_ROUTE, routeSpec('mixed', 100))];
    ctx.log('route match: the route module through the default stack');
    // An async stack takes far longer than a match to reach its optimised code: a longer warm-up.
    const stackOptions = ctx.quick
      ? { rounds: 3, roundMs: 20, warmupMs: 150 }
      : { rounds: 15, roundMs: 50, warmupMs: 500 };
    let perCall: Map<string, { ns: number; rounds: number[] }>;
    try {
      perCall = await measureMicro(
        stacks.map((s) => s.micro),
        stackOptions,
      );
    } finally {
      for (const s of stacks) s.close();
    }
    const ns = (kind: TableKind, n: number) => matches.get(`${kind} × ${n}`)!.ns;
    const share = (kind: TableKind, n: number) =>
      cases[TABLE_KINDS.indexOf(kind) * SIZES.length + SIZES.indexOf(n)]!.matched;
    const rows = TABLE_KINDS.map((kind) => [
      KIND_NAMES[kind],
      ...SIZES.map((n) => fixed(ns(kind, n), 0)),
      `${fixed(ns(kind, 100) / ns(kind, 1))}×`,
      SIZES.map((n) => `${Math.round(share(kind, n) * 100)}%`).join(' / '),
    ]);
    const bare = perCall.get(NO_ROUTE)!.ns;
    const routed = perCall.get(WITH_ROUTE)!.ns;
    // Paired by round: both stacks ran back to back in each round.
    const addedRounds = perCall.get(WITH_ROUTE)!.rounds.map((x, i) => x - perCall.get(NO_ROUTE)!.rounds[i]!);
    const added = addedRounds.slice().sort((a, b) => a - b)[addedRounds.length >> 1]!;
    const flat = ns('prefix', 100) / ns('prefix', 1);
    const nsPerMatch = Object.fromEntries([...matches].map(([k, v]) => [k, v.ns]));
    return {
      id: 'route-match',
      title: this.title,
      setup: `\`compileRoute(spec, 'verb').match(call, readCallHeader)\` in a loop over ${CALLS} prepared GET calls per table (spread evenly over the rules' paths in a shuffled order, one in ten matching no rule, a quarter with a query string, three to five headers each); each table warmed up (≥ ${options.warmupMs} ms), then ${options.rounds} rounds of about ${options.roundMs} ms, the tables in a rotating order; \`process.hrtime.bigint()\` around each loop; medians of the rounds. The stack rows send calls of the mixed spread through the default client stack of a destination over the testing kit's binding whose terminal answers at once (4 endpoints labelled v1/v2), one call at a time, warmed up ≥ ${stackOptions.warmupMs} ms, ${stackOptions.rounds} rounds of about ${stackOptions.roundMs} ms.`,
      tables: [
        table(
          [
            'table',
            ...SIZES.map((n) => `${n} rule${n === 1 ? '' : 's'}: ns/match`),
            '100 ÷ 1',
            'calls that match a rule (1 / 10 / 100)',
          ],
          rows,
        ),
        table(
          ['per call', 'ns/call', 'added by the route module, ns (paired median)'],
          [
            [NO_ROUTE, fixed(bare, 0), ''],
            [WITH_ROUTE, fixed(routed, 0), fixed(added, 0)],
          ],
        ),
      ],
      goals: [
        {
          text: 'route match with 100 exact/prefix rules ≤ 1 µs per call',
          measured: `${fixed(ns('prefix', 100), 0)} ns`,
          met: ns('prefix', 100) <= 1_000,
        },
        {
          text: 'route match with 100 mixed rules (prefixes, exact and regex headers) ≤ 1 µs per call',
          measured: `${fixed(ns('mixed', 100), 0)} ns`,
          met: ns('mixed', 100) <= 1_000,
        },
        {
          text: 'flat: 100 exact/prefix rules ≤ 2× the cost of 1',
          measured: `${fixed(flat)}× (${SIZES.map((n) => fixed(ns('prefix', n), 0)).join(' / ')} ns)`,
          met: flat <= 2,
        },
      ],
      notes: [
        'Why the indexed tables stay flat: rules whose matches all name an exact path or a path prefix are found through maps keyed by path, looked up once per `/` boundary of the request path, so the work grows with the depth of the path, not with the rules; only the few candidates found are tried in order. Rules with a regular-expression path (or no path) cannot be indexed and are tried for every call, in order: the regex-only table shows that cost growing with the rules, and why a large table should lead with paths.',
        `The index has a fixed cost a lone rule does not need: with one rule, a regex path costs ${fixed(ns('regex', 1), 0)} ns and a prefix path ${fixed(ns('prefix', 1), 0)} ns (for the prefix, the query is cut off and each segment of the path looked up in a map). As the rules grow: with ten ${fixed(ns('prefix', 10), 0)} ns for prefixes against ${fixed(ns('regex', 10), 0)} ns for regexes, with a hundred ${fixed(ns('prefix', 100), 0)} against ${fixed(ns('regex', 100), 0)} ns.`,
        `The route module's whole cost is more than the match: it also sets the rule on the call (the balancer then picks v1 or v2 by weight) and its attributes. With 100 rules it adds ${fixed(added, 0)} ns to a call that costs ${fixed(bare, 0)} ns through the default stack without a Route.`,
      ],
      figures: {
        nsPerMatch,
        matchRounds: Object.fromEntries([...matches].map(([k, v]) => [k, v.rounds])),
        matchedShare: Object.fromEntries(cases.map((c) => [c.micro.name, c.matched])),
        stackNsPerCall: { [NO_ROUTE]: bare, [WITH_ROUTE]: routed },
        routeModuleAddedNs: added,
        calls: CALLS,
        matchTiming: options,
        stackTiming: stackOptions,
      },
    };
  },
};
