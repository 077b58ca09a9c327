/**
 * The destination policy: how a client talks to one destination service. One schema (zod) gives
 * both the TypeScript types and the validation used by the client options, the config service and
 * the CLI. Every field is optional: a policy is a set of overrides, merged as
 * built-in defaults < options in code < the config service.
 */
import { z } from 'zod';
import { definedOnly } from '../util/defined.ts';

const ms = (max: number) => z.number().int().min(0).max(max);
const positiveMs = (max: number) => z.number().int().min(1).max(max);
const percent = z.number().min(0).max(100);

export const BalancerKind = z.enum(['p2c-ewma', 'p2c-least-loaded', 'round-robin', 'weighted']);
export type BalancerKind = z.infer<typeof BalancerKind>;

export const BalancerPolicy = z.strictObject({
  /** Which algorithm picks the endpoint. Defaults to `p2c-ewma`. */
  kind: BalancerKind.optional(),
  /** Peak-EWMA decay time constant in ms. Defaults to 10000. */
  decayMs: positiveMs(600_000).optional(),
  /** Share of endpoints (0–100) below which the balancer ignores health (panic mode). Defaults to 50. */
  panicThresholdPercent: percent.optional(),
  /** With a local zone: how much costlier the local choice may be before a pick spills to another zone. Defaults to 2. */
  zoneSpilloverFactor: z.number().min(1).max(1000).optional(),
});
export type BalancerPolicy = z.infer<typeof BalancerPolicy>;

export const RetryBudgetPolicy = z.strictObject({
  /** Retries allowed as a percentage of requests. Defaults to 20. */
  percent: z.number().min(0).max(1000).optional(),
  /** Retries per second always allowed, for low-traffic clients. Defaults to 10. */
  minRetriesPerSecond: z.number().min(0).max(100_000).optional(),
  /** Window over which deposits count, in ms. Defaults to 10000. */
  ttlMs: positiveMs(600_000).optional(),
});
export type RetryBudgetPolicy = z.infer<typeof RetryBudgetPolicy>;

export const RetryPolicy = z.strictObject({
  /** Turns retries off entirely when false. Defaults to true. */
  enabled: z.boolean().optional(),
  /** Upper bound on attempts per call, on top of the budget. Defaults to 3. */
  maxAttempts: z.number().int().min(1).max(10).optional(),
  budget: RetryBudgetPolicy.optional(),
  /** First backoff delay in ms (exponential with decorrelated jitter). Defaults to 10. */
  backoffInitialMs: ms(60_000).optional(),
  /** Largest backoff delay in ms. Defaults to 1000. */
  backoffMaxMs: ms(600_000).optional(),
  /** Response statuses retried on idempotent requests. Defaults to [502, 503, 504]. */
  retryOnStatuses: z.array(z.number().int().min(100).max(599)).max(100).optional(),
});
export type RetryPolicy = z.infer<typeof RetryPolicy>;

export const CircuitBreakerPolicy = z.strictObject({
  /** Defaults to true. */
  enabled: z.boolean().optional(),
  /** Failure percentage over the rolling window that opens the breaker. Defaults to 50. */
  errorThresholdPercent: percent.optional(),
  /** Calls in the window before the breaker may open. Defaults to 20. */
  volumeThreshold: z.number().int().min(0).max(1_000_000).optional(),
  /** Time open before a half-open probe, in ms. Defaults to 10000. */
  resetTimeoutMs: positiveMs(3_600_000).optional(),
  /** Rolling statistics window in ms. Defaults to 10000. */
  rollingWindowMs: positiveMs(600_000).optional(),
});
export type CircuitBreakerPolicy = z.infer<typeof CircuitBreakerPolicy>;

export const OutlierPolicy = z.strictObject({
  /** Defaults to true. */
  enabled: z.boolean().optional(),
  /** Consecutive failures that eject an endpoint. Defaults to 5. */
  consecutiveFailures: z.number().int().min(1).max(1000).optional(),
  /** Success rate (0–100) under which an endpoint is ejected, once it has `minRequests`. Defaults to off (0). */
  minSuccessRatePercent: percent.optional(),
  /** Requests in the success-rate window before the rate counts. Defaults to 20. */
  minRequests: z.number().int().min(1).max(1_000_000).optional(),
  /** Base ejection time in ms, multiplied by the number of times ejected in a row. Defaults to 5000. */
  baseEjectionMs: positiveMs(3_600_000).optional(),
  /** Largest ejection time in ms. Defaults to 300000. */
  maxEjectionMs: positiveMs(3_600_000).optional(),
  /** Most endpoints (0–100 %) ejected at once; at least one may always be. Defaults to 50. */
  maxEjectionPercent: percent.optional(),
  /** Eject at once an endpoint that left an attempt unanswered (timed out after at least the adaptive per-try timeout while it answered no request sent after it): it hangs. Defaults to true. */
  ejectUnanswered: z.boolean().optional(),
});
export type OutlierPolicy = z.infer<typeof OutlierPolicy>;

export const AdaptivePerTryPolicy = z.strictObject({
  /** Abandon and retry an attempt that waits far longer than its endpoint usually answers, when a retry is possible (idempotent, replayable, attempts and budget left) and no `perTryTimeoutMs` is set. Defaults to true. */
  enabled: z.boolean().optional(),
  /** The timeout as a multiple of the endpoint's success latency (peak EWMA of its answers). Defaults to 4. */
  multiplier: z.number().min(1).max(1000).optional(),
  /** The shortest adaptive timeout in ms. Defaults to 100. */
  minMs: positiveMs(86_400_000).optional(),
});
export type AdaptivePerTryPolicy = z.infer<typeof AdaptivePerTryPolicy>;

export const DestinationPolicy = z.strictObject({
  balancer: BalancerPolicy.optional(),
  /**
   * Total time for a call, retries and body included, in ms. 0 means none (only per-call and
   * inherited deadlines). Defaults to 15000, Envoy's default route timeout, so a hung endpoint never
   * holds a call forever; long-lived gRPC streams are exempt.
   */
  timeoutMs: ms(86_400_000).optional(),
  /** Time for one attempt in ms. 0 means none: the adaptive per-try timeout applies. Defaults to 0. */
  perTryTimeoutMs: ms(86_400_000).optional(),
  /** The default per-try policy: a timeout derived from each endpoint's own latency, for attempts that can be retried. */
  adaptivePerTry: AdaptivePerTryPolicy.optional(),
  retry: RetryPolicy.optional(),
  circuitBreaker: CircuitBreakerPolicy.optional(),
  outlierDetection: OutlierPolicy.optional(),
});
export type DestinationPolicy = z.infer<typeof DestinationPolicy>;

/** Deep-merges policies left to right: later values win, nested objects merge, arrays replace. */
export function mergePolicies(...layers: (DestinationPolicy | undefined)[]): DestinationPolicy {
  const out: Record<string, unknown> = {};
  for (const layer of layers) {
    if (!layer) continue;
    for (const [key, value] of Object.entries(layer)) {
      if (value === undefined) continue;
      const prev = out[key];
      out[key] =
        value && typeof value === 'object' && !Array.isArray(value) && prev && typeof prev === 'object'
          ? { ...(prev as object), ...definedOnly(value as object) }
          : value;
    }
  }
  return out as DestinationPolicy;
}

/** Formats zod issues as `path: reason` lines, the form every Weft validation error uses. */
export function formatIssues(error: z.ZodError, prefix = ''): string[] {
  return error.issues.map((i) => {
    const path = [prefix, ...i.path.map(String)].filter(Boolean).join('.');
    return `${path || '(root)'}: ${i.message}`;
  });
}
