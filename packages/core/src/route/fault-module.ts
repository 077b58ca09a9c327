/**
 * Role `fault` (below `deadline`, above `breaker`): injects the matched route rule's faults, for chaos
 * drills — after gRFC A33 and Envoy's fault filter. A delay waits before the call goes on, and never
 * past the call's deadline (the deadline's signal ends the wait with the deadline's error). An abort
 * answers the call here with the rule's status (HTTP) or code (gRPC): it reaches no server, and, being
 * above `retry`, is never retried; nor does it count against the breaker or any endpoint. Percentages
 * may be fractional. Where the rule sets `allowHeaderFaults`, a request may ask for a fault itself
 * (`weft-fault-delay-ms: 200`, `weft-fault-abort: 503`), for tests.
 *
 * Mirrored copies are never faulted. A destination without a Route gets `next` itself.
 */
import { Header } from '../context/wire.ts';
import { ErrorCode, WeftError } from '../errors/errors.ts';
import type { FaultAbort } from '../protocol/binding.ts';
import type { Call } from '../stack/call.ts';
import type { Module, Service } from '../stack/stack.ts';
import { sleep } from '../time/clock.ts';
import { editCallHeaders, roll } from './route-module.ts';
import { type CompiledEdits, readCallHeader } from './route-table.ts';

/** Largest delay a request header may ask for, in ms. */
export const MAX_HEADER_DELAY_MS = 60_000;

const DIGITS = /^\d{1,9}$/;

const STRIP_FAULT_HEADERS: CompiledEdits = {
  set: [],
  add: [],
  remove: [Header.faultDelay, Header.faultAbort],
};

export function faultModule<Req extends Call = Call, Res = unknown>(): Module<object, Req, Res> {
  return {
    role: 'fault',
    description: "inject the route rule's delay or abort (chaos drills)",
    params: {},
    spec: {},
    make(_params, next, env) {
      if (env.route === undefined) return next;
      const { binding, clock, random, instruments, destination } = env;
      const header = (binding.requestHeader ?? readCallHeader) as (
        call: Req,
        name: string,
      ) => string | undefined;
      const rpc = binding.methodKind === 'rpc';
      const editRequest = (binding.editRequestHeaders ?? editCallHeaders) as (
        call: Req,
        edits: CompiledEdits,
      ) => void;
      const delayAttrs = { 'server.address': destination, kind: 'delay' };
      const abortAttrs = { 'server.address': destination, kind: 'abort' };

      const answer = (call: Req, abort: FaultAbort): Promise<Res> => {
        if (instruments.metricsEnabled) instruments.faults.add(1, abortAttrs);
        if (binding.faultResponse) return Promise.resolve(binding.faultResponse(call, abort));
        return Promise.reject(
          new WeftError(ErrorCode.FaultInjected, `fault injected by the route of ${destination}: abort`),
        );
      };

      const delayed = async (call: Req, ms: number, abort: FaultAbort | undefined): Promise<Res> => {
        if (instruments.metricsEnabled) instruments.faults.add(1, delayAttrs);
        await sleep(clock, ms, call.signal);
        return abort ? answer(call, abort) : next(call);
      };

      return ((call: Req) => {
        const routed = call.route;
        if (routed === undefined || call.shadow) return next(call);
        const spec = routed.rule.spec;
        const fault = spec.fault;
        let delayMs = fault?.delay && roll(fault.delay.percent, random) ? fault.delay.ms : -1;
        let abort: FaultAbort | undefined =
          fault?.abort && roll(fault.abort.percent, random) ? fault.abort : undefined;
        if (spec.allowHeaderFaults === true) {
          const d = header(call, Header.faultDelay);
          const a = header(call, Header.faultAbort);
          // Asked of this hop only: never sent on to the server (nor, through it, further).
          if (d !== undefined || a !== undefined) editRequest(call, STRIP_FAULT_HEADERS);
          if (d !== undefined && DIGITS.test(d)) delayMs = Math.min(Number(d), MAX_HEADER_DELAY_MS);
          if (a !== undefined && DIGITS.test(a)) {
            const code = Number(a);
            if (rpc && code >= 1 && code <= 16) abort = { status: undefined, grpcStatus: code };
            else if (!rpc && code >= 200 && code <= 599) abort = { status: code, grpcStatus: undefined };
          }
        }
        if (delayMs >= 0) return delayed(call, delayMs, abort);
        return abort === undefined ? next(call) : answer(call, abort);
      }) as Service<Req, Res>;
    },
  };
}
