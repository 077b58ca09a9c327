import { Header, parseDeadlineHeader } from '../../context/wire.ts';
import type { ServerModule } from '../binding.ts';
import { SERVER_REJECTIONS } from '../rejection.ts';

/**
 * Role `deadline`: reads the deadline the caller propagated — the transport's own (gRPC's
 * `grpc-timeout`) narrowed by `weft-deadline-ms` when both came — and refuses a call whose deadline
 * has already passed (nobody waits for its answer; `weft-no-retry`). Sets `call.deadline`, which
 * the context gives the handler and its outbound calls. A malformed value is ignored and counted.
 */
export function serverDeadlineModule(): ServerModule {
  return {
    role: 'deadline',
    sets: ['deadline'],
    description: 'read the propagated deadline; refuse a call whose deadline has passed',
    params: {},
    spec: {},
    make(_params, next, env) {
      const onMalformed = env.onMalformed;
      return (call) => {
        let remaining = call.transportRemainingMs();
        const ms = parseDeadlineHeader(call.header(Header.deadline));
        if (ms !== undefined) {
          if (Number.isNaN(ms)) onMalformed('deadline');
          else if (ms < remaining) remaining = ms;
        }
        if (remaining <= 0) throw SERVER_REJECTIONS.deadline;
        if (remaining !== Number.POSITIVE_INFINITY) call.deadline = call.start + remaining;
        next(call);
      };
    },
  };
}
