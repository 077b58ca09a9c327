/**
 * A retry budget, shared by every call to one destination. Each request deposits, each retry
 * withdraws; retries are allowed while the balance lasts. With the defaults a client retries at most
 * 20% of its requests, plus 10 retries per second for clients with little traffic, counted over a
 * sliding 10 s window — Finagle's `RetryBudget` defaults (percentCanRetry 0.2, minRetriesPerSec 10,
 * ttl 10 s). A fixed max-attempts alone turns an outage into a retry storm; a budget cannot.
 */
import { invalidOption } from '../errors/errors.ts';
import { defaultsOf } from '../stack/params.ts';
import type { Clock } from '../time/clock.ts';
import { RETRY_BUDGET_PARAMS } from './retry-params.ts';

export interface RetryBudget {
  /** Records one request. */
  deposit(): void;
  /** Takes one retry from the budget; false when it is spent. */
  tryWithdraw(): boolean;
  /** Takes back one request recorded by `deposit` (the caller cancelled it: it counts for nothing). */
  refund(): void;
  /** Retries available now (for metrics and tests). */
  balance(): number;
  /**
   * New parameters for the same budget: deposits and withdrawals in the window are kept, so a
   * change of percent or reserve from the config service neither refills nor empties it.
   */
  configure(options: RetryBudgetOptions): void;
}

export interface RetryBudgetOptions {
  /** Retries as a percentage of requests. Defaults to 20. */
  percent?: number;
  /** Retries per second always allowed (a reserve of `minRetriesPerSecond × ttl`). Defaults to 10. */
  minRetriesPerSecond?: number;
  /** Window in ms over which deposits and withdrawals count. Defaults to 10000. */
  ttlMs?: number;
}

/** The defaults, as the retry module declares them (retry-params.ts). */
export const RETRY_BUDGET_DEFAULTS: Required<RetryBudgetOptions> = defaultsOf(RETRY_BUDGET_PARAMS);

const SLICES = 10;

/** A token budget over a sliding window of ten slices. O(1) per deposit and withdrawal. */
export function retryBudget(options: RetryBudgetOptions, clock: Clock): RetryBudget {
  let ratio = 0;
  let reserve = 0;
  let sliceMs = 1;
  const deposits = new Float64Array(SLICES);
  const withdrawals = new Float64Array(SLICES);
  let depositSum = 0;
  let withdrawalSum = 0;
  let currentSlice = 0;

  const configure = (o: RetryBudgetOptions) => {
    const percent = o.percent ?? RETRY_BUDGET_DEFAULTS.percent;
    const minPerSec = o.minRetriesPerSecond ?? RETRY_BUDGET_DEFAULTS.minRetriesPerSecond;
    const ttlMs = o.ttlMs ?? RETRY_BUDGET_DEFAULTS.ttlMs;
    if (!(percent >= 0 && percent <= 1000))
      throw invalidOption('retry.budget.percent', 'must be within 0–1000');
    if (!(minPerSec >= 0)) throw invalidOption('retry.budget.minRetriesPerSecond', 'must be ≥ 0');
    if (!(ttlMs >= 1)) throw invalidOption('retry.budget.ttlMs', 'must be ≥ 1');
    ratio = percent / 100;
    reserve = minPerSec * (ttlMs / 1000);
    // A new window length keeps the counts: each slice now spans a tenth of the new window.
    sliceMs = ttlMs / SLICES;
    currentSlice = Math.floor(clock.now() / sliceMs);
  };
  configure(options);

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
    refund() {
      advance();
      const i = index();
      // The deposit may have aged into an older slice, or out of the window: take it from the newest.
      if (deposits[i]! > 0) {
        deposits[i]!--;
        depositSum--;
      } else if (depositSum >= 1) {
        for (let k = 1; k < SLICES; k++) {
          const j = (i - k + SLICES) % SLICES;
          if (deposits[j]! > 0) {
            deposits[j]!--;
            depositSum--;
            return;
          }
        }
      }
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
    configure,
  };
}
