/**
 * The default client stack, top (first to see a call) to bottom. The protocol binding supplies the
 * terminal service (the transport) below `endpoint`. `route` (weighted splits, header matches,
 * mirroring, the travelling override) sits between `telemetry` and `deadline`, so each rule's
 * timeouts and retries build the stack below it; `fault` sits below `deadline` (a delay never
 * outlasts the deadline) and above `breaker` and `retry` (an injected abort is neither counted nor
 * retried). Both cost nothing for a destination without a Route. `stop` (the kill switch) sits
 * just below `telemetry`: a stopped call is counted and traced, and costs nothing else.
 */
import { attemptModule } from '../attempt/attempt-filter.ts';
import { balanceModule } from '../balancer/balance-filter.ts';
import type { BalanceParams, EndpointParams } from '../balancer/balance-params.ts';
import { endpointModule } from '../balancer/endpoint-filter.ts';
import { breakerModule } from '../breaker/breaker-filter.ts';
import type { BreakerParams } from '../breaker/breaker-params.ts';
import { contextModule } from '../context/context-filter.ts';
import { deadlineModule } from '../deadline/deadline-filter.ts';
import type { AttemptParams, DeadlineParams } from '../deadline/deadline-params.ts';
import { retryModule } from '../retry/retry-filter.ts';
import type { RetryParams } from '../retry/retry-params.ts';
import { faultModule } from '../route/fault-module.ts';
import { routeModule } from '../route/route-module.ts';
import { telemetryModule } from '../telemetry/telemetry-filter.ts';
import { stopModule } from '../traffic/stop-module.ts';
import type { Call } from './call.ts';
import { type CallField, Stack } from './stack.ts';

declare module './stack.ts' {
  /** The client's built-in roles and their params, for `Stack.configure`. */
  interface ParamsByRole {
    context: Record<never, never>;
    telemetry: Record<never, never>;
    stop: Record<never, never>;
    route: Record<never, never>;
    deadline: DeadlineParams;
    fault: Record<never, never>;
    breaker: BreakerParams;
    retry: RetryParams;
    attempt: AttemptParams;
    balance: BalanceParams;
    endpoint: EndpointParams;
  }
}

/** What every client transport reads: the endpoint chosen, the attempt's signal and Weft headers. */
export const CLIENT_TRANSPORT_NEEDS: readonly CallField[] = ['endpoint', 'attemptSignal', 'wire'];

export function defaultClientStack<Req extends Call = Call, Res = unknown>(): Stack<Req, Res> {
  return new Stack<Req, Res>(
    [
      contextModule(),
      telemetryModule(),
      stopModule(),
      routeModule(),
      deadlineModule(),
      faultModule(),
      breakerModule(),
      retryModule(),
      attemptModule(),
      balanceModule(),
      endpointModule(),
    ] as never,
    { bottomNeeds: CLIENT_TRANSPORT_NEEDS },
  );
}
