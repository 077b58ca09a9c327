/**
 * The destination policy: how a client talks to one destination service. One schema (zod) gives
 * both the TypeScript types and the validation used by the client options, the config service and
 * the CLI. Every field is optional: a policy is a set of overrides, merged as
 * built-in defaults < options in code < the config service.
 */
import { z } from 'zod';
import {
  ADAPTIVE_PER_TRY_PARAMS,
  BALANCE_PARAMS,
  BALANCER_KINDS,
  OUTLIER_PARAMS,
} from '../balancer/balance-params.ts';
import { BREAKER_PARAMS } from '../breaker/breaker-params.ts';
import { ATTEMPT_PARAMS, DEADLINE_PARAMS } from '../deadline/deadline-params.ts';
import { RETRY_BUDGET_PARAMS, RETRY_PARAMS } from '../retry/retry-params.ts';
import { policyField, policyFields } from '../stack/params.ts';

// Every field but `retry.retryOnStatuses` (the protocol's classifier reads it) is a module's param,
// declared once beside its module (`*-params.ts`): type, range, default and doc come from there.

export const BalancerKind = z.enum(BALANCER_KINDS);
export type BalancerKind = z.infer<typeof BalancerKind>;

export const BalancerPolicy = z.strictObject(policyFields(BALANCE_PARAMS));
export type BalancerPolicy = z.infer<typeof BalancerPolicy>;

export const RetryBudgetPolicy = z.strictObject(policyFields(RETRY_BUDGET_PARAMS));
export type RetryBudgetPolicy = z.infer<typeof RetryBudgetPolicy>;

const { budget: _budget, ...retryFields } = policyFields(RETRY_PARAMS);

export const RetryPolicy = z.strictObject({
  ...retryFields,
  budget: RetryBudgetPolicy.optional().describe(RETRY_PARAMS.budget.doc),
  /** Read by the protocol's classifier, not by a module. */
  retryOnStatuses: z
    .array(z.number().int().min(100).max(599))
    .max(100)
    .optional()
    .describe('Response statuses retried on idempotent requests (HTTP). Defaults to [502,503,504].'),
});
export type RetryPolicy = z.infer<typeof RetryPolicy>;

export const CircuitBreakerPolicy = z.strictObject(policyFields(BREAKER_PARAMS));
export type CircuitBreakerPolicy = z.infer<typeof CircuitBreakerPolicy>;

export const OutlierPolicy = z.strictObject(policyFields(OUTLIER_PARAMS));
export type OutlierPolicy = z.infer<typeof OutlierPolicy>;

export const AdaptivePerTryPolicy = z.strictObject(policyFields(ADAPTIVE_PER_TRY_PARAMS));
export type AdaptivePerTryPolicy = z.infer<typeof AdaptivePerTryPolicy>;

export const DestinationPolicy = z.strictObject({
  balancer: BalancerPolicy.optional(),
  timeoutMs: policyField(DEADLINE_PARAMS.timeoutMs),
  perTryTimeoutMs: policyField(ATTEMPT_PARAMS.perTryTimeoutMs),
  adaptivePerTry: AdaptivePerTryPolicy.optional(),
  retry: RetryPolicy.optional(),
  circuitBreaker: CircuitBreakerPolicy.optional(),
  outlierDetection: OutlierPolicy.optional(),
});
export type DestinationPolicy = z.infer<typeof DestinationPolicy>;

/**
 * Deep-merges policies left to right: later values win, nested objects merge at every depth (a
 * config-service `retry.budget.percent` keeps the code's `retry.budget.ttlMs`), arrays replace.
 */
export function mergePolicies(...layers: (DestinationPolicy | undefined)[]): DestinationPolicy {
  let out: Record<string, unknown> = {};
  for (const layer of layers) if (layer) out = mergeObjects(out, layer);
  return out as DestinationPolicy;
}

function mergeObjects(base: Record<string, unknown>, over: object): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue;
    const prev = out[key];
    out[key] = isRecord(value) && isRecord(prev) ? mergeObjects(prev, value) : value;
  }
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Formats zod issues as `path: reason` lines, the form every Weft validation error uses. A refused
 * record key (a subset or header name) is named in the reason, quoted, with the reason it is refused
 * (not only zod's "Invalid key in record"), and the path stops at the record: the key may hold any
 * character, `:` and spaces included, and the path must stay readable up to its `: `.
 */
export function formatIssues(error: z.ZodError, prefix = ''): string[] {
  return error.issues.map((i) => {
    const badKey = i.code === 'invalid_key';
    const segments = (badKey ? i.path.slice(0, -1) : i.path).map(pathSegment);
    const path = [prefix, ...segments].filter(Boolean).join('.');
    const reason = badKey
      ? `invalid key ${JSON.stringify(String(i.path.at(-1) ?? ''))}: ${i.issues.map((inner) => inner.message).join('; ') || i.message}`
      : i.message;
    return `${path || '(root)'}: ${reason}`;
  });
}

/**
 * A path segment as printed: names and indexes as they are; a key with other characters (a record
 * key someone mistyped) quoted, `:` escaped, so that `path: reason` still reads unambiguously.
 */
function pathSegment(segment: PropertyKey): string {
  const text = String(segment);
  return /^[A-Za-z0-9_-]+$/.test(text) ? text : JSON.stringify(text).replaceAll(':', '\\u003a');
}
