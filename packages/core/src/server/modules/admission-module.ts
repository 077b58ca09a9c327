import { type Admission, type AdmissionOptions, admission } from '../../admission/admission.ts';
import type { ServerModule, ServerService } from '../binding.ts';
import { latencySample, type RouteLimit, type ServerCall, type ServerFinisher } from '../call.ts';
import { SERVER_REJECTIONS } from '../rejection.ts';

class AdmissionLayer implements ServerFinisher {
  readonly service: ServerService;
  readonly #admission: Admission;

  constructor(next: ServerService, limits: Admission) {
    this.#admission = limits;
    this.service = (call) => {
      const reason = limits.tryAdmit();
      if (reason !== undefined) throw SERVER_REJECTIONS[reason];
      call.defer(this);
      const route = call.routeLimit;
      if (route !== undefined) {
        const routeReason = route.tryAdmit(call);
        if (routeReason !== undefined) throw SERVER_REJECTIONS[routeReason];
      }
      next(call);
    };
  }

  finish(call: ServerCall): void {
    this.#admission.release(call.elapsedMs, latencySample(call));
  }
}

/**
 * Role `admission`: the server's concurrency limit and token bucket (its `concurrency` and `rate`
 * options), then the route's own limit when the binding knows the route already (Fastify). A
 * refused call gets a retryable rejection at once (shedding early beats queueing). The permit
 * returns when the call ends, with the latency sample {@link latencySample} derives — one rule for
 * every protocol.
 */
export function serverAdmissionModule(): ServerModule {
  return {
    role: 'admission',
    sets: ['admission'],
    description: 'concurrency and rate limits (server, then route); shed with a retryable rejection',
    params: {},
    spec: {},
    make: (_params, next, env) => new AdmissionLayer(next, env.admission).service,
  };
}

/** A route's own limit: one object per route, made when the route is declared. */
export class RouteAdmission implements RouteLimit, ServerFinisher {
  readonly admission: Admission;

  constructor(options: AdmissionOptions) {
    this.admission = admission(options);
  }

  tryAdmit(call: ServerCall): 'concurrency' | 'rate' | undefined {
    const reason = this.admission.tryAdmit();
    if (reason === undefined) call.defer(this);
    return reason;
  }

  finish(call: ServerCall): void {
    this.admission.release(call.elapsedMs, latencySample(call));
  }
}
