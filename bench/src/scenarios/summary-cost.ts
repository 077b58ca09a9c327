/**
 * 13. Traffic-summary cost in a process: what recording each attempt (the `endpoint` module's one
 * call into its destination's summary) and making a report every 5 s cost at 5,000 requests/s
 * spread over 50 destinations × 10 endpoints. Both are timed on their own, in this process, and
 * turned into a share of one core: recording × 5,000/s plus one report (collect and JSON) per 5 s.
 * The goal (issue 15): at most 1% of a service's CPU; one core is the smallest service that serves
 * 5,000 requests/s, so a share of one core is the strict reading.
 */
import {
  balancerFor,
  type DestinationSummary,
  EndpointSet,
  type EndpointState,
  StaticResolver,
  systemClock,
  TrafficSummary,
} from '@weft/core';
import { type BenchContext, fixed, type Scenario, type ScenarioResult, table } from '../lib/context.ts';

const DESTINATIONS = 50;
const ENDPOINTS = 10;
const RPS = 5_000;
const INTERVAL_S = 5;

export const summaryCost: Scenario = {
  id: 'summary',
  title: '13. Traffic-summary cost (5,000 req/s over 50 destinations × 10 endpoints)',
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const summary = new TrafficSummary(
      { service: 'bench', clock: systemClock, canSend: () => false, send: async () => {} },
      { reportIntervalMs: 300_000, maxRowsPerReport: 10_000 },
    );
    const sets: EndpointSet[] = [];
    const targets: { dest: DestinationSummary; ep: EndpointState }[] = [];
    for (let d = 0; d < DESTINATIONS; d++) {
      const endpoints = Array.from({ length: ENDPOINTS }, (_, e) => ({
        address: `10.1.${d}.${e + 1}`,
        port: 8080,
      }));
      const set = new EndpointSet<unknown>({
        destination: `svc-${d}`,
        resolver: new StaticResolver(endpoints),
        balancer: balancerFor('p2c-ewma'),
        clock: systemClock,
        random: Math.random,
        connect: () => ({}),
        disconnect: () => {},
      });
      sets.push(set);
      const dest = summary.open(`svc-${d}`, set);
      for (const ep of set.all) targets.push({ dest, ep });
    }
    // Attempts as the endpoint module makes them: latencies spread over a few ms, 1% failures.
    const latencies = Float64Array.from({ length: 4096 }, () => 0.5 + Math.random() * Math.random() * 40);
    const record = (n: number) => {
      for (let k = 0; k < n; k++) {
        const t = targets[k % targets.length]!;
        t.dest.record(t.ep, '', latencies[k & 4095]!, k % 100 === 0 ? 'failure' : 'success');
      }
    };
    const perInterval = RPS * INTERVAL_S;
    record(perInterval); // warm up
    summary.collect();
    const rounds = ctx.quick ? 3 : 10;
    const recordNs: number[] = [];
    const flushNs: number[] = [];
    let bytes = 0;
    let rows = 0;
    for (let r = 0; r < rounds; r++) {
      const t0 = process.hrtime.bigint();
      record(perInterval);
      const t1 = process.hrtime.bigint();
      const report = summary.collect();
      const body = JSON.stringify(report);
      const t2 = process.hrtime.bigint();
      recordNs.push(Number(t1 - t0) / perInterval);
      flushNs.push(Number(t2 - t1));
      bytes = body.length;
      rows = report.rows.length;
    }
    summary.close();
    for (const s of sets) s.close();
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const perCall = median(recordNs);
    const flush = median(flushNs);
    // CPU per second of traffic, in ns, as a share of one core.
    const share = ((perCall * RPS + flush / INTERVAL_S) / 1e9) * 100;
    ctx.log(`summary: ${fixed(perCall, 0)} ns per attempt, ${fixed(flush / 1e6, 2)} ms per report`);
    return {
      id: 'summary',
      title: this.title,
      setup: `${DESTINATIONS} destinations × ${ENDPOINTS} endpoints in one process; ${perInterval.toLocaleString('en-US')} attempts recorded per ${INTERVAL_S} s interval (${RPS.toLocaleString('en-US')}/s, 1% failures), then one report collected and serialized; median of ${rounds} intervals.`,
      tables: [
        table(
          ['what', 'cost'],
          [
            ['recording one attempt', `${fixed(perCall, 0)} ns`],
            ['one report (collect + JSON)', `${fixed(flush / 1e6, 2)} ms`],
            ['report size', `${rows} rows, ${(bytes / 1024).toFixed(0)} KiB`],
            ['CPU share at 5,000 req/s', `${fixed(share, 3)}% of one core`],
          ],
        ),
      ],
      goals: [
        {
          text: 'summary cost ≤ 1% of a service’s CPU at 5,000 req/s across 50 destinations × 10 endpoints',
          measured: `${fixed(share, 3)}% of one core`,
          met: share <= 1,
        },
      ],
      notes: [
        'Recording allocates nothing: one row per endpoint and subset, made on its first attempt, with a fixed Uint32Array of latency buckets.',
        'The report is made off the request path, on a background timer; its cost is spread here over its interval.',
      ],
      figures: {
        recordNsPerAttempt: perCall,
        reportMs: flush / 1e6,
        reportBytes: bytes,
        rows,
        cpuSharePercent: share,
      },
    };
  },
};
