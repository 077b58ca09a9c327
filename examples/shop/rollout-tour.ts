/**
 * The tour's last two steps: progressive delivery by the config service itself. A `Rollout` moves
 * catalog's calls from one version to the next in steps, judging each step on the traffic summaries
 * the frontend reports; the tour only applies the documents and reads `GET /v1/rollouts/catalog`.
 *
 * 1. `rollout-v2`: v1 → v2 (healthy): every interval passes and v2 is promoted to 100.
 * 2. `rollout-v3`: a broken v3 (an instance failing a share of its requests) is started and given a
 *    subset; the Rollout v2 → v3 fails its intervals and rolls back by itself (canary weight 0).
 *
 * Timing: with the demo's short traffic buckets and reports (timing.ts), an interval of
 * {@link INTERVAL_S} s (two buckets) holds enough reports to judge.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RolloutStatusSpec as RolloutStatus } from '@weft/core/config';
import { api, weftCli } from './config.ts';
import { catalogRoute, routeFile } from './routes.ts';
import { TRAFFIC_BUCKET_MS } from './timing.ts';
import type { Step, TourContext, Wait } from './tour.ts';

/** The rollouts' analysis interval, in s: a multiple of the bucket, as progressive-delivery.md asks. */
const INTERVAL_S = (2 * TRAFFIC_BUCKET_MS) / 1000;
/** Share of requests the broken v3 instance fails, in percent. */
export const V3_FAIL_PERCENT = 30;
/** The instance of catalog v3 the tour starts. */
const V3_INSTANCE = 'catalog-4';
/** How long a step waits for its rollout to finish, in seconds. */
const PATIENCE_SECONDS = 120;

/** A Rollout of catalog from `stable` to `canary`, as the YAML `weft apply -f` reads. */
function rolloutYaml(stable: string, canary: string, pauseS: number): string {
  return [
    'kind: Rollout',
    'name: catalog',
    'spec:',
    `  stable: ${stable}`,
    `  canary: ${canary}`,
    '  steps:',
    `    - { weight: 20, pauseS: ${pauseS} }`,
    `    - { weight: 50, pauseS: ${pauseS} }`,
    '    - { weight: 100 }',
    '  analysis:',
    `    intervalS: ${INTERVAL_S}`,
    '    minRequests: 40',
    '    successRate: { minPercent: 95 }',
    '    relativeToStable: { maxDropPoints: 2 }',
    '    failureLimit: 2',
    '',
  ].join('\n');
}

/** `weft apply -f catalog-rollout.yaml`; resolves with the line to show. */
async function applyRollout(ctx: TourContext, yaml: string): Promise<string> {
  const file = join(ctx.dir, 'catalog-rollout.yaml');
  writeFileSync(file, yaml);
  const out = await weftCli(ctx.configUrl, ctx.adminToken, ['apply', '-f', file]);
  return `$ weft apply -f catalog-rollout.yaml → ${out.split('\n')[0]}`;
}

interface RolloutView {
  revision: number;
  status: (RolloutStatus & { current?: boolean }) | null;
}

/** Reads catalog's rollout until the driver finished it (promoted, failed, aborted or paused). */
async function finished(ctx: TourContext, revision: number, wait: Wait): Promise<RolloutStatus | undefined> {
  let shown = -1;
  for (let i = 0; i < PATIENCE_SECONDS; i++) {
    const view = (await api(ctx.configUrl, ctx.adminToken, 'GET', '/v1/rollouts/catalog')) as RolloutView;
    const s = view.status;
    if (s && view.revision >= revision && s.current !== false) {
      if (s.step !== shown && s.phase === 'progressing') {
        shown = s.step;
        ctx.board.event(`rollout at step ${s.step + 1}: canary weight ${s.canaryWeight}`);
      }
      if (s.phase !== 'progressing') return s;
    }
    await wait(1);
  }
  return undefined;
}

const percent = (rate: number | null | undefined) => (rate == null ? '–' : `${(100 * rate).toFixed(1)}%`);

/** The intervals of a status, one line each. */
function intervalLines(s: RolloutStatus): string[] {
  return s.intervals.map(
    (i) =>
      `interval (step ${i.step + 1}) ${i.result}: canary ${i.canary.requests} calls, ${percent(i.canary.successRate)} ok; ` +
      `stable ${i.stable.requests} calls, ${percent(i.stable.successRate)} ok`,
  );
}

/** What a finished rollout step records in the tour's results. */
function recorded(s: RolloutStatus | undefined) {
  return {
    phase: s?.phase ?? 'timed out',
    canaryWeight: s?.canaryWeight,
    failedIntervals: s?.failedIntervals,
    reason: s?.reason,
    intervals: (s?.intervals ?? []).map((i) => i.result),
  };
}

/** User requests (load generator → frontend) and their failures since the start. */
function userRequests(ctx: TourContext): { requests: number; failures: number } {
  return { ...(ctx.board.seen.get('frontend') ?? { requests: 0, failures: 0 }) };
}

export const ROLLOUT_STEPS: Step[] = [
  {
    id: 'rollout-v2',
    title: 'a Rollout of catalog v1 → v2 (20% → 50% → 100%), judged on the traffic: v2 is healthy',
    async run(ctx, wait) {
      ctx.board.event(await applyRollout(ctx, rolloutYaml('v1', 'v2', INTERVAL_S)));
      const view = (await api(ctx.configUrl, ctx.adminToken, 'GET', '/v1/rollouts/catalog')) as RolloutView;
      const s = await finished(ctx, view.revision, wait);
      for (const line of s ? intervalLines(s) : []) ctx.board.event(line);
      ctx.board.event(
        s
          ? `rollout ${s.phase}: v2 has weight ${s.canaryWeight} (${s.intervals.filter((i) => i.result === 'passed').length} intervals passed, ${s.failedIntervals} failed)`
          : `the rollout did not finish within ${PATIENCE_SECONDS} s`,
      );
      ctx.results['rollout-v2'] = recorded(s);
    },
  },
  {
    id: 'rollout-v3',
    title: `a broken catalog v3 (fails ${V3_FAIL_PERCENT}% of requests) rolled out after v2: it rolls back by itself`,
    async run(ctx, wait) {
      await ctx.launcher.start(V3_INSTANCE, 'catalog.ts', {
        WEFT_CONTROL_PLANE: ctx.configUrl,
        WEFT_TOKEN: ctx.catalogToken,
        SHOP_VERSION: 'v3',
        SHOP_FAIL_PERCENT: String(V3_FAIL_PERCENT),
      });
      ctx.board.event(`${V3_INSTANCE} started: catalog v3, failing ${V3_FAIL_PERCENT}% of its requests`);
      const route = catalogRoute({ weights: { v1: 0, v2: 100 }, v3: true });
      const out = await weftCli(ctx.configUrl, ctx.adminToken, ['apply', '-f', routeFile(ctx.dir, route)]);
      ctx.board.event(`$ weft apply -f catalog-route.yaml → ${out.split('\n')[0]} (subset v3 added)`);
      const before = userRequests(ctx);
      ctx.board.event(await applyRollout(ctx, rolloutYaml('v2', 'v3', 3 * INTERVAL_S)));
      const view = (await api(ctx.configUrl, ctx.adminToken, 'GET', '/v1/rollouts/catalog')) as RolloutView;
      const s = await finished(ctx, view.revision, wait);
      const after = userRequests(ctx);
      for (const line of s ? intervalLines(s) : []) ctx.board.event(line);
      ctx.board.event(
        s
          ? `rollout ${s.phase}: v3 has weight ${s.canaryWeight}; ${s.reason ?? ''}`
          : `the rollout did not finish within ${PATIENCE_SECONDS} s`,
      );
      const requests = after.requests - before.requests;
      const failures = after.failures - before.failures;
      ctx.board.event(
        `during the bad rollout: ${failures} of ${requests} user requests failed ` +
          `(${((100 * failures) / Math.max(1, requests)).toFixed(2)}%; the frontend's retries hid most of v3's failures)`,
      );
      ctx.results['rollout-v3'] = { ...recorded(s), userRequests: requests, userFailures: failures };
    },
  },
];
