/** The params of role `retry`, declared once (see stack/params.ts). */
import { z } from 'zod';
import { invalidOption } from '../errors/errors.ts';
import { defaultsOf, type ParamSpecs, param, paramGroup } from '../stack/params.ts';
import type { RetryBudgetOptions } from './budget.ts';

/** The budget's settings as the module runs with them: {@link RetryBudgetOptions}, every field set. */
export type RetryBudgetParams = Required<RetryBudgetOptions>;

export interface RetryParams {
  /** Turns retries off when false. Defaults to true. */
  enabled: boolean;
  /** Most attempts per call, first included, on top of the budget. Defaults to 3. */
  maxAttempts: number;
  /** The shared budget. Defaults to 20% of requests + 10/s over 10 s. */
  budget: RetryBudgetParams;
  /** First backoff in ms. Defaults to 10. */
  backoffInitialMs: number;
  /** Largest backoff in ms. Defaults to 1000. */
  backoffMaxMs: number;
}

/** Finagle's `RetryBudget` defaults: percentCanRetry 0.2, minRetriesPerSec 10, ttl 10 s. */
export const RETRY_BUDGET_PARAMS: ParamSpecs<RetryBudgetParams> = {
  percent: param(
    z.number().min(0).max(1000),
    20,
    'Retries allowed as a percentage of requests.',
    'retry.budget.percent',
  ),
  minRetriesPerSecond: param(
    z.number().min(0).max(100_000),
    10,
    'Retries per second always allowed, for low-traffic clients.',
    'retry.budget.minRetriesPerSecond',
  ),
  ttlMs: param(
    z.number().int().min(1).max(600_000),
    10_000,
    'Window over which deposits count, in ms.',
    'retry.budget.ttlMs',
  ),
};

export const RETRY_PARAMS: ParamSpecs<RetryParams> = {
  enabled: param(z.boolean(), true, '`false` turns retries off.', 'retry.enabled'),
  maxAttempts: param(
    z.number().int().min(1).max(10),
    3,
    'Upper bound on attempts per call, first included, on top of the budget.',
    'retry.maxAttempts',
  ),
  budget: paramGroup(
    RETRY_BUDGET_PARAMS,
    'The retry budget shared by every call to the destination.',
    'retry.budget',
  ),
  backoffInitialMs: param(
    z.number().int().min(0).max(60_000),
    10,
    'First backoff delay in ms (exponential with decorrelated jitter).',
    'retry.backoffInitialMs',
  ),
  backoffMaxMs: param(
    z.number().int().min(0).max(600_000),
    1000,
    'Largest backoff delay in ms.',
    'retry.backoffMaxMs',
  ),
};

export const RETRY_DEFAULTS: RetryParams = defaultsOf(RETRY_PARAMS);

/** The rule across fields, run on the effective params before any module is made. */
export function checkRetry(params: RetryParams): void {
  if (params.backoffMaxMs < params.backoffInitialMs)
    throw invalidOption('retry.backoffMaxMs', 'must be ≥ retry.backoffInitialMs');
}
