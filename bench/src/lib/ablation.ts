/**
 * Where the Weft stack's CPU goes, module by module: the same dispatcher client with one module
 * turned off (through the public options and `stack` editing), client CPU per request at saturation,
 * interleaved rounds.
 */
import { type BenchClient, rawRequest, weftDispatcher } from './clients.ts';
import { type BenchContext, fixed, table } from './context.ts';
import { closedLoop } from './load.ts';
import { interleave } from './rounds.ts';
import { median } from './stats.ts';

export async function ablation(
  ctx: BenchContext,
  endpoints: readonly string[],
  concurrency: number,
): Promise<{ table: string; figures: Record<string, number> }> {
  const clients: BenchClient[] = [
    rawRequest(endpoints),
    weftDispatcher(endpoints, {}, 'Weft dispatcher, full default stack'),
    weftDispatcher(endpoints, { circuitBreaker: false }, 'without the breaker'),
    weftDispatcher(endpoints, { retry: false }, 'without retries'),
    weftDispatcher(endpoints, { outlierDetection: false }, 'without outlier detection'),
    weftDispatcher(endpoints, { stack: (s) => s.remove('telemetry') }, 'without the telemetry module'),
  ];
  try {
    const durationMs = 1_500 * ctx.scale;
    for (const c of clients) await closedLoop(c.fn, { concurrency, durationMs: 500 * ctx.scale });
    const runs = await interleave(
      ctx,
      'overhead ablation',
      clients.map((c) => ({
        name: c.name,
        run: async () => (await closedLoop(c.fn, { concurrency, durationMs })).cpuUsPerRequest,
      })),
      Math.min(ctx.rounds, 5),
    );
    const figures: Record<string, number> = {};
    for (const [k, v] of runs) figures[k] = median(v);
    const full = figures['Weft dispatcher, full default stack']!;
    const raw = figures[clients[0]!.name]!;
    const rows = clients.map((c) => {
      const v = figures[c.name]!;
      return [
        c.name,
        fixed(v, 1),
        c === clients[0] ? '' : fixed(v - raw, 1),
        c === clients[0] ? '' : fixed(v - full, 1),
      ];
    });
    return {
      table: table(['client', 'client CPU µs/request', 'vs raw', 'vs full Weft stack'], rows),
      figures,
    };
  } finally {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
  }
}
