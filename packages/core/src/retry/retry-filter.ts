/**
 * Role `retry`: retries attempts the classifier calls `retryable`, while the destination's retry
 * budget allows, the body can be replayed, attempts stay under `maxAttempts`, and the backoff still
 * fits before the deadline. Backoff is exponential with decorrelated jitter (the AWS architecture
 * blog's "Exponential Backoff and Jitter": each delay uniform in [initial, 3 × previous], capped),
 * run by cockatiel's `ExponentialBackoff` on the stack's injected `random()`.
 *
 * A retryable response's pushback (`Retry-After`, `grpc-retry-pushback-ms`) is honoured within the
 * deadline (see pushback.ts).
 *
 * When it gives up on a retryable failure it sets the retry marker on the inherited context, so the
 * server handling the parent request tells its own caller not to retry (no amplification across hops).
 */
import { ExponentialBackoff, type IBackoff } from 'cockatiel';
import { abortError, ErrorCode, WeftError } from '../errors/errors.ts';
import type { Call } from '../stack/call.ts';
import { outcomeOf } from '../stack/env.ts';
import type { Module } from '../stack/stack.ts';
import { diagnostics } from '../telemetry/diagnostics.ts';
import { sleep } from '../time/clock.ts';
import { retryBudget } from './budget.ts';
import { applyPushback } from './pushback.ts';
import { checkRetry, RETRY_DEFAULTS, RETRY_PARAMS, type RetryParams } from './retry-params.ts';

export type { RetryBudgetParams, RetryParams } from './retry-params.ts';
export { RETRY_DEFAULTS } from './retry-params.ts';

export function retryModule(
  params: Partial<Omit<RetryParams, 'budget'>> & { budget?: Partial<RetryParams['budget']> } = {},
): Module<RetryParams> {
  return {
    role: 'retry',
    description: 'retry retryable failures under a shared budget, with jittered backoff',
    params: { ...RETRY_DEFAULTS, ...params, budget: { ...RETRY_DEFAULTS.budget, ...params.budget } },
    spec: RETRY_PARAMS,
    check: checkRetry,
    sets: ['attempt', 'canRetry'],
    make(params, next, env) {
      if (!params.enabled) return next;
      const { clock, classify, binding, instruments, destination, endpoints } = env;
      // One budget per destination whatever its params: a change keeps its balance (budget.ts).
      const budget = env.shared('retry-budget', () => retryBudget(params.budget, clock));
      budget.configure(params.budget);
      const { random } = env;
      const backoff = new ExponentialBackoff<number>({
        initialDelay: params.backoffInitialMs,
        maxDelay: params.backoffMaxMs,
        // Decorrelated jitter, uniform in [initial, 3 × previous] and capped, drawn from the stack's
        // injected random() (cockatiel's default generator calls Math.random) so runs are repeatable.
        generator: (previous, o) => {
          const delay = Math.min(
            o.maxDelay,
            o.initialDelay + random() * ((previous ?? o.initialDelay) * 3 - o.initialDelay),
          );
          return [delay, delay];
        },
      });
      const attrs = { 'server.address': destination };

      const giveUp = (call: Call) => {
        if (call.parent) call.parent.downstreamExhausted = true;
      };

      const retrying = async (call: Call) => {
        budget.deposit();
        let delay: IBackoff<unknown> | undefined;
        const retriable = call.idempotent && call.replayable;
        call.retried = true;
        for (let attempt = 1; ; attempt++) {
          call.attempt = attempt;
          // Read by the adaptive per-try timeout: only an attempt that can be retried is cut short.
          call.canRetry = retriable && attempt < params.maxAttempts && budget.balance() >= 1;
          let response: Awaited<ReturnType<typeof next>> | undefined;
          let error: unknown;
          let failed = false;
          try {
            response = await next(call);
          } catch (e) {
            error = e;
            failed = true;
          }
          const outcome = outcomeOf(classify, call, response, error);
          if (outcome !== 'retryable') {
            // The caller's cancellation counts for no budget: its request is taken back.
            if (outcome === 'ignored') budget.refund();
            if (failed) throw error;
            return response!;
          }
          // A retryable failure: may we try again?
          let reason: string | undefined;
          let wait = 0;
          if (!call.replayable) reason = 'body cannot be replayed';
          else if (attempt >= params.maxAttempts) reason = `${attempt} attempts made`;
          else if (call.signal?.aborted) reason = 'call aborted';
          else {
            delay = delay ? delay.next(undefined) : backoff.next();
            wait = delay.duration;
            const now = clock.now();
            const pushback = failed ? undefined : applyPushback(call, response!, binding, endpoints, now);
            if (pushback !== undefined && pushback < 0) reason = 'the server asked not to be retried';
            else {
              if (pushback !== undefined && pushback > wait) wait = pushback;
              if (now + wait >= call.deadline) reason = 'no time left before the deadline';
            }
          }
          if (reason !== undefined) {
            giveUp(call);
            if (failed) throw error;
            return response!;
          }
          // Only a retry that will be sent draws on the budget.
          if (!budget.tryWithdraw()) {
            instruments.budgetExhausted.add(1, attrs);
            if (diagnostics.budgetExhausted.hasSubscribers)
              diagnostics.budgetExhausted.publish({ destination, attempt });
            giveUp(call);
            if (failed)
              throw new WeftError(ErrorCode.BudgetExhausted, `retry budget for ${destination} is spent`, {
                cause: error,
              });
            return response!;
          }
          if (!failed) binding.discard(response!);
          instruments.retries.add(1, attrs);
          if (diagnostics.retry.hasSubscribers) diagnostics.retry.publish({ destination, attempt, error });
          if (wait > 0) {
            try {
              await sleep(clock, wait, call.signal);
            } catch (reason) {
              throw abortError(reason);
            }
          }
        }
      };
      // A mirrored copy is never retried and deposits nothing: shadow traffic must not fund retries.
      return (call) => (call.shadow ? next(call) : retrying(call));
    },
  };
}
