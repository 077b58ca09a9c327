/**
 * The rollout state machine, pure: given a `Rollout`, its `RolloutStatus`, the service's `Route`,
 * the time and the traffic, it says what to write next (a new status, and the canary weight when
 * the Route must change), or nothing. The driver (driver.ts) reads, calls it and writes both in one
 * commit; keeping the decisions here makes every rule testable without processes or clocks.
 */
import type { RolloutStatusSpec, StoredDocument } from '@weft/core/config';
import { MAX_STATUS_INTERVALS } from '@weft/core/config';
import type { SubsetMetrics } from '../traffic/subsets.ts';
import { judge } from './judge.ts';

export interface Observation {
  readonly rollout: StoredDocument<'Rollout'>;
  readonly status: StoredDocument<'RolloutStatus'> | undefined;
  readonly route: StoredDocument<'Route'> | undefined;
  /** Wall clock, ms. */
  readonly now: number;
  /** Calls to the service by subset in `[from, to)`. */
  traffic(from: number, to: number): ReadonlyMap<string, SubsetMetrics>;
}

/** What to write: the status, and the canary weight to give the Route's default rule (when it changes). */
export interface Decision {
  readonly status: RolloutStatusSpec;
  readonly canaryWeight?: number;
  /** Set the Route's `overrides: true` with the weights (the header-first phase). */
  readonly overrides?: true;
}

/** A step as driven: the document's steps, after the header-first phase when there is one (step 0). */
export interface DrivenStep {
  readonly weight: number;
  readonly pauseS?: number;
  readonly headerOnly?: true;
}

/** The steps the driver goes through: `spec.headerFirst` (weight 0, override only) first, then `spec.steps`. */
export function drivenSteps(spec: StoredDocument<'Rollout'>['spec']): readonly DrivenStep[] {
  return spec.headerFirst
    ? [{ weight: 0, pauseS: spec.headerFirst.pauseS, headerOnly: true }, ...spec.steps]
    : spec.steps;
}

/** The Route revision the driver wrote last, given the status it wrote with it. */
export function ownRouteRevision(status: StoredDocument<'RolloutStatus'>): number {
  return status.spec.routeRevision || status.revision;
}

/** True when the status is for an older Rollout (or there is none): the rollout starts (again). */
export function isStale(o: Pick<Observation, 'rollout' | 'status'>): boolean {
  return o.status === undefined || o.status.spec.rolloutRevision !== o.rollout.revision;
}

const TERMINAL = new Set(['promoted', 'failed', 'aborted']);

/** True when nothing is left to drive. */
export function isFinished(phase: RolloutStatusSpec['phase']): boolean {
  return TERMINAL.has(phase);
}

function start(o: Observation): Decision {
  const { spec } = o.rollout;
  const steps = drivenSteps(spec);
  const base: RolloutStatusSpec = {
    phase: 'progressing',
    rolloutRevision: o.rollout.revision,
    step: 0,
    stepStartedAt: o.now,
    analysedUntil: o.now,
    canaryWeight: steps[0]!.weight,
    routeRevision: 0,
    failedIntervals: 0,
    passedInStep: 0,
    intervals: [],
    updatedAt: o.now,
  };
  const id = `Route/${o.rollout.name}`;
  if (!o.route)
    return {
      status: {
        ...base,
        phase: 'failed',
        canaryWeight: 0,
        reason: `${id} does not exist: nothing to roll out`,
      },
    };
  const subsets = o.route.spec.subsets ?? {};
  const missing = [spec.stable, spec.canary].filter((s) => !Object.hasOwn(subsets, s));
  if (missing.length)
    return {
      status: {
        ...base,
        phase: 'failed',
        canaryWeight: 0,
        reason: `${id} does not define subset ${missing.map((s) => `"${s}"`).join(', ')} (spec.subsets has ${Object.keys(subsets).join(', ') || 'none'})`,
      },
    };
  return {
    status: base,
    canaryWeight: base.canaryWeight,
    ...(steps[0]!.headerOnly ? { overrides: true } : {}),
  };
}

/** The status to write without touching the Route: it keeps pointing at the Route's revision. */
function carry(status: StoredDocument<'RolloutStatus'>, now: number): RolloutStatusSpec {
  return { ...status.spec, routeRevision: ownRouteRevision(status), updatedAt: now };
}

export function decide(o: Observation): Decision | undefined {
  if (isStale(o)) return start(o);
  const status = o.status!;
  if (status.spec.phase !== 'progressing') return undefined;
  const { spec } = o.rollout;
  if (!o.route || o.route.revision !== ownRouteRevision(status)) {
    const what = o.route ? `changed at revision ${o.route.revision}` : 'deleted';
    return {
      status: {
        ...carry(status, o.now),
        phase: 'paused',
        reason: `Route/${o.rollout.name} was ${what}, not by the rollout: paused at step ${status.spec.step + 1}; resume to take the Route back (its weights are written again)`,
      },
    };
  }
  let next = carry(status, o.now);
  let changed = false;
  const intervalMs = spec.analysis.intervalS * 1000;
  if (o.now - next.analysedUntil >= intervalMs) {
    const from = next.analysedUntil;
    const traffic = o.traffic(from, o.now);
    const interval = judge(spec, next.step, from, o.now, traffic);
    next = {
      ...next,
      analysedUntil: o.now,
      intervals: [...next.intervals, interval].slice(-MAX_STATUS_INTERVALS),
      failedIntervals: next.failedIntervals + (interval.result === 'failed' ? 1 : 0),
      passedInStep: next.passedInStep + (interval.result === 'passed' ? 1 : 0),
    };
    changed = true;
    if (next.failedIntervals >= spec.analysis.failureLimit) {
      const reason = `rolled back after ${next.failedIntervals} failed intervals (failureLimit ${spec.analysis.failureLimit}); last: ${interval.reason}`;
      return { status: { ...next, phase: 'failed', canaryWeight: 0, reason }, canaryWeight: 0 };
    }
  }
  const steps = drivenSteps(spec);
  const step = steps[next.step]!;
  const pauseMs = (step.pauseS ?? 0) * 1000;
  if (o.now - next.stepStartedAt >= pauseMs && (pauseMs === 0 || next.passedInStep > 0)) {
    if (next.step === steps.length - 1) return { status: { ...next, phase: 'promoted' } };
    const weight = steps[next.step + 1]!.weight;
    next = { ...next, step: next.step + 1, stepStartedAt: o.now, passedInStep: 0 };
    if (weight !== next.canaryWeight)
      return { status: { ...next, canaryWeight: weight, routeRevision: 0 }, canaryWeight: weight };
    return { status: next };
  }
  return changed ? { status: next } : undefined;
}

/** The operator's actions on a rollout. */
export type RolloutAction = 'pause' | 'resume' | 'promote' | 'abort';

/** The outcome of {@link act}: a decision, or why the action does not apply. */
export type ActionResult =
  | { readonly ok: true; readonly decision: Decision }
  | { readonly ok: false; readonly reason: string };

export function act(action: RolloutAction, o: Observation, by: string): ActionResult {
  if (isStale(o))
    return { ok: false, reason: `Rollout/${o.rollout.name} has not started yet; try again in a moment` };
  const status = o.status!;
  const phase = status.spec.phase;
  if (isFinished(phase))
    return { ok: false, reason: `Rollout/${o.rollout.name} is ${phase}; apply it again to start over` };
  const base = { ...carry(status, o.now), routeRevision: 0 };
  const { reason: _r, ...rest } = base;
  switch (action) {
    case 'pause':
      if (phase === 'paused') return { ok: false, reason: `Rollout/${o.rollout.name} is paused already` };
      return {
        ok: true,
        decision: { status: { ...carry(status, o.now), phase: 'paused', reason: `paused by ${by}` } },
      };
    case 'resume': {
      if (phase !== 'paused') return { ok: false, reason: `Rollout/${o.rollout.name} is not paused` };
      if (!o.route)
        return { ok: false, reason: `Route/${o.rollout.name} does not exist: apply it, then resume` };
      // The step starts over: its pause and its evidence count from now.
      const status2 = {
        ...rest,
        phase: 'progressing' as const,
        stepStartedAt: o.now,
        analysedUntil: o.now,
        passedInStep: 0,
      };
      const headerOnly = drivenSteps(o.rollout.spec)[status2.step]?.headerOnly;
      return {
        ok: true,
        decision: {
          status: status2,
          canaryWeight: status2.canaryWeight,
          ...(headerOnly ? { overrides: true } : {}),
        },
      };
    }
    case 'promote':
      return {
        ok: true,
        decision: {
          status: { ...base, phase: 'promoted', canaryWeight: 100, reason: `promoted by ${by}` },
          canaryWeight: 100,
        },
      };
    default:
      return {
        ok: true,
        decision: {
          status: { ...base, phase: 'aborted', canaryWeight: 0, reason: `aborted by ${by}` },
          canaryWeight: 0,
        },
      };
  }
}
