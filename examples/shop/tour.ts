/**
 * The scripted tour (`npm start -- --tour`): six things a mesh is for, each done to the running
 * demo while the view shows what happens.
 *
 * 1. The busiest catalog instance turns slow: P2C over peak-EWMA moves traffic away from it within seconds.
 * 2. An inventory instance is killed (SIGKILL: no drain, no deregistration): calls that hit it are
 *    retried on the other one, it is ejected, then its lease expires; no request fails.
 * 3. `weft apply` changes the catalog's timeout and retry budget; the frontend applies it to its
 *    next calls, with no restart.
 * 4. Traffic control (traffic-tour.ts): catalog v2 gets shadow traffic, then requests by header,
 *    then a canary of 10% → 50% → 100%, then a chaos drill (an injected delay), then back to normal.
 * 5. The config service goes down (SIGKILL): the services carry on with what they know (static
 *    stability); it comes back on the same port and data, and the clients resume: `weft rollback`
 *    then restores the first documents (policies and the catalog Route), and the frontend applies them.
 * 6. Progressive delivery (rollout-tour.ts): a Rollout promotes catalog v2 step by step on its
 *    measured success rate; then a broken v3 is rolled out and the config service rolls it back.
 *
 * `--steps a,b` runs only the steps with those ids, in tour order (`--steps list` lists them).
 */

import { policyFile, weftCli } from './config.ts';
import { type Board, policyLine, routeLine } from './display.ts';
import type { Launcher } from './launcher.ts';
import { ROLLOUT_STEPS } from './rollout-tour.ts';
import { TRAFFIC_STEPS } from './traffic-tour.ts';

/** What the steps measured, by step id, for the summary (the demo's test reads it). */
export type TourResults = Record<string, unknown>;

export interface TourContext {
  launcher: Launcher;
  board: Board;
  dir: string;
  configUrl: string;
  adminToken: string;
  /** Revision of the first policies, for the rollback. */
  firstRevision: number;
  /** The catalog service's token, for the instances the tour starts. */
  catalogToken: string;
  /** Where narration goes besides the board's events (plain mode prints it). */
  say: ((line: string) => void) | undefined;
  /** Where the steps record what they measured. */
  results: TourResults;
}

/** Waits that many seconds, or less when the demo is being stopped. */
export type Wait = (seconds: number) => Promise<void>;

export interface Step {
  /** What `--steps` names it by. */
  id: string;
  title: string;
  run(ctx: TourContext, wait: Wait): Promise<void>;
}

function share(board: Board, destination: string, endpointName: (key: string) => boolean): number {
  const f = board.figures(destination);
  if (!f) return 0;
  const total = f.endpoints.reduce((sum, e) => sum + e.calls, 0);
  const mine = f.endpoints.filter((e) => endpointName(e.endpoint)).reduce((sum, e) => sum + e.calls, 0);
  return total === 0 ? 0 : Math.round((100 * mine) / total);
}

function endpointOf(ctx: TourContext, name: string): string {
  return `127.0.0.1:${ctx.launcher.processes.get(name)?.ready?.port ?? 0}`;
}

const STEPS: Step[] = [
  {
    id: 'warm-up',
    title: 'warm-up: calls spread over every endpoint',
    async run(_ctx, wait) {
      await wait(5);
    },
  },
  {
    id: 'slow',
    title: 'the busiest catalog instance turns slow (+40 ms a request): watch its share fall',
    async run(ctx, wait) {
      // Slow the instance with the largest share now, so the shift is plain to see.
      const f = ctx.board.figures('catalog');
      const busiest = [...(f?.endpoints ?? [])].sort((a, b) => b.calls - a.calls)[0]?.endpoint;
      const name =
        [...ctx.launcher.processes.values()].find((p) => `127.0.0.1:${p.ready?.port}` === busiest)?.name ??
        'catalog-1';
      const slow = endpointOf(ctx, name);
      const before = share(ctx.board, 'catalog', (k) => k === slow);
      ctx.launcher.tell(name, { type: 'slow', ms: 40 });
      ctx.board.event(`${name} answers 40 ms slower now (it had ${before}% of catalog calls)`);
      await wait(8);
      const after = share(ctx.board, 'catalog', (k) => k === slow);
      ctx.board.event(
        `${name} got ${after}% of catalog calls in the last second: P2C over peak-EWMA avoids it`,
      );
      ctx.launcher.tell(name, { type: 'slow', ms: 0 });
      ctx.board.event(`${name} is fast again; it wins traffic back as its latency estimate decays`);
      await wait(5);
    },
  },
  {
    id: 'kill',
    title: 'inventory-2 is killed (SIGKILL): no request may fail',
    async run(ctx, wait) {
      const before = ctx.board.sum();
      ctx.launcher.kill('inventory-2');
      ctx.board.event('inventory-2 killed: no drain, no deregistration');
      await wait(10);
      const after = ctx.board.sum();
      ctx.board.event(
        `since the kill: ${after.requests - before.requests} calls, ${after.failures - before.failures} failed ` +
          '(connection failures retried on inventory-1; the endpoint ejected, then its lease expired)',
      );
    },
  },
  {
    id: 'apply',
    title: 'weft apply: catalog timeout 1000 → 600 ms, retry budget 20% → 50%, live',
    async run(ctx, wait) {
      const file = policyFile(
        ctx.dir,
        'catalog',
        [
          'kind: DestinationPolicy',
          'name: catalog',
          'spec:',
          '  timeoutMs: 600',
          '  perTryTimeoutMs: 300',
          '  retry: { maxAttempts: 3, budget: { percent: 50, minRetriesPerSecond: 10 } }',
          '  outlierDetection: { consecutiveFailures: 5, baseEjectionMs: 5000 }',
          '',
        ].join('\n'),
      );
      const out = await weftCli(ctx.configUrl, ctx.adminToken, ['apply', '-f', file]);
      ctx.board.event(`$ weft apply -f catalog-policy.yaml → ${out.split('\n')[0]}`);
      await wait(3);
      const policy = ctx.board.figures('catalog')?.policy;
      if (policy) ctx.board.event(`frontend → catalog now: ${policyLine(policy)}`);
      await wait(2);
    },
  },
  ...TRAFFIC_STEPS,
  {
    id: 'config-down',
    title: 'the config service goes down (SIGKILL): the services carry on',
    async run(ctx, wait) {
      const port = ctx.launcher.processes.get('config')?.ready?.port;
      const before = ctx.board.sum();
      ctx.launcher.kill('config');
      ctx.board.configUp = false;
      ctx.board.event('config service killed: clients keep their last-known-good policies and endpoints');
      await wait(8);
      const after = ctx.board.sum();
      ctx.board.event(
        `while it was down: ${after.requests - before.requests} calls, ${after.failures - before.failures} failed`,
      );
      ctx.launcher.forget('config');
      await ctx.launcher.start('config', 'config-service.ts', {
        WEFT_ADMIN_TOKEN: ctx.adminToken,
        SHOP_CONFIG_PORT: String(port),
      });
      ctx.board.configUp = true;
      ctx.board.event(
        `config service back on :${port} with the same data; clients resume from their revision`,
      );
      await wait(2);
    },
  },
  {
    id: 'rollback',
    title: 'weft rollback: every document back to the first revision, through the resumed streams',
    async run(ctx, wait) {
      const out = await weftCli(ctx.configUrl, ctx.adminToken, ['rollback', String(ctx.firstRevision)]);
      ctx.board.event(`$ weft rollback ${ctx.firstRevision} → ${out.split('\n')[0]}`);
      // The clients reconnect with jittered backoff (up to 10 s between tries): give them time.
      const timeout = () =>
        (ctx.board.figures('catalog')?.policy as { timeoutMs?: number } | undefined)?.timeoutMs;
      for (let i = 0; i < 20 && timeout() !== 1000; i++) await wait(1);
      const policy = ctx.board.figures('catalog')?.policy;
      if (policy) ctx.board.event(`frontend → catalog now: ${policyLine(policy)}`);
      const route = ctx.board.figures('catalog')?.route;
      if (route) ctx.board.event(`frontend → catalog route now: ${routeLine(route)} (v2 dark again)`);
      const c = ctx.board.configClient;
      ctx.board.event(`frontend's config client: ${c.state}, revision ${c.revision}`);
      await wait(3);
    },
  },
  ...ROLLOUT_STEPS,
];

/** The ids of the tour's steps, in order. */
export const STEP_IDS: readonly string[] = STEPS.map((s) => s.id);

/** The steps `--steps` names (comma-separated ids), in tour order; every step when undefined. */
export function selectSteps(ids: string | undefined): Step[] {
  if (ids === undefined) return STEPS;
  const wanted = new Set(ids.split(',').map((id) => id.trim()));
  const unknown = [...wanted].filter((id) => !STEP_IDS.includes(id));
  if (unknown.length)
    throw new Error(`--steps: no step ${unknown.join(', ')} (steps: ${STEP_IDS.join(', ')})`);
  return STEPS.filter((s) => wanted.has(s.id));
}

/** Runs `steps` of the tour; resolves when they are done or when `stop` resolves. */
export async function runTour(ctx: TourContext, steps: readonly Step[], stop: Promise<void>): Promise<void> {
  let stopped = false;
  void stop.then(() => {
    stopped = true;
  });
  const wait = (seconds: number) =>
    Promise.race([new Promise<void>((resolve) => setTimeout(resolve, seconds * 1000)), stop]);
  const log = ctx.board.event.bind(ctx.board);
  ctx.board.event = (text: string) => {
    log(text);
    ctx.say?.(`  » ${text}`);
  };
  for (const [i, step] of steps.entries()) {
    if (stopped) return;
    ctx.board.step = `${i + 1}/${steps.length}: ${step.title}`;
    ctx.board.progress = { label: `tour step ${i + 1} of ${steps.length}`, done: i, total: steps.length };
    ctx.say?.(`tour ${ctx.board.step}`);
    await step.run(ctx, wait);
  }
  ctx.board.progress = { label: 'tour done', done: steps.length, total: steps.length };
  ctx.board.step = 'done';
}
