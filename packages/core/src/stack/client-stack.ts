/**
 * The default client stack, top (first to see a call) to bottom. The protocol binding supplies the
 * terminal service (the transport) below `endpoint`. Routing (weighted splits, header matches,
 * mirroring, fault injection) will sit between `telemetry` and `deadline`.
 */
import { attemptModule } from '../attempt/attempt-filter.ts';
import { balanceModule } from '../balancer/balance-filter.ts';
import { endpointModule } from '../balancer/endpoint-filter.ts';
import { breakerModule } from '../breaker/breaker-filter.ts';
import { contextModule } from '../context/context-filter.ts';
import { deadlineModule } from '../deadline/deadline-filter.ts';
import { retryModule } from '../retry/retry-filter.ts';
import { telemetryModule } from '../telemetry/telemetry-filter.ts';
import type { Call } from './call.ts';
import { Stack } from './stack.ts';

export function defaultClientStack<Req extends Call = Call, Res = unknown>(): Stack<Req, Res> {
  return new Stack<Req, Res>([
    contextModule(),
    telemetryModule(),
    deadlineModule(),
    breakerModule(),
    retryModule(),
    attemptModule(),
    balanceModule(),
    endpointModule(),
  ] as never);
}
