/**
 * 12. Mirroring: every request of a paced load copied to a mirror subset ten times slower than the
 * primary, against the same load and Route without the mirror, side by side. The primary's latency
 * must not notice the copies: they are sent after the primary, their answers discarded, and their
 * number in flight bounded (over the bound, dropped and counted in `describe().route.mirrors`).
 *
 * A third variant sends the same copies by hand (a second client to the mirror subset, not
 * awaited): on a small machine the mirror's backends and the second request's client CPU compete
 * with the primary for the cores, and this variant shows that share apart from the mirror itself.
 */
import type { RouteSpecInput } from '@weft/core';
import { createClient, type WeftClient } from '@weft/http';
import { labelledEndpoints, startBackends } from '../lib/backends.ts';
import {
  type BenchContext,
  fixed,
  int,
  ms,
  type Scenario,
  type ScenarioResult,
  table,
} from '../lib/context.ts';
import { type LoadResult, paced, type RequestFn } from '../lib/load.ts';
import { gc } from '../lib/rounds.ts';
import { median } from '../lib/stats.ts';

const PRIMARY_MS = 2;
const MIRROR_MS = 20;
const ENDPOINTS = 4;
const RATE = 1_000;
const NO_MIRROR = 'no mirror';
const MIRRORED = 'mirror 100% to v2';
const BY_HAND = 'no mirror, same copies sent by hand';
const VARIANTS = [NO_MIRROR, MIRRORED, BY_HAND];

function route(mirror: boolean): RouteSpecInput {
  return {
    subsets: { v1: { version: 'v1' }, v2: { version: 'v2' } },
    rules: [{ backends: [{ subset: 'v1' }], ...(mirror ? { mirror: { subset: 'v2', percent: 100 } } : {}) }],
  };
}

/** One round of one variant: medians over its slices. */
interface Round {
  p50: number;
  p99: number;
  /** The worst slice's p99. */
  worstP99: number;
  completed: number;
  failures: number;
  cpuUsPerRequest: number;
}

interface Variant {
  readonly name: string;
  readonly fn: RequestFn;
  /** Copies in flight. */
  inflight(): number;
  /** The route's copy counters (`describe().route.mirrors`), for the mirrored client. */
  mirrors?(): Readonly<Record<string, number>>;
  close(): Promise<void>;
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

function read(client: WeftClient): RequestFn {
  return async () => {
    const res = await client.fetch('/items/42');
    await res.text();
    return res.ok;
  };
}

function variants(endpoints: ReturnType<typeof labelledEndpoints>): Variant[] {
  const options = { service: 'catalog', endpoints, keepAliveTimeoutMs: 60_000 };
  const plain = createClient({ ...options, route: route(false) });
  const mirrored = createClient({ ...options, route: route(true) });
  const handPrimary = createClient({ ...options, route: route(false) });
  const copier = createClient({ ...options, endpoints: endpoints.filter((e) => e.labels.version === 'v2') });
  const sendCopy = read(copier);
  let handInflight = 0;
  const copyDone = () => {
    handInflight--;
  };
  const primaryOfHand = read(handPrimary);
  return [
    { name: NO_MIRROR, fn: read(plain), inflight: () => 0, close: () => plain.close() },
    {
      name: MIRRORED,
      fn: read(mirrored),
      inflight: () => mirrored.describe().route?.mirrors?.inflight ?? 0,
      mirrors: () => mirrored.describe().route?.mirrors ?? {},
      close: () => mirrored.close(),
    },
    {
      name: BY_HAND,
      fn: () => {
        const pending = primaryOfHand();
        handInflight++;
        sendCopy().then(copyDone, copyDone);
        return pending;
      },
      inflight: () => handInflight,
      close: async () => {
        await Promise.all([handPrimary.close(), copier.close()]);
      },
    },
  ];
}

/** Waits (at most 5 s) until no variant has a copy in flight. */
async function drained(list: readonly Variant[]): Promise<void> {
  const until = Date.now() + 5_000;
  while (list.some((v) => v.inflight() > 0) && Date.now() < until)
    await new Promise((resolve) => setTimeout(resolve, 5));
}

export const mirror: Scenario = {
  id: 'mirror',
  title: '12. Mirroring all traffic to a 10× slower subset',
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const spec = (delayMs: number) => Array.from({ length: ENDPOINTS }, () => ({ delayMs }));
    const [primary, shadow] = await Promise.all([
      startBackends(spec(PRIMARY_MS), 1),
      startBackends(spec(MIRROR_MS), 1),
    ]);
    try {
      const endpoints = [
        ...labelledEndpoints(primary, { version: 'v1' }),
        ...labelledEndpoints(shadow, { version: 'v2' }),
      ];
      const warmupMs = 1_000 * ctx.scale;
      const sliceMs = ctx.quick ? 500 : 1_000;
      const slices = ctx.quick ? 2 : 5;
      const runs = new Map<string, Round[]>(VARIANTS.map((v) => [v, []]));
      const mirrors = { sent: 0, dropped: 0, failed: 0, served: 0, requests: 0 };
      for (let round = 0; round < ctx.rounds; round++) {
        gc();
        const list = variants(endpoints);
        try {
          for (const v of list) await paced(v.fn, { rate: RATE, durationMs: warmupMs });
          await drained(list);
          const slicesOf = new Map<string, LoadResult[]>(VARIANTS.map((v) => [v, []]));
          const before = mirrorCounts(list);
          // Short slices, the order forward then backward (ABC CBA …) and rotated each round: a
          // stall of the machine hits one slice of one variant, and the median over slices shrugs
          // it off.
          for (let k = 0; k < slices * list.length; k++) {
            const pass = Math.floor(k / list.length);
            const pos = k % list.length;
            const v = list[((pass % 2 === 0 ? pos : list.length - 1 - pos) + round) % list.length]!;
            await drained(list);
            const served0 = v.name === MIRRORED ? sum(await shadow.counts()) : 0;
            slicesOf.get(v.name)!.push(await paced(v.fn, { rate: RATE, durationMs: sliceMs }));
            if (v.name === MIRRORED) {
              await drained(list);
              mirrors.served += sum(await shadow.counts()) - served0;
            }
          }
          await drained(list);
          const after = mirrorCounts(list);
          mirrors.sent += after.sent - before.sent;
          mirrors.dropped += after.dropped - before.dropped;
          mirrors.failed += after.failed - before.failed;
          for (const v of list) {
            const got = slicesOf.get(v.name)!;
            const r: Round = {
              p50: median(got.map((x) => x.p50)),
              p99: median(got.map((x) => x.p99)),
              worstP99: Math.max(...got.map((x) => x.p99)),
              completed: sum(got.map((x) => x.completed)),
              failures: sum(got.map((x) => x.failures)),
              cpuUsPerRequest: median(got.map((x) => x.cpuUsPerRequest)),
            };
            if (v.name === MIRRORED) mirrors.requests += r.completed;
            runs.get(v.name)!.push(r);
            ctx.log(
              `mirror: round ${round + 1}/${ctx.rounds}, ${v.name}: p50 ${r.p50.toFixed(2)} p99 ${r.p99.toFixed(2)} ms (slices ${got.map((x) => x.p99.toFixed(1)).join(' ')}), ${r.completed} requests, ${r.failures} failed`,
            );
          }
          ctx.log(`mirror: copies so far ${JSON.stringify(mirrors)}`);
        } finally {
          await Promise.all(list.map((v) => v.close()));
        }
      }
      return report(ctx, runs, mirrors, { warmupMs, sliceMs, slices });
    } finally {
      await Promise.all([primary.close(), shadow.close()]);
    }
  },
};

/** The mirrored client's copy counters (`describe().route.mirrors`). */
function mirrorCounts(list: readonly Variant[]): { sent: number; dropped: number; failed: number } {
  const c = list.find((v) => v.mirrors !== undefined)?.mirrors?.() ?? {};
  return {
    sent: c.sent ?? 0,
    dropped: (c['dropped-limit'] ?? 0) + (c['dropped-body'] ?? 0),
    failed: c.failed ?? 0,
  };
}

function report(
  ctx: BenchContext,
  runs: Map<string, Round[]>,
  mirrors: { sent: number; dropped: number; failed: number; served: number; requests: number },
  timing: { warmupMs: number; sliceMs: number; slices: number },
): ScenarioResult {
  const m = (name: string, f: (r: Round) => number) => median(runs.get(name)!.map(f));
  const ratios = (a: string, b: string) => runs.get(a)!.map((r, i) => r.p99 / runs.get(b)![i]!.p99);
  const vsPlain = ratios(MIRRORED, NO_MIRROR);
  const vsHand = ratios(MIRRORED, BY_HAND);
  const ratio = median(vsPlain);
  const rows = VARIANTS.map((name) => [
    name,
    ms(m(name, (r) => r.p50)),
    ms(m(name, (r) => r.p99)),
    ms(m(name, (r) => r.worstP99)),
    fixed(
      m(name, (r) => r.cpuUsPerRequest),
      1,
    ),
    int(m(name, (r) => r.failures)),
  ]);
  const figures: Record<string, unknown> = {
    rate: RATE,
    ...timing,
    primaryMs: PRIMARY_MS,
    mirrorMs: MIRROR_MS,
    p99RatioToNoMirror: vsPlain,
    p99RatioToByHand: vsHand,
    mirrors,
  };
  for (const name of VARIANTS)
    figures[name] = {
      p50: m(name, (r) => r.p50),
      p99: m(name, (r) => r.p99),
      worstSliceP99: m(name, (r) => r.worstP99),
      cpuUsPerRequest: m(name, (r) => r.cpuUsPerRequest),
      rounds: runs.get(name)!,
    };
  const each = (xs: number[]) => xs.map((x) => fixed(x)).join(', ');
  return {
    id: 'mirror',
    title: mirror.title,
    setup: `Two backend processes (node:http): the primary subset (\`version: v1\`, ${ENDPOINTS} endpoints, a ${PRIMARY_MS} ms timer before answering) and the mirror subset (\`version: v2\`, ${ENDPOINTS} endpoints, ${MIRROR_MS} ms); \`createClient\` with its default stack and a Route in code sending everything to v1, with or without \`mirror: { subset: v2, percent: 100 }\` (the default bound of 100 copies in flight); the by-hand variant sends each copy through a second \`createClient\` to the v2 endpoints, not awaited. ${int(RATE)} req/s paced (open loop). Each round makes the clients afresh and warms each up for ${timing.warmupMs} ms, then measures ${timing.slices} slices of ${timing.sliceMs} ms per variant, in the order forward then backward, rotated each round (copies drained before each slice); a round's figure is the median over its slices; ${ctx.rounds} round${ctx.rounds === 1 ? '' : 's'}, medians of the per-round figures. Latency is the primary's, from send to the end of its body.`,
    tables: [
      table(
        [
          'variant',
          'primary p50 ms',
          'primary p99 ms',
          'worst slice p99 ms',
          'client CPU µs/request',
          'failures',
        ],
        rows,
      ),
      table(
        ['mirrored copies (all rounds)', 'sent', 'dropped (bound or body)', 'failed', 'served by v2'],
        [
          [
            `100% of ${int(mirrors.requests)} requests`,
            int(mirrors.sent),
            int(mirrors.dropped),
            int(mirrors.failed),
            int(mirrors.served),
          ],
        ],
      ),
    ],
    goals: [
      {
        text: `primary p99 with 100% mirrored to a ${MIRROR_MS / PRIMARY_MS}× slower subset ≤ 1.05× without (${int(RATE)} req/s)`,
        measured: `${fixed(ratio)}× (each round ${each(vsPlain)}); ${int(mirrors.dropped)} copies dropped`,
        met: ratio <= 1.05,
      },
    ],
    notes: [
      median(vsHand) <= 1.05
        ? `Against the same copies sent by hand, the mirrored client's p99 is ${fixed(median(vsHand))}× (each round ${each(vsHand)}): the mirror itself adds nothing measurable over the work of sending the copies. What separates it from no mirror at all is that work on this machine — the mirror's backend process and a second request's client CPU share the cores with the primary's — which a mirror on other machines would not bring.`
        : `Against the same copies sent by hand, the mirrored client's p99 is ${fixed(median(vsHand))}× (each round ${each(vsHand)}): the mirror costs the primary more than sending the copies by hand does.`,
      `The copy is made before the primary is sent and sent after it, on the same stack below the route module with the mirror subset pinned; it is a shadow call (no retry, no budget deposit, no breaker), so the primary never waits on a copy; what a copy costs is the client CPU of a second request (the CPU column) and one of the mirror pools' connections for ${MIRROR_MS} ms. At ${int(RATE)} req/s about ${Math.ceil((RATE * MIRROR_MS) / 1000)} copies are in flight at once, well under the bound, so none should be dropped unless the process stalls.`,
    ],
    figures,
  };
}
