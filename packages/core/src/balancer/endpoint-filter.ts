/**
 * Role `endpoint` accounts for each attempt on the endpoint the balancer chose: outstanding requests
 * and their age, latency into the peak-EWMA estimate, the outcome into outlier detection, and the
 * adaptive per-try timeout (see `attempt/watchdog.ts`).
 *
 * What counts against the endpoint: a failed or retryable response, a transport error, a refused
 * connection (which also makes it costlier than any endpoint that answers), and a deadline that
 * expired while the endpoint had not answered for more than twice its usual latency (or had never
 * answered): a hung endpoint is charged for the hang, while a caller's deadline that was simply too
 * short for a healthy endpoint is not. A readmission probe that ends by deadline is a failed probe.
 * A timeout (per-try or deadline) after at least the adaptive per-try timeout, while the endpoint
 * answered no request sent since this one, is `unanswered`: outlier detection ejects it.
 * A caller's cancellation says nothing of the endpoint and is not counted.
 */
import { AttemptWatchdog } from '../attempt/watchdog.ts';
import { ErrorCode, isWeftError, WeftError } from '../errors/errors.ts';
import type { FailureKind, OutlierOptions } from '../health/outlier.ts';
import { type Outcome, outcomeOf } from '../stack/env.ts';
import type { Module } from '../stack/stack.ts';
import {
  ADAPTIVE_PER_TRY_DEFAULTS,
  type AdaptivePerTryParams,
  checkEndpoint,
  ENDPOINT_PARAMS,
  type EndpointParams,
  OUTLIER_DEFAULTS,
} from './balance-params.ts';
import type { EndpointState } from './endpoint-state.ts';

export type { EndpointParams } from './balance-params.ts';

/** A deadline counts against an endpoint that had not answered for this many times its success latency. */
export const DEADLINE_BLAME_FACTOR = 2;

/** How an attempt counts for its endpoint. */
const Result = { Success: 0, Failure: 1, Refused: 2, Unanswered: 3, NotCounted: 4, Unusable: 5 } as const;
type Result = (typeof Result)[keyof typeof Result];

export function endpointModule(
  params: OutlierOptions & { adaptivePerTry?: Partial<AdaptivePerTryParams> } = {},
): Module<EndpointParams> {
  const { adaptivePerTry, ...outlier } = params;
  return {
    role: 'endpoint',
    description: 'per-endpoint load and latency; outlier detection; adaptive per-try timeout',
    params: {
      ...OUTLIER_DEFAULTS,
      ...outlier,
      adaptivePerTry: { ...ADAPTIVE_PER_TRY_DEFAULTS, ...adaptivePerTry },
    },
    spec: ENDPOINT_PARAMS,
    check: checkEndpoint,
    needs: ['endpoint'],
    make(params, next, env) {
      const { adaptivePerTry: perTry, ...outlierParams } = params;
      const { endpoints, clock, classify, binding, summary } = env;
      endpoints.configureOutlier(outlierParams);
      // Shared: attempts in flight on the previous stack stay watched after a config change.
      const watchdog = env.shared('adaptive-per-try', () => new AttemptWatchdog(clock, endpoints));
      watchdog.multiplier = perTry.multiplier;
      watchdog.minMs = perTry.minMs;
      const adaptive = perTry.enabled;
      const notSent = binding.notSent;

      return async (call) => {
        const ep = call.endpoint!;
        const start = clock.now();
        ep.begin(start);
        // Only an attempt that can be retried, and has no fixed per-try timeout of its own.
        const watched = adaptive && call.canRetry && !call.longLived && call.attemptSignal === call.signal;
        if (watched) {
          call.attemptStart = start;
          call.inflight = undefined;
          watchdog.watch(call);
        }
        let result: Result = Result.Success;
        let outcome: Outcome = 'success';
        try {
          if (ep.connectError !== undefined) {
            result = Result.Unusable;
            throw new WeftError(ErrorCode.ConnectFailed, ep.connectError.message, {
              retryable: true,
              cause: ep.connectError,
            });
          }
          const response = await next(call);
          outcome = outcomeOf(classify, call, response, undefined);
          if (outcome !== 'success') result = notSent?.(response) ? Result.Refused : Result.Failure;
          return response;
        } catch (error) {
          if (result !== Result.Unusable) result = blame(error, ep, clock.now() - start, start, watchdog);
          // Classified here only for the traffic summary (the modules above reuse the verdict).
          outcome = summary === undefined ? 'failure' : outcomeOf(classify, call, undefined, error);
          throw error;
        } finally {
          if (watched) watchdog.unwatch(call);
          ep.end(start);
          const elapsed = clock.now() - start;
          if (result === Result.NotCounted) endpoints.release(ep);
          else endpoints.record(ep, elapsed, result === Result.Success, KIND[result]);
          if (summary !== undefined) summary.record(ep, call.backend?.subset ?? '', elapsed, outcome);
        }
      };
    },
  };
}

const KIND: Record<Result, FailureKind> = [
  'failure',
  'failure',
  'refused',
  'unanswered',
  'failure',
  'unusable',
];

function blame(
  error: unknown,
  ep: EndpointState,
  elapsed: number,
  start: number,
  watchdog: AttemptWatchdog,
): Result {
  if (!isWeftError(error)) return Result.Failure;
  switch (error.code) {
    case ErrorCode.ConnectFailed:
      return Result.Refused;
    case ErrorCode.Cancelled:
      return Result.NotCounted;
    case ErrorCode.DeadlineExceeded:
    case ErrorCode.AttemptTimeout: {
      const usual = ep.successLatency;
      // Nothing sent since this attempt was answered, for at least the adaptive per-try timeout
      // (answers to requests sent before it do not count): it hangs.
      if (ep.lastAnsweredSentAt < start && elapsed >= watchdog.limitFor(usual)) return Result.Unanswered;
      if (error.code === ErrorCode.AttemptTimeout) return Result.Failure;
      return ep.health === 'probing' || elapsed > DEADLINE_BLAME_FACTOR * usual
        ? Result.Failure
        : Result.NotCounted;
    }
    default:
      return Result.Failure;
  }
}
