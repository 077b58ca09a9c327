/**
 * Role `stop` (below `telemetry`, above `route`): the client half of the kill switch. While the
 * mesh-wide `TrafficSwitch` or the destination's is on, a call fails at once with
 * `WEFT_TRAFFIC_STOPPED` (not retryable): nothing is sent, no deadline timer is armed, no retry,
 * breaker or balancer sees it; `telemetry` above still counts and traces it.
 *
 * The switch is a flag the destination keeps current (see traffic-gate.ts): a flip rebuilds
 * nothing, and while traffic flows a call costs one property read. A destination without a config
 * source gets `next` itself.
 */
import type { Attributes } from '@opentelemetry/api';
import type { Call } from '../stack/call.ts';
import type { Module } from '../stack/stack.ts';

export function stopModule<Req extends Call = Call, Res = unknown>(): Module<object, Req, Res> {
  return {
    role: 'stop',
    description: 'kill switch: fail fast, sending nothing, while the TrafficSwitch is on',
    params: {},
    spec: {},
    make(_params, next, env) {
      const gate = env.traffic;
      if (gate === undefined) return next;
      const { instruments } = env;
      const attributes: Attributes = { 'server.address': env.destination, 'weft.reason': 'stopped' };
      return (call) => {
        if (!gate.stopped) return next(call);
        gate.refused++;
        if (instruments.metricsEnabled) instruments.refused.add(1, attributes);
        return Promise.reject(gate.error);
      };
    },
  };
}
