/** The params of roles `balance` and `endpoint`, declared once (see stack/params.ts). */
import { z } from 'zod';
import { invalidOption } from '../errors/errors.ts';
import { defaultsOf, type ParamSpecs, param, paramGroup } from '../stack/params.ts';

export const BALANCER_KINDS = [
  'p2c-ewma',
  'p2c-least-loaded',
  'round-robin',
  'weighted',
  'ring-hash',
] as const;
export type BalancerKind = (typeof BALANCER_KINDS)[number];

export interface BalanceParams {
  /** `p2c-ewma`, `p2c-least-loaded`, `round-robin`, `weighted` or `ring-hash`. Defaults to `p2c-ewma`. */
  kind: BalancerKind;
  /**
   * The request header whose value is the hash key of `ring-hash` (session affinity), when the
   * route rule gives none (`hashOn`). Defaults to `''` (none: calls without a key land at random).
   */
  hashHeader: string;
  /** Peak-EWMA decay time constant in ms. Defaults to 10000. */
  decayMs: number;
  /** Share of healthy endpoints (0–100) under which health is ignored. Defaults to 50. */
  panicThresholdPercent: number;
  /** With a local zone: how much costlier the local choice may be before spilling over. Defaults to 2. */
  zoneSpilloverFactor: number;
}

export const BALANCE_PARAMS: ParamSpecs<BalanceParams> = {
  kind: param(z.enum(BALANCER_KINDS), 'p2c-ewma', 'Which algorithm picks the endpoint.', 'balancer.kind'),
  hashHeader: param(
    z
      .string()
      .regex(/^$|^[a-z0-9!#$%&'*+.^_`|~-]{1,256}$/, 'must be a lower-case HTTP header name')
      .max(256),
    '',
    "With `ring-hash`: the request header whose value keeps a caller on one endpoint (a route rule's `hashOn` wins).",
    'balancer.hashHeader',
  ),
  decayMs: param(
    z.number().int().min(1).max(600_000),
    10_000,
    'Peak-EWMA decay time constant in ms.',
    'balancer.decayMs',
  ),
  panicThresholdPercent: param(
    z.number().min(0).max(100),
    50,
    'Share of endpoints (0–100) below which the balancer ignores health (panic mode).',
    'balancer.panicThresholdPercent',
  ),
  zoneSpilloverFactor: param(
    z.number().min(1).max(1000),
    2,
    'With a local zone: how much costlier the local choice may be before a pick spills to another zone.',
    'balancer.zoneSpilloverFactor',
  ),
};

export const BALANCE_DEFAULTS: BalanceParams = defaultsOf(BALANCE_PARAMS);

export interface OutlierParams {
  /** Defaults to true. */
  enabled: boolean;
  /** Consecutive failures that eject an endpoint. Defaults to 5. */
  consecutiveFailures: number;
  /** Success rate (0–100) under which an endpoint is ejected once it has `minRequests`; 0 = off. Defaults to 0. */
  minSuccessRatePercent: number;
  /** Requests in the success-rate window before the rate counts. Defaults to 20. */
  minRequests: number;
  /** Base ejection time in ms, multiplied by the number of times ejected in a row. Defaults to 5000. */
  baseEjectionMs: number;
  /** Largest ejection time in ms. Defaults to 300000. */
  maxEjectionMs: number;
  /** Most endpoints (0–100 %) ejected at once; at least one may always be. Defaults to 50. */
  maxEjectionPercent: number;
  /** Eject at once an endpoint that left an attempt unanswered. Defaults to true. */
  ejectUnanswered: boolean;
}

export const OUTLIER_PARAMS: ParamSpecs<OutlierParams> = {
  enabled: param(z.boolean(), true, '`false` turns outlier detection off.', 'outlierDetection.enabled'),
  consecutiveFailures: param(
    z.number().int().min(1).max(1000),
    5,
    'Consecutive failures that eject an endpoint.',
    'outlierDetection.consecutiveFailures',
  ),
  minSuccessRatePercent: param(
    z.number().min(0).max(100),
    0,
    'Success rate (0–100) under which an endpoint is ejected, once it has `minRequests`; 0 = off.',
    'outlierDetection.minSuccessRatePercent',
  ),
  minRequests: param(
    z.number().int().min(1).max(1_000_000),
    20,
    'Requests in the success-rate window before the rate counts.',
    'outlierDetection.minRequests',
  ),
  baseEjectionMs: param(
    z.number().int().min(1).max(3_600_000),
    5000,
    'Base ejection time in ms, multiplied by the number of times ejected in a row.',
    'outlierDetection.baseEjectionMs',
  ),
  maxEjectionMs: param(
    z.number().int().min(1).max(3_600_000),
    300_000,
    'Largest ejection time in ms.',
    'outlierDetection.maxEjectionMs',
  ),
  maxEjectionPercent: param(
    z.number().min(0).max(100),
    50,
    'Most endpoints (0–100 %) ejected at once; at least one may always be.',
    'outlierDetection.maxEjectionPercent',
  ),
  ejectUnanswered: param(
    z.boolean(),
    true,
    'Eject at once an endpoint that left an attempt unanswered (timed out after at least the adaptive per-try timeout while it answered no request sent after it): it hangs.',
    'outlierDetection.ejectUnanswered',
  ),
};

export interface AdaptivePerTryParams {
  /** Defaults to true. */
  enabled: boolean;
  /** The timeout as a multiple of the endpoint's success latency (peak EWMA). Defaults to 4. */
  multiplier: number;
  /** The shortest adaptive timeout in ms. Defaults to 100. */
  minMs: number;
}

export const ADAPTIVE_PER_TRY_PARAMS: ParamSpecs<AdaptivePerTryParams> = {
  enabled: param(
    z.boolean(),
    true,
    'Abandon and retry an attempt that waits far longer than its endpoint usually answers, when a retry is possible (idempotent, replayable, attempts and budget left) and no `perTryTimeoutMs` is set.',
    'adaptivePerTry.enabled',
  ),
  multiplier: param(
    z.number().min(1).max(1000),
    4,
    "The timeout as a multiple of the endpoint's success latency (peak EWMA of its answers).",
    'adaptivePerTry.multiplier',
  ),
  minMs: param(
    z.number().int().min(1).max(86_400_000),
    100,
    'The shortest adaptive timeout in ms.',
    'adaptivePerTry.minMs',
  ),
};

export type EndpointParams = OutlierParams & {
  /** The per-try timeout derived from each endpoint's latency, when no fixed one is set. */
  adaptivePerTry: AdaptivePerTryParams;
};

export const ENDPOINT_PARAMS: ParamSpecs<EndpointParams> = {
  ...OUTLIER_PARAMS,
  adaptivePerTry: paramGroup(
    ADAPTIVE_PER_TRY_PARAMS,
    "The default per-try policy: a timeout derived from each endpoint's own latency, for attempts that can be retried.",
    'adaptivePerTry',
  ),
};

export const OUTLIER_DEFAULTS: OutlierParams = defaultsOf(OUTLIER_PARAMS);
export const ADAPTIVE_PER_TRY_DEFAULTS: AdaptivePerTryParams = defaultsOf(ADAPTIVE_PER_TRY_PARAMS);

/** The rule across fields, run on the effective params before any module is made. */
export function checkEndpoint(params: EndpointParams): void {
  if (params.maxEjectionMs < params.baseEjectionMs)
    throw invalidOption('outlierDetection.maxEjectionMs', 'must be ≥ outlierDetection.baseEjectionMs');
}
