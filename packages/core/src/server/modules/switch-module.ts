import type { ServerModule } from '../binding.ts';

/**
 * Role `switch` (after `deadline`, before `admission`): the server half of the kill switch. While
 * the mesh-wide `TrafficSwitch` or the one of the server's own service is on, every call is refused
 * with `WEFT_TRAFFIC_STOPPED` before anything else of it runs: HTTP 503 and gRPC UNAVAILABLE, both
 * with `weft-no-retry` (see rejection.ts), counted under `weft.reason: stopped`. It sits before
 * admission so a stopped call takes no concurrency slot and spends no rate token.
 *
 * It reads the flag the server keeps current from its `config` option (see traffic-gate.ts); a
 * server without one gets `next` itself: no code runs per call.
 */
export function serverSwitchModule(): ServerModule {
  return {
    role: 'switch',
    description: 'kill switch: refuse every call while the TrafficSwitch is on',
    params: {},
    spec: {},
    make(_params, next, env) {
      const gate = env.traffic;
      if (gate === undefined) return next;
      return (call) => {
        if (gate.stopped) throw gate.error;
        next(call);
      };
    },
  };
}
