/**
 * Role `balance` picks the endpoint for each attempt; role `endpoint` (endpoint-filter.ts) accounts
 * for it. A retry avoids the endpoint that failed its previous attempt whenever there is another.
 */
import { ErrorCode, WeftError } from '../errors/errors.ts';
import type { Call } from '../stack/call.ts';
import type { Module } from '../stack/stack.ts';
import { BALANCE_DEFAULTS, BALANCE_PARAMS, type BalanceParams } from './balance-params.ts';
import { balancerFor } from './strategies.ts';

export type { BalanceParams } from './balance-params.ts';
export { BALANCE_DEFAULTS } from './balance-params.ts';

export function balanceModule(params: Partial<BalanceParams> = {}): Module<BalanceParams> {
  return {
    role: 'balance',
    description: 'pick an endpoint among the healthy ones (panic mode when too few)',
    params: { ...BALANCE_DEFAULTS, ...params },
    spec: BALANCE_PARAMS,
    sets: ['endpoint'],
    make(params, next, env) {
      const { endpoints, destination } = env;
      const current = endpoints.balancer;
      const strategy =
        current.kind === params.kind && endpoints.decayMs === params.decayMs
          ? current
          : balancerFor(params.kind, { decayMs: params.decayMs });
      endpoints.configure({
        balancer: strategy,
        decayMs: params.decayMs,
        panicThresholdPercent: params.panicThresholdPercent,
        zoneSpilloverFactor: params.zoneSpilloverFactor,
      });

      const noEndpoints = () => {
        const state = endpoints.resolverState;
        const why =
          state.kind === 'failed'
            ? `: resolver failed (${state.reason.message})`
            : state.kind === 'negative'
              ? ': the name has no endpoints'
              : '';
        return new WeftError(ErrorCode.NoEndpoints, `no endpoints for ${destination}${why}`);
      };

      /** The rare path: the resolver has not answered yet, or there is no endpoint. */
      const waitForEndpoints = async (call: Call) => {
        if (endpoints.resolverState.kind === 'pending') await endpoints.whenResolved(call.signal);
        const ep = endpoints.pick(call.canRetry || !call.retried);
        if (ep === undefined) throw noEndpoints();
        call.endpoint = ep;
        return next(call);
      };

      return (call) => {
        // With retries on, a readmission probe waits a moment for a call that could be retried.
        let ep = endpoints.pick(call.canRetry || !call.retried);
        if (ep === undefined) return waitForEndpoints(call);
        if (call.attempt > 1 && ep === call.endpoint && endpoints.available.length > 1) {
          // A retry should not go back to the endpoint that just failed it.
          const other = endpoints.pickOther(ep);
          if (other !== undefined) {
            endpoints.release(ep);
            ep = other;
          }
        }
        call.endpoint = ep;
        return next(call);
      };
    },
  };
}
