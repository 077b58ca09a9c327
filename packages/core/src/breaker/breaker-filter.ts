/**
 * Role `breaker`: one circuit breaker per destination ({@link Circuit}). While open, calls fail fast
 * with `WEFT_CIRCUIT_OPEN` instead of queueing on a destination that is down; after `resetTimeoutMs`
 * a single half-open probe decides whether it closes. Failures are what the classifier says is not
 * a success, errors included; the caller's own cancellations count for nothing.
 *
 * The circuit lives in the destination's shared state under one key, whatever its params: a rebuilt
 * stack (a config change) reconfigures the same circuit, which keeps its state and its window.
 * `enabled: false` passes calls through and leaves the circuit unused, so it is dropped with the
 * rest of the unused shared state; enabling it again starts a new, closed one.
 */
import { ErrorCode, WeftError } from '../errors/errors.ts';
import { isCallerCancellation } from '../retry/classifier.ts';
import type { Call } from '../stack/call.ts';
import { type Classifier, outcomeOf } from '../stack/env.ts';
import type { Module } from '../stack/stack.ts';
import { diagnostics } from '../telemetry/diagnostics.ts';
import type { Instruments } from '../telemetry/instruments.ts';
import { BREAKER_DEFAULTS, BREAKER_PARAMS, type BreakerParams } from './breaker-params.ts';
import { Circuit, type CircuitOutcome, type CircuitState } from './circuit.ts';

export type { BreakerParams } from './breaker-params.ts';
export { BREAKER_DEFAULTS } from './breaker-params.ts';

export function breakerModule(params: Partial<BreakerParams> = {}): Module<BreakerParams> {
  return {
    role: 'breaker',
    description: 'per-destination circuit breaker: fail fast while open',
    params: { ...BREAKER_DEFAULTS, ...params },
    spec: BREAKER_PARAMS,
    make(params, next, env) {
      if (!params.enabled) return next;
      const { destination, classify } = env;
      const circuit = env.shared(
        'breaker',
        () => new Circuit(params, env.clock, reporter(destination, env.instruments)),
      );
      // The stack was checked whole before any module was made (stack.ts): a refused policy never
      // gets here, so the shared circuit can take the new params now; it keeps its state and window.
      circuit.configure(params);
      const openMessage = `circuit breaker for ${destination} is open`;

      const guarded = async (call: Call) => {
        if (!circuit.allow()) throw new WeftError(ErrorCode.CircuitOpen, openMessage);
        const generation = circuit.generation;
        let response: unknown;
        let error: unknown;
        let failed = false;
        try {
          response = await next(call);
          return response;
        } catch (e) {
          failed = true;
          error = e;
          throw e;
        } finally {
          circuit.record(circuitOutcome(classify, call, response, error, failed), generation);
        }
      };
      // A mirrored copy's failures say nothing of the primary's destination.
      return (call) => (call.shadow ? next(call) : guarded(call));
    },
  };
}

/**
 * The one place a call's result becomes the breaker's outcome, from the verdict the modules below
 * already reached (`outcomeOf`, decided once): the caller's own cancellation or deadline says nothing
 * of the destination (`ignored`), and anything that is not a success is a failure.
 */
function circuitOutcome(
  classify: Classifier,
  call: Call,
  response: unknown,
  error: unknown,
  failed: boolean,
): CircuitOutcome {
  if (failed && isCallerCancellation(error)) return 'ignored';
  const outcome = outcomeOf(classify, call, failed ? undefined : response, error);
  return outcome === 'success' ? 'success' : outcome === 'ignored' ? 'ignored' : 'failure';
}

/** Reports transitions (never calls): the transitions counter and the `weft:breaker:state` channel. */
function reporter(destination: string, instruments: Instruments): (state: CircuitState) => void {
  return (state) => {
    instruments.breakerTransitions.add(1, { 'server.address': destination, state });
    if (diagnostics.breaker.hasSubscribers) diagnostics.breaker.publish({ destination, state });
  };
}
