/**
 * Throughput and latency of several clients against the same backends, interleaved round by round:
 * a closed loop at fixed concurrency (saturation throughput), then a paced open loop at a rate every
 * variant sustains (latency). Medians across rounds; differences are taken within each round.
 */
import type { BenchClient } from './clients.ts';
import { type BenchContext, fixed, int, ms } from './context.ts';
import { cpuOf } from './cpu.ts';
import { closedLoop, type LoadResult, paced } from './load.ts';
import { interleave } from './rounds.ts';
import { median } from './stats.ts';

export interface CompareOptions {
  concurrency: number;
  saturationMs: number;
  /** Paced rate in req/s, or a share (0–1) of the slowest variant's warm-up throughput. */
  pacedRate?: number;
  pacedShare?: number;
  pacedMs: number;
  warmupMs: number;
  /** Processes whose CPU counts too (backends, proxies), for the whole-machine CPU per request. */
  otherPids?: (variant: string) => readonly number[];
}

export interface RoundFigures {
  sat: LoadResult;
  lat: LoadResult;
  /** CPU of the client and the other processes per request at saturation, µs. */
  totalCpuUs: number;
}

export interface VariantSummary {
  name: string;
  rps: number;
  cpuUsPerRequest: number;
  totalCpuUsPerRequest: number;
  satP50: number;
  satP99: number;
  satP999: number;
  p50: number;
  p99: number;
  p999: number;
  failures: number;
  rounds: RoundFigures[];
}

export async function compareClients(
  ctx: BenchContext,
  label: string,
  clients: readonly BenchClient[],
  o: CompareOptions,
): Promise<{ variants: Map<string, VariantSummary>; pacedRate: number }> {
  let slowest = Number.POSITIVE_INFINITY;
  for (const c of clients) {
    const w = await closedLoop(c.fn, { concurrency: o.concurrency, durationMs: o.warmupMs });
    ctx.log(`${label}: warm-up ${c.name}: ${Math.round(w.rps)} req/s`);
    slowest = Math.min(slowest, w.rps);
  }
  // The same rate for every variant, one they all sustain.
  const pacedRate = o.pacedRate ?? Math.max(200, Math.round((slowest * (o.pacedShare ?? 0.5)) / 100) * 100);
  ctx.log(`${label}: paced rate ${pacedRate} req/s`);
  const runs = await interleave<RoundFigures>(
    ctx,
    label,
    clients.map((c) => ({
      name: c.name,
      async run() {
        const pids = o.otherPids?.(c.name) ?? [];
        const before = cpuOf(pids);
        const sat = await closedLoop(c.fn, { concurrency: o.concurrency, durationMs: o.saturationMs });
        const others = (cpuOf(pids) - before) / sat.completed;
        const totalCpuUs = sat.cpuUsPerRequest + (pids.length ? others : Number.NaN);
        const lat = await paced(c.fn, { rate: pacedRate, durationMs: o.pacedMs });
        const fail = sat.failures + lat.failures;
        ctx.log(
          `  ${Math.round(sat.rps)} req/s, ${sat.cpuUsPerRequest.toFixed(1)} µs client CPU/req (${totalCpuUs.toFixed(1)} all processes); paced p50 ${lat.p50.toFixed(3)} p99 ${lat.p99.toFixed(3)} ms${fail ? `, ${fail} failures (${sat.firstError ?? lat.firstError})` : ''}`,
        );
        return { sat, lat, totalCpuUs };
      },
    })),
  );
  const out = new Map<string, VariantSummary>();
  for (const [name, rounds] of runs) {
    const m = (f: (r: RoundFigures) => number) => median(rounds.map(f));
    out.set(name, {
      name,
      rps: m((r) => r.sat.rps),
      cpuUsPerRequest: m((r) => r.sat.cpuUsPerRequest),
      totalCpuUsPerRequest: m((r) => r.totalCpuUs),
      satP50: m((r) => r.sat.p50),
      satP99: m((r) => r.sat.p99),
      satP999: m((r) => r.sat.p999),
      p50: m((r) => r.lat.p50),
      p99: m((r) => r.lat.p99),
      p999: m((r) => r.lat.p999),
      failures: rounds.reduce((n, r) => n + r.sat.failures + r.lat.failures, 0),
      rounds,
    });
  }
  return { variants: out, pacedRate };
}

/** Median over rounds of a per-round figure of `a` relative to `b` (same round, so drift cancels). */
export function pairedMedian(
  a: VariantSummary,
  b: VariantSummary,
  f: (x: RoundFigures, y: RoundFigures) => number,
): number {
  const n = Math.min(a.rounds.length, b.rounds.length);
  const values: number[] = [];
  for (let i = 0; i < n; i++) values.push(f(a.rounds[i]!, b.rounds[i]!));
  return median(values);
}

/** The per-variant figures without the raw rounds (for latest.json). */
export function compact(s: VariantSummary): Omit<VariantSummary, 'rounds'> {
  const { rounds: _rounds, ...rest } = s;
  return rest;
}

/**
 * The comparison settings the overhead scenarios share (HTTP and gRPC alike): `concurrency` in
 * flight for 2 s at saturation, then half the slower warm-up rate paced for 1.5 s, after 1 s of
 * warm-up per variant (all scaled by `ctx.scale`).
 */
export function overheadOptions(
  ctx: BenchContext,
  concurrency: number,
  otherPids: () => number[],
): CompareOptions {
  return {
    concurrency,
    saturationMs: 2_000 * ctx.scale,
    pacedShare: 0.5,
    otherPids,
    pacedMs: 1_500 * ctx.scale,
    warmupMs: 1_000 * ctx.scale,
  };
}

/** One row of an overhead table: throughput, × `base`, client CPU, saturated and paced latency. */
export function overheadRow(v: VariantSummary, base: VariantSummary): string[] {
  return [
    v.name,
    int(v.rps),
    fixed(pairedMedian(v, base, (x, y) => x.sat.rps / y.sat.rps)),
    fixed(v.cpuUsPerRequest, 1),
    ms(v.satP50),
    ms(v.satP99),
    ms(v.p50),
    ms(v.p99),
    ms(v.p999),
  ];
}
