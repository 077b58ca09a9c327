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
import { ErrorCode, invalidOption, WeftError } from '../errors/errors.ts';
import { isCallerCancellation } from '../retry/classifier.ts';
import type { Call } from '../stack/call.ts';
import type { Classifier } from '../stack/env.ts';
import type { Module } from '../stack/stack.ts';
import { diagnostics } from '../telemetry/diagnostics.ts';
import type { Instruments } from '../telemetry/instruments.ts';
import { Circuit, type CircuitOutcome, type CircuitState, checkCircuitParams } from './circuit.ts';

export interface BreakerParams {
  /** Defaults to true. */
  enabled: boolean;
  /** Failure percentage in the rolling window that opens the breaker. Defaults to 50. */
  errorThresholdPercent: number;
  /** Calls in the window before it may open. Defaults to 20. */
  volumeThreshold: number;
  /** Time open before a half-open probe, in ms. Defaults to 10000. */
  resetTimeoutMs: number;
  /** Rolling statistics window in ms (ten buckets). Defaults to 10000. */
  rollingWindowMs: number;
}

export const BREAKER_DEFAULTS: BreakerParams = {
  enabled: true,
  errorThresholdPercent: 50,
  volumeThreshold: 20,
  resetTimeoutMs: 10_000,
  rollingWindowMs: 10_000,
};

export function breakerModule(params: Partial<BreakerParams> = {}): Module<BreakerParams> {
  return {
    role: 'breaker',
    description: 'per-destination circuit breaker: fail fast while open',
    params: { ...BREAKER_DEFAULTS, ...params },
    fromPolicy: (p) => p.circuitBreaker,
    make(params, next, env) {
      if (!(params.errorThresholdPercent > 0 && params.errorThresholdPercent <= 100))
        throw invalidOption('circuitBreaker.errorThresholdPercent', 'must be within 1–100');
      if (!params.enabled) return next;
      checkCircuitParams(params);
      const { destination, classify } = env;
      const shared = env.shared('breaker', () => ({
        circuit: new Circuit(params, env.clock, reporter(destination, env.instruments)),
        builds: 0,
        applied: 0,
      }));
      const { circuit } = shared;
      // The new params apply at this stack's first call, not while it is being built: a build that
      // fails further up leaves the working stack, and its breaker settings, in place. A later build
      // wins over an earlier one, whichever stack a call goes through.
      const build = ++shared.builds;
      const openMessage = `circuit breaker for ${destination} is open`;

      return async (call) => {
        if (shared.applied < build) {
          shared.applied = build;
          circuit.configure(params);
        }
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
          circuit.record(outcomeOf(classify, call, response, error, failed), generation);
        }
      };
    },
  };
}

/**
 * The one place a call's result becomes the breaker's outcome: the caller's own cancellation says
 * nothing of the destination (`ignored`), and anything the classifier does not call a success is a
 * failure.
 */
function outcomeOf(
  classify: Classifier,
  call: Call,
  response: unknown,
  error: unknown,
  failed: boolean,
): CircuitOutcome {
  if (failed && isCallerCancellation(error)) return 'ignored';
  return classify(call, failed ? undefined : response, error) === 'success' ? 'success' : 'failure';
}

/** Reports transitions (never calls): the transitions counter and the `weft:breaker:state` channel. */
function reporter(destination: string, instruments: Instruments): (state: CircuitState) => void {
  return (state) => {
    instruments.breakerTransitions.add(1, { 'server.address': destination, state });
    if (diagnostics.breaker.hasSubscribers) diagnostics.breaker.publish({ destination, state });
  };
}
