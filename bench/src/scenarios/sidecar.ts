/**
 * 2. Against a sidecar pair: raw undici through an HAProxy client-side + server-side pair on
 * loopback, against Weft calling the same backends directly (and raw undici directly, for scale).
 */
import { startBackends } from '../lib/backends.ts';
import { type BenchClient, CONNECTIONS, rawRequest, weftClient, weftDispatcher } from '../lib/clients.ts';
import { compact, compareClients, pairedMedian } from '../lib/compare.ts';
import {
  type BenchContext,
  fixed,
  int,
  ms,
  type Scenario,
  type ScenarioResult,
  table,
} from '../lib/context.ts';
import { ensureHaproxy, haproxyVersion, startSidecarPair } from '../lib/haproxy.ts';
import { CONCURRENCY, ENDPOINTS } from './overhead.ts';

export const sidecar: Scenario = {
  id: 'sidecar',
  title: '2. Weft direct vs an HAProxy sidecar pair',
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const bin = ensureHaproxy(ctx.log);
    if (!bin) {
      return {
        id: 'sidecar',
        title: this.title,
        setup: 'not run: haproxy is not installed and could not be installed',
        tables: [],
        goals: [{ text: 'Weft ≥ 1.7× the sidecar pair', measured: 'not run (no haproxy)', met: false }],
        notes: ["Install Debian's haproxy (`apt-get install -y haproxy`) or run the bench as root."],
        figures: { skipped: 'no haproxy' },
      };
    }
    const version = haproxyVersion(bin);
    const backends = await startBackends(
      Array.from({ length: ENDPOINTS }, () => ({})),
      1,
    );
    const clients: BenchClient[] = [];
    const pair = await startSidecarPair(bin, backends.ports).catch(async (error) => {
      await backends.close();
      throw error;
    });
    try {
      const viaPair = rawRequest(
        [`127.0.0.1:${pair.port}`],
        CONNECTIONS * ENDPOINTS,
        'raw undici.request via HAProxy pair',
      );
      const wd = weftDispatcher(backends.endpoints);
      const wc = weftClient(backends.endpoints);
      const raw = rawRequest(backends.endpoints, CONNECTIONS, 'raw undici.request direct');
      clients.push(viaPair, wd, wc, raw);
      const o = {
        concurrency: CONCURRENCY,
        saturationMs: 2_000 * ctx.scale,
        pacedShare: 0.5,
        otherPids: (name: string) =>
          name === viaPair.name ? [...backends.pids, ...pair.pids] : backends.pids,
        pacedMs: 1_500 * ctx.scale,
        warmupMs: 1_000 * ctx.scale,
      };
      const { variants: res, pacedRate } = await compareClients(ctx, 'sidecar', clients, o);
      const p = res.get(viaPair.name)!;
      const rows = [...res.values()].map((v) => [
        v.name,
        int(v.rps),
        fixed(pairedMedian(v, p, (x, y) => x.sat.rps / y.sat.rps)),
        fixed(v.cpuUsPerRequest, 1),
        fixed(v.totalCpuUsPerRequest, 1),
        ms(v.satP50),
        ms(v.satP99),
        ms(v.satP999),
        ms(v.p50),
        ms(v.p99),
        ms(v.p999),
      ]);
      const goals = [];
      const figures: Record<string, unknown> = {
        haproxy: version,
        options: { ...o, pacedRate },
        variants: [...res.values()].map(compact),
      };
      for (const w of [wd, wc]) {
        const a = res.get(w.name)!;
        const ratio = pairedMedian(a, p, (x, y) => x.sat.rps / y.sat.rps);
        figures[`${w.name} vs pair`] = { ratio };
        goals.push({
          text: `${w.name}: throughput ≥ 1.7× the pair`,
          measured: `${fixed(ratio)}×`,
          met: ratio >= 1.7,
        });
        goals.push({
          text: `${w.name}: lower p99 and p99.9 than the pair at saturation`,
          measured: `p99 ${ms(a.satP99)} vs ${ms(p.satP99)} ms, p99.9 ${ms(a.satP999)} vs ${ms(p.satP999)} ms`,
          met: a.satP99 < p.satP99 && a.satP999 < p.satP999,
        });
        goals.push({
          text: `${w.name}: lower p99 and p99.9 than the pair at ${pacedRate} req/s paced`,
          measured: `p99 ${ms(a.p99)} vs ${ms(p.p99)} ms, p99.9 ${ms(a.p999)} vs ${ms(p.p999)} ms`,
          met: a.p99 < p.p99 && a.p999 < p.p999,
        });
      }
      return {
        id: 'sidecar',
        title: this.title,
        setup: `${version}; client-side and server-side proxies, one thread each, keep-alive and \`http-reuse always\` on both legs, \`retries 3\`, \`option redispatch\`, \`balance roundrobin\`; the same ${ENDPOINTS} endpoints as scenario 1; ${CONCURRENCY} in flight for ${o.saturationMs} ms, then ${pacedRate} req/s paced for ${o.pacedMs} ms; ${ctx.rounds} interleaved rounds.`,
        tables: [
          table(
            [
              'variant',
              'req/s',
              '× pair',
              'client CPU µs/req',
              'all processes CPU µs/req',
              'sat. p50 ms',
              'sat. p99 ms',
              'sat. p99.9 ms',
              'paced p50 ms',
              'paced p99 ms',
              'paced p99.9 ms',
            ],
            rows,
          ),
        ],
        goals,
        notes: [
          `Why: the client process is the bottleneck of this closed loop, and the Weft stack costs ${fixed(res.get(wd.name)!.cpuUsPerRequest, 1)} µs of client CPU per request against ${fixed(p.cpuUsPerRequest, 1)} µs for raw undici talking to the local proxy (scenario 1 shows where the time goes). Raw undici direct — what Weft would be with a free stack — makes ${fixed(res.get(raw.name)!.rps / p.rps)}× the pair's throughput.`,
          `Whole-machine CPU per request (client + proxies + backend, from /proc): ${[...res.values()].map((v) => `${v.name} ${fixed(v.totalCpuUsPerRequest, 1)} µs`).join('; ')}. This is the cost a deployment pays wherever the work runs; throughput in this closed loop is bounded by the client process alone, so it charges Weft's in-process work in full and the proxies' work only as far as they compete for the two cores.`,
          'On a 2-core machine the proxies, the backend and the client share two cores, so the pair is CPU-starved as a real sidecar on a busy pod would be; the ratio is what matters, not the absolute figures.',
        ],
        figures,
      };
    } finally {
      await Promise.all(clients.map((c) => c.close().catch(() => {})));
      await pair.close();
      await backends.close();
    }
  },
};
