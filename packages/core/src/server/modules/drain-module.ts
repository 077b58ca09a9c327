import type { ServerModule, ServerService } from '../binding.ts';
import type { ServerCall, ServerFinisher } from '../call.ts';
import type { DrainState } from '../drain.ts';
import { SERVER_REJECTIONS } from '../rejection.ts';

class DrainLayer implements ServerFinisher {
  readonly service: ServerService;
  readonly #drain: DrainState;

  constructor(next: ServerService, drain: DrainState) {
    this.#drain = drain;
    this.service = (call) => {
      if (!drain.enter()) throw SERVER_REJECTIONS.draining;
      call.defer(this);
      next(call);
    };
  }

  finish(_call: ServerCall): void {
    this.#drain.leave();
  }
}

/**
 * Role `drain`: counts the calls in flight, which a drain waits for, and refuses new ones once
 * draining with a retryable rejection (a Weft client sends them to another endpoint). First in the
 * stack, so a draining server does no other work for a call it will not serve.
 */
export function serverDrainModule(): ServerModule {
  return {
    role: 'drain',
    description: 'count calls in flight; refuse new ones while draining (retryable)',
    params: {},
    spec: {},
    make: (_params, next, env) => new DrainLayer(next, env.drain).service,
  };
}
