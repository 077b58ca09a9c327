/**
 * The tour's traffic-control steps: catalog v2 goes from dark to every call, the way a release
 * goes out — shadow traffic first, then testers by header, then a canary by weight, then a chaos
 * drill on the new version — each by a change to catalog's `Route` in the config service, applied
 * by the frontend's Weft client to its next calls. Each step measures what it shows, from the
 * frontend's one-second windows taken once the frontend runs the new Route, and records it in the
 * tour's results (the demo's test checks them).
 */
import { documentRevision, weftCli } from './config.ts';
import type { ReceivedWindow } from './display.ts';
import { catalogRoute, INITIAL_WEIGHTS, routeFile, type Weights } from './routes.ts';
import type { Step, TourContext, Wait } from './tour.ts';

/** Windows skipped after the change: the first straddles it, the next may hold calls started before it. */
const SKIPPED_WINDOWS = 2;
/** How long a step waits for the frontend to apply a change, or for its windows, in seconds. */
const PATIENCE_SECONDS = 30;
/**
 * The chaos drill's delay, in ms. Under the adaptive per-try timeout's floor (100 ms) of the
 * frontend's own caller, so that the drill shows the added latency alone: a delay that lifts the
 * frontend's latency past it makes the load generator abandon and retry attempts to the frontend
 * (and eject it, as an endpoint that left an attempt unanswered) until its latency estimate
 * catches up — Weft's defaults reading a sudden slowdown as a hang.
 */
export const DRILL_DELAY_MS = 50;
/** The instance of catalog v2 (see the launcher's services). */
const V2_INSTANCE = 'catalog-3';

/** `weft apply -f catalog-route.yaml` with `spec`; resolves with the line to show. */
async function applyRoute(ctx: TourContext, spec: ReturnType<typeof catalogRoute>): Promise<string> {
  const out = await weftCli(ctx.configUrl, ctx.adminToken, ['apply', '-f', routeFile(ctx.dir, spec)]);
  return `$ weft apply -f catalog-route.yaml → ${out.split('\n')[0]}`;
}

/**
 * Sets the weights of catalog's default rule (its first rule without matches), keeping the rest of
 * the Route: `weft split catalog v1=90 v2=10`, written with compare-and-set on the revision it read.
 */
async function split(ctx: TourContext, weights: Weights): Promise<string> {
  const args = [`v1=${weights.v1}`, `v2=${weights.v2}`];
  const out = await weftCli(ctx.configUrl, ctx.adminToken, ['split', 'catalog', ...args]);
  return `$ weft split catalog ${args.join(' ')} → ${out.split('\n')[0]}`;
}

/** Waits until the frontend runs catalog's Route as last written; resolves with its revision. */
async function applied(ctx: TourContext, wait: Wait): Promise<number> {
  const revision = await documentRevision(ctx.configUrl, ctx.adminToken, 'Route', 'catalog');
  for (let i = 0; i < PATIENCE_SECONDS * 10 && ctx.board.configClient.revision < revision; i++)
    await wait(0.1);
  return revision;
}

/** The frontend's next `count` windows of catalog figures that ran entirely on `revision` or later. */
async function measure(
  ctx: TourContext,
  revision: number,
  count: number,
  wait: Wait,
): Promise<ReceivedWindow[]> {
  const enough = () => ctx.board.windowsSince('catalog', revision).length >= SKIPPED_WINDOWS + count;
  for (let i = 0; i < (PATIENCE_SECONDS + count) * 10 && !enough(); i++) await wait(0.1);
  return ctx.board.windowsSince('catalog', revision).slice(SKIPPED_WINDOWS, SKIPPED_WINDOWS + count);
}

/** What a run of windows adds up to. */
export interface Measured {
  windows: number;
  requests: number;
  failures: number;
  /** Answers by version. */
  versions: Record<string, number>;
  /** Calls handled per instance, mirrored copies included. */
  instances: Record<string, number>;
  /** Copies sent to the mirror subset. */
  mirrored: number;
  p50Ms: number[];
  p99Ms: number[];
}

function summarize(ctx: TourContext, windows: readonly ReceivedWindow[]): Measured {
  const m: Measured = {
    windows: windows.length,
    requests: 0,
    failures: 0,
    versions: {},
    instances: {},
    mirrored: 0,
    p50Ms: [],
    p99Ms: [],
  };
  for (const { figures: f } of windows) {
    m.requests += f.requests;
    m.failures += f.failures;
    m.mirrored += f.route?.mirrored ?? 0;
    m.p50Ms.push(f.p50Ms);
    m.p99Ms.push(f.p99Ms);
    for (const [v, n] of Object.entries(f.versions)) m.versions[v] = (m.versions[v] ?? 0) + n;
    for (const e of f.endpoints) {
      const name = ctx.board.instance(e.endpoint);
      m.instances[name] = (m.instances[name] ?? 0) + e.calls;
    }
  }
  return m;
}

const percentOf = (part: number, whole: number) => (whole === 0 ? 0 : (100 * part) / whole);

/** Asks the frontend for a product with `headers`, as a person would with curl; which catalog answered. */
async function askFrontend(
  ctx: TourContext,
  headers: Record<string, string>,
): Promise<{ version: string; servedBy: string }> {
  const port = ctx.launcher.processes.get('frontend')?.ready?.port;
  const res = await fetch(`http://127.0.0.1:${port}/product/7`, {
    headers,
    signal: AbortSignal.timeout(5000),
  });
  const body = (await res.json()) as { item?: { version?: string; servedBy?: string } };
  return { version: body.item?.version ?? `HTTP ${res.status}`, servedBy: body.item?.servedBy ?? '?' };
}

function canary(percent: number): Step {
  const id = `canary-${percent}`;
  return {
    id,
    title: `canary: catalog v2 gets ${percent}% of the calls (weights v1 ${100 - percent}, v2 ${percent})`,
    async run(ctx, wait) {
      ctx.board.event(await split(ctx, { v1: 100 - percent, v2: percent }));
      const m = summarize(ctx, await measure(ctx, await applied(ctx, wait), 5, wait));
      const answers = (m.versions.v1 ?? 0) + (m.versions.v2 ?? 0);
      const v2Percent = percentOf(m.versions.v2 ?? 0, answers);
      ctx.board.event(
        `frontend → catalog over ${m.windows} s: v2 answered ${v2Percent.toFixed(1)}% of ${answers} calls (${m.failures} failed)`,
      );
      ctx.results[id] = { percent, v2Percent, answers, ...m };
    },
  };
}

export const TRAFFIC_STEPS: Step[] = [
  {
    id: 'mirror',
    title: 'shadow traffic: every catalog call is copied to v2; v1 still answers them all',
    async run(ctx, wait) {
      ctx.board.event(await applyRoute(ctx, catalogRoute({ weights: INITIAL_WEIGHTS, mirrorPercent: 100 })));
      const m = summarize(ctx, await measure(ctx, await applied(ctx, wait), 4, wait));
      ctx.board.event(
        `over ${m.windows} s: ${m.requests} calls answered by v1 (v2: ${m.versions.v2 ?? 0}); ${m.mirrored} copies ` +
          `mirrored to v2, ${m.instances[V2_INSTANCE] ?? 0} handled by ${V2_INSTANCE}, their answers discarded`,
      );
      ctx.results.mirror = m;
      ctx.board.event(await applyRoute(ctx, catalogRoute({ weights: INITIAL_WEIGHTS })));
      await applied(ctx, wait);
      ctx.board.event('mirror off again');
    },
  },
  {
    id: 'header',
    title: 'dark launch by header: x-canary: yes reaches v2, and so does weft-route: catalog=v2',
    async run(ctx, wait) {
      const asks = {
        plain: {},
        header: { 'x-canary': 'yes' },
        override: { 'weft-route': 'catalog=v2' },
      } as const;
      const answers: Record<string, { version: string; servedBy: string }> = {};
      for (const [name, headers] of Object.entries(asks)) {
        const a = await askFrontend(ctx, headers);
        answers[name] = a;
        const flags = Object.entries(headers).map(([k, v]) => `-H '${k}: ${v}' `);
        ctx.board.event(
          `$ curl ${flags.join('')}frontend/product/7 → item from ${a.servedBy} (${a.version})`,
        );
      }
      ctx.board.event(
        'x-canary is passed on by the frontend; weft-route travels in the request context by itself',
      );
      ctx.results.header = answers;
      await wait(3);
    },
  },
  canary(10),
  canary(50),
  canary(100),
  {
    id: 'delay',
    title: `chaos drill: a fault rule delays every catalog call by ${DRILL_DELAY_MS} ms, within the deadline`,
    async run(ctx, wait) {
      const spec = catalogRoute({ weights: { v1: 0, v2: 100 }, delayMs: DRILL_DELAY_MS });
      ctx.board.event(await applyRoute(ctx, spec));
      const m = summarize(ctx, await measure(ctx, await applied(ctx, wait), 4, wait));
      ctx.board.event(
        `catalog p50 over ${m.windows} s: ${m.p50Ms.map((p) => p.toFixed(0)).join(', ')} ms; ` +
          `${m.failures} of ${m.requests} calls failed`,
      );
      ctx.results.delay = { delayMs: DRILL_DELAY_MS, ...m };
    },
  },
  {
    id: 'normal',
    title: 'back to normal: the fault removed, catalog v2 keeps every call',
    async run(ctx, wait) {
      ctx.board.event(await applyRoute(ctx, catalogRoute({ weights: { v1: 0, v2: 100 } })));
      const m = summarize(ctx, await measure(ctx, await applied(ctx, wait), 3, wait));
      ctx.board.event(`catalog p50 over ${m.windows} s: ${m.p50Ms.map((p) => p.toFixed(1)).join(', ')} ms`);
      ctx.results.normal = m;
    },
  },
];
