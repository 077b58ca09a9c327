/**
 * The `Rollout` document: a canary that advances or rolls back by itself. `name` is the destination
 * service; its `Route` defines the two subsets. The config service drives it: each step gives the
 * canary `weight` percent of the Route's default rule (the stable subset the rest), holds it for
 * `pauseS` while the golden metrics of the calls to the service are checked every
 * `analysis.intervalS`, and then goes on; `analysis.failureLimit` failed intervals roll back.
 *
 * ```yaml
 * kind: Rollout
 * name: catalog
 * spec:
 *   stable: v1
 *   canary: v2
 *   steps: [{ weight: 5, pauseS: 60 }, { weight: 50, pauseS: 120 }, { weight: 100 }]
 *   analysis: { intervalS: 30, minRequests: 100, successRate: { minPercent: 99 } }
 * ```
 *
 * Times are whole seconds from 1 (short ones make tests and demos fast) to one day. Where the
 * rollout stands is not part of this document: the service keeps it in a `RolloutStatus` of the
 * same name (rollout-status.ts), so what the user wrote is never rewritten.
 */
import { z } from 'zod';

/** Limits of the document's numbers. */
export const ROLLOUT_LIMITS = {
  /** Longest pause and interval, in seconds: one day. */
  maxSeconds: 86_400,
  /** Most steps. */
  maxSteps: 32,
  /** Most failed intervals tolerated before rolling back. */
  maxFailureLimit: 100,
} as const;

/** Documented defaults of `spec.analysis`. */
export const ROLLOUT_DEFAULTS = {
  intervalS: 30,
  minRequests: 100,
  minPercent: 99,
  failureLimit: 2,
} as const;

const SUBSET_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const Subset = z
  .string()
  .regex(SUBSET_NAME, 'must be a subset name of the Route (lowercase letters, digits and "-")');

const Seconds = z
  .number()
  .int('must be a whole number of seconds')
  .min(1, 'must be ≥ 1 s')
  .max(ROLLOUT_LIMITS.maxSeconds, `must be ≤ ${ROLLOUT_LIMITS.maxSeconds} s`);

const Percent = z.number().min(0, 'must be from 0 to 100').max(100, 'must be from 0 to 100');

export const RolloutStep = z.strictObject({
  /** Percent of the default rule's calls the canary gets in this step (0–100, whole). */
  weight: z
    .number()
    .int('must be a whole percent')
    .min(0, 'must be from 0 to 100')
    .max(100, 'must be from 0 to 100'),
  /**
   * How long the step holds before the next one. Defaults to none: the step goes on at once (a
   * last step of 100 usually has none). A step with a pause goes on only once one of its intervals
   * passed, so it never advances without evidence.
   */
  pauseS: Seconds.optional(),
});
export type RolloutStep = z.infer<typeof RolloutStep>;

export const RolloutAnalysis = z.strictObject({
  /** How often the canary's metrics are judged, over the interval just ended. Defaults to 30. */
  intervalS: Seconds.default(ROLLOUT_DEFAULTS.intervalS),
  /** Canary requests an interval needs to be judged; with fewer it neither passes nor fails. Defaults to 100. */
  minRequests: z.number().int().min(1, 'must be ≥ 1').max(1e9).default(ROLLOUT_DEFAULTS.minRequests),
  /** The canary's own success rate must be at least this. Defaults to `{ minPercent: 99 }`. */
  successRate: z.strictObject({ minPercent: Percent }).default({ minPercent: ROLLOUT_DEFAULTS.minPercent }),
  /** The canary's success rate may be below the stable subset's by at most this many points. Defaults to none. */
  relativeToStable: z.strictObject({ maxDropPoints: Percent }).optional(),
  /** The canary's p99 latency must be at most `max` ms. Defaults to none. */
  latencyP99Ms: z.strictObject({ max: z.number().positive('must be > 0').max(3_600_000) }).optional(),
  /** Failed intervals (over the whole rollout) that roll it back. Defaults to 2. */
  failureLimit: z
    .number()
    .int()
    .min(1, 'must be ≥ 1')
    .max(ROLLOUT_LIMITS.maxFailureLimit)
    .default(ROLLOUT_DEFAULTS.failureLimit),
});
export type RolloutAnalysis = z.infer<typeof RolloutAnalysis>;

export const RolloutSpec = z
  .strictObject({
    /** The subset that serves today; it gets `100 − weight`. */
    stable: Subset,
    /** The new subset. */
    canary: Subset,
    /** The weights in order: non-decreasing, the last one 100. */
    steps: z.array(RolloutStep).min(1, 'give at least one step').max(ROLLOUT_LIMITS.maxSteps),
    /** How each interval is judged. Defaults to the defaults of each field. */
    analysis: RolloutAnalysis.prefault({}),
    /**
     * A first phase before the weighted steps: the canary gets no weight, only the calls carrying
     * the travelling override `weft-route: <service>=<canary>` reach it (the driver sets the
     * Route's `overrides: true`), analysed like any step for `pauseS`. Defaults to none.
     */
    headerFirst: z.strictObject({ pauseS: Seconds }).optional(),
  })
  .superRefine((spec, ctx) => {
    if (spec.stable === spec.canary)
      ctx.addIssue({ code: 'custom', path: ['canary'], message: 'must differ from stable' });
    spec.steps.forEach((step, i) => {
      const before = spec.steps[i - 1];
      if (before && step.weight < before.weight)
        ctx.addIssue({
          code: 'custom',
          path: ['steps', i, 'weight'],
          message: `must not be below the previous step's (${before.weight})`,
        });
    });
    const last = spec.steps.length - 1;
    if (last >= 0 && spec.steps[last]!.weight !== 100)
      ctx.addIssue({ code: 'custom', path: ['steps', last, 'weight'], message: 'the last step must be 100' });
  });
export type RolloutSpec = z.infer<typeof RolloutSpec>;
export type RolloutSpecInput = z.input<typeof RolloutSpec>;
