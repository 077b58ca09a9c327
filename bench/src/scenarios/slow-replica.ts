/**
 * 3. One slow replica: 10 endpoints, one 20× slower (20 ms vs 1 ms of service time), paced load;
 * p50/p99/p99.9 for round robin, P2C least-loaded and P2C-EWMA, with all-healthy runs as baseline.
 * Each round builds a fresh client (no history carried over), warms it up briefly, then measures.
 */
import type { BalancerKind } from '@weft/core/config';
import { startBackends } from '../lib/backends.ts';
import { weftDispatcher } from '../lib/clients.ts';
import { type BenchContext, fixed, ms, type Scenario, type ScenarioResult, table } from '../lib/context.ts';
import { type LoadResult, paced } from '../lib/load.ts';
import { interleave } from '../lib/rounds.ts';
import { median } from '../lib/stats.ts';

const BASE_MS = 1;
const SLOW_MS = 20;
const ENDPOINTS = 10;
const KINDS: BalancerKind[] = ['round-robin', 'p2c-least-loaded', 'p2c-ewma'];

export const slowReplica: Scenario = {
  id: 'slow-replica',
  title: '3. One slow replica among ten',
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const healthySpecs = Array.from({ length: ENDPOINTS }, () => ({ delayMs: BASE_MS }));
    const slowSpecs = healthySpecs.map((s, i) => (i === 0 ? { delayMs: SLOW_MS } : s));
    const [healthy, slow] = await Promise.all([startBackends(healthySpecs, 1), startBackends(slowSpecs, 1)]);
    try {
      const rate = ctx.quick ? 1_000 : 2_500;
      const warmupMs = 500 * ctx.scale;
      const measureMs = 3_000 * ctx.scale;
      const variants = KINDS.flatMap((kind) =>
        (['healthy', 'one slow'] as const).map((set) => ({
          name: `${kind} / ${set}`,
          async run(): Promise<LoadResult> {
            const endpoints = set === 'healthy' ? healthy.endpoints : slow.endpoints;
            const client = weftDispatcher(endpoints, { balancer: kind }, kind);
            try {
              await paced(client.fn, { rate, durationMs: warmupMs });
              const r = await paced(client.fn, { rate, durationMs: measureMs });
              ctx.log(
                `  p50 ${r.p50.toFixed(2)} p99 ${r.p99.toFixed(2)} p99.9 ${r.p999.toFixed(2)} ms (${r.completed} requests, ${r.failures} failed)`,
              );
              return r;
            } finally {
              await client.close();
            }
          },
        })),
      );
      const runs = await interleave(ctx, 'slow replica', variants);
      const m = (name: string, f: (r: LoadResult) => number) => median(runs.get(name)!.map(f));
      const rows = KINDS.flatMap((kind) =>
        (['healthy', 'one slow'] as const).map((set) => {
          const name = `${kind} / ${set}`;
          return [
            kind,
            set,
            ms(m(name, (r) => r.p50)),
            ms(m(name, (r) => r.p99)),
            ms(m(name, (r) => r.p999)),
          ];
        }),
      );
      const ratio = (kind: string) => {
        const a = runs.get(`${kind} / one slow`)!;
        const b = runs.get(`${kind} / healthy`)!;
        return median(a.map((r, i) => r.p999 / b[i]!.p999));
      };
      const ewma = ratio('p2c-ewma');
      const figures: Record<string, unknown> = {
        rate,
        warmupMs,
        measureMs,
        baseMs: BASE_MS,
        slowMs: SLOW_MS,
      };
      for (const kind of KINDS)
        for (const set of ['healthy', 'one slow'])
          figures[`${kind} / ${set}`] = {
            p50: m(`${kind} / ${set}`, (r) => r.p50),
            p99: m(`${kind} / ${set}`, (r) => r.p99),
            p999: m(`${kind} / ${set}`, (r) => r.p999),
          };
      figures.p999RatioSlowToHealthy = Object.fromEntries(KINDS.map((k) => [k, ratio(k)]));
      return {
        id: 'slow-replica',
        title: this.title,
        setup: `${ENDPOINTS} endpoints (node:http, ${BASE_MS} ms timer before answering; in the slow set one endpoint takes ${SLOW_MS} ms), Weft dispatcher with its default stack and the balancer named; ${rate} req/s paced; a fresh client per round, ${warmupMs} ms warm-up then ${measureMs} ms measured; ${ctx.rounds} interleaved rounds.`,
        tables: [
          table(['balancer', 'endpoints', 'p50 ms', 'p99 ms', 'p99.9 ms'], rows),
          table(
            ['balancer', 'p99.9 one slow ÷ healthy (median)', 'each round'],
            KINDS.map((k) => [
              k,
              `${fixed(ratio(k))}×`,
              runs
                .get(`${k} / one slow`)!
                .map((r, i) => fixed(r.p999 / runs.get(`${k} / healthy`)![i]!.p999))
                .join(', '),
            ]),
          ),
        ],
        goals: [
          {
            text: 'P2C-EWMA p99.9 with one slow replica ≤ 1.5× the healthy p99.9',
            measured: `${fixed(ewma)}×`,
            met: ewma <= 1.5,
          },
        ],
        notes: [
          `Round robin sends every tenth request to the slow endpoint, so its p99 is the slow endpoint's service time. The P2C balancers learn within the warm-up that it is slow (peak-EWMA at once, least-loaded as its requests pile up) and send it little.`,
        ],
        figures,
      };
    } finally {
      await Promise.all([healthy.close(), slow.close()]);
    }
  },
};
