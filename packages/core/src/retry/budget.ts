/**
 * A retry budget, shared by every call to one destination. Each request deposits, each retry
 * withdraws; retries are allowed while the balance lasts. With the defaults a client retries at most
 * 20% of its requests, plus 10 retries per second for clients with little traffic, counted over a
 * sliding 10 s window — Finagle's `RetryBudget` defaults (percentCanRetry 0.2, minRetriesPerSec 10,
 * ttl 10 s). A fixed max-attempts alone turns an outage into a retry storm; a budget cannot.
 */
import { invalidOption } from '../errors/errors.ts';
import type { Clock } from '../time/clock.ts';

export interface RetryBudget {
  /** Records one request. */
  deposit(): void;
  /** Takes one retry from the budget; false when it is spent. */
  tryWithdraw(): boolean;
  /** Retries available now (for metrics and tests). */
  balance(): number;
}

export interface RetryBudgetOptions {
  /** Retries as a percentage of requests. Defaults to 20. */
  percent?: number;
  /** Retries per second always allowed (a reserve of `minRetriesPerSecond × ttl`). Defaults to 10. */
  minRetriesPerSecond?: number;
  /** Window in ms over which deposits and withdrawals count. Defaults to 10000. */
  ttlMs?: number;
}

export const RETRY_BUDGET_DEFAULTS: Required<RetryBudgetOptions> = {
  percent: 20,
  minRetriesPerSecond: 10,
  ttlMs: 10_000,
};

const SLICES = 10;

/** A token budget over a sliding window of ten slices. O(1) per deposit and withdrawal. */
export function retryBudget(options: RetryBudgetOptions, clock: Clock): RetryBudget {
  const percent = options.percent ?? RETRY_BUDGET_DEFAULTS.percent;
  const minPerSec = options.minRetriesPerSecond ?? RETRY_BUDGET_DEFAULTS.minRetriesPerSecond;
  const ttlMs = options.ttlMs ?? RETRY_BUDGET_DEFAULTS.ttlMs;
  if (!(percent >= 0 && percent <= 1000))
    throw invalidOption('retry.budget.percent', 'must be within 0–1000');
  if (!(minPerSec >= 0)) throw invalidOption('retry.budget.minRetriesPerSecond', 'must be ≥ 0');
  if (!(ttlMs >= 1)) throw invalidOption('retry.budget.ttlMs', 'must be ≥ 1');

  const ratio = percent / 100;
  const reserve = minPerSec * (ttlMs / 1000);
  const sliceMs = ttlMs / SLICES;
  const deposits = new Float64Array(SLICES);
  const withdrawals = new Float64Array(SLICES);
  let depositSum = 0;
  let withdrawalSum = 0;
  let currentSlice = Math.floor(clock.now() / sliceMs);

  const advance = () => {
    const slice = Math.floor(clock.now() / sliceMs);
    if (slice === currentSlice) return;
    const steps = Math.min(slice - currentSlice, SLICES);
    for (let k = 1; k <= steps; k++) {
      const i = (((currentSlice + k) % SLICES) + SLICES) % SLICES;
      depositSum -= deposits[i]!;
      withdrawalSum -= withdrawals[i]!;
      deposits[i] = 0;
      withdrawals[i] = 0;
    }
    currentSlice = slice;
  };
  const index = () => ((currentSlice % SLICES) + SLICES) % SLICES;
  const balance = () => reserve + depositSum * ratio - withdrawalSum;

  return {
    deposit() {
      advance();
      deposits[index()]!++;
      depositSum++;
    },
    tryWithdraw() {
      advance();
      if (balance() < 1) return false;
      withdrawals[index()]!++;
      withdrawalSum++;
      return true;
    },
    balance() {
      advance();
      return Math.floor(balance());
    },
  };
}
