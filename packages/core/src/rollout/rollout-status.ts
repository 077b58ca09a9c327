/**
 * The `RolloutStatus` document: where a `Rollout` of the same name stands. Only the config
 * service's rollout driver writes it, in the same commit as the Route weights it sets, so that a
 * restart or another replica resumes at exactly the step the Route shows (never one repeated or
 * skipped). Kept apart from the `Rollout` so the user's document is never rewritten; it is a
 * document like the others so that it is replicated, watched and kept in the history.
 */
import { z } from 'zod';

/** Analysed intervals kept in the status, newest last. */
export const MAX_STATUS_INTERVALS = 30;

export const ROLLOUT_PHASES = ['progressing', 'paused', 'promoted', 'failed', 'aborted'] as const;
export type RolloutPhase = (typeof ROLLOUT_PHASES)[number];

const Count = z.number().int().min(0);
const Ms = z.number().int().min(0);

/** One subset's metrics over an interval. */
export const IntervalMetrics = z.strictObject({
  requests: Count,
  failures: Count,
  /** 0–1; null without requests. */
  successRate: z.number().min(0).max(1).nullable(),
  p99Ms: z.number().min(0).nullable(),
});
export type IntervalMetrics = z.infer<typeof IntervalMetrics>;

/** One analysed interval. */
export const RolloutInterval = z.strictObject({
  step: Count,
  /** Start and end (ms since the epoch). */
  from: Ms,
  to: Ms,
  /** `inconclusive`: fewer canary requests than `minRequests`. */
  result: z.enum(['passed', 'failed', 'inconclusive']),
  canary: IntervalMetrics,
  stable: IntervalMetrics,
  /** Why it failed (the metric, its value, the bound), or why it was inconclusive. */
  reason: z.string().max(512).optional(),
});
export type RolloutInterval = z.infer<typeof RolloutInterval>;

export const RolloutStatusSpec = z.strictObject({
  phase: z.enum(ROLLOUT_PHASES),
  /** The revision of the `Rollout` this status is for; a newer Rollout starts again. */
  rolloutRevision: Count,
  /** Index of the current (or last) step. */
  step: Count,
  /** When the current step began (ms since the epoch); a resume restarts it. */
  stepStartedAt: Ms,
  /** End of the last analysed interval (ms since the epoch). */
  analysedUntil: Ms,
  /** The canary's weight the driver last wrote (0–100). */
  canaryWeight: z.number().int().min(0).max(100),
  /**
   * The Route revision the driver last wrote; 0 when that write is this status's own revision
   * (written in the same commit). Any other revision of the Route is a manual edit.
   */
  routeRevision: Count,
  /** Failed intervals so far. */
  failedIntervals: Count,
  /** Intervals of the current step that passed. */
  passedInStep: Count,
  /** Why it is paused, failed or aborted, for people. */
  reason: z.string().max(1024).optional(),
  /** The last analysed intervals, newest last. */
  intervals: z.array(RolloutInterval).max(MAX_STATUS_INTERVALS),
  /** Last write (ms since the epoch). */
  updatedAt: Ms,
});
export type RolloutStatusSpec = z.infer<typeof RolloutStatusSpec>;
