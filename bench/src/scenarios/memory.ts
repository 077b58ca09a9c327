/**
 * 7. Memory: resident set size of a small service holding clients to 100 endpoints, Weft against raw
 * undici (one Pool per endpoint), after a little traffic to every endpoint and a full GC. The
 * service runs plain JavaScript with Weft's compiled output, as an application would (stripping
 * TypeScript at load time costs memory of its own that no deployment pays). A service with no
 * clients, and one that only loads Weft, show where the difference comes from. Each variant is a
 * fresh process; interleaved rounds.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startBackends } from '../lib/backends.ts';
import { type BenchContext, fixed, type Scenario, type ScenarioResult, table } from '../lib/context.ts';
import { childScript, startChild } from '../lib/proc.ts';
import { interleave } from '../lib/rounds.ts';
import { median } from '../lib/stats.ts';

const ENDPOINTS = 100;
const MODES = [
  'baseline',
  'load:undici',
  'load:undici,zod',
  'weft-loaded',
  'raw',
  'weft-request',
  'weft',
] as const;
type Mode = (typeof MODES)[number];
interface Mem {
  rss: number;
  heapUsed: number;
  external: number;
}
const MiB = 2 ** 20;
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Builds the packages (incremental, quick when up to date) so that dist matches the sources. */
function build(ctx: BenchContext): boolean {
  ctx.log('memory: tsc -b (the service loads compiled Weft)');
  const r = spawnSync(process.execPath, [`${ROOT}node_modules/typescript/bin/tsc`, '-b'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 180_000,
  });
  if (r.status !== 0)
    ctx.log(`memory: tsc -b reported errors; using the dist that exists\n${r.stdout.slice(0, 800)}`);
  return existsSync(`${ROOT}packages/http/dist/src/index.js`);
}

export const memory: Scenario = {
  id: 'memory',
  title: '7. Memory with 100 endpoints',
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    if (!build(ctx)) throw new Error('no compiled Weft (packages/http/dist): run `npm run build`');
    const backends = await startBackends(
      Array.from({ length: ENDPOINTS }, () => ({})),
      2,
    );
    const requests = ctx.quick ? 500 : 2_000;
    const rounds = Math.min(ctx.rounds, 3);
    try {
      const labels: Record<Mode, string> = {
        baseline: 'service, no clients',
        'load:undici': 'service, undici loaded, no client',
        'load:undici,zod': 'service, undici and zod loaded, no client',
        'weft-loaded': 'service, Weft loaded, no client',
        raw: `raw undici: ${ENDPOINTS} Pools, undici.request`,
        'weft-request': `Weft dispatcher over ${ENDPOINTS} endpoints, undici.request`,
        weft: `Weft createClient() over ${ENDPOINTS} endpoints, fetch`,
      };
      const runs = await interleave<Mem>(
        ctx,
        'memory',
        MODES.map((mode) => ({
          name: mode,
          async run() {
            const child = await startChild<Mem>(childScript('memory.mjs'), {
              flags: ['--expose-gc'],
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
        rounds,
      );
      const m = (mode: Mode, f: (x: Mem) => number) => median(runs.get(mode)!.map(f));
      const rss = (mode: Mode) => m(mode, (x) => x.rss) / MiB;
      // Like for like: the same request API (undici.request) over the same endpoints; the fetch-shaped
      // client also loads undici's WHATWG fetch and Node's web streams, which raw undici.request never does.
      const extra = rss('weft-request') - rss('raw');
      const extraFetch = rss('weft') - rss('raw');
      const rows = MODES.map((mode) => [
        labels[mode],
        fixed(rss(mode), 1),
        fixed(m(mode, (x) => x.heapUsed) / MiB, 1),
        fixed(m(mode, (x) => x.external) / MiB, 1),
      ]);
      return {
        id: 'memory',
        title: this.title,
        setup: `${ENDPOINTS} endpoints in 2 backend processes; each variant is a fresh Node process (plain JavaScript, compiled Weft, \`--expose-gc\`) that listens on a port, builds its clients, sends ${requests} requests 16 at a time (every endpoint gets traffic), runs GC three times and reports \`process.memoryUsage()\`; ${rounds} rounds, medians.`,
        tables: [table(['variant', 'RSS MiB', 'heap used MiB', 'external MiB'], rows)],
        goals: [
          {
            text: 'Weft (dispatcher + undici.request) RSS ≤ raw undici.request RSS + 10 MB',
            measured: `+${fixed(extra, 1)} MiB (createClient().fetch: +${fixed(extraFetch, 1)} MiB)`,
            met: extra * MiB <= 10e6,
          },
        ],
        notes: [
          `Where the difference comes from: loading Weft (and its dependencies) costs ${fixed(rss('weft-loaded') - rss('load:undici'), 1)} MiB over loading undici alone, of which zod accounts for ${fixed(rss('load:undici,zod') - rss('load:undici'), 1)} MiB (Weft validates options and config documents with zod schemas built at import); cockatiel, the OpenTelemetry API and Weft's own code make up the rest. Building the dispatcher and sending the traffic then costs ${fixed(rss('weft-request') - rss('weft-loaded'), 1)} MiB (the fetch-shaped client ${fixed(rss('weft') - rss('weft-loaded'), 1)} MiB: it also loads undici's WHATWG fetch and Node's web streams), against ${fixed(rss('raw') - rss('load:undici'), 1)} MiB for raw undici's ${ENDPOINTS} pools (heap used: ${fixed(m('weft-request', (x) => x.heapUsed) / MiB, 1)} vs ${fixed(m('raw', (x) => x.heapUsed) / MiB, 1)} MiB).`,
          'Run from the TypeScript sources instead (`--conditions=weft-source`), the Weft process is about 25 MiB larger still: Node strips types with a WebAssembly compiler whose memory grows with the source it has processed and is never returned.',
        ],
        figures: Object.fromEntries([...runs].map(([k, v]) => [k, v])),
      };
    } finally {
      await backends.close();
    }
  },
};
