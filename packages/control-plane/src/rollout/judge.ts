/**
 * Judging one analysis interval: the canary's own success rate, its drop against the stable
 * subset, its p99 latency. Too few canary requests and the interval neither passes nor fails (a
 * quiet minute is no evidence either way).
 */
import type { IntervalMetrics, RolloutInterval, RolloutSpec } from '@weft/core/config';
import type { SubsetMetrics } from '../traffic/subsets.ts';

const NONE: IntervalMetrics = { requests: 0, failures: 0, successRate: null, p99Ms: null };

const round = (n: number | null, digits: number) =>
  n === null ? null : Math.round(n * 10 ** digits) / 10 ** digits;

function metricsOf(m: SubsetMetrics | undefined): IntervalMetrics {
  if (!m) return NONE;
  return {
    requests: m.requests,
    failures: m.failures,
    successRate: round(m.successRate, 6),
    p99Ms: round(m.p99Ms, 3),
  };
}

const pct = (rate: number) => `${(Math.round(rate * 10_000) / 100).toString()}%`;

export function judge(
  spec: RolloutSpec,
  step: number,
  from: number,
  to: number,
  traffic: ReadonlyMap<string, SubsetMetrics>,
): RolloutInterval {
  const canary = metricsOf(traffic.get(spec.canary));
  const stable = metricsOf(traffic.get(spec.stable));
  const a = spec.analysis;
  const when = `interval ${new Date(from).toISOString()}–${new Date(to).toISOString()}, step ${step + 1}`;
  const base = { step, from, to, canary, stable };
  if (canary.requests < a.minRequests)
    return {
      ...base,
      result: 'inconclusive',
      reason: `${canary.requests} canary requests, fewer than minRequests ${a.minRequests} (${when})`,
    };
  const rate = canary.successRate ?? 1;
  const fail = (reason: string): RolloutInterval => ({
    ...base,
    result: 'failed',
    reason: `${reason} (${when})`,
  });
  if (rate * 100 < a.successRate.minPercent)
    return fail(`successRate of ${spec.canary} ${pct(rate)} < minPercent ${a.successRate.minPercent}%`);
  if (a.relativeToStable && stable.successRate !== null) {
    const drop = (stable.successRate - rate) * 100;
    if (drop > a.relativeToStable.maxDropPoints)
      return fail(
        `successRate of ${spec.canary} ${pct(rate)} is ${round(drop, 2)} points below ${spec.stable}'s ${pct(stable.successRate)} > maxDropPoints ${a.relativeToStable.maxDropPoints}`,
      );
  }
  if (a.latencyP99Ms && canary.p99Ms !== null && canary.p99Ms > a.latencyP99Ms.max)
    return fail(
      `p99 latency of ${spec.canary} ${canary.p99Ms} ms > latencyP99Ms.max ${a.latencyP99Ms.max} ms`,
    );
  return { ...base, result: 'passed' };
}
