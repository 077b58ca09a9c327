/**
 * 6. Balancer pick cost with 10, 1,000 and 10,000 endpoints: `EndpointSet.pick()` (what the balance
 * filter calls per attempt: clock read, strategy, probe check) measured with tinybench. One pick is
 * tens of nanoseconds, below a timer's resolution, so each sample times a batch of picks and the
 * figures are per pick.
 */
import { balancerFor, EndpointSet, StaticResolver, systemClock } from '@weft/core';
import { Bench } from 'tinybench';
import { type BenchContext, fixed, type Scenario, type ScenarioResult, table } from '../lib/context.ts';

const SIZES = [10, 1_000, 10_000];
const KINDS = ['p2c-ewma', 'p2c-least-loaded', 'round-robin', 'weighted'];
const BATCH = 1_000;

function endpointSet(kind: string, n: number): EndpointSet<object> {
  const endpoints = Array.from({ length: n }, (_, i) => ({
    address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    port: 8080,
    weight: 1 + (i % 3),
  }));
  const set = new EndpointSet<object>({
    destination: 'bench',
    resolver: new StaticResolver(endpoints),
    balancer: balancerFor(kind),
    clock: systemClock,
    random: Math.random,
    connect: () => ({}),
    disconnect: () => {},
  });
  // Latency history and some load, as in a live client.
  set.all.forEach((ep, i) => {
    set.record(ep, 1 + (i % 7) * 0.3, true);
    ep.outstanding = i % 4;
  });
  return set;
}

export const pickCost: Scenario = {
  id: 'pick-cost',
  title: '6. Balancer pick cost',
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const bench = new Bench({ time: ctx.quick ? 100 : 1_000, warmupTime: ctx.quick ? 20 : 200 });
    for (const kind of KINDS)
      for (const n of SIZES) {
        const set = endpointSet(kind, n);
        bench.add(`${kind} × ${n}`, () => {
          for (let k = 0; k < BATCH; k++) set.pick();
        });
      }
    ctx.log(`pick cost: ${KINDS.length * SIZES.length} tinybench tasks`);
    await bench.run();
    const ns: Record<string, number> = {};
    const p99: Record<string, number> = {};
    for (const task of bench.tasks) {
      const r = task.result;
      if (r.state !== 'completed') throw new Error(`tinybench task ${task.name}: ${r.state}`);
      ns[task.name] = (r.latency.mean * 1e6) / BATCH;
      p99[task.name] = (r.latency.p99 * 1e6) / BATCH;
    }
    const rows = KINDS.map((kind) => [
      kind,
      ...SIZES.map((n) => `${fixed(ns[`${kind} × ${n}`]!, 0)} (${fixed(p99[`${kind} × ${n}`]!, 0)})`),
      `${fixed(ns[`${kind} × 10000`]! / ns[`${kind} × 10`]!)}×`,
    ]);
    const ewma = SIZES.map((n) => ns[`p2c-ewma × ${n}`]!);
    const worst = Math.max(...Object.values(ns));
    const flat = ewma[2]! / ewma[0]!;
    return {
      id: 'pick-cost',
      title: this.title,
      setup: `tinybench, ${ctx.quick ? 100 : 1000} ms per task after warm-up; each sample times ${BATCH} consecutive \`EndpointSet.pick()\` calls on a set whose endpoints have latency history and 0–3 requests outstanding.`,
      tables: [
        table(
          [
            'balancer',
            ...SIZES.map((n) => `${n.toLocaleString('en-US')} endpoints: ns/pick (p99 of batches)`),
            '10,000 ÷ 10',
          ],
          rows,
        ),
      ],
      goals: [
        {
          text: 'every pick ≤ 1 µs (mean per pick)',
          measured: `worst ${fixed(worst, 0)} ns`,
          met: worst <= 1_000,
        },
        {
          text: 'flat: P2C-EWMA at 10,000 endpoints ≤ 2× its cost at 10',
          measured: `${fixed(flat)}× (${ewma.map((x) => fixed(x, 0)).join(' / ')} ns)`,
          met: flat <= 2,
        },
      ],
      notes: [
        'What grows with the set is memory, not work: each strategy touches two (P2C) or one endpoint per pick, but with 10,000 endpoints the two random ones are rarely in the CPU cache.',
      ],
      figures: { nsPerPick: ns, p99NsPerPick: p99, batch: BATCH },
    };
  },
};
