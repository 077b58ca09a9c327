/**
 * Role `balance` picks the endpoint for each attempt; role `endpoint` (endpoint-filter.ts) accounts
 * for it. A retry avoids the endpoint that failed its previous attempt whenever there is another.
 * With a route rule (set by `route`), each attempt first picks the rule's backend — the subset a
 * `weft-route` override pins, or one by weight among those that have endpoints, by the call's hash
 * key when it has one — and then the endpoint within that subset.
 */
import { ErrorCode, WeftError } from '../errors/errors.ts';
import { readCallHeader } from '../route/route-table.ts';
import { chooseBackend } from '../route/routed.ts';
import type { Call } from '../stack/call.ts';
import type { Module } from '../stack/stack.ts';
import { BALANCE_DEFAULTS, BALANCE_PARAMS, type BalanceParams } from './balance-params.ts';
import type { EndpointPool } from './endpoint-pool.ts';
import { hash32 } from './hash.ts';
import { balancerFor } from './strategies.ts';

export type { BalanceParams } from './balance-params.ts';
export { BALANCE_DEFAULTS } from './balance-params.ts';

/** A second, independent 32-bit hash of a hash (MurmurHash3's finalizer over a shifted key). */
function remix(hash: number): number {
  let h = Math.imul(hash ^ 0x9e3779b9, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function balanceModule(params: Partial<BalanceParams> = {}): Module<BalanceParams> {
  return {
    role: 'balance',
    description: 'pick an endpoint among the healthy ones (panic mode when too few)',
    params: { ...BALANCE_DEFAULTS, ...params },
    spec: BALANCE_PARAMS,
    sets: ['endpoint'],
    make(params, next, env) {
      const { endpoints, destination, random } = env;
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

      const noEndpoints = (call: Call) => {
        const routed = call.route;
        const pin = call.routePin;
        if (routed !== undefined && (pin !== undefined || routed.backends !== undefined)) {
          const subsets = (pin ? [pin] : routed.backends!).map((b) => b.subset).join(', ');
          return new WeftError(
            ErrorCode.NoEndpoints,
            `no endpoints for ${destination} in route rule ${routed.rule.label} (subsets: ${subsets})`,
          );
        }
        const state = endpoints.resolverState;
        const why =
          state.kind === 'failed'
            ? `: resolver failed (${state.reason.message})`
            : state.kind === 'negative'
              ? ': the name has no endpoints'
              : '';
        return new WeftError(ErrorCode.NoEndpoints, `no endpoints for ${destination}${why}`);
      };

      const hashHeader = params.hashHeader === '' ? undefined : params.hashHeader;
      const header = env.binding.requestHeader ?? readCallHeader;

      /**
       * The pool this attempt picks from: the route backend's (the override's pin, else one chosen by
       * weight among those with endpoints, again for every attempt), else the whole destination's.
       * Undefined when the rule's backends have no endpoints.
       */
      const poolOf = (call: Call): EndpointPool | undefined => {
        const routed = call.route;
        if (routed === undefined) return endpoints.pool;
        const backend =
          call.routePin ??
          (routed.backends === undefined ? undefined : chooseBackend(routed.backends, random, call.hash));
        call.backend = backend;
        if (backend !== undefined) return backend.pool.all.length > 0 ? backend.pool : undefined;
        return routed.backends === undefined ? endpoints.pool : undefined;
      };

      // The ring point of a call: its key re-mixed, so that the keys a rule's weights sent to one
      // subset (a narrow band of hash values) still spread over that subset's whole ring.
      const hashOf = (call: Call): number | undefined => {
        if (call.hash !== undefined) return remix(call.hash);
        if (hashHeader === undefined) return undefined;
        const key = header(call, hashHeader);
        return key === undefined ? undefined : hash32(key);
      };

      /** The rare path: the resolver has not answered yet, or there is no endpoint. */
      const waitForEndpoints = async (call: Call) => {
        if (endpoints.resolverState.kind === 'pending') await endpoints.whenResolved(call.signal);
        const pool = poolOf(call);
        const ep = pool && endpoints.pick(call.canRetry || !call.retried, pool, hashOf(call));
        if (ep === undefined) throw noEndpoints(call);
        call.endpoint = ep;
        return next(call);
      };

      return (call) => {
        const pool = poolOf(call);
        if (pool === undefined) return waitForEndpoints(call);
        // With retries on, a readmission probe waits a moment for a call that could be retried.
        let ep = endpoints.pick(call.canRetry || !call.retried, pool, hashOf(call));
        if (ep === undefined) return waitForEndpoints(call);
        if (call.attempt > 1 && ep === call.endpoint && pool.available.length > 1) {
          // A retry should not go back to the endpoint that just failed it.
          const other = endpoints.pickOther(ep, pool);
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
