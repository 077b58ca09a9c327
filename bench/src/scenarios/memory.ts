/**
 * 7. Memory: resident set size of a small service holding clients to 100 endpoints, Weft against raw
 * undici (one Pool per endpoint), after a little traffic to every endpoint and a full GC. A service
 * with no clients at all is the baseline. Each variant is a fresh process; interleaved rounds.
 */
import { startBackends } from '../lib/backends.ts';
import { type BenchContext, fixed, type Scenario, type ScenarioResult, table } from '../lib/context.ts';
import { childScript, startChild } from '../lib/proc.ts';
import { interleave } from '../lib/rounds.ts';
import { median } from '../lib/stats.ts';

const ENDPOINTS = 100;
type Mode = 'baseline' | 'raw' | 'weft';
interface Mem {
  rss: number;
  heapUsed: number;
  external: number;
}
const MiB = 2 ** 20;

export const memory: Scenario = {
  id: 'memory',
  title: '7. Memory with 100 endpoints',
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const backends = await startBackends(
      Array.from({ length: ENDPOINTS }, () => ({})),
      2,
    );
    const requests = ctx.quick ? 500 : 2_000;
    try {
      const labels: Record<Mode, string> = {
        baseline: 'service, no clients',
        raw: `raw undici: ${ENDPOINTS} Pools`,
        weft: `Weft: one client over ${ENDPOINTS} endpoints`,
      };
      const runs = await interleave<Mem>(
        ctx,
        'memory',
        (['baseline', 'raw', 'weft'] as const).map((mode) => ({
          name: mode,
          async run() {
            const child = await startChild<Mem>(childScript('memory.ts'), {
              execArgv: ['--expose-gc'],
              args: [JSON.stringify({ mode, endpoints: backends.endpoints, requests })],
              readyTimeoutMs: 60_000,
            });
            await child.kill();
            ctx.log(
              `  RSS ${(child.ready.rss / MiB).toFixed(1)} MiB, heap ${(child.ready.heapUsed / MiB).toFixed(1)} MiB`,
            );
            return child.ready;
          },
        })),
        Math.min(ctx.rounds, 3),
      );
      const m = (mode: Mode, f: (x: Mem) => number) => median(runs.get(mode)!.map(f));
      const extra = (m('weft', (x) => x.rss) - m('raw', (x) => x.rss)) / MiB;
      const rows = (['baseline', 'raw', 'weft'] as const).map((mode) => [
        labels[mode],
        fixed(m(mode, (x) => x.rss) / MiB, 1),
        fixed(m(mode, (x) => x.heapUsed) / MiB, 1),
        fixed(m(mode, (x) => x.external) / MiB, 1),
      ]);
      return {
        id: 'memory',
        title: this.title,
        setup: `${ENDPOINTS} endpoints in 2 backend processes; each variant is a fresh Node process (TypeScript sources, \`--expose-gc\`) that listens on a port, builds its clients, sends ${requests} requests 16 at a time (every endpoint gets traffic), runs GC three times and reports \`process.memoryUsage()\`; ${Math.min(ctx.rounds, 3)} rounds, medians.`,
        tables: [table(['variant', 'RSS MiB', 'heap used MiB', 'external MiB'], rows)],
        goals: [
          {
            text: 'Weft RSS ≤ raw undici RSS + 10 MB',
            measured: `+${fixed(extra, 1)} MiB`,
            met: extra * MiB <= 10e6,
          },
        ],
        notes: [
          'The Weft figure includes loading Weft itself (core, zod schemas, opossum, cockatiel, the OpenTelemetry API) as well as the per-endpoint state.',
        ],
        figures: Object.fromEntries([...runs].map(([k, v]) => [k, v])),
      };
    } finally {
      await backends.close();
    }
  },
};
