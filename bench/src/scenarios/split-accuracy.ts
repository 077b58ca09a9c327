/**
 * 11. Split accuracy: a 90/10 split of a Route set in code on `createClient`, counted where the
 * requests land — two backend processes, one per subset (v1, v2), each counting the requests it
 * served. First by request (each request drawn by weight), then with `hashOn` (each of as many
 * distinct user keys as requests sent once: the share of users on v2), and a second request for a
 * tenth of those users, which must land on the version it landed on the first time.
 */
import type { RouteSpecInput } from '@weft/core';
import { createClient } from '@weft/http';
import { type Backends, labelledEndpoints, startBackends } from '../lib/backends.ts';
import { type BenchContext, fixed, int, type Scenario, type ScenarioResult, table } from '../lib/context.ts';
import { closedLoop, type LoadResult } from '../lib/load.ts';

const WEIGHTS = { v1: 90, v2: 10 };
const ENDPOINTS_PER_SUBSET = 2;
const CONCURRENCY = 64;
const WARMUP = 1_000;
/** Points the v2 share may be off the weight. */
const TOLERANCE = 0.5;
const USER_HEADER = 'x-user-id';

function route(hashOn: boolean): RouteSpecInput {
  return {
    subsets: { v1: { version: 'v1' }, v2: { version: 'v2' } },
    rules: [
      {
        matches: [{ path: { type: 'PathPrefix', value: '/items' }, method: 'GET' }],
        ...(hashOn ? { hashOn: { header: USER_HEADER } } : {}),
        backends: [
          { subset: 'v1', weight: WEIGHTS.v1 },
          { subset: 'v2', weight: WEIGHTS.v2 },
        ],
      },
    ],
  };
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

interface Split {
  /** Requests sent (and completed) in the measured part. */
  requests: number;
  failures: number;
  v1: number;
  v2: number;
  /** v2's share of what the backends served, in percent. */
  share: number;
  /** share − the weight's share, in points. */
  deviation: number;
  rps: number;
  /** hashOn only: users whose second request went to another version than their first. */
  moved?: number;
  /** hashOn only: users asked twice. */
  repeated?: number;
}

/** Runs `n` requests through `fn` and counts what each subset's backends served meanwhile. */
async function counted(
  fn: () => Promise<boolean>,
  n: number,
  v1: Backends,
  v2: Backends,
): Promise<{ load: LoadResult; v1: number; v2: number }> {
  const [a0, b0] = await Promise.all([v1.counts(), v2.counts()]);
  const load = await closedLoop(fn, { concurrency: CONCURRENCY, durationMs: 300_000, maxRequests: n });
  const [a1, b1] = await Promise.all([v1.counts(), v2.counts()]);
  return { load, v1: sum(a1) - sum(a0), v2: sum(b1) - sum(b0) };
}

function split(c: { load: LoadResult; v1: number; v2: number }): Split {
  const share = (c.v2 / (c.v1 + c.v2)) * 100;
  return {
    requests: c.load.completed,
    failures: c.load.failures,
    v1: c.v1,
    v2: c.v2,
    share,
    deviation: share - (WEIGHTS.v2 / (WEIGHTS.v1 + WEIGHTS.v2)) * 100,
    rps: c.load.rps,
  };
}

export const splitAccuracy: Scenario = {
  id: 'split-accuracy',
  title: '11. Split accuracy of a 90/10 canary',
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const n = ctx.quick ? 10_000 : 100_000;
    const spec = (name: string) => Array.from({ length: ENDPOINTS_PER_SUBSET }, () => ({ name }));
    const [v1, v2] = await Promise.all([startBackends(spec('v1'), 1), startBackends(spec('v2'), 1)]);
    const endpoints = [
      ...labelledEndpoints(v1, { version: 'v1' }),
      ...labelledEndpoints(v2, { version: 'v2' }),
    ];
    const options = { service: 'catalog', endpoints, keepAliveTimeoutMs: 60_000 };
    const weighted = createClient({ ...options, route: route(false) });
    const sticky = createClient({ ...options, route: route(true) });
    try {
      const byRequest = async () => {
        const res = await weighted.fetch('/items/42');
        await res.text();
        return res.ok;
      };
      await closedLoop(byRequest, { concurrency: CONCURRENCY, durationMs: 30_000, maxRequests: WARMUP });
      ctx.log(`split accuracy: ${int(n)} requests, 90/10 by request`);
      const requests = split(await counted(byRequest, n, v1, v2));
      ctx.log(`  v2 ${fixed(requests.share, 3)}% (${fixed(requests.rps, 0)} req/s)`);

      // One request per user: user `u` is the u-th request; what answered is kept by user.
      const landed = new Uint8Array(n);
      let nextUser = 0;
      let limit = n;
      let moved = 0;
      const byUser = async () => {
        const user = nextUser++ % limit;
        const res = await sticky.fetch('/items/42', { headers: { [USER_HEADER]: `user-${user}` } });
        const version = res.headers.get('x-backend') === 'v2' ? 2 : 1;
        await res.text();
        if (landed[user] === 0) landed[user] = version;
        else if (landed[user] !== version) moved++;
        return res.ok;
      };
      await closedLoop(
        async () => {
          const res = await sticky.fetch('/items/42', { headers: { [USER_HEADER]: 'warm-up' } });
          await res.text();
          return res.ok;
        },
        { concurrency: CONCURRENCY, durationMs: 30_000, maxRequests: WARMUP },
      );
      ctx.log(`split accuracy: ${int(n)} distinct users, 90/10 with hashOn`);
      const users = split(await counted(byUser, n, v1, v2));
      ctx.log(`  v2 ${fixed(users.share, 3)}% of users (${fixed(users.rps, 0)} req/s)`);
      // A second request for the first tenth of the users.
      const repeated = Math.floor(n / 10);
      nextUser = 0;
      limit = repeated;
      await closedLoop(byUser, { concurrency: CONCURRENCY, durationMs: 60_000, maxRequests: repeated });
      users.moved = moved;
      users.repeated = repeated;
      const described = weighted.describe().route;

      const row = (name: string, s: Split) => [
        name,
        int(s.requests),
        int(s.v1),
        int(s.v2),
        `${fixed(s.share, 3)}%`,
        `${s.deviation >= 0 ? '+' : ''}${fixed(s.deviation, 3)}`,
        int(s.rps),
      ];
      const sigma = Math.sqrt((0.1 * 0.9) / n) * 100;
      return {
        id: 'split-accuracy',
        title: this.title,
        setup: `Two backend processes (node:http, answering at once), one per subset, ${ENDPOINTS_PER_SUBSET} endpoints each, labelled \`version: v1\` and \`version: v2\`; \`createClient\` with its default stack and a Route in code (subsets by label, one rule \`GET /items…\` with backends v1 weight ${WEIGHTS.v1}, v2 weight ${WEIGHTS.v2}); ${CONCURRENCY} requests in flight; ${int(WARMUP)} requests of warm-up, then ${int(n)} requests counted by the backends that served them. With \`hashOn: { header: ${USER_HEADER} }\`: ${int(n)} requests, each with a user key of its own, then a second request for ${int(repeated)} of those users (the backend names itself in a response header).`,
        tables: [
          table(
            ['split', 'requests', 'served by v1', 'served by v2', 'v2 share', 'deviation, points', 'req/s'],
            [
              row('by request (weights 90/10)', requests),
              row(`by user (\`hashOn\`, ${int(n)} users)`, users),
            ],
          ),
        ],
        goals: [
          {
            text: `90/10 split over ${int(n)} requests: v2 share within 10 ± ${TOLERANCE} points`,
            measured: `${fixed(requests.share, 3)}% (${requests.deviation >= 0 ? '+' : ''}${fixed(requests.deviation, 3)} points)`,
            met: Math.abs(requests.deviation) <= TOLERANCE && requests.v1 + requests.v2 === requests.requests,
          },
          {
            text: `the same with \`hashOn\` over ${int(n)} distinct users: users on v2 within 10 ± ${TOLERANCE} points, none moving`,
            measured: `${fixed(users.share, 3)}% (${users.deviation >= 0 ? '+' : ''}${fixed(users.deviation, 3)} points); ${int(moved)} of ${int(repeated)} users moved`,
            met:
              Math.abs(users.deviation) <= TOLERANCE && moved === 0 && users.v1 + users.v2 === users.requests,
          },
        ],
        notes: [
          `Counted at the backends, so a request retried elsewhere would show as served twice: served (${int(requests.v1 + requests.v2)} and ${int(users.v1 + users.v2)}) against sent (${int(requests.requests)} and ${int(users.requests)}), ${requests.failures + users.failures} failures. A fair 10% draw over ${int(n)} requests is off by ${fixed(sigma, 3)} points (one standard deviation) by chance alone, so the ± ${TOLERANCE} bound checks the split for bias, not for luck. By user the share depends only on the keys: each key is hashed to a fixed point on the cumulative weights, so a user stays on its version while the weights hold, and the same keys give the same share in every run.`,
        ],
        figures: {
          n,
          weights: WEIGHTS,
          byRequest: requests,
          byUser: users,
          sigmaPoints: sigma,
          route: described,
        },
      };
    } finally {
      await Promise.all([weighted.close(), sticky.close()]);
      await Promise.all([v1.close(), v2.close()]);
    }
  },
};
