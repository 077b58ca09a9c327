/**
 * The circuit breakers the breaker-cost scenario compares, each as a filter of Weft's shape
 * (`(call) => Promise<response>` around a `next`) with the breaker module's settings, so the only
 * difference between them is the breaker:
 *
 * - opossum 10 `fire()`, exactly as Weft's breaker filter used it until it had its own circuit;
 * - cockatiel 4's `circuitBreaker` policy with a `SamplingBreaker` (`execute` with a closure per
 *   call, the way cockatiel is meant to be used);
 * - cockatiel's `SamplingBreaker` driven synchronously (its `success(state)`/`failure(state)`) under
 *   the same open/half-open state machine as Weft's circuit;
 * - Weft's own breaker module (`Circuit`).
 */
import {
  BREAKER_DEFAULTS,
  type BreakerParams,
  breakerModule,
  type Call,
  type Classifier,
  type Clock,
  createInstruments,
  type Service,
  type StackEnv,
  systemClock,
} from '@weft/core';
import { CircuitState, circuitBreaker, handleAll, SamplingBreaker } from 'cockatiel';
import CircuitBreaker from 'opossum';

export type Filter = (call: Call) => Promise<unknown>;

/** Every result is a success unless it is an error: the breaker's hot path. */
export const classify: Classifier = (_call, _response, error) =>
  error === undefined ? 'success' : 'failure';

/** The breaker module's defaults, as every variant gets them. */
export const PARAMS: BreakerParams = BREAKER_DEFAULTS;

/** Weft's breaker module, built as a stack builds it (a minimal environment). */
export function weftFilter(next: Service, clock: Clock = systemClock): Filter {
  const shared = new Map<string, unknown>();
  const env = {
    destination: 'bench',
    clock,
    random: Math.random,
    classify,
    instruments: createInstruments({ name: 'http.client.request.duration', unit: 's' }),
    shared: <T>(key: string, create: () => T): T => {
      if (!shared.has(key)) shared.set(key, create());
      return shared.get(key) as T;
    },
  } as unknown as StackEnv;
  // The breaker module never rebuilds the stack below it with overrides: `below` is not called.
  return breakerModule(PARAMS).make(PARAMS, next, env, () => next);
}

/** Carries a failed response through opossum, which only counts rejections. */
class ResponseFailure {
  readonly response: unknown;
  constructor(response: unknown) {
    this.response = response;
  }
}

type Action = (call: Call, next: Service) => Promise<unknown>;

/** opossum 10 around every call, as Weft's breaker filter had it (errorFilter and all). */
export function opossumFilter(next: Service): { filter: Filter; close(): void } {
  const action: Action = async (call, next) => {
    const response = await next(call);
    if (classify(call, response, undefined) !== 'success') throw new ResponseFailure(response);
    return response;
  };
  const b: CircuitBreaker<Parameters<Action>, unknown> = new CircuitBreaker(action, {
    timeout: false,
    errorThresholdPercentage: PARAMS.errorThresholdPercent,
    volumeThreshold: PARAMS.volumeThreshold,
    resetTimeout: PARAMS.resetTimeoutMs,
    rollingCountTimeout: PARAMS.rollingWindowMs,
    rollingCountBuckets: 10,
    rollingPercentilesEnabled: false,
    errorFilter: () => false,
  });
  // The filter listened to its transitions, as every opossum user who reports them does.
  b.on('open', () => {});
  b.on('halfOpen', () => {});
  b.on('close', () => {});
  const filter: Filter = async (call) => {
    try {
      return await b.fire(call, next);
    } catch (error) {
      if (error instanceof ResponseFailure) return error.response;
      throw error;
    }
  };
  return { filter, close: () => b.shutdown() };
}

/** The breaker module's params in `SamplingBreaker`'s terms (a rate where we have a count). */
function samplingBreaker(): SamplingBreaker {
  return new SamplingBreaker({
    threshold: PARAMS.errorThresholdPercent / 100,
    duration: PARAMS.rollingWindowMs,
    minimumRps: PARAMS.volumeThreshold / (PARAMS.rollingWindowMs / 1000),
  });
}

/** cockatiel 4's own circuit breaker policy: `execute` with a closure per call. */
export function cockatielPolicyFilter(next: Service): Filter {
  const policy = circuitBreaker(handleAll, {
    halfOpenAfter: PARAMS.resetTimeoutMs,
    breaker: samplingBreaker(),
  });
  return (call) => policy.execute(() => next(call));
}

/**
 * cockatiel's `SamplingBreaker` decides when to open; the same state machine as Weft's circuit
 * (one probe, generations, the injected clock for the open period) does the rest.
 */
export class CockatielDrivenCircuit {
  readonly #breaker = samplingBreaker();
  readonly #clock: Clock;
  #state = CircuitState.Closed;
  #generation = 0;
  #openedAt = 0;

  constructor(clock: Clock = systemClock) {
    this.#clock = clock;
  }

  get generation(): number {
    return this.#generation;
  }

  allow(): boolean {
    if (this.#state === CircuitState.Closed) return true;
    if (this.#state === CircuitState.HalfOpen) return false;
    if (this.#clock.now() - this.#openedAt < PARAMS.resetTimeoutMs) return false;
    this.#to(CircuitState.HalfOpen);
    return true;
  }

  record(outcome: 'success' | 'failure' | 'ignored', generation: number): void {
    if (generation !== this.#generation) return;
    const state = this.#state;
    if (outcome === 'success') {
      this.#breaker.success(state);
      if (state === CircuitState.HalfOpen) this.#to(CircuitState.Closed);
    } else if (outcome === 'failure') {
      if (this.#breaker.failure(state)) this.#open();
    } else if (state === CircuitState.HalfOpen) this.#open();
  }

  #open(): void {
    this.#openedAt = this.#clock.now();
    this.#to(CircuitState.Open);
  }

  #to(state: CircuitState): void {
    this.#state = state;
    this.#generation++;
  }
}

/** The filter of Weft's shape over {@link CockatielDrivenCircuit}. */
export function cockatielDrivenFilter(next: Service): Filter {
  const circuit = new CockatielDrivenCircuit();
  return async (call) => {
    if (!circuit.allow()) throw new Error('open');
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
      circuit.record(
        classify(call, failed ? undefined : response, error) === 'success' ? 'success' : 'failure',
        generation,
      );
    }
  };
}
