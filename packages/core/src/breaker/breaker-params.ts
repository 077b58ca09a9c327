/** The params of role `breaker`, declared once (see stack/params.ts). */
import { z } from 'zod';
import { defaultsOf, type ParamSpecs, param } from '../stack/params.ts';

export interface BreakerParams {
  /** Defaults to true. */
  enabled: boolean;
  /** Failure percentage in the rolling window that opens the breaker. Defaults to 50. */
  errorThresholdPercent: number;
  /** Calls in the window before it may open. Defaults to 20. */
  volumeThreshold: number;
  /** Time open before a half-open probe, in ms. Defaults to 10000. */
  resetTimeoutMs: number;
  /** Rolling statistics window in ms (ten buckets). Defaults to 10000. */
  rollingWindowMs: number;
}

export const BREAKER_PARAMS: ParamSpecs<BreakerParams> = {
  enabled: param(z.boolean(), true, '`false` turns the circuit breaker off.', 'circuitBreaker.enabled'),
  errorThresholdPercent: param(
    z.number().gt(0).max(100),
    50,
    'Failure percentage (above 0, at most 100) over the rolling window that opens the breaker.',
    'circuitBreaker.errorThresholdPercent',
  ),
  volumeThreshold: param(
    z.number().int().min(0).max(1_000_000),
    20,
    'Calls in the window before the breaker may open.',
    'circuitBreaker.volumeThreshold',
  ),
  resetTimeoutMs: param(
    z.number().int().min(1).max(3_600_000),
    10_000,
    'Time open before a half-open probe, in ms.',
    'circuitBreaker.resetTimeoutMs',
  ),
  rollingWindowMs: param(
    z.number().int().min(1).max(600_000),
    10_000,
    'Rolling statistics window in ms (ten buckets).',
    'circuitBreaker.rollingWindowMs',
  ),
};

export const BREAKER_DEFAULTS: BreakerParams = defaultsOf(BREAKER_PARAMS);
