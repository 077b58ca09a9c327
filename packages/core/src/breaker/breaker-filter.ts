/**
 * Role `breaker`: one circuit breaker per destination (opossum). While open, calls fail fast with
 * `WEFT_CIRCUIT_OPEN` instead of queueing on a destination that is down; after `resetTimeoutMs` a
 * single half-open probe decides whether it closes. Failures are what the classifier says is not a
 * success, errors included, except the caller's own cancellations.
 */
import CircuitBreaker from 'opossum';
import { ErrorCode, WeftError } from '../errors/errors.ts';
import { isCallerCancellation } from '../retry/classifier.ts';
import type { Call } from '../stack/call.ts';
import { outcomeOf } from '../stack/env.ts';
import type { Module, Service } from '../stack/stack.ts';
import { diagnostics } from '../telemetry/diagnostics.ts';
import { BREAKER_DEFAULTS, BREAKER_PARAMS, type BreakerParams } from './breaker-params.ts';

export type { BreakerParams } from './breaker-params.ts';
export { BREAKER_DEFAULTS } from './breaker-params.ts';

/** Carries a failed response through opossum, which only counts rejections. */
class ResponseFailure {
  readonly response: unknown;
  constructor(response: unknown) {
    this.response = response;
  }
}

type Action = (call: Call, next: Service) => Promise<unknown>;

export function breakerModule(params: Partial<BreakerParams> = {}): Module<BreakerParams> {
  return {
    role: 'breaker',
    description: 'per-destination circuit breaker (opossum): fail fast while open',
    params: { ...BREAKER_DEFAULTS, ...params },
    spec: BREAKER_PARAMS,
    make(params, next, env) {
      if (!params.enabled) return next;
      const { destination, instruments } = env;
      const key = `breaker:${params.errorThresholdPercent}:${params.volumeThreshold}:${params.resetTimeoutMs}:${params.rollingWindowMs}`;
      const breaker = env.shared(key, () => {
        const action: Action = async (call, next) => {
          const response = await next(call);
          if (outcomeOf(env.classify, call, response, undefined) !== 'success')
            throw new ResponseFailure(response);
          return response;
        };
        const b: CircuitBreaker<Parameters<Action>, unknown> = new CircuitBreaker(action, {
          timeout: false,
          errorThresholdPercentage: params.errorThresholdPercent,
          volumeThreshold: params.volumeThreshold,
          resetTimeout: params.resetTimeoutMs,
          rollingCountTimeout: params.rollingWindowMs,
          rollingCountBuckets: 10,
          rollingPercentilesEnabled: false,
          // A cancellation says nothing about the destination; but a cancelled half-open probe gave no
          // verdict either, so it must not close the breaker: it counts, and the breaker stays open.
          errorFilter: (err: unknown): boolean => isCallerCancellation(err) && !b.halfOpen,
        });
        const report = (state: string) => () => {
          instruments.breakerTransitions.add(1, { 'server.address': destination, state });
          if (diagnostics.breaker.hasSubscribers) diagnostics.breaker.publish({ destination, state });
        };
        b.on('open', report('open'));
        b.on('halfOpen', report('half-open'));
        b.on('close', report('closed'));
        return { breaker: b, close: () => b.shutdown() };
      }).breaker;

      return async (call) => {
        try {
          return await breaker.fire(call, next as Service);
        } catch (error) {
          if (error instanceof ResponseFailure) return error.response as never;
          if ((error as { code?: string } | null)?.code === 'EOPENBREAKER')
            throw new WeftError(ErrorCode.CircuitOpen, `circuit breaker for ${destination} is open`, {
              cause: error,
            });
          throw error;
        }
      };
    },
  };
}
