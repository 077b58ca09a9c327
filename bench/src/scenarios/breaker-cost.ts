/**
 * 8. Circuit breaker cost per call: each breaker of bench/src/lib/breakers.ts around a `next` that
 * answers at once (an already settled promise), closed, every call a success — the path every
 * request takes. Measured with tinybench in one run; each sample times a batch of calls and the
 * figures are per call. The bare `await next(call)` is the floor each filter pays anyway; "added"
 * is what the breaker costs above it.
 */
import { Call, Circuit } from '@weft/core';
import { Bench } from 'tinybench';
import {
  CockatielDrivenCircuit,
  cockatielDrivenFilter,
  cockatielPolicyFilter,
  type Filter,
  opossumFilter,
  PARAMS,
  weftFilter,
} from '../lib/breakers.ts';
import { type BenchContext, fixed, type Scenario, type ScenarioResult, table } from '../lib/context.ts';

const BATCH = 1_000;
const BARE = 'bare `await next(call)`';
const OPOSSUM = 'opossum 10 `fire()` (the filter until now)';
const POLICY = 'cockatiel 4 `circuitBreaker` policy, `SamplingBreaker`';
const DRIVEN = 'cockatiel 4 `SamplingBreaker` driven synchronously, in the filter';
const WEFT = 'Weft breaker filter (`Circuit`)';
const DRIVEN_SYNC = 'cockatiel `SamplingBreaker` driven: allow + record only';
const WEFT_SYNC = 'Weft `Circuit`: allow + record only';

export const breakerCost: Scenario = {
  id: 'breaker',
  title: '9. Circuit breaker cost per call',
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const response = { status: 200 };
    const settled = Promise.resolve(response);
    const next = () => settled;
    const call = new Call('bench', 'GET', '/', {});
    const opossum = opossumFilter(next);
    const filters: [string, Filter][] = [
      [BARE, next],
      [OPOSSUM, opossum.filter],
      [POLICY, cockatielPolicyFilter(next)],
      [DRIVEN, cockatielDrivenFilter(next)],
      [WEFT, weftFilter(next)],
    ];
    const bench = new Bench({ time: ctx.quick ? 100 : 1_000, warmupTime: ctx.quick ? 20 : 200 });
    for (const [name, filter] of filters)
      bench.add(name, async () => {
        for (let k = 0; k < BATCH; k++) await filter(call);
      });
    const driven = new CockatielDrivenCircuit();
    const circuit = new Circuit(PARAMS, { now: () => performance.now(), setTimeout, clearTimeout });
    bench.add(DRIVEN_SYNC, () => {
      for (let k = 0; k < BATCH; k++) if (driven.allow()) driven.record('success', driven.generation);
    });
    bench.add(WEFT_SYNC, () => {
      for (let k = 0; k < BATCH; k++) if (circuit.allow()) circuit.record('success', circuit.generation);
    });
    ctx.log(`breaker cost: ${bench.tasks.length} tinybench tasks`);
    try {
      await bench.run();
    } finally {
      opossum.close();
    }
    const ns: Record<string, number> = {};
    for (const task of bench.tasks) {
      const r = task.result;
      if (r.state !== 'completed') throw new Error(`tinybench task ${task.name}: ${r.state}`);
      ns[task.name] = (r.latency.mean * 1e6) / BATCH;
    }
    const bare = ns[BARE]!;
    const added = (name: string) => ns[name]! - bare;
    const weft = added(WEFT);
    const rows = filters.map(([name]) => [
      name,
      fixed(ns[name]!, 0),
      name === BARE ? '' : fixed(added(name), 0),
      name === BARE ? '' : `${fixed(added(name) / weft, 1)}×`,
    ]);
    for (const name of [DRIVEN_SYNC, WEFT_SYNC])
      rows.push([
        name,
        fixed(ns[name]!, 0),
        fixed(ns[name]!, 0),
        `${fixed(ns[name]! / ns[WEFT_SYNC]!, 1)}× (of the sync circuit)`,
      ]);
    return {
      id: 'breaker',
      title: this.title,
      setup: `tinybench, ${ctx.quick ? 100 : 1000} ms per task after warm-up, one process; each sample times ${BATCH} consecutive calls through the breaker, closed, every call a success, around a \`next\` that returns an already settled promise. Every breaker has the breaker module's defaults (${PARAMS.errorThresholdPercent}% of at least ${PARAMS.volumeThreshold} calls over ${PARAMS.rollingWindowMs} ms, open for ${PARAMS.resetTimeoutMs} ms).`,
      tables: [table(['breaker', 'ns/call', 'added over the bare await, ns', '× Weft (added)'], rows)],
      goals: [
        {
          text: 'the Weft breaker filter adds ≤ 1 µs per call',
          measured: `${fixed(weft, 0)} ns (opossum ${fixed(added(OPOSSUM), 0)} ns, ${fixed(added(OPOSSUM) / weft, 1)}×)`,
          met: weft <= 1_000,
        },
      ],
      notes: [
        `Why Weft has its own circuit rather than driving cockatiel's \`SamplingBreaker\`, though both are synchronous and both fit the budget (${fixed(ns[DRIVEN_SYNC]!, 0)} against ${fixed(ns[WEFT_SYNC]!, 0)} ns per allow + record here): \`SamplingBreaker\` reads \`Date.now()\` itself, so it cannot run on the stack's injected (virtual) clock; it forgets only one bucket per recorded call, so after a quiet spell older failures still count; it opens only above its threshold and cannot take 100%; and its volume is a rate (\`minimumRps\`) where the module has a count. opossum cannot be driven at all without \`fire()\`, whose promise, clock reads and event emits are the cost in its row.`,
      ],
      figures: {
        nsPerCall: ns,
        addedNsPerCall: Object.fromEntries(filters.map(([n]) => [n, added(n)])),
        batch: BATCH,
      },
    };
  },
};
